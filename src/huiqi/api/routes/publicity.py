"""公示 objections: filed by real name with evidence, resolved by an official, all on record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter

from huiqi import beijing
from huiqi.api.deps import CalendarDep, CurrentActor, Id, PolicyDep, SessionDep, require
from huiqi.api.schemas.applications import ObjectionCreate, ObjectionPublic, ObjectionResolve
from huiqi.api.schemas.common import ERRORS
from huiqi.workflow.lifecycle import get_application
from huiqi.workflow.publicity import file_objection, objections_for, resolve_objection
from huiqi.workflow.publicity_lists import as_json, current_lists

router = APIRouter(tags=["publicity"], responses=ERRORS)


@router.post("/applications/{application_id}/objections", response_model=ObjectionPublic, status_code=201)
def create_objection(
    application_id: Id, body: ObjectionCreate, actor: CurrentActor, session: SessionDep
) -> ObjectionPublic:
    """对公示中的申请实名提出异议（姓名、身份证号码、联系方式、内容、证据）。"""
    require(actor, "applicant", "official")
    from huiqi.store.models import Application

    application = session.get(Application, application_id)
    if application is None or application.state != "publicity":
        application = get_application(session, application_id, actor=actor)  # the usual not-found / refusal
    objection = file_objection(session, application=application, actor=actor, name=body.name,
                               id_number=body.id_number, contact=body.contact, content=body.content,
                               evidence=body.evidence)  # fmt: skip
    return ObjectionPublic.of(objection, actor)


@router.get("/applications/{application_id}/objections", response_model=list[ObjectionPublic])
def list_objections(application_id: Id, actor: CurrentActor, session: SessionDep) -> list[ObjectionPublic]:
    """一项申请收到的异议及处理结果。主管部门、管理员看到异议人实名、身份证号码和联系方式；被异议的申报主体
    看到异议内容和处理结果，异议人姓名遮蔽（如 张*），不含身份证号码和联系方式；异议人本人看到自己提出的异议。"""
    require(actor, "applicant", "official", "administrator")
    return [ObjectionPublic.of(o, actor) for o in objections_for(session, application_id=application_id, actor=actor)]


@router.post("/objections/{objection_id}/resolve", response_model=ObjectionPublic)
def resolve(objection_id: Id, body: ObjectionResolve, actor: CurrentActor, session: SessionDep) -> ObjectionPublic:
    """处理异议：成立则该申请不予支持；处理结果记录在案，不能更改。"""
    objection = resolve_objection(session, objection_id=objection_id, outcome=body.outcome,
                                  resolution=body.resolution, actor=actor)  # fmt: skip
    return ObjectionPublic.of(objection, actor)


@router.get("/publicity")
def current_publicity_lists(
    session: SessionDep, policy: PolicyDep, calendar: CalendarDep, on: dt.date | None = None
) -> list[dict[str, Any]]:
    """正在公示的名单（无需登录，与网页 /publicity 相同）：每个批次的公示期（工作日按节假日和调休计算）、剩余天数、
    拟支持的申报主体（单位的统一社会信用代码；个人不公开身份证号码）、支持事项与拟支持金额（元）。"""
    return [as_json(item) for item in current_lists(session, on=on or beijing.today(), policy=policy,
                                                     calendar=calendar)]  # fmt: skip
