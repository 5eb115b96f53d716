"""Expert review: the pool, the draw, the expert's own assignments and score sheets."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from huiqi.api.deps import CurrentActor, Id, IdQuery, PagingDep, SessionDep, require
from huiqi.api.schemas.common import ERRORS, Page
from huiqi.api.schemas.review import (
    AssignmentPublic,
    DeclineRequest,
    DeclineResult,
    DrawRequest,
    ExpertCreate,
    ExpertPublic,
    ScoreCreate,
)
from huiqi.store.models import Assignment, Expert
from huiqi.workflow.lifecycle import get_application
from huiqi.workflow.queues import visible_assignments
from huiqi.workflow.review import add_expert, decline_assignment, draw_experts, scores_visible_to, submit_score

router = APIRouter(tags=["reviews"], responses=ERRORS)


@router.post("/experts", response_model=ExpertPublic, status_code=201)
def create_expert(body: ExpertCreate, actor: CurrentActor, session: SessionDep) -> ExpertPublic:
    """专家入库：领域、工作单位、申报的利益关系。"""
    return ExpertPublic.of(add_expert(session, name=body.name, fields=body.fields, employer=body.employer,
                                      interests=body.interests, actor=actor))  # fmt: skip


@router.get("/experts", response_model=Page[ExpertPublic])
def list_experts(
    actor: CurrentActor, session: SessionDep, paging: PagingDep, field: str | None = None
) -> Page[ExpertPublic]:
    """专家库（主管部门、管理员），可按领域筛选。"""
    require(actor, "official", "administrator")
    experts = list(session.scalars(select(Expert).order_by(Expert.id)))
    if field:
        experts = [e for e in experts if field in e.fields]
    page = experts[paging.offset : paging.offset + paging.limit]
    return Page(items=[ExpertPublic.of(e) for e in page], total=len(experts), limit=paging.limit, offset=paging.offset)


@router.post("/applications/{application_id}/draw", response_model=list[AssignmentPublic], status_code=201)
def draw(application_id: Id, body: DrawRequest, actor: CurrentActor, session: SessionDep) -> list[AssignmentPublic]:
    """随机抽取专家（先排除利益冲突），开始评审；抽取种子记录在案，可复核。"""
    application = get_application(session, application_id, actor=actor, lock=True)
    assignments = draw_experts(session, application=application, actor=actor, field=body.field, seed=body.seed)
    return [AssignmentPublic.of(a) for a in assignments]


@router.get("/assignments", response_model=Page[AssignmentPublic])
def list_assignments(
    actor: CurrentActor, session: SessionDep, paging: PagingDep, application_id: IdQuery = None
) -> Page[AssignmentPublic]:
    """评审任务：专家只看到自己的；主管部门看到全部。"""
    require(actor, "expert", "official", "administrator")
    query = visible_assignments(select(Assignment), actor)
    if application_id is not None:
        query = query.where(Assignment.application_id == application_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(Assignment.id).limit(paging.limit).offset(paging.offset)))
    visible = {row["assignment_id"] for row in scores_visible_to(actor, rows)}
    return Page(items=[AssignmentPublic.of(a) for a in rows if a.id in visible], total=total, limit=paging.limit,
                offset=paging.offset)  # fmt: skip


@router.post("/assignments/{assignment_id}/score", response_model=AssignmentPublic)
def score(assignment_id: Id, body: ScoreCreate, actor: CurrentActor, session: SessionDep) -> AssignmentPublic:
    """专家独立评分（每项标准在其满分内，提交后不能修改）。"""
    return AssignmentPublic.of(submit_score(session, assignment_id=assignment_id, scores=body.scores,
                                            comment=body.comment, actor=actor))  # fmt: skip


@router.post("/assignments/{assignment_id}/decline", response_model=DeclineResult)
def decline(assignment_id: Id, body: DeclineRequest, actor: CurrentActor, session: SessionDep) -> DeclineResult:
    """专家声明回避（评分前，须说明理由）：该评分表不再计分，并从同领域无冲突的专家中补抽一名。"""
    result = decline_assignment(session, assignment_id=assignment_id, actor=actor, reason=body.reason)
    replacement = AssignmentPublic.of(result.replacement) if result.replacement is not None else None
    return DeclineResult(declined=AssignmentPublic.of(result.assignment), replacement=replacement)
