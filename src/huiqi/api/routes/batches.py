"""免申即享 batches: compute from the registry, publish, award."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from huiqi.api.deps import CurrentActor, Id, PolicyDep, SessionDep, require
from huiqi.api.schemas.common import ERRORS, yuan
from huiqi.api.schemas.money import BatchPublic
from huiqi.workflow.batches import award_batch, compute_batch, get_batch, items_of, publish_batch
from huiqi.workflow.calls import get_call

router = APIRouter(tags=["batches"], responses=ERRORS)


@router.post("/calls/{call_id}/batches", response_model=BatchPublic, status_code=201)
def compute(call_id: Id, actor: CurrentActor, session: SessionDep, policy: PolicyDep) -> BatchPublic:
    """免申即享：按登记数据评估全部主体，列出符合本批次条款且金额确定的名单。"""
    batch = compute_batch(session, call=get_call(session, call_id), actor=actor, policy=policy)
    return BatchPublic.of(batch, items_of(session, batch.id))


@router.get("/batches/{batch_id}", response_model=BatchPublic)
def read(batch_id: Id, actor: CurrentActor, session: SessionDep) -> BatchPublic:
    """一个免申即享批次及其名单。"""
    require(actor, "official", "finance", "administrator")
    batch = get_batch(session, batch_id)
    return BatchPublic.of(batch, items_of(session, batch.id))


@router.post("/batches/{batch_id}/publish", response_model=BatchPublic)
def publish(batch_id: Id, actor: CurrentActor, session: SessionDep) -> BatchPublic:
    """发布名单。"""
    batch = publish_batch(session, batch=get_batch(session, batch_id), actor=actor)
    return BatchPublic.of(batch, items_of(session, batch.id))


@router.post("/batches/{batch_id}/award")
def award(batch_id: Id, actor: CurrentActor, session: SessionDep) -> dict[str, Any]:
    """兑现名单：按超额规则分配预算，写入奖励台账（不经申请）。"""
    result = award_batch(session, batch=get_batch(session, batch_id), actor=actor)
    return {"awarded": yuan(result["awarded_fen"]), "items": result["items"]}
