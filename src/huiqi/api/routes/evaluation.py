"""The policy calculator over HTTP: one profile in, the same ``huiqi.evaluation/1`` JSON as the CLI out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from huiqi.api.deps import CurrentActor, Id, PolicyDep, SessionDep, YearQuery
from huiqi.api.schemas.common import ERRORS
from huiqi.api.schemas.money import EvaluationRequest
from huiqi.engine.evaluate import Options
from huiqi.engine.profile import parse_profile
from huiqi.store.entities import get_entity
from huiqi.store.errors import NotFound
from huiqi.workflow.policy import PolicyEngine, evaluate_entity

router = APIRouter(tags=["evaluation"], responses=ERRORS)


def _evaluate(policy: PolicyEngine, body: EvaluationRequest) -> dict[str, Any]:
    profile = parse_profile(body.profile, policy.base.catalogue, where="profile")
    options = Options(
        as_of=body.as_of or dt.date.today(),
        period=body.period,
        documents=tuple(body.documents),
        readings=dict(body.readings),
        include_drafts=body.include_drafts,
        include_expired=body.include_expired,
        any_jurisdiction=body.any_jurisdiction,
    )
    return policy.engine.evaluate(profile, options).to_json()


@router.post("/evaluate")
async def evaluate(body: EvaluationRequest, _actor: CurrentActor, policy: PolicyDep) -> dict[str, Any]:
    """评估一个主体档案（与 `huiqi evaluate --format json` 同一格式 huiqi.evaluation/1）。"""
    return await run_in_threadpool(_evaluate, policy, body)


@router.post("/entities/{entity_id}/evaluate")
def evaluate_registered(
    entity_id: Id,
    actor: CurrentActor,
    session: SessionDep,
    policy: PolicyDep,
    as_of: dt.date | None = None,
    period: YearQuery = None,
    document: str | None = None,
) -> dict[str, Any]:
    """按登记的事实和奖励台账评估一个主体（申报主体只能评估自己）。"""
    if actor.role == "expert" or (actor.role == "applicant" and actor.entity_id != entity_id):
        raise NotFound(f"没有编号为 {entity_id} 的主体，或您无权查看", where="entity_id")
    entity = get_entity(session, entity_id)
    documents = (document,) if document else tuple(policy.base.documents)
    evaluation, _used = evaluate_entity(session, entity=entity, policy=policy, documents=documents,
                                        as_of=as_of or dt.date.today(), period=period)  # fmt: skip
    return evaluation.to_json()
