"""Approval, awards and payments: where money moves, each in one transaction with its audit events.

Approval reserves the budget (``budget.reserve``), writes one award per rule into the ledger (unique per
entity, rule and period: the database refuses a second), and schedules the instalments. Paying an
instalment is a conditional UPDATE from ``scheduled`` to ``paid``: a second attempt matches nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.engine.conditions import CompiledCondition
from huiqi.engine.env import Env
from huiqi.engine.values import is_unknown
from huiqi.money import format_cn, parse_money, round_half_up
from huiqi.store.base import utcnow
from huiqi.store.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from huiqi.store.models import Application, Award, Call, Entity, Payment, Report
from huiqi.workflow import audit, budget
from huiqi.workflow.actors import Actor
from huiqi.workflow.budget import largest_remainder
from huiqi.workflow.lifecycle import check, move
from huiqi.workflow.policy import PolicyEngine, entity_profile, policy_engine
from huiqi.workflow.publicity import approval_blocker
from huiqi.workflow.states import State

#: budget years are China's calendar years
CHINA = ZoneInfo("Asia/Shanghai")


def approve(
    session: Session,
    *,
    application: Application,
    actor: Actor,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> list[Award]:
    """Approve: reserve the budget, write the awards and the payment schedule, in the caller's transaction
    (``now``: when, for the audit events; the present by default)."""
    today = today or beijing.today()
    call, transition = check(session, application, "approve", actor)
    blocker = approval_blocker(session, application, today)
    if blocker:
        raise Conflict(blocker, where="publicity")
    amount = application.approved_fen
    if not amount:
        raise Conflict("拟支持金额未确定，不能批准；请先确定拟支持名单", where="approved_fen")
    for rule in application.rules:
        taken = session.scalar(
            select(Award.id).where(
                Award.entity_id == application.entity_id, Award.rule_ref == rule["ref"], Award.period == call.period,
                Award.quarter == (call.quarter or 0),
            )
        )  # fmt: skip
        if taken is not None and rule.get("approved_fen"):
            raise Conflict(
                f"该主体已就 {rule['ref']} 获得 {_period_text(call)}的奖励（奖励编号 {taken}），同一条款同一期间不能重复享受",
                where="rules",
            )
    budget.reserve(session, call_id=call.id, amount_fen=amount)
    awards = create_awards(session, call=call, application=application, actor=actor, now=now)
    schedule_reports(session, call=call, application=application, today=today)
    move(session, application, transition, actor=actor, now=now)
    audit.record(session, actor=actor, action="budget.reserve", object_type="call", object_id=call.id,
                 before={"application": application.id}, after={"reserved_fen": call.reserved_fen,
                                                                "amount_fen": amount}, now=now)  # fmt: skip
    return awards


def create_awards(
    session: Session,
    *,
    call: Call,
    application: Application | None,
    actor: Actor,
    entity_id: int | None = None,
    rules: list[dict[str, Any]] | None = None,
    batch_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[Award]:
    """Awards and their instalments for approved rules (an application's, or a 免申即享 item's)."""
    awards = []
    for rule in rules if rules is not None else (application.rules if application else []):
        amount = int(rule.get("approved_fen") or 0)
        if amount <= 0:
            continue
        award = Award(
            call_id=call.id,
            application_id=application.id if application else None,
            batch_id=batch_id,
            entity_id=application.entity_id if application else entity_id,
            rule_ref=str(rule["ref"]),
            period=call.period,
            quarter=call.quarter or 0,
            tiers=list(rule.get("tiers") or []),
            amount_fen=amount,
            paid_fen=0,
            state="approved",
            approved_by=actor.username,
            approved_at=now or utcnow(),
        )
        session.add(award)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(
                f"该主体已就 {award.rule_ref} 获得 {_period_text(call)}的奖励，同一条款同一期间不能重复享受",
                where="rules",
            ) from None
        awarded_in = (now or utcnow()).astimezone(CHINA).year
        for number, part in enumerate(instalment_plan(call, rule, amount, awarded_in), start=1):
            if part.amount_fen > 0:
                session.add(Payment(award_id=award.id, application_id=award.application_id, instalment=number,
                                    share=part.share, amount_fen=part.amount_fen, status="scheduled",
                                    due_year=part.due_year, waits_on=part.waits_on or None,
                                    reports_required=part.reports_required))  # fmt: skip
        audit.record(session, actor=actor, action="award.create", object_type="award", object_id=award.id,
                     before=None, after=audit.snapshot(award), now=now)  # fmt: skip
        awards.append(award)
    return awards


def _period_text(call: Call) -> str:
    """``2024年度`` or, for a quarterly call, ``2024年第2季度``."""
    return f"{call.period}年第{call.quarter}季度" if call.quarter else f"{call.period} 年度"


@dataclass(frozen=True)
class PlannedInstalment:
    """One instalment as approval schedules it."""

    share: int  # percent of the award
    amount_fen: int
    due_year: int
    waits_on: str = ""
    reports_required: bool = False


def instalment_plan(call: Call, rule: dict[str, Any], amount: int, awarded_in: int) -> list[PlannedInstalment]:
    """The instalments of an award approved in the budget year ``awarded_in``.

    Shares: the call's plan; else the rule's own (分期拨付 in the policy text, as the engine computed it);
    else one payment; split by largest remainder to the fen. Years and conditions come from the rule's
    schedule (each part's year relative to the first, as the evaluation computed them) when the call's plan
    has the same number of parts or there is none; a call plan of another shape is paid in the award year.
    """
    from_rule = list(rule.get("instalments") or [])
    rule_parts = [parse_money(f"{part['amount']}元") for part in from_rule]
    if call.instalments:
        shares = list(call.instalments)
        parts = largest_remainder(amount, shares)
    elif rule_parts and sum(rule_parts) > 0:
        shares = [round_half_up(Fraction(100 * part, sum(rule_parts))) for part in rule_parts]
        parts = largest_remainder(amount, rule_parts)
    else:
        return [PlannedInstalment(100, amount, awarded_in)]
    scheduled = from_rule if len(from_rule) == len(shares) else [{} for _ in shares]
    first = scheduled[0].get("year")
    plan = []
    for share, part, planned in zip(shares, parts, scheduled, strict=True):
        offset = int(planned["year"]) - int(first) if planned.get("year") is not None and first is not None else 0
        waits = str(planned.get("conditions") or "")
        plan.append(PlannedInstalment(share, part, awarded_in + offset, waits, bool(planned.get("reports_submitted"))))
    return plan


def schedule_reports(session: Session, *, call: Call, application: Application, today: dt.date) -> list[Report]:
    """Follow-up reports due on the call's dates, for ``report_years`` years from the approval year."""
    reports = []
    for year in range(today.year, today.year + call.report_years):
        for month_day in call.report_due:
            try:
                due = dt.date.fromisoformat(f"{year}-{month_day}")
            except ValueError:  # a call stored before its dates were checked at opening
                raise Conflict(
                    f"本批次的绩效报告截止日 {month_day} 在{year}年不存在，无法安排报告；请更正批次设置后再批准",
                    where="report_due",
                ) from None
            if due < today:
                continue
            title = f"{year}年{'上半年' if due.month <= 6 else '下半年'}绩效报告"
            reports.append(Report(application_id=application.id, title=title, due_on=due))
    session.add_all(reports)
    return reports


def pay(
    session: Session,
    *,
    payment_id: int,
    actor: Actor,
    reference: str,
    now: dt.datetime | None = None,
    policy: PolicyEngine | None = None,
) -> Payment:
    """Pay one instalment, in order; the same instalment can never be paid twice. An instalment of a schedule
    over years waits for its budget year, for the reports due before it when the text says so, and for the
    conditions the text states, judged by the engine on the entity's registered facts (``policy``: the
    service's engine; the process-wide one for the configured policy folder when not given)."""
    now = now or utcnow()
    if actor.role != "finance":
        raise PermissionDenied(f"资金拨付只能由财政（资金拨付）执行，当前用户是{actor.role_label}")
    if not reference.strip():
        raise InvalidInput("须填写拨付凭证号", where="reference")
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound(f"没有编号为 {payment_id} 的拨付计划", where="payment_id")
    # Locks in the one order of the platform: application → award → payment → call → audit head.
    application = (
        session.get(Application, payment.application_id, with_for_update=True, populate_existing=True)
        if payment.application_id
        else None
    )
    award = session.get(Award, payment.award_id, with_for_update=True, populate_existing=True)
    assert award is not None
    if award.state == "clawed_back":
        raise IllegalTransition("该奖励已追回，不能拨付", where="award")
    earlier = session.scalar(
        select(Payment.instalment).where(
            Payment.award_id == award.id, Payment.instalment < payment.instalment, Payment.status == "scheduled"
        )
    )
    if earlier is not None:
        raise Conflict(f"请先拨付第{earlier}期，再拨付第{payment.instalment}期", where="payment_id")
    blocker = due_blocker(session, payment, award, now.astimezone(CHINA).date(), policy)
    if blocker:
        raise Conflict(blocker, where="payment_id")
    transition = None
    if application is not None:
        _call, transition = check(session, application, "pay", actor)
    claimed = session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status == "scheduled")
        .values(status="paid", paid_at=now, paid_by=actor.username, reference=reference.strip())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"第{payment.instalment}期已拨付（或已取消），不能重复拨付", where="payment_id")
    session.refresh(payment)
    before = audit.snapshot(award)
    award.paid_fen += payment.amount_fen
    if award.paid_fen == award.amount_fen:
        award.state = "paid"
    budget.record_payment(session, call_id=award.call_id, amount_fen=payment.amount_fen)
    audit.record(session, actor=actor, action="payment.pay", object_type="payment", object_id=payment.id, now=now,
                 before={"status": "scheduled", "award": before},
                 after={"status": "paid", "amount_fen": payment.amount_fen, "reference": payment.reference,
                        "award": audit.snapshot(award)})  # fmt: skip
    if application is not None and transition is not None:
        outstanding = session.scalar(
            select(Payment.id).where(Payment.application_id == application.id, Payment.status == "scheduled")
        )
        if outstanding is not None:
            target = State.PAYING
        else:
            has_reports = session.scalar(select(Report.id).where(Report.application_id == application.id))
            target = State.FOLLOW_UP if has_reports is not None else State.PAID
        move(session, application, transition, actor=actor, target=target, now=now)
    return payment


def due_blocker(
    session: Session, payment: Payment, award: Award, today: dt.date, policy: PolicyEngine | None
) -> str | None:
    """Why a scheduled instalment cannot be paid today (not yet its year, reports missing, a condition not
    met or not known), in words finance can act on; None when it can."""
    label = f"第{payment.instalment}期"
    if payment.due_year is not None and payment.due_year > today.year:
        return f"{label}按分期计划应于{payment.due_year}年度拨付，现为{today.year}年度，尚未到期"
    if payment.reports_required and payment.application_id is not None:
        missing = session.scalars(
            select(Report).where(
                Report.application_id == payment.application_id, Report.due_on <= today, Report.submitted_at.is_(None)
            )
        ).all()
        if missing:
            names = "、".join(f"{r.title}（截止{r.due_on:%Y年%m月%d日}）" for r in missing)
            return f"{label}须在到期的绩效报告均已提交后拨付，尚未提交：{names}"
    if not payment.waits_on:
        return None
    policy = policy or policy_engine()
    condition = _instalment_condition(policy, award.rule_ref, payment.instalment)
    if condition is None:
        return None
    entity = session.get_one(Entity, award.entity_id)
    profile, _used = entity_profile(session, entity, policy)
    env = Env(facts=profile.facts, period=today.year - 1, as_of=today, ledger=profile.ledger,
              readings=policy.engine.resolve_readings({}), region=profile.region)  # fmt: skip
    value, _trace = condition.evaluate(env)
    if value is True:
        return None
    if value is False:
        return (
            f"{label}的拨付条件不满足：{condition.label}（依据登记的事实）；情况如有变化请先更新登记信息，否则取消本期"
        )
    missing_facts = "、".join(sorted(name for name, _period in value.missing)) if is_unknown(value) else ""
    return f"{label}须满足“{condition.label}”，登记的事实不足以核验（缺少：{missing_facts}）；请先补充登记信息"


def _instalment_condition(policy: PolicyEngine, rule_ref: str, number: int) -> CompiledCondition | None:
    """The compiled condition of the rule's ``number``-th instalment, if it states one."""
    document = policy.engine.documents.get(rule_ref.split(":", 1)[0])
    rule = next((r for r in document.rules if r.ref == rule_ref), None) if document else None
    if rule is None or number > len(rule.instalments):
        return None
    return rule.instalments[number - 1].condition


def close(session: Session, *, application: Application, actor: Actor) -> Application:
    """结项: every follow-up report must have been handed in."""
    _call, transition = check(session, application, "close", actor)
    outstanding = session.scalars(
        select(Report).where(Report.application_id == application.id, Report.submitted_at.is_(None))
    ).all()
    if outstanding:
        due = "、".join(f"{r.title}（{r.due_on}）" for r in outstanding)
        raise Conflict(f"尚有绩效报告未提交：{due}；全部提交后方可结项", where="reports")
    return move(session, application, transition, actor=actor)


def award_summary(award: Award) -> str:
    return f"{award.rule_ref} {award.period}年度 {format_cn(award.amount_fen)}（已拨付{format_cn(award.paid_fen)}）"
