"""专家评审：本人的任务、声明回避、按评审标准打分.

An expert sees only its own assignments (``huiqi.workflow.queues.visible_assignments``, as the API's list):
another expert's assignment id in the URL is 未找到 (404). Scoring and 回避 call the workflow
(``huiqi.workflow.review.submit_score`` / ``decline_assignment``), whose Chinese refusals are shown beside the
field they concern (a score over its maximum under that criterion), or above the form (a second submission).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from huiqi.api.deps import MAX_ID, require
from huiqi.api.schemas.review import ScoreCreate
from huiqi.errors import WorkflowError
from huiqi.store.db import Database
from huiqi.store.errors import NotFound, PermissionDenied
from huiqi.store.models import Application, Assignment, Call, Entity
from huiqi.web.desks import SignedIn, beijing_date, read_page
from huiqi.web.sessions import check_csrf
from huiqi.web.templating import render
from huiqi.workflow.actors import Actor
from huiqi.workflow.queues import own_assignments, visible_assignments
from huiqi.workflow.review import decline_assignment, submit_score
from huiqi.workflow.states import State

router = APIRouter()
AssignmentId = Annotated[int, Path(ge=1, le=MAX_ID)]

PENDING, SUBMITTED, DECLINED, CLOSED = "待评分", "已提交", "已回避", "评审已结束"


async def form_data(request: Request) -> FormData:
    """The posted form (its fields depend on the call's criteria)."""
    return await request.form(max_files=0, max_fields=100)


Posted = Annotated[FormData, Depends(form_data)]


@dataclass(frozen=True)
class SheetRow:
    """An assignment as the expert reads it: the application, the applicant (to see a conflict), the state."""

    assignment: Assignment
    application: Application
    call: Call
    entity: Entity

    @property
    def state(self) -> str:
        if self.assignment.declined_at is not None:
            return DECLINED
        if self.assignment.submitted_at is not None:
            return SUBMITTED
        return PENDING if self.application.state == State.UNDER_REVIEW.value else CLOSED

    @property
    def open(self) -> bool:
        """The sheet can still be scored or declined."""
        return self.state == PENDING

    @property
    def assigned_on(self) -> dt.date | None:
        return beijing_date(self.assignment.assigned_at)

    @property
    def submitted_on(self) -> dt.date | None:
        return beijing_date(self.assignment.submitted_at)

    @property
    def declined_on(self) -> dt.date | None:
        return beijing_date(self.assignment.declined_at)

    @property
    def max_total(self) -> int:
        return sum(int(c["max"]) for c in self.call.criteria)

    @property
    def items(self) -> list[str]:
        """What the application asks support for (the labels of its rules)."""
        return [str(r.get("label") or r.get("ref")) for r in self.application.rules or []]


def _row(session: Session, assignment: Assignment) -> SheetRow:
    application = session.get_one(Application, assignment.application_id)
    return SheetRow(assignment, application, session.get_one(Call, application.call_id),
                    session.get_one(Entity, application.entity_id))  # fmt: skip


def _own(session: Session, actor: Actor, assignment_id: int) -> SheetRow:
    """The expert's own assignment; any other id is 未找到."""
    require(actor, "expert")
    query = visible_assignments(select(Assignment), actor).where(Assignment.id == assignment_id)
    assignment = session.scalar(query)
    if assignment is None:
        raise NotFound(f"没有分配给您的评审任务 {assignment_id}", where="assignment_id")
    return _row(session, assignment)


@router.get("/desk/expert", response_class=HTMLResponse, response_model=None)
def expert_desk(request: Request, actor: SignedIn) -> Response:
    """专家工作台：分配给本人的评审任务。"""

    def build(session: Session) -> Response:
        require(actor, "expert")
        rows = [_row(session, a) for a in own_assignments(session, actor)]
        pending = sum(1 for r in rows if r.open)
        return render(request, "desks/expert.html", rows=rows, pending=pending)

    return read_page(request, build)


def _sheet(
    request: Request,
    actor: Actor,
    assignment_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    notice: str = "",
) -> Response:
    def build(session: Session) -> Response:
        row = _own(session, actor, assignment_id)
        return render(request, "expert/sheet.html", status_code=status_code, row=row, errors=errors or {},
                      values=values or {}, notice=notice)  # fmt: skip

    return read_page(request, build)


NOTICES = {
    "submitted": "评分已提交。评分提交后不能修改。",
    "replaced": "您已声明回避，本项评审已另行抽取一名无利益冲突的专家。",
    "unreplaced": "您已声明回避。专家库中暂无其他无利益冲突的专家，主管部门将另行安排评审。",
}


@router.get("/desk/expert/assignments/{assignment_id}", response_class=HTMLResponse, response_model=None)
def sheet(request: Request, actor: SignedIn, assignment_id: AssignmentId, done: str = "") -> Response:
    """评分表：申请概况、评审标准；未评分时可以评分或声明回避。"""
    return _sheet(request, actor, assignment_id, notice=NOTICES.get(done, ""))


def _refused(request: Request, exc: WorkflowError) -> Response | None:
    """未找到 and 无权 are pages of their own; other refusals are shown beside the form (None)."""
    if isinstance(exc, NotFound):
        return render(request, "error.html", status_code=404, title="未找到", message=exc.message)
    if isinstance(exc, PermissionDenied):
        return render(request, "error.html", status_code=403, title="无权访问", message=exc.message)
    return None


@router.post("/desk/expert/assignments/{assignment_id}/score", response_model=None)
def score(request: Request, actor: SignedIn, assignment_id: AssignmentId, form: Posted) -> Response:
    """提交评分（每项在其满分之内，提交后不能修改）。"""
    check_csrf(request, _text(form, "csrf_token"))
    values = {key: _text(form, key) for key in form if key != "csrf_token"}
    database: Database = request.app.state.database
    errors: dict[str, str] = {}
    try:
        with database.transaction() as session:
            row = _own(session, actor, assignment_id)
            scores = _scores(row.call.criteria, values, errors)
            try:
                body = ScoreCreate(scores=scores, comment=values.get("comment", ""))
            except ValidationError:
                limit = ScoreCreate.model_fields["comment"].metadata[0].max_length
                errors["comment"] = f"评审意见最多{limit}字，请精简后再提交"
            if not errors:
                submit_score(session, assignment_id=assignment_id, scores=body.scores, comment=body.comment,
                             actor=actor)  # fmt: skip
    except WorkflowError as exc:
        page = _refused(request, exc)
        if page is not None:
            return page
        where = exc.where or ""
        field = f"score-{where.removeprefix('scores.')}" if where.startswith("scores.") else "form"
        return _sheet(request, actor, assignment_id, status_code=getattr(exc, "status", 409), errors={field: exc.message},
                      values=values)  # fmt: skip
    if errors:
        return _sheet(request, actor, assignment_id, status_code=422, errors=errors, values=values)
    return RedirectResponse(f"/desk/expert/assignments/{assignment_id}?done=submitted", status_code=303)


@router.post("/desk/expert/assignments/{assignment_id}/decline", response_model=None)
def decline(request: Request, actor: SignedIn, assignment_id: AssignmentId, form: Posted) -> Response:
    """声明回避（评分之前；须说明理由），并另行抽取一名专家。"""
    check_csrf(request, _text(form, "csrf_token"))
    reason = _text(form, "reason")
    database: Database = request.app.state.database
    try:
        with database.transaction() as session:
            _own(session, actor, assignment_id)
            result = decline_assignment(session, assignment_id=assignment_id, actor=actor, reason=reason)
    except WorkflowError as exc:
        page = _refused(request, exc)
        if page is not None:
            return page
        field = "reason" if exc.where == "reason" else "decline"
        return _sheet(request, actor, assignment_id, status_code=getattr(exc, "status", 409), errors={field: exc.message},
                      values={"reason": reason})  # fmt: skip
    done = "replaced" if result.replacement is not None else "unreplaced"
    return RedirectResponse(f"/desk/expert/assignments/{assignment_id}?done={done}", status_code=303)


def _scores(criteria: list[dict[str, Any]], values: dict[str, str], errors: dict[str, str]) -> dict[str, int]:
    """The typed scores as integers; a value that is not a whole number is said beside its field. An empty
    field is left out: the workflow names the missing criterion, and checks each score's range."""
    scores: dict[str, int] = {}
    for criterion in criteria:
        key, label, top = criterion["key"], criterion["label"], criterion["max"]
        raw = values.get(f"score-{key}", "").strip()
        if not raw:
            continue
        if re.fullmatch(r"-?[0-9]{1,6}", raw):
            scores[key] = int(raw)
        else:
            errors[f"score-{key}"] = f"“{label}”的分数应为0到{top}的整数，您填写的是“{raw[:20]}”"
    return scores


def _text(form: FormData, key: str) -> str:
    value: Any = form.get(key)
    return value if isinstance(value, str) else ""
