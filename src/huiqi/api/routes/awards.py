"""The award ledger (read-only: awards are made by approval or by a 免申即享 batch)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from huiqi.api.deps import CurrentActor, Id, IdQuery, PagingDep, SessionDep, YearQuery, require
from huiqi.api.schemas.common import ERRORS, Page
from huiqi.api.schemas.money import AwardPublic
from huiqi.store.errors import NotFound
from huiqi.store.models import Award

router = APIRouter(prefix="/awards", tags=["awards"], responses=ERRORS)


@router.get("", response_model=Page[AwardPublic])
def list_awards(
    actor: CurrentActor,
    session: SessionDep,
    paging: PagingDep,
    call_id: IdQuery = None,
    entity_id: IdQuery = None,
    period: YearQuery = None,
    state: str | None = None,
) -> Page[AwardPublic]:
    """奖励台账：申报主体只看到本单位的；可按批次、主体、年度、状态筛选。"""
    require(actor, "applicant", "official", "finance", "administrator")
    query = select(Award)
    if actor.role == "applicant":
        query = query.where(Award.entity_id == (actor.entity_id or 0))
    for column, value in ((Award.call_id, call_id), (Award.entity_id, entity_id), (Award.period, period),
                          (Award.state, state)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Award.id).limit(paging.limit).offset(paging.offset))
    return Page(items=[AwardPublic.of(a) for a in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{award_id}", response_model=AwardPublic)
def read(award_id: Id, actor: CurrentActor, session: SessionDep) -> AwardPublic:
    """一条奖励。"""
    require(actor, "applicant", "official", "finance", "administrator")
    award = session.get(Award, award_id)
    if award is None or (actor.role == "applicant" and award.entity_id != actor.entity_id):
        raise NotFound(f"没有编号为 {award_id} 的奖励，或您无权查看", where="award_id")
    return AwardPublic.of(award)
