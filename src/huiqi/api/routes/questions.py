"""The calculator's next question over HTTP (no sign-in, nothing stored): answers in, results and the next
question out — the same logic as the web calculator and ``huiqi ask`` (``huiqi.engine.questions``)."""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from huiqi import beijing
from huiqi.api.deps import PolicyDep
from huiqi.api.routes.evaluation import json_response
from huiqi.api.schemas.common import ERRORS
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.questions import Questionnaire
from huiqi.workflow.policy import PolicyEngine

router = APIRouter(tags=["evaluation"], responses=ERRORS)

_questionnaires: weakref.WeakKeyDictionary[Engine, Questionnaire] = weakref.WeakKeyDictionary()


def questionnaire(policy: PolicyEngine) -> Questionnaire:
    """The process's questionnaire over the loaded engine (built once)."""
    found = _questionnaires.get(policy.engine)
    if found is None:
        found = _questionnaires[policy.engine] = Questionnaire(policy.engine)
    return found


class QuestionsRequest(BaseModel):
    """Who asks (entity type, region), the answers so far, and the options of ``/evaluate``."""

    model_config = ConfigDict(extra="forbid")

    entity_type: str = Field(default="enterprise", max_length=40, examples=["enterprise"])
    region: list[str] = Field(default_factory=list, max_length=5, examples=[["江苏省", "苏州市"]])
    answers: dict[str, Any] = Field(
        default_factory=dict,
        max_length=500,
        description='问题编号 → 回答（如 {"registered_city": "苏州市", "revenue@2023": "1.35亿元"}）；'
        "“不清楚”表示不知道，该事实保持未知",
        examples=[{"registered_city": "苏州市", "main_business_software": "是", "revenue@2023": "不清楚"}],
    )
    money_unit: str | None = Field(default=None, description="未写单位的金额按此单位：元、万元或亿元")
    as_of: dt.date | None = None
    period: int | None = Field(default=None, ge=1900, le=2200)
    documents: list[str] = Field(default_factory=list, max_length=20)
    readings: dict[str, str] = Field(default_factory=dict)
    include_drafts: bool = False
    include_expired: bool = False
    any_jurisdiction: bool = False


def _step(policy: PolicyEngine, body: QuestionsRequest) -> dict[str, Any]:
    options = Options(
        as_of=body.as_of or beijing.today(),
        period=body.period,
        documents=tuple(body.documents),
        readings=dict(body.readings),
        include_drafts=body.include_drafts,
        include_expired=body.include_expired,
        any_jurisdiction=body.any_jurisdiction,
    )
    step = questionnaire(policy).step(body.entity_type, body.region, body.answers, options,
                                      money_unit=body.money_unit)  # fmt: skip
    return step.to_json()


@router.post("/questions", response_class=Response, responses={200: {"content": {"application/json": {}}}})
async def next_question(body: QuestionsRequest, policy: PolicyDep) -> Response:
    """政策计算器的下一个问题（无需登录；不读取也不保存任何登记数据）：按已有回答评估，返回结果
    （huiqi.evaluation 格式）和最能决定尚未确定条款的下一个问题；`done` 为 true 时，任何回答都不会再改变结果。"""
    return json_response(await run_in_threadpool(_step, policy, body))
