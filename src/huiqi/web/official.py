"""审核工作台的操作（主管部门）：每个批次按状态的申请队列，一项申请的审查（形式审查通过、一次性告知退回补正、
不予支持），竞争性评审的专家抽取（利益冲突先回避）与评分，拟支持名单（名额与剩余预算），公示及异议处理，
批准（预留预算）和拨付计划。

Every page and action calls the same workflow functions and permission checks as the API
(``huiqi.workflow.applications``, ``review``, ``proposals``, ``publicity``, ``awards``; the call's state
machine decides which role takes each step). A refusal of the workflow is said on the page, next to the
form, in Chinese (400 a wrong value, 403 a role or separation of duties, 404 not found, 409 a state or the
budget); the transaction is rolled back, nothing stored changes. A successful POST redirects (303) to the
page it changed (Post/Redirect/Get).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.api.deps import MAX_ID, require
from huiqi.errors import WorkflowError
from huiqi.store.db import Database
from huiqi.store.errors import InvalidInput, NotFound, PermissionDenied
from huiqi.store.models import PROVENANCE_LABELS, Application, Assignment, Call, Entity, Expert, Material, Payment
from huiqi.web.desks import ApplicationRow, beijing_date, read_page
from huiqi.web.sessions import check_csrf, signed_in
from huiqi.web.templating import render
from huiqi.workflow import applications as flow
from huiqi.workflow.actors import Actor
from huiqi.workflow.awards import approve
from huiqi.workflow.calls import get_call, machine_of
from huiqi.workflow.holidays import HolidayCalendar, publicity_end
from huiqi.workflow.lifecycle import get_application
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.proposals import make_proposed_list
from huiqi.workflow.publicity import (
    approval_blocker,
    current_publicity,
    objections_for,
    resolve_objection,
    start_publicity,
)
from huiqi.workflow.queues import counts_by_state, visible_applications, visible_payments
from huiqi.workflow.review import AGGREGATIONS, conflicts, draw_experts, score_of, scores_visible_to
from huiqi.workflow.states import STATE_LABELS, State
from huiqi.workflow.timeline import application_timeline

router = APIRouter()
SignedIn = Annotated[Actor, Depends(signed_in)]
CallId = Annotated[int, Path(ge=1, le=MAX_ID)]
ApplicationId = Annotated[int, Path(ge=1, le=MAX_ID)]
Token = Annotated[str, Form(max_length=200)]

ROLES = ("official", "administrator")
REVIEW_MODES = {"none": "免审（直接受理）", "formal": "形式审查", "expert": "专家评审", "competitive": "竞争性评审"}
DAY_KINDS = {"calendar": "自然日", "working": "工作日"}
OVERSUBSCRIPTION = {"ranking": "按排序依次安排，排不下的不予支持", "pro_rata": "按比例分配"}
PAYMENT_STATUS = {"scheduled": "待拨付", "paid": "已拨付", "cancelled": "已取消"}
#: Where the money of an application stands once approved: the clawback page (web.official_batches) applies.
CLAWBACK_STATES = frozenset({State.APPROVED, State.PAYING, State.PAID, State.FOLLOW_UP, State.CLOSED})
#: What the ``done`` query parameter of a redirect says (Post/Redirect/Get).
DONE = {
    "pass_check": "已作出“形式审查通过”的决定。",
    "return": "已退回补正，需补正的事项已一次性告知申报主体。",
    "reject": "已作出“不予支持”的决定，理由已告知申报主体。",
    "draw": "已抽取评审专家，申请进入专家评审。",
    "approve": "已批准：预算已预留，奖励已记入台账，分期拨付计划已生成。",
    "resolve": "异议处理结果已记录。",
    "proposed": "已确定拟支持名单。",
    "publicity": "公示已开始。",
}


@dataclass(frozen=True)
class Refusal:
    """A refusal of the workflow, said next to the form it answers."""

    action: str
    message: str
    where: str | None
    status: int


def _status(exc: WorkflowError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, InvalidInput):
        return 400
    return 409


def _refusal(action: str, exc: WorkflowError) -> Refusal:
    return Refusal(action, exc.message, getattr(exc, "where", None), _status(exc))


def _write(request: Request, action: str, change: Callable[[Session], None]) -> Refusal | None:
    """Run ``change`` in one transaction; a refusal rolls everything back and is returned to be shown."""
    database: Database = request.app.state.database
    try:
        with database.transaction() as session:
            change(session)
    except WorkflowError as exc:
        return _refusal(action, exc)
    return None


def _done(url: str, what: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?done={what}", status_code=303)


def _money_left(call: Call) -> dict[str, int]:
    """The call's budget, what approvals reserved, and what is left (all integer fen)."""
    return {"budget": call.budget_fen, "reserved": call.reserved_fen, "left": call.budget_fen - call.reserved_fen,
            "paid": call.paid_fen}  # fmt: skip


def _committed(session: Session, call: Call) -> int:
    """What the proposed list already promises (拟支持 and 公示中, not yet approved): as make_proposed_list
    counts it before it hands out the rest."""
    value = session.scalar(
        select(func.coalesce(func.sum(Application.approved_fen), 0)).where(
            Application.call_id == call.id, Application.state.in_([State.PROPOSED.value, State.PUBLICITY.value])
        )
    )
    return int(value or 0)


def _score_text(score: str | None) -> str:
    """An exact score ``n/d`` as a decimal with two places (the stored fraction stays exact)."""
    if not score:
        return "—"
    value = Fraction(score)
    return f"{value.numerator}" if value.denominator == 1 else f"{float(value):.2f}"


# ---------------------------------------------------------------------------------------------------------
# A call's queues
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """An application in a call's queue: entity, dates, certain money and ceilings apart."""

    row: ApplicationRow
    application: Application
    entity: Entity
    state: str
    score: str


def _call_context(
    request: Request, session: Session, actor: Actor, call_id: int, state: str | None, refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    require(actor, *ROLES)
    call = get_call(session, call_id)
    counts = [c for c in counts_by_state(session, actor) if c.call_id == call.id]
    if state is not None and state not in {s.value for s in State}:
        state = None
    query = visible_applications(select(Application), actor).where(Application.call_id == call.id)
    if state:
        query = query.where(Application.state == state)
    rows = []
    for application in session.scalars(query.order_by(Application.rank.is_(None), Application.rank, Application.id)):
        entity = session.get_one(Entity, application.entity_id)
        rows.append(QueueRow(ApplicationRow.of(application, call), application, entity, application.state,
                             _score_text(application.score)))  # fmt: skip
    reviewed = call.review_mode in ("expert", "competitive")
    source = State.UNDER_REVIEW if reviewed else State.CHECKED
    candidates = list(
        session.scalars(select(Application).where(Application.call_id == call.id, Application.state == source.value))
    )
    pending_scores: list[tuple[Application, str]] = []
    if reviewed:
        for application in candidates:
            try:
                score_of(session, application, call)
            except WorkflowError as exc:
                pending_scores.append((application, exc.message))
    proposed = session.scalar(
        select(func.count(Application.id)).where(
            Application.call_id == call.id, Application.state == State.PROPOSED.value
        )
    )
    calendar: HolidayCalendar = request.app.state.calendar
    today = beijing.today()
    form = form or {}
    starts_on = form.get("starts_on") or today.isoformat()
    preview = None
    if call.publicity_days:
        try:
            preview = publicity_end(dt.date.fromisoformat(starts_on), call.publicity_days, call.publicity_day_kind,
                                    calendar)  # fmt: skip
        except (ValueError, WorkflowError):
            preview = None
    return {
        "call": call,
        "counts": counts,
        "total": sum(c.count for c in counts),
        "state": state,
        "state_label": STATE_LABELS[State(state)] if state else "全部",
        "rows": rows,
        "funds": _money_left(call),
        "committed": _committed(session, call),
        "reviewed": reviewed,
        "source_label": STATE_LABELS[source],
        "candidates": candidates,
        "pending_scores": pending_scores,
        "proposed_count": proposed or 0,
        "publicity": current_publicity(session, call.id),
        "preview_end": preview,
        "starts_on": starts_on,
        "channel": form.get("channel", ""),
        "today": today,
        "review_mode": REVIEW_MODES.get(call.review_mode, call.review_mode),
        "day_kind": DAY_KINDS.get(call.publicity_day_kind, call.publicity_day_kind),
        "oversubscription": OVERSUBSCRIPTION.get(call.oversubscription, call.oversubscription),
        "aggregation": AGGREGATIONS.get(call.aggregation, call.aggregation),
        "refusal": refusal,
        "done": DONE.get(request.query_params.get("done", "")),
        "state_labels": STATE_LABELS,
    }


def _call_page(request: Request, actor: Actor, call_id: int, state: str | None, refusal: Refusal | None = None,
               form: dict[str, str] | None = None) -> Response:  # fmt: skip
    def build(session: Session) -> Response:
        context = _call_context(request, session, actor, call_id, state, refusal, form)
        return render(request, "official/call.html", status_code=refusal.status if refusal else 200, **context)

    return read_page(request, build)


@router.get("/desk/official/calls/{call_id}", response_class=HTMLResponse, response_model=None)
def call_page(request: Request, actor: SignedIn, call_id: CallId, state: str | None = None) -> Response:
    """一个批次的申请队列：各状态的申请数和名单、预算、拟支持名单、公示。"""
    return _call_page(request, actor, call_id, state)


@router.post("/desk/official/calls/{call_id}/proposed-list", response_model=None)
def proposed_list(request: Request, actor: SignedIn, call_id: CallId, csrf_token: Token = "") -> Response:
    """确定拟支持名单：按评分排序、按名额取舍，再按超额规则分配剩余预算（与 API 相同的 make_proposed_list）。"""
    check_csrf(request, csrf_token)

    def change(session: Session) -> None:
        require(actor, *ROLES)
        make_proposed_list(session, call=get_call(session, call_id), actor=actor)

    refusal = _write(request, "proposed", change)
    if refusal is not None:
        return _call_page(request, actor, call_id, None, refusal)
    return RedirectResponse(f"/desk/official/calls/{call_id}?state=proposed&done=proposed", status_code=303)


@router.post("/desk/official/calls/{call_id}/publicity", response_model=None)
def publicity_start(
    request: Request,
    actor: SignedIn,
    call_id: CallId,
    csrf_token: Token = "",
    starts_on: Annotated[str, Form(max_length=20)] = "",
    channel: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """开始公示：拟支持的申请进入公示，截止日按本批次的自然日或工作日（含调休）计算。"""
    check_csrf(request, csrf_token)
    form = {"starts_on": starts_on, "channel": channel}
    try:
        start = dt.date.fromisoformat(starts_on.strip()) if starts_on.strip() else beijing.today()
    except ValueError:
        bad_date = Refusal("publicity", f"公示开始日期“{starts_on}”不是有效日期，请按 年-月-日 填写，如 2025-06-30",
                           "starts_on", 400)  # fmt: skip
        return _call_page(request, actor, call_id, None, bad_date, form)

    def change(session: Session) -> None:
        require(actor, *ROLES)
        calendar: HolidayCalendar = request.app.state.calendar
        start_publicity(session, call=get_call(session, call_id), actor=actor, starts_on=start, calendar=calendar,
                        channel=channel.strip())  # fmt: skip

    refusal = _write(request, "publicity", change)
    if refusal is not None:
        return _call_page(request, actor, call_id, None, refusal, form)
    return RedirectResponse(f"/desk/official/calls/{call_id}?state=publicity&done=publicity", status_code=303)


# ---------------------------------------------------------------------------------------------------------
# One application
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """A step the application's state allows: its form, or why this user may not take it."""

    name: str
    label: str
    refused: str | None  # the state machine's refusal for this user (role, separation of duties)


def _actions(call: Call, application: Application, actor: Actor) -> dict[str, Action]:
    machine = machine_of(call)
    found: dict[str, Action] = {}
    for transition in machine.allowed_from(State(application.state)):
        try:
            machine.check(transition.name, application.state, actor)
            refused = None
        except WorkflowError as exc:
            refused = exc.message
        found[transition.name] = Action(transition.name, transition.label, refused)
    return found


@dataclass(frozen=True)
class RuleResult:
    """A rule of the call's provisions in the frozen evaluation: status, amount or ceiling, why, how."""

    ref: str
    label: str
    status_label: str
    reason: str
    amount_label: str | None
    is_ceiling: bool
    calculation: list[str]
    quote: str


def _frozen_rules(application: Application, call: Call) -> list[RuleResult]:
    """The rules of the call's provisions as the evaluation frozen at submission judged them."""
    found = []
    for document in (application.evaluation or {}).get("documents", []):
        if document.get("document") != call.document_id:
            continue
        for provision in document.get("provisions", []):
            if provision.get("provision") not in call.provisions:
                continue
            for rule in provision.get("rules", []):
                found.append(RuleResult(str(rule.get("ref", "")), str(rule.get("label", "")),
                                        str(rule.get("status_label", "")), str(rule.get("reason", "")),
                                        rule.get("amount_label"), bool(rule.get("is_ceiling")),
                                        [str(x) for x in rule.get("calculation") or []],
                                        str(rule.get("quote", ""))))  # fmt: skip
    return found


@dataclass(frozen=True)
class FactUsed:
    label: str
    year: int | None
    value: str
    provenance: str
    recorded_by: str
    recorded_on: str


def _facts_used(application: Application, policy: PolicyEngine) -> list[FactUsed]:
    rows = []
    for fact in application.facts_used or []:
        known = policy.base.catalogue.get(str(fact.get("key", "")))
        value = fact.get("value")
        text = ("是" if value else "否") if isinstance(value, bool) else str(value)
        rows.append(FactUsed(known.label if known is not None else str(fact.get("key", "")), fact.get("year"), text,
                             PROVENANCE_LABELS.get(str(fact.get("provenance")), str(fact.get("provenance"))),
                             str(fact.get("recorded_by") or ""), str(fact.get("recorded_at") or "")[:10]))  # fmt: skip
    return rows


#: The form of each action on the application page: the transition that must be open to this user for it to show.
FORMS = {"pass_check": "pass_check", "return": "return_for_correction", "reject": "reject", "draw": "start_review",
         "approve": "approve"}  # fmt: skip


def _shown_inline(refusal: Refusal, actions: dict[str, Action], objections: list[Any]) -> bool:
    """Whether the refused action's form is on the page (the message goes beside it), else above everything."""
    if refusal.action == "resolve":
        return any(o.outcome is None for o in objections)
    step = FORMS.get(refusal.action)
    return step is not None and step in actions and actions[step].refused is None


def _application_context(
    request: Request, session: Session, actor: Actor, application_id: int, refusal: Refusal | None = None,
    form: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    require(actor, *ROLES)
    application = get_application(session, application_id, actor=actor)
    call = session.get_one(Call, application.call_id)
    entity = session.get_one(Entity, application.entity_id)
    policy: PolicyEngine = request.app.state.policy
    today = beijing.today()
    actions = _actions(call, application, actor)
    materials = list(session.scalars(select(Material).where(Material.application_id == application.id)
                                     .order_by(Material.id)))  # fmt: skip
    assignments = list(session.scalars(select(Assignment).where(Assignment.application_id == application.id)
                                       .order_by(Assignment.id)))  # fmt: skip
    experts = {e.id: e for e in session.scalars(select(Expert).order_by(Expert.id))}
    sheets = scores_visible_to(actor, assignments)
    excluded = [(e, reasons) for e in experts.values() if e.active and (reasons := conflicts(e, entity))]
    fields = sorted({f for e in experts.values() if e.active for f in e.fields})
    score = None
    if assignments:
        try:
            score = score_of(session, application, call)
        except WorkflowError:
            score = None
    payments = list(session.scalars(visible_payments(select(Payment), actor)
                                    .where(Payment.application_id == application.id)
                                    .order_by(Payment.award_id, Payment.instalment)))  # fmt: skip
    form = form or {}
    items = form.get("items") or []
    objections = objections_for(session, application_id=application.id, actor=actor)
    return {
        "application": application,
        "call": call,
        "entity": entity,
        "row": ApplicationRow.of(application, call),
        "state_label": STATE_LABELS[State(application.state)],
        "actions": actions,
        "rules": _frozen_rules(application, call),
        "totals": (application.evaluation or {}).get("totals") or {},
        "facts": _facts_used(application, policy),
        "materials": materials,
        "steps": application_timeline(session, application, today=today),
        "assignments": assignments,
        "sheets": sheets,
        "experts": experts,
        "excluded": excluded,
        "fields": fields,
        "score": score,
        "score_text": _score_text(application.score)
        if application.score
        else (_score_text(f"{score.numerator}/{score.denominator}") if score is not None else "—"),
        "aggregation": AGGREGATIONS.get(call.aggregation, call.aggregation),
        "criteria": call.criteria,
        "blocker": approval_blocker(session, application, today),
        "publicity": current_publicity(session, call.id),
        "objections": objections,
        "inline": refusal is not None and _shown_inline(refusal, actions, objections),
        "funds": _money_left(call),
        "payments": payments,
        "payment_status": PAYMENT_STATUS,
        "paid_on": beijing_date,
        "clawback": State(application.state) in CLAWBACK_STATES,
        "refusal": refusal,
        "done": DONE.get(request.query_params.get("done", "")),
        "items": items + [{"field": "", "problem": ""}] * max(1, 5 - len(items)),
        "reason": form.get("reason", ""),
        "field": form.get("field", ""),
        "resolving": form.get("objection_id"),
        "resolution": form.get("resolution", ""),
        "outcome": form.get("outcome", ""),
    }


def _application_page(request: Request, actor: Actor, application_id: int, refusal: Refusal | None = None,
                      form: dict[str, Any] | None = None) -> Response:  # fmt: skip
    def build(session: Session) -> Response:
        context = _application_context(request, session, actor, application_id, refusal, form)
        return render(request, "official/application.html", status_code=refusal.status if refusal else 200,
                      **context)  # fmt: skip

    return read_page(request, build)


def _url(application_id: int) -> str:
    return f"/desk/official/applications/{application_id}"


@router.get("/desk/official/applications/{application_id}", response_class=HTMLResponse, response_model=None)
def application_page(request: Request, actor: SignedIn, application_id: ApplicationId) -> Response:
    """一项申请的审查页：主体、冻结的评估结果及说明、所用事实及来源、材料及哈希、办理进程、当前状态可做的操作。"""
    return _application_page(request, actor, application_id)


def _act(
    request: Request, actor: Actor, application_id: int, action: str, step: Callable[[Session, Application], Any],
    form: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    """One step on an application, in one transaction: refused → the page with the message; done → redirect."""

    def change(session: Session) -> None:
        require(actor, *ROLES)
        step(session, get_application(session, application_id, actor=actor, lock=True))

    refusal = _write(request, action, change)
    if refusal is not None:
        return _application_page(request, actor, application_id, refusal, form)
    return _done(_url(application_id), action)


@router.post("/desk/official/applications/{application_id}/pass-check", response_model=None)
def pass_check(request: Request, actor: SignedIn, application_id: ApplicationId, csrf_token: Token = "") -> Response:
    """形式审查通过。"""
    check_csrf(request, csrf_token)
    return _act(request, actor, application_id, "pass_check",
                lambda session, application: flow.pass_check(session, application=application, actor=actor))  # fmt: skip


@router.post("/desk/official/applications/{application_id}/return", response_model=None)
def return_for_correction(
    request: Request,
    actor: SignedIn,
    application_id: ApplicationId,
    csrf_token: Token = "",
    field: Annotated[list[str] | None, Form(max_length=200)] = None,
    problem: Annotated[list[str] | None, Form(max_length=1000)] = None,
) -> Response:
    """退回补正：一次性告知全部需补正的事项（每项申请只能退回一次）。"""
    check_csrf(request, csrf_token)
    fields, problems = list(field or []), list(problem or [])
    width = max(len(fields), len(problems))
    fields += [""] * (width - len(fields))
    problems += [""] * (width - len(problems))
    items = [{"field": f.strip(), "problem": p.strip()} for f, p in zip(fields, problems, strict=True)
             if f.strip() or p.strip()]  # fmt: skip
    return _act(request, actor, application_id, "return",
                lambda session, application: flow.return_for_correction(session, application=application,
                                                                         items=items, actor=actor),
                {"items": items})  # fmt: skip


@router.post("/desk/official/applications/{application_id}/reject", response_model=None)
def reject(
    request: Request,
    actor: SignedIn,
    application_id: ApplicationId,
    csrf_token: Token = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """不予支持（须写明理由）。"""
    check_csrf(request, csrf_token)
    return _act(request, actor, application_id, "reject",
                lambda session, application: flow.reject(session, application=application, actor=actor,
                                                         reason=reason),
                {"reason": reason})  # fmt: skip


@router.post("/desk/official/applications/{application_id}/draw", response_model=None)
def draw(
    request: Request,
    actor: SignedIn,
    application_id: ApplicationId,
    csrf_token: Token = "",
    field: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """随机抽取评审专家（有利益冲突的先回避，不进入抽取范围），开始评审；抽取种子记录在案。"""
    check_csrf(request, csrf_token)
    return _act(request, actor, application_id, "draw",
                lambda session, application: draw_experts(session, application=application, actor=actor,
                                                          field=field.strip() or None),
                {"field": field})  # fmt: skip


@router.post("/desk/official/applications/{application_id}/approve", response_model=None)
def approve_application(
    request: Request, actor: SignedIn, application_id: ApplicationId, csrf_token: Token = ""
) -> Response:
    """批准：在同一事务中预留预算、写入奖励台账、生成分期拨付计划和绩效报告。"""
    check_csrf(request, csrf_token)
    return _act(request, actor, application_id, "approve",
                lambda session, application: approve(session, application=application, actor=actor,
                                                     today=beijing.today()))  # fmt: skip


@router.post("/desk/official/applications/{application_id}/objections/{objection_id}/resolve", response_model=None)
def resolve(
    request: Request,
    actor: SignedIn,
    application_id: ApplicationId,
    objection_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    csrf_token: Token = "",
    outcome: Annotated[str, Form(max_length=20)] = "",
    resolution: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """处理一项异议：成立则该申请不予支持；处理结果记录在案，不能更改。"""
    check_csrf(request, csrf_token)

    def step(session: Session, application: Application) -> None:
        if objection_id not in {o.id for o in objections_for(session, application_id=application.id, actor=actor)}:
            raise NotFound(f"申请 {application.id} 没有编号为 {objection_id} 的异议", where="objection_id")
        resolve_objection(session, objection_id=objection_id, outcome=outcome, resolution=resolution, actor=actor)

    return _act(request, actor, application_id, "resolve", step,
                {"objection_id": objection_id, "outcome": outcome, "resolution": resolution})  # fmt: skip
