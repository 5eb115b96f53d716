"""Expert review: the pool, a random draw that excludes conflicts of interest, independent scoring,
and the stated aggregation (drop the highest and the lowest, then the mean — exact fractions)."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi.store.base import utcnow
from huiqi.store.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from huiqi.store.models import Application, Assignment, Call, Entity, Expert
from huiqi.workflow import audit
from huiqi.workflow.actors import Actor
from huiqi.workflow.lifecycle import check, move
from huiqi.workflow.states import State

AGGREGATIONS = {
    "trimmed_mean": "去掉一个最高分和一个最低分后取平均（不足3名专家时取平均）",
    "mean": "全部专家评分的平均",
}


def add_expert(
    session: Session, *, name: str, fields: list[str], employer: str, interests: list[str], actor: Actor
) -> Expert:
    """Add an expert to the pool, with the interests the expert declared (related firms, USCCs)."""
    if actor.role not in ("official", "administrator"):
        raise PermissionDenied(f"只有主管部门或管理员可以维护专家库，当前用户是{actor.role_label}")
    if not name.strip() or not employer.strip():
        raise InvalidInput("专家姓名和工作单位不能为空", where="name" if not name.strip() else "employer")
    expert = Expert(
        name=name.strip(),
        fields=[f.strip() for f in fields if f.strip()],
        employer=employer.strip(),
        interests=[i.strip() for i in interests if i.strip()],
    )
    session.add(expert)
    session.flush()
    audit.record(session, actor=actor, action="expert.add", object_type="expert", object_id=expert.id, before=None,
                 after=audit.snapshot(expert))  # fmt: skip
    return expert


def conflicts(expert: Expert, entity: Entity) -> list[str]:
    """Why an expert may not review an entity: works there, or declared an interest in it."""
    reasons = []
    if expert.employer == entity.name:
        reasons.append("专家任职于申报单位")
    declared = {i.upper() for i in expert.interests}
    if entity.name.upper() in declared or (entity.uscc and entity.uscc in declared):
        reasons.append("专家申报了与申报单位的利益关系")
    return reasons


def eligible_experts(
    session: Session, entity: Entity, *, field: str | None = None, exclude: Collection[int] = ()
) -> list[Expert]:
    """The urn of a draw: active experts without a conflict with ``entity`` (in ``field`` if given), in id
    order, leaving out the ids in ``exclude`` (those already drawn for the application)."""
    pool = session.scalars(select(Expert).where(Expert.active.is_(True)).order_by(Expert.id)).all()
    return [e for e in pool
            if e.id not in exclude and not conflicts(e, entity) and (field is None or field in e.fields)]  # fmt: skip


def sample_experts(eligible: list[Expert], needed: int, seed: str) -> list[Expert]:
    """``needed`` experts of the urn, drawn with ``seed``: the same urn and seed always give the same experts."""
    return random.Random(seed).sample(eligible, needed)  # noqa: S311 - a replayable draw, not a secret


def draw_experts(
    session: Session,
    *,
    application: Application,
    actor: Actor,
    field: str | None = None,
    seed: str | None = None,
) -> list[Assignment]:
    """Draw the call's number of experts at random from those without a conflict, then start review.

    Conflicts are excluded before the draw, never after: an expert with a conflict is not in the urn.
    The seed is recorded with each assignment so the draw can be replayed by an auditor.
    """
    call, transition = check(session, application, "start_review", actor)
    entity = session.get(Entity, application.entity_id)
    assert entity is not None
    eligible = eligible_experts(session, entity, field=field)
    needed = call.experts_per_application
    if len(eligible) < needed:
        where = f"（领域“{field}”）" if field else ""
        raise Conflict(
            f"专家库中无利益冲突的专家{where}只有{len(eligible)}名，少于本批次每项申请所需的{needed}名；请先扩充专家库",
            where="experts",
        )
    seed = seed or secrets.token_hex(16)
    drawn = sample_experts(eligible, needed, seed)
    assignments = [Assignment(application_id=application.id, expert_id=e.id, draw_seed=seed) for e in drawn]
    session.add_all(assignments)
    move(session, application, transition, actor=actor)
    for assignment in assignments:
        audit.record(session, actor=actor, action="review.assign", object_type="assignment", object_id=assignment.id,
                     before=None, after=audit.snapshot(assignment))  # fmt: skip
    return assignments


def submit_score(
    session: Session, *, assignment_id: int, scores: dict[str, int], comment: str, actor: Actor
) -> Assignment:
    """An expert hands in its own score sheet, once; every criterion scored within its range."""
    if actor.role != "expert" or actor.expert_id is None:
        raise PermissionDenied(f"只有评审专家可以评分，当前用户是{actor.role_label}")
    assignment = _own_assignment(session, assignment_id, actor)
    application = session.get(Application, assignment.application_id)
    assert application is not None
    if application.state != State.UNDER_REVIEW.value:
        raise IllegalTransition("该申请不在专家评审阶段，不能评分", where="state")
    if assignment.submitted_at is not None:
        raise Conflict("您已提交过本项评分，评分提交后不能修改", where="assignment_id")
    if assignment.declined_at is not None:
        raise Conflict("您已声明回避本项评审，不能评分", where="assignment_id")
    call = session.get(Call, application.call_id)
    assert call is not None
    criteria = {c["key"]: c for c in call.criteria}
    unknown = sorted(set(scores) - set(criteria))
    if unknown:
        raise InvalidInput(f"未知的评分项 {unknown}：本批次评分项为 {'、'.join(criteria)}", where="scores")
    for key, criterion in criteria.items():
        if key not in scores:
            raise InvalidInput(f"缺少评分项“{criterion['label']}”（{key}）", where=f"scores.{key}")
        value = scores[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= criterion["max"]:
            raise InvalidInput(
                f"“{criterion['label']}”的分数应为0到{criterion['max']}的整数，得到 {value!r}", where=f"scores.{key}"
            )
    before = audit.snapshot(assignment)
    assignment.scores = {k: scores[k] for k in criteria}
    assignment.total = sum(scores[k] for k in criteria)
    assignment.comment = comment.strip()
    assignment.submitted_at = utcnow()
    audit.record(session, actor=actor, action="review.score", object_type="assignment", object_id=assignment.id,
                 before=before, after=audit.snapshot(assignment))  # fmt: skip
    return assignment


def _own_assignment(session: Session, assignment_id: int, actor: Actor) -> Assignment:
    """The expert's own assignment, its row locked until the transaction ends (a score and a declared conflict
    of the same sheet are taken one after the other); another expert's is not found."""
    assignment = session.get(Assignment, assignment_id, with_for_update=True, populate_existing=True)
    if assignment is None or assignment.expert_id != actor.expert_id:
        raise NotFound(f"没有分配给您的评审任务 {assignment_id}", where="assignment_id")
    return assignment


@dataclass(frozen=True)
class Declined:
    """A declared conflict: the declined assignment, and the expert drawn in its place (None when the pool has
    nobody else without a conflict: the officials must then extend the pool or review with fewer)."""

    assignment: Assignment
    replacement: Assignment | None


def decline_assignment(
    session: Session,
    *,
    assignment_id: int,
    actor: Actor,
    reason: str,
    now: dt.datetime | None = None,
    seed: str | None = None,
) -> Declined:
    """回避: an expert declares a conflict of interest with an application it was drawn for, before scoring.

    Only the assignment's own expert, only while the application is under review and the sheet not handed
    in; the reason is required. The declined sheet can no longer be scored and is left out of the score
    (``score_of``). A replacement is drawn, as the first draw was (``eligible_experts``, ``sample_experts``),
    from the experts without a conflict who were not drawn for this application yet and who share a field
    (领域) with the expert who declined; its seed is recorded.
    """
    if actor.role != "expert" or actor.expert_id is None:
        raise PermissionDenied(f"只有被抽取的评审专家本人可以声明回避，当前用户是{actor.role_label}")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("请填写回避理由（例如：曾在申报单位任职、与申报单位有业务往来）", where="reason")
    if len(reason) > 500:
        raise InvalidInput(f"回避理由最多500字，现有{len(reason)}字，请精简", where="reason")
    assignment = _own_assignment(session, assignment_id, actor)
    if assignment.declined_at is not None:
        raise Conflict("您已声明回避本项评审，不能重复声明", where="assignment_id")
    if assignment.submitted_at is not None:
        raise Conflict(
            "您已提交本项评分，评分提交后不能再声明回避；如确有利益关系，请联系主管部门", where="assignment_id"
        )
    application = session.get(Application, assignment.application_id)
    assert application is not None
    if application.state != State.UNDER_REVIEW.value:
        raise IllegalTransition("该申请不在专家评审阶段，不能声明回避", where="state")
    now = now or utcnow()
    before = audit.snapshot(assignment)
    assignment.declined_at = now
    assignment.decline_reason = reason
    session.flush()
    audit.record(session, actor=actor, action="review.decline", object_type="assignment", object_id=assignment.id,
                 before=before, after=audit.snapshot(assignment), now=now)  # fmt: skip
    entity = session.get(Entity, application.entity_id)
    assert entity is not None
    drawn = session.scalars(select(Assignment.expert_id).where(Assignment.application_id == application.id)).all()
    eligible = eligible_experts(session, entity, exclude=set(drawn))
    declining = session.get(Expert, assignment.expert_id)
    if declining is not None and declining.fields:  # the replacement reviews in the same field
        eligible = [e for e in eligible if set(e.fields) & set(declining.fields)]
    if not eligible:
        return Declined(assignment, None)
    seed = seed or secrets.token_hex(16)
    [expert] = sample_experts(eligible, 1, seed)
    replacement = Assignment(application_id=application.id, expert_id=expert.id, draw_seed=seed, assigned_at=now)
    session.add(replacement)
    session.flush()
    audit.record(session, actor=actor, action="review.assign", object_type="assignment", object_id=replacement.id,
                 before={"declined": assignment.id}, after=audit.snapshot(replacement), now=now)  # fmt: skip
    return Declined(assignment, replacement)


def aggregate(totals: list[int], method: str) -> Fraction:
    """The application's score from its experts' totals, exactly.

    >>> aggregate([90, 80, 70, 60, 100], "trimmed_mean")
    Fraction(80, 1)
    >>> aggregate([81, 80], "trimmed_mean")  # fewer than three: the mean
    Fraction(161, 2)
    """
    if not totals:
        raise ValueError("no scores")
    if method == "trimmed_mean" and len(totals) >= 3:
        kept = sorted(totals)[1:-1]
        return Fraction(sum(kept), len(kept))
    return Fraction(sum(totals), len(totals))


def score_of(session: Session, application: Application, call: Call) -> Fraction:
    """The aggregated score; every drawn expert who did not decline (回避) must have handed in."""
    assignments = session.scalars(
        select(Assignment).where(Assignment.application_id == application.id, Assignment.declined_at.is_(None))
    ).all()
    pending = [a for a in assignments if a.total is None]
    if not assignments or pending:
        raise Conflict(
            f"申请 {application.id} 尚有{len(pending) or call.experts_per_application}名专家未提交评分", where="scores"
        )
    return aggregate([a.total for a in assignments if a.total is not None], call.aggregation)


def scores_visible_to(actor: Actor, assignments: list[Assignment]) -> list[dict[str, Any]]:
    """Independent scoring: an expert sees only its own sheet; officials see all once handed in."""
    rows = []
    for a in assignments:
        if actor.role == "expert" and a.expert_id != actor.expert_id:
            continue
        rows.append({"assignment_id": a.id, "expert_id": a.expert_id, "scores": a.scores, "total": a.total,
                     "comment": a.comment, "submitted_at": a.submitted_at, "declined_at": a.declined_at,
                     "decline_reason": a.decline_reason})  # fmt: skip
    return rows
