"""The audit log, for administrators and officials: events and a verification of the chain."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from huiqi.api.deps import CurrentActor, PagingDep, SessionDep, require
from huiqi.api.schemas.common import ERRORS, Page
from huiqi.api.schemas.money import AuditEventPublic, VerificationPublic
from huiqi.store.models import AuditEvent
from huiqi.workflow.audit import verify

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERRORS)


@router.get("/events", response_model=Page[AuditEventPublic])
def list_events(
    actor: CurrentActor,
    session: SessionDep,
    paging: PagingDep,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
) -> Page[AuditEventPublic]:
    """审计事件（按序号），可按对象、动作筛选。"""
    require(actor, "administrator", "official")
    query = select(AuditEvent)
    for column, value in ((AuditEvent.object_type, object_type), (AuditEvent.object_id, object_id),
                          (AuditEvent.action, action)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEvent.seq).limit(paging.limit).offset(paging.offset))
    return Page(items=[AuditEventPublic.model_validate(e) for e in rows], total=total, limit=paging.limit,
                offset=paging.offset)  # fmt: skip


@router.get("/verify", response_model=VerificationPublic)
def verify_chain(actor: CurrentActor, session: SessionDep) -> VerificationPublic:
    """重新计算整条哈希链，报告任何篡改（仅系统管理员）。"""
    require(actor, "administrator")
    result = verify(session)
    return VerificationPublic(ok=result.ok, events=result.events, problems=result.problems)
