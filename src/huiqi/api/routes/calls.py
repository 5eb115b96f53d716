"""Calls (申报批次): open, list, close; the proposed list; 公示; the state machine of the call."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, BackgroundTasks, Request
from sqlalchemy import func, select

from huiqi import beijing
from huiqi.api.deps import CalendarDep, CurrentActor, Id, PagingDep, PolicyDep, SessionDep
from huiqi.api.schemas.calls import CallCreate, CallPublic, ProposedListPublic, PublicityCreate, PublicityPublic
from huiqi.api.schemas.common import ERRORS, Page, yuan
from huiqi.store.errors import NotFound
from huiqi.store.models import Call
from huiqi.workflow.calls import close_call, get_call, machine_of, open_call
from huiqi.workflow.matching import notify_in_background
from huiqi.workflow.proposals import make_proposed_list
from huiqi.workflow.publicity import current_publicity, start_publicity

router = APIRouter(prefix="/calls", tags=["calls"], responses=ERRORS)


@router.post("", response_model=CallPublic, status_code=201)
def create(
    body: CallCreate, actor: CurrentActor, session: SessionDep, policy: PolicyDep, request: Request,
    background: BackgroundTasks,
) -> CallPublic:  # fmt: skip
    """发布申报批次：条款、申报期、预算、材料、评审方式、公示天数、分期比例、绩效报告。

    发布后（已提交、已答复之后）在后台按登记信息匹配符合或接近符合的申报主体并通知（政策找企业）。"""
    call = open_call(session, spec=body, actor=actor, policy=policy)
    session.flush()
    state = request.app.state
    background.add_task(notify_in_background, state.database, policy, call.id, state.settings)
    return CallPublic.of(call)


@router.get("", response_model=Page[CallPublic])
def list_calls(
    _actor: CurrentActor,
    session: SessionDep,
    paging: PagingDep,
    status: str | None = None,
    document_id: str | None = None,
    open_on: dt.date | None = None,
) -> Page[CallPublic]:
    """申报批次列表（所有登录用户可见），可按状态、文件、某日是否在申报期内筛选。"""
    query = select(Call)
    if status:
        query = query.where(Call.status == status)
    if document_id:
        query = query.where(Call.document_id == document_id)
    if open_on:
        query = query.where(Call.opens_on <= open_on, Call.closes_on >= open_on)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Call.id.desc()).limit(paging.limit).offset(paging.offset))
    return Page(items=[CallPublic.of(c) for c in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{call_id}", response_model=CallPublic)
def read(call_id: Id, _actor: CurrentActor, session: SessionDep) -> CallPublic:
    """一个申报批次，含预算、已预留、已拨付、剩余。"""
    return CallPublic.of(get_call(session, call_id))


@router.get("/{call_id}/lifecycle")
def lifecycle(call_id: Id, _actor: CurrentActor, session: SessionDep) -> list[dict[str, str]]:
    """本批次申请的状态机：每一步的名称、起止状态与唯一可执行的角色。"""
    return machine_of(get_call(session, call_id)).table()


@router.post("/{call_id}/close", response_model=CallPublic)
def close(call_id: Id, actor: CurrentActor, session: SessionDep) -> CallPublic:
    """关闭申报批次（不再受理新申请）。"""
    return CallPublic.of(close_call(session, call=get_call(session, call_id), actor=actor))


@router.post("/{call_id}/proposed-list", response_model=ProposedListPublic)
def proposed_list(call_id: Id, actor: CurrentActor, session: SessionDep) -> ProposedListPublic:
    """确定拟支持名单：按评分排序、按名额取舍，再按超额规则（排序或按比例）分配预算。"""
    result = make_proposed_list(session, call=get_call(session, call_id), actor=actor)
    return ProposedListPublic(proposed=result["proposed"], declined=result["declined"],
                              available=yuan(result["available_fen"]) or "0.00", rule=result["rule"])  # fmt: skip


@router.post("/{call_id}/publicity", response_model=PublicityPublic, status_code=201)
def publish(
    call_id: Id, body: PublicityCreate, actor: CurrentActor, session: SessionDep, calendar: CalendarDep
) -> PublicityPublic:
    """开始公示：拟支持的申请进入公示，截止日按自然日或工作日（含调休）计算。"""
    publicity = start_publicity(session, call=get_call(session, call_id), actor=actor,
                                starts_on=body.starts_on or beijing.today(), calendar=calendar,
                                channel=body.channel)  # fmt: skip
    return PublicityPublic.of(publicity)


@router.get("/{call_id}/publicity", response_model=PublicityPublic)
def read_publicity(call_id: Id, _actor: CurrentActor, session: SessionDep) -> PublicityPublic:
    """本批次的公示（起止日期）。"""
    get_call(session, call_id)
    publicity = current_publicity(session, call_id)
    if publicity is None:
        raise NotFound("本批次尚未公示", where="call_id")
    return PublicityPublic.of(publicity)
