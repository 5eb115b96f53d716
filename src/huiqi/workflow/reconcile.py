"""对账: the live tables checked against what the audit chain says they should hold.

``audit.verify`` proves the chain is intact; it cannot see a row of ``awards`` or ``calls`` edited
directly in the database, because such an edit appends no event. ``reconcile`` replays the chain and
compares the money tables with the figures it derives:

- **awards**: ``award.create`` holds the award as created (call, entity, rule, period, amount); every
  ``payment.pay`` holds the award after the payment (paid amount, state); ``award.claw_back`` holds it
  after the clawback. The last of these is what the row must say.
- **payments**: an instalment with a ``payment.pay`` event is ``paid``, with that amount; one without is
  ``scheduled``, or ``cancelled`` once its award was clawed back. The chain has no event for the schedule
  itself, so the amount of an unpaid instalment is not in it: what can be derived is checked — the
  instalments of an award add up to its amount in the chain.
- **calls**: ``call.open`` holds the budget, ``call.close`` the status, ``call.transition_roles`` who
  takes which step. ``reserved_fen`` is derived: the ``budget.reserve`` amounts of approvals, plus the
  amounts of 免申即享 awards (a batch reserves per award and records only ``award.create``), minus what
  clawbacks released (``award.claw_back`` ``released_fen``). ``paid_fen`` is the sum of the payments.
- **applications**: the state and approved amount of the last ``application.*`` event.

Every difference is a problem naming the object, the value in the table and the value in the chain.
Run it in one snapshot of the database (``repeatable_read``) so that work committed meanwhile does not
show as a difference.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi.money import format_cn
from huiqi.store.models import Application, AuditEvent, Award, Call, Payment
from huiqi.workflow.states import STATE_LABELS, State

#: The events the replay reads (and the prefix of the application lifecycle's).
_ACTIONS = {"call.open", "call.close", "call.transition_roles", "budget.reserve", "award.create", "payment.pay",
            "award.claw_back"}  # fmt: skip
_MONEY = {"amount_fen", "paid_fen", "budget_fen", "reserved_fen", "approved_fen"}
_LABELS = {
    "amount_fen": "金额",
    "paid_fen": "已拨付金额",
    "state": "状态",
    "call_id": "申报批次",
    "entity_id": "主体",
    "rule_ref": "条款规则",
    "period": "年度",
    "status": "状态",
    "budget_fen": "预算",
    "reserved_fen": "已预留预算",
    "transition_roles": "流程角色设定",
    "approved_fen": "拟支持/批准金额",
    "award_id": "所属奖励",
}
_AWARD_FIELDS = ("call_id", "entity_id", "rule_ref", "period", "amount_fen", "paid_fen", "state")
_STATUS_LABELS = {"scheduled": "待拨付", "paid": "已拨付", "cancelled": "已取消", "open": "受理中", "closed": "已关闭"}

NOTE_INSTALMENTS = (
    "分期计划随奖励生成，审计链中没有单独的事件：未拨付分期的金额无从核对，只核对各期合计等于审计链中的奖励金额"
)
NOTE_BATCH = (
    "免申即享兑现时预算按奖励逐笔预留，审计链中没有 budget.reserve 事件：这部分已预留预算按 award.create 的金额推算"
)


@dataclass
class Reconciliation:
    """The outcome: what was compared, every difference, and what the chain could not tell."""

    events: int = 0
    checked: dict[str, int] = field(default_factory=lambda: {"calls": 0, "awards": 0, "payments": 0,
                                                             "applications": 0})  # fmt: skip
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _CallFigures:
    """What the chain says of one call."""

    opened: bool = False  # a call.open event was seen
    budget_fen: int = 0
    status: str = "open"
    transition_roles: dict[str, str] = field(default_factory=dict)
    reserved_by_approval: int = 0  # budget.reserve events
    reserved_by_batch: int = 0  # award.create of 免申即享 awards
    released: int = 0  # award.claw_back released_fen
    paid: int = 0  # payment.pay amounts
    approved_awards: int = 0  # award.create of awards from applications

    @property
    def reserved_fen(self) -> int:
        return self.reserved_by_approval + self.reserved_by_batch - self.released


@dataclass
class _Chain:
    """The replayed chain: the expected state of each object, by id."""

    calls: dict[int, _CallFigures] = field(default_factory=dict)
    awards: dict[int, dict[str, Any]] = field(default_factory=dict)
    clawed_back: set[int] = field(default_factory=set)
    paid: dict[int, dict[str, Any]] = field(default_factory=dict)  # payment id -> amount, award
    applications: dict[int, dict[str, Any]] = field(default_factory=dict)
    batch_awards: bool = False


def repeatable_read(session: Session) -> None:
    """Read the rest of the session's transaction from one snapshot (PostgreSQL; on SQLite every
    transaction already is one). Call it before the session's first statement."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def reconcile(session: Session, *, batch: int = 5000) -> Reconciliation:
    """Replay the audit chain and compare awards, payments, calls and applications with it."""
    result = Reconciliation()
    chain = _replay(session, result, batch)
    if chain.batch_awards:
        result.notes.append(NOTE_BATCH)
    result.notes.append(NOTE_INSTALMENTS)
    _check_awards(session, chain, result, batch)
    _check_payments(session, chain, result, batch)
    _check_calls(session, chain, result)
    _check_applications(session, chain, result, batch)
    return result


def _replay(session: Session, result: Reconciliation, batch: int) -> _Chain:
    chain = _Chain()
    last = 0
    while True:
        rows = session.execute(
            select(AuditEvent.seq, AuditEvent.action, AuditEvent.object_id, AuditEvent.after)
            .where(AuditEvent.seq > last)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return chain
        for seq, action, object_id, after_text in rows:
            last = seq
            result.events += 1
            if action in _ACTIONS or action.startswith("application."):
                _apply(chain, result, seq, action, object_id, after_text)


def _apply(chain: _Chain, result: Reconciliation, seq: int, action: str, object_id: str, after_text: str) -> None:
    try:
        after = json.loads(after_text)
        oid = int(object_id)
    except ValueError:
        result.problems.append(f"审计事件 #{seq}（{action}）无法解析，不能据此对账")
        return
    if not isinstance(after, dict):
        result.problems.append(f"审计事件 #{seq}（{action}）缺少变更后的内容，不能据此对账")
        return
    try:
        _apply_event(chain, action, oid, after)
    except (KeyError, TypeError, ValueError):
        result.problems.append(f"审计事件 #{seq}（{action} {object_id}）缺少对账所需的数字，不能据此对账")


def _apply_event(chain: _Chain, action: str, oid: int, after: dict[str, Any]) -> None:
    if action == "call.open":
        figures = chain.calls.setdefault(oid, _CallFigures())
        figures.opened, figures.budget_fen, figures.status = True, int(after["budget_fen"]), str(after["status"])
        figures.transition_roles = dict(after.get("transition_roles") or {})
    elif action == "call.close":
        chain.calls.setdefault(oid, _CallFigures()).status = str(after["status"])
    elif action == "call.transition_roles":
        chain.calls.setdefault(oid, _CallFigures()).transition_roles = dict(after["transition_roles"])
    elif action == "budget.reserve":
        chain.calls.setdefault(oid, _CallFigures()).reserved_by_approval += int(after["amount_fen"])
    elif action == "award.create":
        award = {name: after[name] for name in _AWARD_FIELDS}
        chain.awards[oid] = award
        figures = chain.calls.setdefault(int(award["call_id"]), _CallFigures())
        if after.get("batch_id") is not None:
            chain.batch_awards = True
            figures.reserved_by_batch += int(award["amount_fen"])
        else:
            figures.approved_awards += int(award["amount_fen"])
    elif action == "payment.pay":
        award_after = after["award"]
        award_id = int(award_after["id"])
        chain.paid[oid] = {"amount_fen": int(after["amount_fen"]), "award_id": award_id}
        _update_award(chain, award_id, award_after)
        chain.calls.setdefault(int(award_after["call_id"]), _CallFigures()).paid += int(after["amount_fen"])
    elif action == "award.claw_back":
        _update_award(chain, oid, after)
        chain.clawed_back.add(oid)
        chain.calls.setdefault(int(after["call_id"]), _CallFigures()).released += int(after["released_fen"])
    elif action.startswith("application."):
        chain.applications[oid] = {"state": after["state"], "approved_fen": after.get("approved_fen")}


def _update_award(chain: _Chain, award_id: int, snapshot: dict[str, Any]) -> None:
    award = chain.awards.setdefault(award_id, {})
    award.update({name: snapshot[name] for name in _AWARD_FIELDS if name in snapshot})


def _value(name: str, value: Any) -> str:
    if value is None:
        return "空"
    if name in _MONEY and isinstance(value, int):
        return f"{format_cn(value)}（{value}分）"
    if name == "status":
        return f"“{_STATUS_LABELS.get(str(value), value)}”"
    if name == "state" and str(value) in State.__members__.values():
        return f"“{STATE_LABELS[State(str(value))]}”（{value}）"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _differ(what: str, name: str, table: Any, chain: Any, why: str = "") -> str:
    label = _LABELS.get(name, name)
    return f"{what}：表中{label}（{name}）为 {_value(name, table)}，审计链中为 {_value(name, chain)}{why}"


def _award_name(award_id: int, rule_ref: Any, period: Any, entity_id: Any) -> str:
    return f"奖励 #{award_id}（{rule_ref}，{period}年度，主体 #{entity_id}）"


def _check_awards(session: Session, chain: _Chain, result: Reconciliation, batch: int) -> None:
    seen: set[int] = set()
    for award in _stream(session, Award, batch):
        result.checked["awards"] += 1
        seen.add(award.id)
        name = _award_name(award.id, award.rule_ref, award.period, award.entity_id)
        expected = chain.awards.get(award.id)
        if expected is None or "amount_fen" not in expected:
            result.problems.append(f"{name}：审计链中没有它的创建事件（award.create），是绕过系统写入的")
            continue
        for column in _AWARD_FIELDS:
            if getattr(award, column) != expected[column]:
                result.problems.append(_differ(name, column, getattr(award, column), expected[column]))
    for award_id in sorted(set(chain.awards) - seen):
        award = chain.awards[award_id]
        name = _award_name(award_id, award.get("rule_ref"), award.get("period"), award.get("entity_id"))
        result.problems.append(f"{name}：审计链中有，表中已不存在（被删除）")


def _check_payments(session: Session, chain: _Chain, result: Reconciliation, batch: int) -> None:
    seen: set[int] = set()
    totals: dict[int, int] = defaultdict(int)
    for payment in _stream(session, Payment, batch):
        result.checked["payments"] += 1
        seen.add(payment.id)
        totals[payment.award_id] += payment.amount_fen
        name = f"拨付 #{payment.id}（奖励 #{payment.award_id} 第{payment.instalment}期）"
        paid = chain.paid.get(payment.id)
        if paid is not None:
            if payment.status != "paid":
                result.problems.append(_differ(name, "status", payment.status, "paid", "（有拨付事件 payment.pay）"))
            if payment.amount_fen != paid["amount_fen"]:
                result.problems.append(_differ(name, "amount_fen", payment.amount_fen, paid["amount_fen"]))
            if payment.award_id != paid["award_id"]:
                result.problems.append(_differ(name, "award_id", payment.award_id, paid["award_id"]))
            continue
        expected = "cancelled" if payment.award_id in chain.clawed_back else "scheduled"
        if payment.status != expected:
            why = (
                "（奖励已追回，未拨付的分期随之取消）" if expected == "cancelled" else "（审计链中没有该期的拨付事件）"
            )
            result.problems.append(_differ(name, "status", payment.status, expected, why))
    for payment_id in sorted(set(chain.paid) - seen):
        paid = chain.paid[payment_id]
        result.problems.append(
            f"拨付 #{payment_id}（奖励 #{paid['award_id']}）：审计链中已拨付 {_value('amount_fen', paid['amount_fen'])}，"
            f"表中已不存在（被删除）"
        )
    for award_id, award in sorted(chain.awards.items()):
        amount = award.get("amount_fen")
        if isinstance(amount, int) and award_id in totals and totals[award_id] != amount:
            result.problems.append(
                f"{_award_name(award_id, award.get('rule_ref'), award.get('period'), award.get('entity_id'))}："
                f"表中各期拨付计划合计 {_value('amount_fen', totals[award_id])}，审计链中奖励金额为 "
                f"{_value('amount_fen', amount)}"
            )


def _check_calls(session: Session, chain: _Chain, result: Reconciliation) -> None:
    seen: set[int] = set()
    for call in session.scalars(select(Call).order_by(Call.id)):
        result.checked["calls"] += 1
        seen.add(call.id)
        name = f"申报批次 #{call.id}（{call.title}）"
        figures = chain.calls.get(call.id)
        if figures is None or not figures.opened:
            result.problems.append(f"{name}：审计链中没有它的发布事件（call.open），是绕过系统写入的")
            continue
        derived = "（按审计链推算：批准预留 + 免申即享兑现 − 追回释放）"
        for column, expected, why in (
            ("budget_fen", figures.budget_fen, ""),
            ("reserved_fen", figures.reserved_fen, derived),
            ("paid_fen", figures.paid, "（各次拨付事件之和）"),
            ("status", figures.status, ""),
            ("transition_roles", figures.transition_roles, ""),
        ):
            table = getattr(call, column)
            if column == "transition_roles":
                table = dict(table or {})
            if table != expected:
                result.problems.append(_differ(name, column, table, expected, why))
        if figures.reserved_by_approval != figures.approved_awards:
            result.problems.append(
                f"{name}：审计链中批准时预留的预算合计 {_value('reserved_fen', figures.reserved_by_approval)}，"
                f"与批准生成的奖励合计 {_value('amount_fen', figures.approved_awards)} 不符（批准前金额被改动）"
            )
    for call_id in sorted(set(chain.calls) - seen):
        if chain.calls[call_id].opened:
            result.problems.append(f"申报批次 #{call_id}：审计链中有，表中已不存在（被删除）")


def _check_applications(session: Session, chain: _Chain, result: Reconciliation, batch: int) -> None:
    for application in _stream(session, Application, batch):
        result.checked["applications"] += 1
        name = f"申请 #{application.id}（申报批次 #{application.call_id}，主体 #{application.entity_id}）"
        expected = chain.applications.get(application.id)
        if expected is None:
            result.problems.append(f"{name}：审计链中没有它的事件，是绕过系统写入的")
            continue
        for column in ("state", "approved_fen"):
            if getattr(application, column) != expected[column]:
                result.problems.append(_differ(name, column, getattr(application, column), expected[column]))


def _stream(session: Session, model: type[Any], batch: int) -> Iterator[Any]:
    """Every row of ``model`` in id order, read ``batch`` at a time (rows not kept are let go)."""
    last = 0
    while True:
        page = list(session.scalars(select(model).where(model.id > last).order_by(model.id).limit(batch)))
        if not page:
            return
        yield from page
        last = page[-1].id
