"""Payments in instalments: listed for finance and officials, paid by finance, each once."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from huiqi.api.deps import CurrentActor, Id, IdQuery, PagingDep, PolicyDep, SessionDep, require
from huiqi.api.schemas.common import ERRORS, Page
from huiqi.api.schemas.money import PaymentPublic, PayRequest
from huiqi.store.models import Payment
from huiqi.workflow.awards import pay
from huiqi.workflow.queues import visible_payments

router = APIRouter(prefix="/payments", tags=["payments"], responses=ERRORS)


@router.get("", response_model=Page[PaymentPublic])
def list_payments(
    actor: CurrentActor,
    session: SessionDep,
    paging: PagingDep,
    status: str | None = None,
    award_id: IdQuery = None,
    application_id: IdQuery = None,
) -> Page[PaymentPublic]:
    """拨付计划：财政、主管部门看全部，申报主体看本单位的；可按状态、奖励、申请筛选。"""
    require(actor, "applicant", "official", "finance", "administrator")
    query = visible_payments(select(Payment), actor)
    for column, value in ((Payment.status, status), (Payment.award_id, award_id),
                          (Payment.application_id, application_id)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Payment.id).limit(paging.limit).offset(paging.offset))
    return Page(items=[PaymentPublic.of(p) for p in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.post("/{payment_id}/pay", response_model=PaymentPublic)
def pay_instalment(
    payment_id: Id, body: PayRequest, actor: CurrentActor, session: SessionDep, policy: PolicyDep
) -> PaymentPublic:
    """拨付一期（按期次顺序；同一期不能重复拨付；分年拨付的一期须到其年度且满足政策规定的条件）。"""
    return PaymentPublic.of(pay(session, payment_id=payment_id, actor=actor, reference=body.reference, policy=policy))
