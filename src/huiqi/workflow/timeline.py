"""What an applicant follows on its desk: the timeline of an application (every state it went through, dated
from the audit chain; the 公示 period; each instalment paid or due; the reports due, handed in or overdue;
the call's deadline while it can still be submitted), and the open calls an entity may apply to.

Read-only: callers check first that the actor may see the application (``lifecycle.get_application``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.store.models import Application, AuditEvent, Call, Entity, Payment, Report
from huiqi.workflow.calls import accepting, machine_of
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.publicity import current_publicity
from huiqi.workflow.reports import is_overdue
from huiqi.workflow.states import STATE_LABELS, State

DONE, NOW, AHEAD, OVERDUE = "done", "now", "ahead", "overdue"


def cn_date(day: dt.date) -> str:
    """``2025年12月6日``.

    >>> cn_date(dt.date(2025, 12, 6))
    '2025年12月6日'
    """
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class Step:
    """One line of a timeline: a day (None for an instalment not yet scheduled to a day), what, and whether
    it is done, under way, ahead or overdue."""

    on: dt.date | None
    label: str
    detail: str = ""
    kind: str = DONE
    amount_fen: int | None = None
    state_label: str = ""  # the state the application entered, when the step is a move


def application_timeline(session: Session, application: Application, *, today: dt.date) -> list[Step]:
    """The application's timeline, in date order (undated instalments last)."""
    call = session.get_one(Call, application.call_id)
    machine = machine_of(call)
    steps: list[Step] = []
    went_public = False
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "application", AuditEvent.object_id == str(application.id))
        .order_by(AuditEvent.seq)
    )
    for event in events:
        name = event.action.removeprefix("application.")
        transition = machine.transitions.get(name)
        after = json.loads(event.after) if event.after else {}
        state = after.get("state")
        if name == "pay":
            continue  # each instalment is a step of its own below, with its amount and voucher
        label = transition.label if transition is not None else ("创建草稿" if name == "create" else name)
        entered = STATE_LABELS[State(state)] if state and name != "create" else ""
        detail = ""
        if name in ("reject", "withdraw", "uphold_objection", "claw_back") and after.get("reason"):
            detail = str(after["reason"])
        if name == "return_for_correction":
            detail = f"一次性告知需补正{len(after.get('corrections') or [])}项"
        went_public = went_public or name == "start_publicity"
        on = beijing.day_of(dt.datetime.fromisoformat(event.occurred_at))
        steps.append(Step(on, label, detail, state_label=entered if entered != label else ""))
    publicity = current_publicity(session, call.id) if went_public else None
    if publicity is not None:
        kind = DONE if publicity.ends_on < today else NOW
        unit = "个工作日" if publicity.day_kind == "working" else "天"
        steps.append(Step(publicity.ends_on, "公示期满", f"公示 {cn_date(publicity.starts_on)}至{cn_date(publicity.ends_on)}（{publicity.days}{unit}）",
                          kind))  # fmt: skip
    payments = session.scalars(
        select(Payment).where(Payment.application_id == application.id).order_by(Payment.instalment)
    )
    for payment in payments:
        if payment.status == "paid" and payment.paid_at is not None:
            steps.append(Step(beijing.day_of(payment.paid_at), f"第{payment.instalment}期拨付（{payment.share}%）",
                              f"拨付凭证号 {payment.reference}" if payment.reference else "", DONE,
                              payment.amount_fen))  # fmt: skip
        elif payment.status == "scheduled":
            steps.append(
                Step(None, f"第{payment.instalment}期待拨付（{payment.share}%）", "", AHEAD, payment.amount_fen)
            )
    reports = session.scalars(select(Report).where(Report.application_id == application.id).order_by(Report.due_on))
    for report in reports:
        if report.submitted_at is not None:
            steps.append(
                Step(report.due_on, f"{report.title}截止", f"已于{cn_date(beijing.day_of(report.submitted_at))}提交")
            )
        elif is_overdue(report, today):
            steps.append(Step(report.due_on, f"{report.title}截止", "已逾期，请尽快提交", OVERDUE))
        else:
            steps.append(Step(report.due_on, f"{report.title}截止", "待提交", AHEAD))
    if application.state in (State.DRAFT.value, State.RETURNED.value) and call.closes_on >= today:
        steps.append(Step(call.closes_on, "申报截止", "截止前须提交（退回补正的按告知期限重新提交）", AHEAD))
    return sorted(steps, key=lambda s: (s.on is None, s.on or dt.date.max))


def open_calls_for(session: Session, entity: Entity, *, policy: PolicyEngine, today: dt.date) -> list[Call]:
    """Calls that accept submissions today, whose provisions have a rule for the entity's type, and to
    which the entity has not applied yet (one application per call)."""
    applied = set(session.scalars(select(Application.call_id).where(Application.entity_id == entity.id)))
    found = []
    for call in session.scalars(select(Call).where(Call.status == "open").order_by(Call.closes_on, Call.id)):
        if call.id in applied or accepting(call, today) is not None:
            continue
        document = policy.base.document(call.document_id).policy
        types: set[str] = set()
        for provision in document.provisions:
            if provision.id in call.provisions:
                for rule in provision.rules:
                    types.update([rule.applies_to] if isinstance(rule.applies_to, str) else rule.applies_to)
        if entity.entity_type in types:
            found.append(call)
    return found
