"""The policy model: Document → Provision → Rule, as pydantic models read from ``policy.yaml``.

Expressions stay as text here; ``huiqi.policy.base`` parses and type-checks them against the fact
catalogue so that every error can name its file and line.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from huiqi.policy.procedure import Procedure


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DocumentType(StrEnum):
    """文件类型."""

    MEASURES = "政策措施"
    PROGRAMME = "实施方案"
    NOTICE = "通知"
    REPLY = "建议答复"


class DocumentStatus(StrEnum):
    """文件状态."""

    DRAFT = "征求意见稿"
    IN_FORCE = "现行有效"
    REPEALED = "已废止"
    EXPIRED = "已失效"


class ProvisionKind(StrEnum):
    """What a provision does (see docs/authoring.md §3)."""

    COMPUTABLE = "computable"
    CEILING_ONLY = "ceiling_only"
    CASE_BY_CASE = "case_by_case"
    QUALITATIVE = "qualitative"
    OBLIGATION = "obligation"
    PROCEDURE = "procedure"
    META = "meta"
    INFORMATIVE = "informative"


KIND_LABELS: dict[str, str] = {
    "computable": "可计算",
    "ceiling_only": "仅上限",
    "case_by_case": "一事一议",
    "qualitative": "定性",
    "obligation": "义务",
    "procedure": "程序",
    "meta": "说明",
    "informative": "信息",
}

Span = tuple[int, int]
EntityName = Literal["enterprise", "park_operator", "talent", "institution", "project", "local_government"]
RecipientName = Literal[
    "enterprise", "park_operator", "talent", "institution", "project", "local_government", "core_team"
]


class Jurisdiction(_Model):
    """Where a document applies."""

    region: str
    level: Literal["nation", "province", "city", "county"]


class Supersedes(_Model):
    """A document this one repeals or replaces."""

    doc_number: str | None = None
    title: str | None = None


class CrossExclusion(_Model):
    """Which other documents' awards this document does not stack with (docs/authoring.md §7a).

    A document matches when it is named in ``documents``, or when it meets every one of ``level``,
    ``region`` and ``same_kind`` that is given. ``same_matter``: only awards of rules with the same
    ``matter`` conflict (同一事项); otherwise any award under a matched document in the same year does.
    """

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    documents: list[str] = Field(default_factory=list)
    level: Literal["nation", "province", "city", "county"] | None = None
    region: str | None = None
    same_kind: bool = False
    same_matter: bool = True
    when_reading: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_something(self) -> CrossExclusion:
        if not self.documents and self.level is None and self.region is None and not self.same_kind:
            raise ValueError(
                "excludes 须写明 documents（文件编号）或 level、region、same_kind 中至少一项，否则无法确定哪些文件"
            )
        return self


class NonDuplication(_Model):
    """不得重复享受: the document's rule against stacking."""

    scope: str
    quote: str
    excludes: list[CrossExclusion] = Field(default_factory=list)


class BudgetSemantics(_Model):
    """How amounts relate to the budget (e.g. 奖补比例和限额均为上限)."""

    amounts_are_ceilings: bool = False
    quote: str | None = None
    note: str | None = None


class SourceInfo(_Model):
    """Where ``source.txt`` comes from and how it was normalised."""

    seed: str
    normalisation: list[str] = Field(default_factory=list)
    note: str | None = None


class Document(_Model):
    """Document metadata."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    short_title: str | None = None
    doc_number: str | None = None
    issuers: list[str]
    jurisdiction: Jurisdiction
    type: DocumentType
    status: DocumentStatus
    issue_date: dt.date | None = None
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    validity: str | None = None
    supersedes: list[Supersedes] = Field(default_factory=list)
    non_duplication: NonDuplication | None = None
    budget_semantics: BudgetSemantics | None = None
    interpreting_authority: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)  # 同类政策: what the document supports, e.g. 软件和信息技术服务业
    source: SourceInfo
    version: str | None = Field(default=None, min_length=1, max_length=40)  # 版本名, e.g. 2024年修订 (Versions)
    amends: str | None = Field(default=None, min_length=1, max_length=40)  # the version this one amends
    notes: str | None = None


class Omitted(_Model):
    """A span of the text deliberately left out of the provisions, with the reason."""

    quote: str
    span: Span
    reason: str


Condition = str | dict[str, Any]


def condition_texts(condition: object) -> list[str]:
    """Every expression text written in a condition tree (``expr``, ``all``, ``any``, ``not``), in order;
    ``true``/``false`` for a literal boolean."""
    if condition is None:
        return []
    if isinstance(condition, str | bool | int):
        return [str(condition).lower() if isinstance(condition, bool) else str(condition)]
    out: list[str] = []
    if isinstance(condition, dict):
        for key, value in condition.items():
            if key in ("expr", "not"):
                out += condition_texts(value)
            elif key in ("all", "any") and isinstance(value, list):
                for member in value:
                    out += condition_texts(member)
    return out


class Tier(_Model):
    """One tier of a tiered benefit (分别给予 pairs thresholds with amounts in order)."""

    id: str
    when: Condition
    amount: str | int
    label: str | None = None


class Step(_Model):
    """One step of a schedule over years (第1至5年给予90%)."""

    years: tuple[int, int]
    rate: str | int


class ItemCap(_Model):
    """A cap on one item's amount, by the item's kind (国家级 50万元, 省级 20万元): the first that holds applies."""

    when: Condition
    amount: str | int


class Benefit(_Model):
    """How much: the benefit form and its figures (expressions as text)."""

    form: Literal["fixed", "rate", "tiers", "schedule", "formula", "per_item", "none"]
    amount: str | int | None = None
    base: str | None = None
    rate: str | int | None = None
    ceiling: str | int | None = None
    mode: Literal["highest", "each", "top_up"] | None = None
    tiers: list[Tier] | None = None
    index: str | None = None
    steps: list[Step] | None = None
    items: str | None = None  # per_item: the list fact whose items are paid (certificates, products …)
    where: Condition | None = None  # per_item: which items count (e.g. obtained in the assessed year)
    item_caps: list[ItemCap] | None = None  # per_item: the cap of each item, the first that holds
    is_ceiling: bool = False
    is_floor: bool = False
    review: bool = False

    @model_validator(mode="after")
    def _fields_match_form(self) -> Benefit:
        need: dict[str, tuple[str, ...]] = {
            "fixed": ("amount",),
            "rate": ("base", "rate"),
            "tiers": ("mode", "tiers"),
            "schedule": ("index", "base", "steps"),
            "formula": ("amount",),
            "per_item": ("items", "amount"),
            "none": (),
        }
        missing = [name for name in need[self.form] if getattr(self, name) in (None, [])]
        if missing:
            raise ValueError(
                f"form 为 {self.form} 时需要字段 {'、'.join(missing)}（见 docs/authoring.md 的 Benefit forms 表）"
            )
        # Every field given must act: the engine reads only the fields of the form (and `ceiling`, except for none).
        used = set(need[self.form]) | ({"ceiling"} if self.form != "none" else set())
        if self.form == "per_item":
            used |= {"where", "item_caps"}
        figures = (
            "amount",
            "base",
            "rate",
            "ceiling",
            "mode",
            "tiers",
            "index",
            "steps",
            "items",
            "where",
            "item_caps",
        )
        unused = [name for name in figures if getattr(self, name) not in (None, []) and name not in used]
        if unused:
            raise ValueError(
                f"form 为 {self.form} 时不使用字段 {'、'.join(unused)}（会被忽略）：请删除，或改用相应的 form"
                "（见 docs/authoring.md 的 Benefit forms 表）"
            )
        if self.is_ceiling and self.is_floor:
            raise ValueError("is_ceiling（上限）与 is_floor（下限）不能同时为 true")
        if self.form == "none" and (self.is_ceiling or self.is_floor):
            raise ValueError("form: none 没有金额，is_ceiling / is_floor 不起作用：请删除")
        if self.review and self.is_floor:
            raise ValueError("review: true 时金额由主管部门审核确定，is_floor 不起作用：请删除其一")
        _check_steps(self.steps or [])
        return self


def _check_steps(steps: list[Step]) -> None:
    """Steps are ranges of year numbers from 1, first ≤ last, none overlapping (a later one would never apply)."""
    taken: list[tuple[int, int]] = []
    for step in steps:
        first, last = step.years
        if first < 1 or first > last:
            raise ValueError(f"steps 的 years [{first}, {last}] 应为 [起始年, 结束年]，从第1年起且起始年不大于结束年")
        for other in taken:
            if first <= other[1] and other[0] <= last:
                raise ValueError(f"steps 的年份 [{first}, {last}] 与 [{other[0]}, {other[1]}] 重叠：后一段永远不会适用")
        taken.append((first, last))


class Cap(_Model):
    """A cap applied after the benefit: per year or cumulative per entity."""

    scope: Literal["per_year", "per_quarter", "cumulative"]
    amount: str | int
    over: Literal["rule", "provision"] = "rule"

    @model_validator(mode="after")
    def _over_acts(self) -> Cap:
        if self.scope == "per_year" and self.over == "provision":
            raise ValueError(
                "scope: per_year 的上限按本规则当年已领取的金额计算，over: provision 不起作用："
                "请删除 over，或改用 scope: cumulative, over: provision（本条累计上限）"
            )
        return self


class Duration(_Model):
    """连续支持不超过N年."""

    max_years: int = Field(ge=1)


class Instalment(_Model):
    """One part of a payment in instalments (分期拨付), in its budget year, with the conditions it waits on."""

    share: str | int
    label: str
    year: int = Field(default=0, ge=0, le=10)  # budget years after the award's (0: the year it is awarded)
    conditions: Condition | None = None  # what must still hold when it falls due (仍在本市注册 …)
    reports_submitted: bool = False  # every follow-up report due before it has been handed in
    quote: str | None = None  # the words stating the schedule or its conditions, within the rule's provision


class Rule(_Model):
    """One computable rule of a provision."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    label: str
    quote: str
    span: Span
    applies_to: EntityName | list[EntityName]
    recipient: RecipientName | None = None
    when_reading: dict[str, str] = Field(default_factory=dict)
    once: bool = False
    conditions: Condition | None = None
    benefit: Benefit
    caps: list[Cap] = Field(default_factory=list)
    duration: Duration | None = None
    instalments: list[Instalment] = Field(default_factory=list)
    exclusive_group: str | None = None
    ledger_as: str | None = None
    matter: str | None = Field(default=None, min_length=1, max_length=40)  # 同一事项, e.g. 落户奖励 (§7a)
    payer: str | None = None
    units_quote: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _every_option_acts(self) -> Rule:
        if self.exclusive_group is not None:
            raise ValueError(
                "exclusive_group 不起作用：不得重复享受请写在文件的 exclusions 中（列出互斥的规则，见 docs/authoring.md §7）"
            )
        if self.once and self.duration is not None:
            raise ValueError("once: true（一次性）时规则只支付一次，duration 不起作用：请删除其一")
        if self.instalments and self.benefit.form == "none":
            raise ValueError("form: none 没有金额，instalments 不起作用：请删除")
        years = [part.year for part in self.instalments]
        if years != sorted(years):
            raise ValueError(f"instalments 的 year 应按期次不减（后一期不能早于前一期），现为 {years}")
        return self


class Provision(_Model):
    """One article, item or sub-item: the unit a person audits."""

    id: str = Field(min_length=1)
    number: str | None = None
    section: str | None = None
    heading: str | None = None
    kind: ProvisionKind
    quote: str
    span: Span
    lead_unit: str | None = None
    co_units: list[str] = Field(default_factory=list)
    units_quote: str | None = None
    rules: list[Rule] = Field(default_factory=list)
    note: str | None = None

    @field_validator("id")
    @classmethod
    def _no_slash(cls, value: str) -> str:
        if "/" in value or ":" in value:
            raise ValueError("条款编号不能含 “/” 或 “:”（它们用于引用规则）")
        return value


class ReadingOption(_Model):
    """One way to read an ambiguous passage."""

    value: str
    label: str
    define: dict[str, str | int] = Field(default_factory=dict)


class Reading(_Model):
    """口径: an ambiguity, the options, the default and why."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    provision: str | None = None
    question: str
    quote: str | None = None
    default: str
    options: list[ReadingOption] = Field(min_length=2)
    rationale: str | None = None

    @model_validator(mode="after")
    def _default_is_an_option(self) -> Reading:
        values = [option.value for option in self.options]
        if self.default not in values:
            raise ValueError(f"默认口径 {self.default!r} 不在选项 {values} 中")
        if len(set(values)) != len(values):
            raise ValueError("口径选项的 value 不能重复")
        return self


class Definition(_Model):
    """A named expression of the document (本政策所指软件企业 …)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    expr: str | int
    quote: str | None = None


class Exclusion(_Model):
    """不得重复享受: at most ``max`` of these rules for one entity."""

    id: str
    rules: list[str] = Field(min_length=2)
    max: int = Field(default=1, ge=1)
    reason: str
    when_reading: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _max_binds(self) -> Exclusion:
        if self.max >= len(self.rules):
            raise ValueError(f"max 为 {self.max}，而互斥组只有 {len(self.rules)} 条规则：这一限制永远不会生效")
        return self


class PolicyFile(_Model):
    """The whole ``policy.yaml``."""

    document: Document
    omitted: list[Omitted] = Field(default_factory=list)
    definitions: list[Definition] = Field(default_factory=list)
    readings: list[Reading] = Field(default_factory=list)
    provisions: list[Provision]
    exclusions: list[Exclusion] = Field(default_factory=list)
    procedures: list[Procedure] = Field(default_factory=list)
