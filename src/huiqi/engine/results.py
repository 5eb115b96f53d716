"""What an evaluation returns: per rule and per provision, with the full explanation.

The JSON form (``to_json``) is the stable, documented schema of ``huiqi evaluate --format json``
(docs/evaluation.md); money is a yuan decimal string with two places.

Whether an amount is money the text fixes (确定金额) or only a bound (最高可达) is decided once, when the rule
is compiled (``huiqi.engine.ruleset.amount_is_ceiling``); a result carries it as ``is_ceiling`` and every
output reads ``amount_kind`` / ``amount_text`` and ``Totals``, which keep the two apart and never add them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from huiqi.money import format_cn, format_yuan

from .values import display


class Status(StrEnum):
    """The outcome of a rule or provision for one entity."""

    ELIGIBLE = "eligible"
    NEEDS_REVIEW = "needs_review"
    NEEDS_INFORMATION = "needs_information"
    EXCLUDED = "excluded"
    NOT_ELIGIBLE = "not_eligible"
    NOT_APPLICABLE = "not_applicable"


STATUS_LABELS: dict[Status, str] = {
    Status.ELIGIBLE: "符合",
    Status.NEEDS_REVIEW: "待审核定额",
    Status.NEEDS_INFORMATION: "需补充信息",
    Status.EXCLUDED: "不重复享受",
    Status.NOT_ELIGIBLE: "不符合",
    Status.NOT_APPLICABLE: "不适用",
}

#: Best first: a provision takes the best status of its rules.
STATUS_ORDER = list(STATUS_LABELS)

#: The JSON schema written by ``Evaluation.to_json`` (docs/evaluation.md; /2: totals split by amount kind).
SCHEMA = "huiqi.evaluation/2"


class AmountKind(StrEnum):
    """What an amount means: fixed by the text, only an upper bound, or a minimum."""

    CERTAIN = "certain"  # 确定金额: the text fixes it (a rate's cap binding included)
    CEILING = "ceiling"  # 最高可达: 最高/不超过, a document whose amounts are all bounds, or officials decide
    FLOOR = "floor"  # 不低于: at least this much


def kind_of(amount_fen: int | None, *, is_ceiling: bool, is_floor: bool) -> AmountKind | None:
    """What an amount means: a ceiling (a bound), a floor, or certain money; None when there is no amount."""
    if amount_fen is None:
        return None
    if is_ceiling:
        return AmountKind.CEILING
    return AmountKind.FLOOR if is_floor else AmountKind.CERTAIN


#: each status's and amount kind's value, as JSON writes it (a dictionary is quicker than an enum's ``value``)
_VALUES: dict[StrEnum, str] = {member: member.value for kind in (Status, AmountKind) for member in kind}


_PREFIXES = {AmountKind.CEILING: "最高", AmountKind.FLOOR: "不低于"}


def amount_text(fen: int | None, kind: AmountKind | None) -> str:
    """An amount as a clerk reads it: "最高100万元", "不低于20万元", "60万元", or "—" when none."""
    if fen is None or kind is None:
        return "—"
    return _PREFIXES.get(kind, "") + format_cn(fen)


@dataclass(slots=True)
class Trace:
    """One node of a condition's explanation."""

    kind: str  # leaf | all | any | not | tier | note
    label: str
    result: bool | None
    expr: str = ""
    #: (name, Chinese label, raw value, type, unit) — formatted only when shown, to keep evaluation fast
    inputs: Sequence[tuple[str, str, Any, Any, str | None]] = ()
    #: (a trace is read, never changed: a node without inputs or children shares the empty tuple)
    children: Sequence[Trace] = ()

    def input_rows(self) -> list[dict[str, Any]]:
        """The inputs of a leaf as ``{name, label, value}`` with the value rendered in Chinese."""
        return [
            {"name": name, "label": label, "value": display(value, kind, unit)}
            for name, label, value, kind, unit in self.inputs
        ]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "label": self.label, "result": self.result}
        if self.expr:
            data["expr"] = self.expr
        if self.inputs:
            data["inputs"] = self.input_rows()
        if self.children:
            data["children"] = [child.to_json() for child in self.children]
        return data


@dataclass(slots=True)
class Missing:
    """A fact that is needed and not given."""

    fact: str
    name: str
    year: int | None = None
    quarter: int | None = None  # a quarterly fact: the quarter of ``year`` it is needed for

    def label(self) -> str:
        if self.year is not None and self.quarter is not None:
            return f"{self.name}（{self.year}年第{self.quarter}季度）"
        return f"{self.name}（{self.year}年）" if self.year is not None else self.name

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fact": self.fact, "name": self.name, "year": self.year}
        if self.quarter is not None:
            out["quarter"] = self.quarter
        return out


@dataclass
class Suggestion:
    """The nearest way to qualify: which facts to reach, and what that would give."""

    changes: list[dict[str, Any]]  # {fact, name, year, current, needed}
    amount_fen: int | None
    is_ceiling: bool
    text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": self.changes,
            "amount": None if self.amount_fen is None else format_yuan(self.amount_fen),
            "is_ceiling": self.is_ceiling,
            "text": self.text,
        }


class Outcome(NamedTuple):
    """One rule's result as a search compares it (``Engine.outcomes``): no explanation, no text."""

    ref: str  # "<document>:<provision>/<rule>"
    status: Status
    amount_fen: int | None
    #: the facts still missing, as (fact, year)
    missing: tuple[tuple[str, int | None], ...]
    is_ceiling: bool


@dataclass(slots=True)
class RuleResult:
    """The outcome of one rule for one entity."""

    document: str
    provision: str
    rule: str
    label: str
    quote: str
    span: tuple[int, int]
    status: Status
    reason: str
    amount_fen: int | None = None
    is_ceiling: bool = False
    is_floor: bool = False
    recipient: str | None = None
    payer: str | None = None
    tier: list[str] = field(default_factory=list)
    calculation: list[str] = field(default_factory=list)
    trace: list[Trace] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    suggestion: Suggestion | None = None
    readings: list[dict[str, str]] = field(default_factory=list)
    defaults_used: list[str] = field(default_factory=list)
    instalments: list[dict[str, Any]] = field(default_factory=list)
    excluded_by: str | None = None
    #: the JSON of a result shared read-only by every evaluation that reaches it (``share``), written once
    _json: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def share(self) -> RuleResult:
        """Mark the result as shared read-only by every evaluation that reaches it (the engine's result for a
        rule that does not apply to a type of entity, or outside a jurisdiction): its JSON is written now, and
        ``to_json`` gives each caller a copy of it."""
        if self._json is None:  # once is enough: a shared result does not change
            self._json = self.to_json()
        return self

    @property
    def ref(self) -> str:
        return f"{self.document}:{self.provision}/{self.rule}"

    @property
    def key(self) -> str:
        """ "<provision>/<rule>": the rule within its document."""
        return f"{self.provision}/{self.rule}"

    @property
    def amount_kind(self) -> AmountKind | None:
        """What the amount means (None when there is no amount)."""
        return kind_of(self.amount_fen, is_ceiling=self.is_ceiling, is_floor=self.is_floor)

    @property
    def amount_text(self) -> str:
        return amount_text(self.amount_fen, self.amount_kind)

    def to_json(self) -> dict[str, Any]:
        if self._json is not None:
            return dict(self._json)
        kind = self.amount_kind
        return {
            "document": self.document,
            "provision": self.provision,
            "rule": self.rule,
            "ref": self.ref,
            "label": self.label,
            "quote": self.quote,
            "span": list(self.span),
            "status": _VALUES[self.status],
            "status_label": STATUS_LABELS[self.status],
            "reason": self.reason,
            "amount": None if self.amount_fen is None else format_yuan(self.amount_fen),
            "amount_kind": None if kind is None else _VALUES[kind],
            "amount_label": None if kind is None else amount_text(self.amount_fen, kind),
            "is_ceiling": self.is_ceiling,
            "is_floor": self.is_floor,
            "recipient": self.recipient,
            "payer": self.payer,
            "tier": self.tier,
            "calculation": self.calculation,
            "trace": [t.to_json() for t in self.trace],
            "missing": [m.to_json() for m in self.missing],
            "suggestion": self.suggestion.to_json() if self.suggestion else None,
            "readings": self.readings,
            "defaults_used": self.defaults_used,
            "instalments": self.instalments,
            "excluded_by": self.excluded_by,
        }


@dataclass(frozen=True, slots=True)
class Totals:
    """What a set of rule results adds up to, with certain money and ceilings kept apart.

    ``certain_fen`` sums the eligible rules whose amount the text fixes (floors count at their minimum);
    ``ceiling_fen`` sums the eligible rules whose amount is only a bound — a sum of ceilings, itself only a
    bound, never money the applicant will get; ``review_fen`` sums the bounds of the rules left to officials
    (needs_review). The three are never added together.
    """

    certain_fen: int = 0
    certain_rules: int = 0
    ceiling_fen: int = 0
    ceiling_rules: int = 0
    review_fen: int = 0
    review_rules: int = 0
    #: eligible rules that give a qualification, not money (金额由审核确定 / 原文未规定金额)
    without_amount: int = 0

    @classmethod
    def of(cls, rules: Iterable[RuleResult]) -> Totals:
        sums = [0, 0, 0, 0, 0, 0, 0]
        for rule in rules:
            if rule.status is Status.NEEDS_REVIEW:
                sums[4] += rule.amount_fen or 0
                sums[5] += 1
            elif rule.status is Status.ELIGIBLE:
                kind = rule.amount_kind
                if kind is None:
                    sums[6] += 1
                elif kind is AmountKind.CEILING:
                    sums[2] += rule.amount_fen or 0
                    sums[3] += 1
                else:
                    sums[0] += rule.amount_fen or 0
                    sums[1] += 1
        return cls(*sums)

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.certain_fen + other.certain_fen,
            self.certain_rules + other.certain_rules,
            self.ceiling_fen + other.ceiling_fen,
            self.ceiling_rules + other.ceiling_rules,
            self.review_fen + other.review_fen,
            self.review_rules + other.review_rules,
            self.without_amount + other.without_amount,
        )

    def lines(self) -> list[str]:
        """The totals in Chinese, one line per kind, for the terminal and reports."""
        lines = []
        if self.certain_rules:
            lines.append(f"确定金额合计：{format_cn(self.certain_fen)}（{self.certain_rules}项，金额由条文确定）")
        else:
            lines.append("确定金额合计：无（没有金额由条文确定的符合条件规则）")
        if self.ceiling_rules > 1:
            lines.append(
                f"最高可达合计：{format_cn(self.ceiling_fen)}（{self.ceiling_rules}项规则的上限相加，"
                "仅为上限，不是应得金额）"
            )
        elif self.ceiling_rules:
            lines.append(f"最高可达：{format_cn(self.ceiling_fen)}（1项规则的上限，不是应得金额）")
        if self.review_rules:
            bound = f"，已知上限之和{format_cn(self.review_fen)}" if self.review_fen else ""
            lines.append(f"待审核定额：{self.review_rules}项（金额由主管部门审核确定{bound}）")
        if self.without_amount:
            lines.append(f"符合资格（不涉及金额）：{self.without_amount}项")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "certain": format_yuan(self.certain_fen),
            "certain_label": format_cn(self.certain_fen),
            "certain_rules": self.certain_rules,
            "ceiling": format_yuan(self.ceiling_fen),
            "ceiling_label": "最高" + format_cn(self.ceiling_fen) if self.ceiling_rules else format_cn(0),
            "ceiling_rules": self.ceiling_rules,
            "review_ceiling": format_yuan(self.review_fen),
            "review_rules": self.review_rules,
            "without_amount": self.without_amount,
        }


@dataclass
class ProvisionResult:
    """The outcome of one provision: the best status of its rules and the sum of what they give."""

    document: str
    provision: str
    number: str | None
    heading: str | None
    kind: str
    quote: str
    span: tuple[int, int]
    status: Status
    reason: str
    rules: list[RuleResult]
    amount_fen: int | None
    #: the amount is a bound: one of the rules it adds up is a ceiling (a sum with a ceiling in it is a ceiling)
    is_ceiling: bool
    lead_unit: str | None
    is_floor: bool = False
    #: the JSON of a result shared read-only by every evaluation that reaches it (``share``), written once
    _json: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def share(self) -> ProvisionResult:
        """Mark the result and its rules' as shared read-only by every evaluation that reaches them (a
        provision without rules, or outside a jurisdiction): their JSON is written now, and ``to_json`` gives
        each caller a copy of it."""
        for rule in self.rules:
            rule.share()
        if self._json is None:  # once is enough: a shared result does not change
            self._json = self.to_json()
        return self

    @property
    def amount_kind(self) -> AmountKind | None:
        return kind_of(self.amount_fen, is_ceiling=self.is_ceiling, is_floor=self.is_floor)

    @property
    def totals(self) -> Totals:
        return Totals.of(self.rules)

    def to_json(self) -> dict[str, Any]:
        if self._json is not None:
            return dict(self._json)
        kind = self.amount_kind
        return {
            "document": self.document,
            "provision": self.provision,
            "number": self.number,
            "heading": self.heading,
            "kind": self.kind,
            "quote": self.quote,
            "span": list(self.span),
            "status": _VALUES[self.status],
            "status_label": STATUS_LABELS[self.status],
            "reason": self.reason,
            "amount": None if self.amount_fen is None else format_yuan(self.amount_fen),
            "amount_kind": None if kind is None else _VALUES[kind],
            "amount_label": None if kind is None else amount_text(self.amount_fen, kind),
            "is_ceiling": self.is_ceiling,
            "lead_unit": self.lead_unit,
            "rules": [r.to_json() for r in self.rules],
        }


@dataclass
class DocumentResult:
    """All provisions of one document for one entity, with the document's flags."""

    document: str
    title: str
    status: str
    flags: list[str]
    provisions: list[ProvisionResult]

    @property
    def totals(self) -> Totals:
        return Totals.of(r for p in self.provisions for r in p.rules)

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "title": self.title,
            "status": self.status,
            "flags": self.flags,
            "totals": self.totals.to_json(),
            "provisions": [p.to_json() for p in self.provisions],
        }


@dataclass
class Evaluation:
    """One entity against the policy base, as of a date."""

    entity: dict[str, Any]
    as_of: dt.date
    period: int
    documents: list[DocumentResult]
    skipped: list[dict[str, str]] = field(default_factory=list)
    quarter: int | None = None  # the assessed quarter of a quarterly evaluation

    @property
    def totals(self) -> Totals:
        return sum((d.totals for d in self.documents), Totals())

    def rules(self) -> list[RuleResult]:
        return [r for d in self.documents for p in d.provisions for r in p.rules]

    def rule(self, ref: str) -> RuleResult:
        """A rule result by ``document:provision/rule`` (or ``provision/rule`` when one document)."""
        for result in self.rules():
            if result.ref == ref or (len(self.documents) == 1 and f"{result.provision}/{result.rule}" == ref):
                return result
        raise KeyError(ref)

    def provision(self, ref: str) -> ProvisionResult:
        for document in self.documents:
            for provision in document.provisions:
                if f"{document.document}:{provision.provision}" == ref or (
                    len(self.documents) == 1 and provision.provision == ref
                ):
                    return provision
        raise KeyError(ref)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "entity": self.entity,
            "as_of": self.as_of.isoformat(),
            "period": self.period,
            **({"quarter": self.quarter} if self.quarter is not None else {}),
            "totals": self.totals.to_json(),
            "documents": [d.to_json() for d in self.documents],
            "skipped": self.skipped,
        }
