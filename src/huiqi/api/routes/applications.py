"""Applications: draft, materials, submit with 信用承诺, and every named transition of the lifecycle."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from sqlalchemy import func, select

from huiqi import beijing
from huiqi.api.deps import CurrentActor, Id, IdQuery, PagingDep, PolicyDep, SessionDep, SettingsDep
from huiqi.api.schemas.applications import (
    ApplicationCreate,
    ApplicationPublic,
    ClawbackRequest,
    CorrectionRequest,
    FrozenPublic,
    MaterialPublic,
    ReasonRequest,
    SubmitRequest,
)
from huiqi.api.schemas.common import ERRORS, Page
from huiqi.store.errors import InvalidInput
from huiqi.store.models import Application, Material
from huiqi.workflow import applications as flow
from huiqi.workflow.awards import approve, close
from huiqi.workflow.calls import get_call
from huiqi.workflow.clawback import claw_back
from huiqi.workflow.lifecycle import get_application
from huiqi.workflow.materials import add_material
from huiqi.workflow.queues import visible_applications
from huiqi.workflow.replay import replay

router = APIRouter(prefix="/applications", tags=["applications"], responses=ERRORS)


@router.post("", response_model=ApplicationPublic, status_code=201)
def create(body: ApplicationCreate, actor: CurrentActor, session: SessionDep) -> ApplicationPublic:
    """申报主体新建本单位的申请草稿（每个批次一次）。"""
    return ApplicationPublic.of(flow.create_draft(session, call=get_call(session, body.call_id), actor=actor))


@router.get("", response_model=Page[ApplicationPublic])
def list_applications(
    actor: CurrentActor,
    session: SessionDep,
    paging: PagingDep,
    call_id: IdQuery = None,
    state: str | None = None,
    entity_id: IdQuery = None,
) -> Page[ApplicationPublic]:
    """申请列表：申报主体只看到本单位的，专家只看到分配给自己的；可按批次、状态、主体筛选。"""
    query = visible_applications(select(Application), actor)
    if call_id is not None:
        query = query.where(Application.call_id == call_id)
    if state:
        query = query.where(Application.state == state)
    if entity_id is not None:
        query = query.where(Application.entity_id == entity_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Application.id).limit(paging.limit).offset(paging.offset))
    return Page(items=[ApplicationPublic.of(a) for a in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{application_id}", response_model=ApplicationPublic)
def read(application_id: Id, actor: CurrentActor, session: SessionDep) -> ApplicationPublic:
    """一项申请（无权查看的按不存在处理）。"""
    return ApplicationPublic.of(get_application(session, application_id, actor=actor))


@router.get("/{application_id}/frozen", response_model=FrozenPublic)
def frozen(application_id: Id, actor: CurrentActor, session: SessionDep) -> FrozenPublic:
    """提交时冻结的评估结果（huiqi.evaluation/2）、政策版本哈希和所用事实（含来源）。"""
    application = get_application(session, application_id, actor=actor)
    return FrozenPublic(evaluation=application.evaluation, policy_version=application.policy_version,
                        facts_used=application.facts_used, ledger_used=application.ledger_used)  # fmt: skip


@router.get("/{application_id}/replay")
def replay_frozen(application_id: Id, actor: CurrentActor, session: SessionDep, policy: PolicyDep) -> dict[str, Any]:
    """按提交时所用的文件版本重新评估冻结的事实与台账，逐字节比较（与 huiqi applications replay 相同）：
    identical、两份评估的 SHA-256、所用版本和最先的差异。"""
    application = get_application(session, application_id, actor=actor)
    return replay(session, application_id=application.id, policy=policy).to_json()


@router.post("/{application_id}/materials", response_model=MaterialPublic, status_code=201)
async def upload(
    application_id: Id,
    name: Annotated[str, Form(min_length=1, max_length=100, description="材料名称（须为批次要求的材料之一）")],
    file: Annotated[UploadFile, File(description="PDF、PNG、JPEG 或 OFD，不超过上限")],
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
) -> MaterialPublic:
    """上传一份申报材料（校验类型、扩展名、文件头和大小）。"""
    limit = settings.max_upload_mb * 1024 * 1024
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise InvalidInput(f"文件超过 {settings.max_upload_mb}MB 上限，请压缩后上传", where="file")
    application = get_application(session, application_id, actor=actor)
    material = add_material(session, application=application, call=get_call(session, application.call_id), name=name,
                            filename=file.filename or "", content_type=file.content_type or "", content=content,
                            actor=actor)  # fmt: skip
    return MaterialPublic.of(material)


@router.get("/{application_id}/materials", response_model=list[MaterialPublic])
def list_materials(application_id: Id, actor: CurrentActor, session: SessionDep) -> list[MaterialPublic]:
    """该申请已上传的材料（文件名、类型、大小、SHA-256）。"""
    get_application(session, application_id, actor=actor)
    rows = session.scalars(select(Material).where(Material.application_id == application_id).order_by(Material.id))
    return [MaterialPublic.of(m) for m in rows]


@router.post("/{application_id}/submit", response_model=ApplicationPublic)
def submit(
    application_id: Id, body: SubmitRequest, actor: CurrentActor, session: SessionDep, policy: PolicyDep
) -> ApplicationPublic:
    """提交（或补正后重新提交）并作出信用承诺；评估结果冻结进申请。"""
    application = get_application(session, application_id, actor=actor, lock=True)
    return ApplicationPublic.of(flow.submit(session, application=application, actor=actor, pledge=body.pledge,
                                            policy=policy))  # fmt: skip


@router.post("/{application_id}/return", response_model=ApplicationPublic)
def return_for_correction(
    application_id: Id, body: CorrectionRequest, actor: CurrentActor, session: SessionDep
) -> ApplicationPublic:
    """退回补正：一次性告知全部需补正事项（每项申请只能退回一次）。"""
    application = get_application(session, application_id, actor=actor, lock=True)
    items = [i.model_dump() for i in body.items]
    return ApplicationPublic.of(flow.return_for_correction(session, application=application, items=items, actor=actor))


@router.post("/{application_id}/pass-check", response_model=ApplicationPublic)
def pass_check(application_id: Id, actor: CurrentActor, session: SessionDep) -> ApplicationPublic:
    """形式审查通过。"""
    application = get_application(session, application_id, actor=actor, lock=True)
    return ApplicationPublic.of(flow.pass_check(session, application=application, actor=actor))


@router.post("/{application_id}/reject", response_model=ApplicationPublic)
def reject(application_id: Id, body: ReasonRequest, actor: CurrentActor, session: SessionDep) -> ApplicationPublic:
    """不予支持（须写明理由）。"""
    application = get_application(session, application_id, actor=actor, lock=True)
    return ApplicationPublic.of(flow.reject(session, application=application, actor=actor, reason=body.reason))


@router.post("/{application_id}/withdraw", response_model=ApplicationPublic)
def withdraw(application_id: Id, body: ReasonRequest, actor: CurrentActor, session: SessionDep) -> ApplicationPublic:
    """申报主体撤回申请（拟支持名单确定之前）。"""
    application = get_application(session, application_id, actor=actor, lock=True)
    return ApplicationPublic.of(flow.withdraw(session, application=application, actor=actor, reason=body.reason))


@router.post("/{application_id}/approve", response_model=ApplicationPublic)
def approve_application(application_id: Id, actor: CurrentActor, session: SessionDep) -> ApplicationPublic:
    """批准：在同一事务中预留预算、写入奖励台账、生成分期拨付计划和绩效报告。"""
    application = get_application(session, application_id, actor=actor, lock=True)
    approve(session, application=application, actor=actor, today=beijing.today())
    return ApplicationPublic.of(application)


@router.post("/{application_id}/close", response_model=ApplicationPublic)
def close_application(application_id: Id, actor: CurrentActor, session: SessionDep) -> ApplicationPublic:
    """结项（绩效报告须全部提交）。"""
    application = get_application(session, application_id, actor=actor, lock=True)
    return ApplicationPublic.of(close(session, application=application, actor=actor))


@router.post("/{application_id}/claw-back", response_model=ApplicationPublic)
def claw_back_application(
    application_id: Id, body: ClawbackRequest, actor: CurrentActor, session: SessionDep
) -> ApplicationPublic:
    """追回：取消未拨付的分期、释放预算，并将主体列入失信名单至指定日期。"""
    application = get_application(session, application_id, actor=actor, lock=True)
    claw_back(session, application=application, actor=actor, reason=body.reason, blacklist_until=body.blacklist_until)
    return ApplicationPublic.of(application)
