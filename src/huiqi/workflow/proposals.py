"""The proposed list (拟支持名单) of a call: ranking against the quota, then the budget rule.

Order: applications that passed review (or the check, when there is no expert review) are ranked —
by score, highest first; equal scores by earlier submission, then lower id (stated, so the order is
never arbitrary). With competitive review only the first ``quota`` are proposed; with expert review
those at or above the pass score. Then, if what they ask exceeds the budget left, the call's rule:

- ``ranking``: in rank order, each application that still fits in full gets it; one that does not fit
  is not supported (预算不足) and a later, smaller one may still fit;
- ``pro_rata``: everyone gets the same fraction, rounded down to the fen, and the fen left over go
  one each to the largest remainders (``largest_remainder``), so the total is exactly the budget left.

The approved amount of an application is then split over its rules the same way.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huiqi.money import format_cn
from huiqi.store.base import as_utc
from huiqi.store.errors import Conflict, PermissionDenied
from huiqi.store.models import Application, Call
from huiqi.workflow.actors import Actor
from huiqi.workflow.budget import largest_remainder
from huiqi.workflow.lifecycle import check, move
from huiqi.workflow.review import score_of
from huiqi.workflow.states import State


def _fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def _moment(value: dt.datetime | None) -> dt.datetime:
    return as_utc(value) if value is not None else dt.datetime.max.replace(tzinfo=dt.UTC)


def make_proposed_list(session: Session, *, call: Call, actor: Actor, now: dt.datetime | None = None) -> dict[str, Any]:
    """Rank, apply the quota and the budget rule; move each candidate to 拟支持 or 不予支持 (``now``: when,
    for the audit events; the present by default)."""
    if actor.role != "official":
        raise PermissionDenied(f"只有主管部门经办人可以确定拟支持名单，当前用户是{actor.role_label}")
    reviewed = call.review_mode in ("expert", "competitive")
    source = State.UNDER_REVIEW if reviewed else State.CHECKED
    candidates = list(
        session.scalars(
            select(Application)
            .where(Application.call_id == call.id, Application.state == source.value)
            .order_by(Application.id)
            .with_for_update()
        )
    )
    if not candidates:
        raise Conflict(f"没有处于“{'专家评审中' if reviewed else '形式审查通过'}”的申请，无法确定拟支持名单")
    waiting = session.scalar(
        select(func.count(Application.id)).where(
            Application.call_id == call.id, Application.state.in_([State.SUBMITTED.value, State.CHECKED.value])
        )
    )
    if reviewed and waiting:
        raise Conflict(f"还有{waiting}项申请未完成形式审查或未分配专家，请先处理")
    scores = {a.id: score_of(session, a, call) for a in candidates} if reviewed else {}
    # submitted_at read back from SQLite is naive, a value set in this session aware: compare both as UTC
    ranked = sorted(candidates, key=lambda a: (-scores.get(a.id, Fraction(0)), _moment(a.submitted_at), a.id))
    chosen: list[Application] = []
    for rank, application in enumerate(ranked, start=1):
        application.rank = rank
        if reviewed:
            application.score = _fraction_text(scores[application.id])
        if call.review_mode == "competitive" and call.quota is not None and rank > call.quota:
            _decline(session, application, actor, f"竞争性评审排名第{rank}，未进入名额（名额{call.quota}个）", now)
        elif call.review_mode == "expert" and call.pass_score is not None and scores[application.id] < call.pass_score:
            score = float(scores[application.id])
            _decline(session, application, actor, f"专家评审得分{score:.2f}，低于及格分{call.pass_score}", now)
        else:
            chosen.append(application)
    committed = session.scalar(
        select(func.coalesce(func.sum(Application.approved_fen), 0)).where(
            Application.call_id == call.id,
            Application.state.in_([State.PROPOSED.value, State.PUBLICITY.value]),
        )
    )
    available = call.budget_fen - call.reserved_fen - int(committed or 0)
    amounts = allocate([a.requested_fen or 0 for a in chosen], available, call.oversubscription)
    proposed, declined = [], []
    for application, amount in zip(chosen, amounts, strict=True):
        if amount <= 0:
            _decline(
                session,
                application,
                actor,
                f"预算不足：本批次剩余预算{format_cn(max(available, 0))}已按排序分配完毕",
                now,
            )
            declined.append(application.id)
            continue
        split = largest_remainder(amount, [r["amount_fen"] for r in application.rules])
        rules = [{**r, "approved_fen": part} for r, part in zip(application.rules, split, strict=True)]
        _call, transition = check(session, application, "propose", actor)
        move(session, application, transition, actor=actor, approved_fen=amount, rules=rules, now=now)
        proposed.append(application.id)
    return {
        "proposed": proposed,
        "declined": [a.id for a in ranked if a.state == State.REJECTED.value],
        "available_fen": available,
        "rule": call.oversubscription,
    }


def allocate(requested: list[int], available: int, rule: str) -> list[int]:
    """Amounts for requests in rank order under a budget (see the module docstring).

    >>> allocate([300, 500, 400], 1000, "ranking")
    [300, 500, 0]
    >>> allocate([300, 500, 400], 1000, "pro_rata")
    [250, 417, 333]
    >>> allocate([300, 500], 1000, "pro_rata")
    [300, 500]
    """
    available = max(available, 0)
    if sum(requested) <= available:
        return list(requested)
    if rule == "pro_rata":
        return largest_remainder(available, requested)
    amounts, left = [], available
    for amount in requested:
        granted = amount if amount <= left else 0
        amounts.append(granted)
        left -= granted
    return amounts


def _decline(
    session: Session, application: Application, actor: Actor, reason: str, now: dt.datetime | None = None
) -> None:
    _call, transition = check(session, application, "reject", actor)
    move(session, application, transition, actor=actor, reason=reason, now=now)
