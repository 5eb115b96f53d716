"""Opening and closing calls (申报批次): provisions, window, budget, materials, review, 公示, payment plan."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.orm import Session

from huiqi.errors import HuiqiError
from huiqi.facts.catalogue import Period
from huiqi.money import parse_money
from huiqi.policy.base import LoadedDocument, facts_used
from huiqi.policy.procedure import Procedure, Stated, procedure_json, procedure_of, stated_call_fields
from huiqi.store.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from huiqi.store.models import Call
from huiqi.workflow import audit
from huiqi.workflow.actors import Actor
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.states import StateMachine, default_roles, machine_for

_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


def month_day_problem(item: str) -> str | None:
    """Why ``item`` is not a report due date (MM-DD) that exists every year, or None.

    >>> month_day_problem("06-30") is None
    True
    >>> month_day_problem("04-31")
    '报告截止日 04-31 不存在：4月没有31日'
    """
    if not _MONTH_DAY.match(item):
        return f"报告截止日应写成 MM-DD，如 06-30，得到 {item!r}"
    month, day = int(item[:2]), int(item[3:])
    if (month, day) == (2, 29):
        return "报告截止日 02-29 只有闰年才有，平年没有这一天：请改用 02-28 或 03-01"
    try:
        dt.date(2001, month, day)  # a common year: the date must exist in every year
    except ValueError:
        return f"报告截止日 {item} 不存在：{month}月没有{day}日"
    return None


class Criterion(BaseModel):
    """One scoring criterion of expert review (评审标准), scored 0..max."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)
    label: str = Field(min_length=1, max_length=100)
    max: int = Field(ge=1, le=1000)


class CallSpec(BaseModel):
    """What an official fills in to open a call. Money is written like a profile: ``"500万元"``."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    document_id: str = Field(min_length=1, max_length=64)
    provisions: list[str] = Field(min_length=1, max_length=100)
    period: int = Field(ge=1990, le=2200)
    #: for rules paid by quarter (按季度兑现): the assessed quarter of ``period``; awards are then per quarter
    quarter: int | None = Field(default=None, ge=1, le=4)
    as_of: dt.date | None = None
    readings: dict[str, str] = Field(default_factory=dict)
    opens_on: dt.date
    closes_on: dt.date
    budget: str = Field(min_length=1, max_length=40, examples=["500万元"])
    materials: list[str] = Field(default_factory=list, max_length=30)
    review_mode: Literal["none", "formal", "expert", "competitive"] = "formal"
    quota: int | None = Field(default=None, ge=1, le=10000)
    experts_per_application: int = Field(default=5, ge=1, le=15)
    criteria: list[Criterion] = Field(default_factory=list, max_length=20)
    aggregation: Literal["trimmed_mean", "mean"] = "trimmed_mean"
    pass_score: int | None = Field(default=None, ge=0)
    publicity_days: int = Field(default=7, ge=0, le=60)
    publicity_day_kind: Literal["calendar", "working"] = "calendar"
    oversubscription: Literal["ranking", "pro_rata"] = "ranking"
    instalments: list[int] = Field(default_factory=list, max_length=10)
    report_due: list[str] = Field(default_factory=list, max_length=12)
    report_years: int = Field(default=0, ge=0, le=10)
    transition_roles: dict[str, str] = Field(default_factory=dict)
    payer: str | None = Field(default=None, max_length=100)

    @field_validator("materials")
    @classmethod
    def _materials(cls, value: list[str]) -> list[str]:
        names = [v.strip() for v in value]
        if any(not n or len(n) > 100 for n in names) or len(set(names)) != len(names):
            raise ValueError("材料名称不能为空、不能超过100字、不能重复")
        return names

    @field_validator("report_due")
    @classmethod
    def _report_due(cls, value: list[str]) -> list[str]:
        for item in value:
            problem = month_day_problem(item)
            if problem:
                raise ValueError(problem)
        return sorted(set(value))

    @field_validator("instalments")
    @classmethod
    def _instalments(cls, value: list[int]) -> list[int]:
        if value and (any(v <= 0 for v in value) or sum(value) != 100):
            raise ValueError("分期比例应为正整数百分比，合计100，如 [60, 40]")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CallSpec:
        # Only what the policy file's procedure cannot supply is checked here: a field left out may still be
        # taken from the procedure by ``open_call``, which checks the rest (``consistency_problem``) after that.
        if self.closes_on < self.opens_on and "closes_on" in self.model_fields_set:
            raise ValueError("申报截止日不能早于开始日")
        return self


def _reads_quarters(document: LoadedDocument, provisions: list[str], policy: PolicyEngine) -> bool:
    """Whether a rule of the chosen provisions reads a quarterly fact (so that a call per quarter means something)."""
    catalogue = policy.base.catalogue
    return any(
        catalogue[key].period is Period.QUARTERLY
        for provision in document.policy.provisions
        if provision.id in provisions
        for rule in provision.rules
        for key in facts_used(rule, document.scope)
    )


def consistency_problem(spec: CallSpec) -> tuple[str, str] | None:
    """(field, message) of the first rule across fields the spec breaks, once the procedure has filled it in."""
    if spec.closes_on < spec.opens_on:
        return "closes_on", "申报截止日不能早于开始日"
    if spec.review_mode == "competitive" and spec.quota is None:
        return "quota", "竞争性评审须设定名额 quota"
    if spec.review_mode in ("expert", "competitive") and not spec.criteria:
        return "criteria", "专家评审须设定评分标准 criteria"
    if spec.report_years and not spec.report_due:
        return "report_due", "设定了报告年数 report_years，还须设定每年的截止日 report_due，如 [06-30, 12-31]"
    return None


#: The call fields a procedure can state, with their labels (for deviations and the pages).
PROCEDURE_FIELDS: dict[str, str] = {
    "review_mode": "评审方式", "quota": "名额", "publicity_days": "公示天数", "publicity_day_kind": "公示天数的计算",
    "report_due": "绩效报告截止日", "report_years": "绩效报告年数", "materials": "申报材料", "closes_on": "申报截止日",
    "payer": "资金来源（出资方）",
}  # fmt: skip


def stated_procedure(
    policy: PolicyEngine, document_id: str, provisions: list[str], *, period: int | None, readings: dict[str, str]
) -> tuple[Procedure | None, dict[str, Stated]]:
    """The procedure the document states for these provisions and the call fields it fixes (none: ``{}``)."""
    try:
        document = policy.base.document(document_id)
    except HuiqiError:
        return None, {}
    procedure = procedure_of(document.policy, provisions)
    if procedure is None:
        return None, {}
    try:
        resolved = policy.engine.resolve_readings(readings)
    except HuiqiError:
        resolved = policy.engine.resolve_readings({})
    chosen = {k.split(":", 1)[1]: v for k, v in resolved.items() if k.split(":", 1)[0] == document_id}
    return procedure, stated_call_fields(procedure, period=period, readings=chosen)


def _comparable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def apply_procedure(spec: CallSpec, policy: PolicyEngine) -> tuple[CallSpec, Procedure | None, list[dict[str, Any]]]:
    """The spec with every field it leaves out taken from the stated procedure, the procedure, and the
    deviations: each field it sets otherwise than the procedure states ({field, label, stated, chosen, quote})."""
    procedure, stated = stated_procedure(policy, spec.document_id, spec.provisions, period=spec.period,
                                         readings=spec.readings)  # fmt: skip
    if procedure is None:
        return spec, None, []
    given = spec.model_fields_set
    filled: dict[str, Any] = {}
    deviations: list[dict[str, Any]] = []
    for name, item in stated.items():
        if name not in given:
            filled[name] = item.value
            continue
        chosen = getattr(spec, name)
        if _comparable(chosen) != _comparable(item.value):
            deviations.append({"field": name, "label": PROCEDURE_FIELDS[name], "stated": _comparable(item.value),
                               "stated_text": item.text, "chosen": _comparable(chosen), "provision": item.provision,
                               "quote": item.quote})  # fmt: skip
    if filled:
        data = spec.model_dump(exclude_unset=True) | filled
        try:
            spec = CallSpec.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error.get("loc") or ()) or None
            raise InvalidInput(f"按文件规定的程序补全后：{error.get('msg', '')}", where=where) from None
    return spec, procedure, deviations


def open_call(session: Session, *, spec: CallSpec, actor: Actor, policy: PolicyEngine) -> Call:
    """Open a call; the document and provisions must exist and carry rules, the budget must be positive."""
    if actor.role not in ("official", "administrator"):
        raise PermissionDenied(f"只有主管部门经办人可以发布申报批次，当前用户是{actor.role_label}")
    if spec.transition_roles and actor.role != "administrator":
        steps = "、".join(sorted(spec.transition_roles))
        raise PermissionDenied(
            f"改变流程步骤的执行角色（transition_roles：{steps}）关系到谁可以批准、谁可以拨付，须由系统管理员设定；"
            f"{actor.role_label}只能按默认角色发布申报批次（transition_roles 留空）",
            where="transition_roles",
        )
    try:
        document = policy.base.document(spec.document_id)
    except HuiqiError as exc:
        raise InvalidInput(exc.message, where="document_id") from None
    spec, procedure, deviations = apply_procedure(spec, policy)
    across = consistency_problem(spec)
    if across:
        raise InvalidInput(across[1], where=across[0])
    with_rules = {p.id for p in document.policy.provisions if p.rules}
    for index, provision in enumerate(spec.provisions):
        if provision not in {p.id for p in document.policy.provisions}:
            raise InvalidInput(f"文件 {spec.document_id} 没有条款 {provision!r}", where=f"provisions[{index}]")
        if provision not in with_rules:
            raise InvalidInput(f"条款 {provision} 没有可计算的规则，不能作为申报条款", where=f"provisions[{index}]")
    if spec.quarter is not None and not _reads_quarters(document, spec.provisions, policy):
        raise InvalidInput("所选条款不按季度兑现（规则不读取按季度的事实），奖励季度请留空", where="quarter")
    try:
        budget = parse_money(spec.budget, default_unit="元", where="budget")
    except HuiqiError as exc:
        raise InvalidInput(exc.message, where="budget") from None
    if budget <= 0:
        raise InvalidInput("预算须大于0", where="budget")
    if spec.criteria and spec.pass_score is not None and spec.pass_score > sum(c.max for c in spec.criteria):
        raise InvalidInput("及格分不能高于评分标准的满分", where="pass_score")
    for index, item in enumerate(spec.report_due):  # again here: a spec may be built without validation
        problem = month_day_problem(item)
        if problem:
            raise InvalidInput(problem, where=f"report_due[{index}]")
    machine_for(review_mode=spec.review_mode, publicity_days=spec.publicity_days, roles=spec.transition_roles)
    try:
        policy.engine.resolve_readings(spec.readings)
    except HuiqiError as exc:
        raise InvalidInput(exc.message, where="readings") from None
    data: dict[str, Any] = spec.model_dump(exclude={"budget"})
    data["criteria"] = [c.model_dump() for c in spec.criteria]
    call = Call(
        **data,
        budget_fen=budget,
        reserved_fen=0,
        paid_fen=0,
        status="open",
        created_by=actor.username,
        procedure=None if procedure is None else procedure_json(procedure),
        deviations=deviations,
    )
    session.add(call)
    session.flush()
    audit.record(session, actor=actor, action="call.open", object_type="call", object_id=call.id, before=None,
                 after=audit.snapshot(call))  # fmt: skip
    if spec.transition_roles:
        _record_roles(session, call=call, actor=actor, before={}, after=dict(spec.transition_roles))
    return call


def _record_roles(session: Session, *, call: Call, actor: Actor, before: dict[str, str], after: dict[str, str]) -> None:
    """The audit event of a change of who takes which step: the overrides and the effective roles, both sides."""
    defaults = default_roles(review_mode=call.review_mode, publicity_days=call.publicity_days)
    audit.record(session, actor=actor, action="call.transition_roles", object_type="call", object_id=call.id,
                 before={"transition_roles": before, "roles": {**defaults, **before}},
                 after={"transition_roles": after, "roles": {**defaults, **after}})  # fmt: skip


def get_call(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"没有编号为 {call_id} 的申报批次", where="call_id")
    return call


def close_call(session: Session, *, call: Call, actor: Actor) -> Call:
    """Stop accepting applications (what is already submitted goes on)."""
    if actor.role != "official":
        raise PermissionDenied(f"只有主管部门经办人可以关闭申报批次，当前用户是{actor.role_label}")
    if call.status == "closed":
        raise Conflict("申报批次已关闭")
    before = audit.snapshot(call)
    call.status = "closed"
    audit.record(session, actor=actor, action="call.close", object_type="call", object_id=call.id, before=before,
                 after=audit.snapshot(call))  # fmt: skip
    return call


def accepting(call: Call, today: dt.date) -> str | None:
    """Why the call does not accept submissions today, or None when it does."""
    if call.status != "open":
        return "申报批次已关闭"
    if today < call.opens_on:
        return f"申报尚未开始（{call.opens_on} 开始）"
    if today > call.closes_on:
        return f"申报已截止（截止日 {call.closes_on}）"
    return None


def machine_of(call: Call) -> StateMachine:
    """The state machine of a call's applications."""
    return machine_for(
        review_mode=call.review_mode, publicity_days=call.publicity_days, roles=call.transition_roles or {}
    )
