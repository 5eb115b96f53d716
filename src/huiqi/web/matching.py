"""政策找企业：通知、关注主题和地区、告知与申报统计.

- ``/desk/applicant/notices``: the entity's notices (unread first): the provision it qualifies or nearly
  qualifies for, the amount (certain money) or the ceiling (最高…, never shown as money it will get), the
  deadline, what it still lacks; mark one or all read; links to apply and to the provision's text.
- ``/desk/applicant/notices/summary``: the desk's box (fetched by htmx from the applicant's desk): unread
  count and the newest few.
- ``/desk/applicant/follow``: topics and regions the entity follows (add, remove).
- ``/desk/official/calls/{id}/matching``: how many were told (qualifies / nearly), read, applied; 重新匹配.

Everything goes through ``huiqi.workflow.matching`` and ``huiqi.api.deps.require``; another entity's notice
or subscription is 未找到 (404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.api.deps import MAX_ID, require
from huiqi.store.base import utcnow
from huiqi.store.db import Database
from huiqi.store.entities import get_entity
from huiqi.store.errors import InvalidInput, NotFound, PermissionDenied
from huiqi.store.models import MATCH_LABELS, Call, Notice
from huiqi.web.desks import read_page
from huiqi.web.sessions import check_csrf, signed_in
from huiqi.web.templating import render
from huiqi.workflow.actors import Actor
from huiqi.workflow.calls import accepting, get_call
from huiqi.workflow.matching import (
    call_reach,
    deliver_pending,
    follow,
    follows_of,
    mark_read,
    match_committed,
    notices_for,
    provision_headings,
    told_entities,
    unfollow,
    unread_count,
    webhook_of,
)
from huiqi.workflow.policy import PolicyEngine

router = APIRouter()
SignedIn = Annotated[Actor, Depends(signed_in)]
Token = Annotated[str, Form(max_length=200)]
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
OFFICIALS = ("official", "administrator")
#: The form that starts an application to a call (the apply pages, huiqi.web.apply).
APPLY_ACTION = "/apply/calls/{call_id}/start"
FOLLOW_KINDS = {"topic": "主题", "region": "地区"}
#: At most this many told entities are listed on the official's page (the counts cover them all).
TOLD_LIMIT = 500


def _rows(session: Session, notices: list[Notice], policy: PolicyEngine) -> list[dict[str, object]]:
    """Each notice with its call's title and whether the call accepts applications today (``accepting``:
    the reason it does not, e.g. 申报尚未开始（2025-07-01 开始）); a document's notice (no call yet) with the
    document's title."""
    calls: dict[int, Call | None] = {}
    rows = []
    today = beijing.today()
    for notice in notices:
        if notice.call_id is not None and notice.call_id not in calls:
            calls[notice.call_id] = session.get(Call, notice.call_id)
        call = calls.get(notice.call_id or 0)
        rows.append({
            "notice": notice,
            "call_title": call.title if call is not None else _document_title(policy, notice.document_id),
            "match_label": MATCH_LABELS.get(notice.match, notice.match),
            "apply_action": APPLY_ACTION.format(call_id=call.id) if call is not None else None,
            "not_accepting": accepting(call, today) if call is not None else None,
            "text_url": f"/policies/{notice.document_id}?provision={notice.provision_id}",
            "closed": notice.deadline is not None and notice.deadline < today,
        })  # fmt: skip
    return rows


def _document_title(policy: PolicyEngine, document_id: str) -> str:
    document = policy.base.documents.get(document_id)
    return document.policy.document.title if document is not None else document_id


@router.get("/desk/applicant/notices", response_class=HTMLResponse, response_model=None)
def notices_page(request: Request, actor: SignedIn, done: str | None = None) -> Response:
    """政策通知：本单位符合或接近符合的申报批次（未读在前）。"""

    def build(session: Session) -> Response:
        require(actor, "applicant")
        entity = get_entity(session, actor.entity_id or 0)
        notices = notices_for(session, entity.id)
        rows = _rows(session, notices, request.app.state.policy)
        return render(request, "matching/notices.html", entity=entity, rows=rows,
                      unread=sum(1 for n in notices if n.read_at is None), done=done or "")  # fmt: skip

    return read_page(request, build)


@router.get("/desk/applicant/notices/summary", response_class=HTMLResponse, response_model=None)
def notices_summary(request: Request, actor: SignedIn) -> Response:
    """工作台上的政策通知摘要（htmx 片段）：未读数和最新几条。"""

    def build(session: Session) -> Response:
        require(actor, "applicant")
        entity_id = actor.entity_id or 0
        notices = [n for n in notices_for(session, entity_id, limit=3) if n.read_at is None]
        return render(request, "matching/_summary.html", unread=unread_count(session, entity_id),
                      rows=_rows(session, notices, request.app.state.policy))  # fmt: skip

    return read_page(request, build)


@router.post("/desk/applicant/notices/read", response_model=None)
def mark_notices_read(
    request: Request,
    actor: SignedIn,
    csrf_token: Token = "",
    notice_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> Response:
    """标为已读：一条（notice_id），或全部。"""
    check_csrf(request, csrf_token)
    database: Database = request.app.state.database
    try:
        with database.transaction() as session:
            require(actor, "applicant")
            mark_read(session, entity_id=actor.entity_id or 0, notice_id=notice_id, now=utcnow())
    except NotFound as exc:
        return render(request, "error.html", status_code=404, title="未找到", message=exc.message)
    except PermissionDenied as exc:
        return render(request, "error.html", status_code=403, title="无权访问", message=exc.message)
    return RedirectResponse("/desk/applicant/notices?done=read", status_code=303)


def _follow_page(
    request: Request, actor: Actor, *, status_code: int = 200, errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None, done: str = "",
) -> Response:  # fmt: skip
    def build(session: Session) -> Response:
        require(actor, "applicant")
        entity = get_entity(session, actor.entity_id or 0)
        policy: PolicyEngine = request.app.state.policy
        regions = sorted({d.policy.document.jurisdiction.region for d in policy.base.documents.values()})
        return render(request, "matching/follow.html", status_code=status_code, entity=entity,
                      follows=follows_of(session, entity.id), kinds=FOLLOW_KINDS, errors=errors or {},
                      form=form or {"kind": "topic", "value": ""}, done=done, regions=regions,
                      topics=["软件", "集成电路", "人才", "首版次", "专精特新", "园区"])  # fmt: skip

    return read_page(request, build)


@router.get("/desk/applicant/follow", response_class=HTMLResponse, response_model=None)
def follow_page(request: Request, actor: SignedIn, done: str | None = None) -> Response:
    """关注的主题和地区：只接收与之相符的政策通知（不关注任何主题和地区则接收全部）。"""
    return _follow_page(request, actor, done=done or "")


@router.post("/desk/applicant/follow", response_model=None)
def follow_add(
    request: Request,
    actor: SignedIn,
    csrf_token: Token = "",
    kind: Annotated[str, Form(max_length=16)] = "topic",
    value: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """关注一个主题或地区。"""
    check_csrf(request, csrf_token)
    form = {"kind": kind, "value": value}
    database: Database = request.app.state.database
    try:
        with database.transaction() as session:
            require(actor, "applicant")
            follow(session, entity_id=actor.entity_id or 0, kind=kind, value=value)
    except InvalidInput as exc:
        field = "kind" if exc.where == "kind" else "value"
        return _follow_page(request, actor, status_code=400, errors={field: exc.message}, form=form)
    except PermissionDenied as exc:
        return render(request, "error.html", status_code=403, title="无权访问", message=exc.message)
    return RedirectResponse("/desk/applicant/follow?done=added", status_code=303)


@router.post("/desk/applicant/follow/{subscription_id}/remove", response_model=None)
def follow_remove(request: Request, actor: SignedIn, subscription_id: ObjectId, csrf_token: Token = "") -> Response:
    """取消关注。"""
    check_csrf(request, csrf_token)
    database: Database = request.app.state.database
    try:
        with database.transaction() as session:
            require(actor, "applicant")
            unfollow(session, entity_id=actor.entity_id or 0, subscription_id=subscription_id)
    except NotFound as exc:
        return render(request, "error.html", status_code=404, title="未找到", message=exc.message)
    except PermissionDenied as exc:
        return render(request, "error.html", status_code=403, title="无权访问", message=exc.message)
    return RedirectResponse("/desk/applicant/follow?done=removed", status_code=303)


def _matching_page(request: Request, actor: Actor, call_id: int, *, done: str = "", problem: str = "",
                   status_code: int = 200) -> Response:  # fmt: skip
    def build(session: Session) -> Response:
        require(actor, *OFFICIALS)
        call = get_call(session, call_id)
        reach = call_reach(session, call.id)
        notices = session.scalars(select(Notice).where(Notice.call_id == call.id).order_by(Notice.id)).all()
        by_provision: dict[str, dict[str, int]] = {}
        for notice in notices:
            counts = by_provision.setdefault(notice.provision_id, {"qualifies": 0, "nearly": 0})
            counts[notice.match] = counts.get(notice.match, 0) + 1
        policy: PolicyEngine = request.app.state.policy
        told = told_entities(session, call.id, limit=TOLD_LIMIT)
        return render(request, "matching/official.html", status_code=status_code, call=call, reach=reach,
                      told=told, told_limit=TOLD_LIMIT, match_labels=MATCH_LABELS,
                      by_provision=by_provision, headings=provision_headings(call, policy), done=done, problem=problem,
                      webhook=request.app.state.settings.webhook_url is not None)  # fmt: skip

    return read_page(request, build)


@router.get("/desk/official/calls/{call_id}/matching", response_class=HTMLResponse, response_model=None)
def matching_page(
    request: Request, actor: SignedIn, call_id: ObjectId, done: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None
) -> Response:
    """政策找企业：本批次告知了多少主体（符合、接近符合）、多少已读、多少已申报。"""
    return _matching_page(request, actor, call_id, done="" if done is None else str(done))


@router.post("/desk/official/calls/{call_id}/matching", response_model=None)
def rematch(
    request: Request, actor: SignedIn, call_id: ObjectId, background: BackgroundTasks, csrf_token: Token = ""
) -> Response:
    """重新匹配：按当前登记信息再评估一次，只通知新符合或新接近符合的主体（已通知的不重复通知）。"""
    check_csrf(request, csrf_token)
    database: Database = request.app.state.database
    policy: PolicyEngine = request.app.state.policy
    try:
        require(actor, *OFFICIALS)
        report = match_committed(database, policy, call_id)
    except NotFound as exc:
        return render(request, "error.html", status_code=404, title="未找到", message=exc.message)
    except PermissionDenied as exc:
        return render(request, "error.html", status_code=403, title="无权访问", message=exc.message)
    except InvalidInput as exc:
        return _matching_page(request, actor, call_id, problem=exc.message, status_code=400)
    webhook = webhook_of(request.app.state.settings)
    if webhook is not None:  # new notices, and the call's failed deliveries again, after the answer
        background.add_task(deliver_pending, database, webhook, call_id, report.new_notice_ids)
    return RedirectResponse(f"/desk/official/calls/{call_id}/matching?done={len(report.new_notice_ids)}",
                            status_code=303)  # fmt: skip
