"""The policy calculator over HTTP: one profile in, the same ``huiqi.evaluation/2`` JSON as the CLI out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from huiqi import beijing
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
        as_of=body.as_of or beijing.today(),
        period=body.period,
        documents=tuple(body.documents),
        readings=dict(body.readings),
        include_drafts=body.include_drafts,
        include_expired=body.include_expired,
        any_jurisdiction=body.any_jurisdiction,
    )
    return policy.engine.evaluate(profile, options).to_json()


def json_response(document: dict[str, Any]) -> Response:
    """An evaluation document (≈100 KB for all documents) encoded once, by orjson, without a response model:
    the schema is ``huiqi.evaluation/2`` (docs/evaluation.md), and re-validating it would double the cost."""
    return Response(orjson.dumps(document), media_type="application/json")


@router.post("/evaluate", response_class=Response, responses={200: {"content": {"application/json": {}}}})
async def evaluate(body: EvaluationRequest, policy: PolicyDep) -> Response:
    """政策计算器：评估一个主体档案（无需登录；不读取也不保存任何登记数据），返回与
    `huiqi evaluate --format json` 同一格式 huiqi.evaluation/2。"""
    return json_response(await run_in_threadpool(_evaluate, policy, body))


@router.post(
    "/entities/{entity_id}/evaluate", response_class=Response, responses={200: {"content": {"application/json": {}}}}
)
def evaluate_registered(
    entity_id: Id,
    actor: CurrentActor,
    session: SessionDep,
    policy: PolicyDep,
    as_of: dt.date | None = None,
    period: YearQuery = None,
    document: str | None = None,
) -> Response:
    """按登记的事实和奖励台账评估一个主体（申报主体只能评估自己）。"""
    if actor.role == "expert" or (actor.role == "applicant" and actor.entity_id != entity_id):
        raise NotFound(f"没有编号为 {entity_id} 的主体，或您无权查看", where="entity_id")
    entity = get_entity(session, entity_id)
    documents = (document,) if document else tuple(policy.base.documents)
    evaluation, _used = evaluate_entity(session, entity=entity, policy=policy, documents=documents,
                                        as_of=as_of or beijing.today(), period=period)  # fmt: skip
    return json_response(evaluation.to_json())
