"""工作台 (desks): where each role lands after signing in. For now each shows the user's queue, read-only —
an applicant its entity's registered facts with their provenance, the open calls it may apply to, its
applications and each one's timeline (``huiqi.workflow.timeline``), an official the applications per call and state, an expert its
review assignments, finance the instalments due — built on the same query functions and permission checks
as the API (``huiqi.workflow.queues``, ``huiqi.workflow.lifecycle.get_application``): an application the
user may not see is 未找到 (404), never shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.api.deps import MAX_ID, require
from huiqi.store.db import Database
from huiqi.store.entities import current_facts, get_entity
from huiqi.store.errors import NotFound, PermissionDenied
from huiqi.store.models import PROVENANCE_LABELS, Application, Call, Fact, Payment, Report
from huiqi.web.sessions import DESKS, signed_in
from huiqi.web.templating import render
from huiqi.workflow.actors import Actor
from huiqi.workflow.lifecycle import get_application
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.queues import (
    counts_by_state,
    own_applications,
    visible_payments,
)
from huiqi.workflow.states import STATE_LABELS, State
from huiqi.workflow.timeline import application_timeline, open_calls_for

router = APIRouter()
SignedIn = Annotated[Actor, Depends(signed_in)]


def beijing_date(moment: dt.datetime | None) -> dt.date | None:
    """The Beijing calendar day of a stored moment, if any."""
    return beijing.day_of(moment) if moment is not None else None


@dataclass(frozen=True)
class ApplicationRow:
    """An application as a desk lists it: certain money and ceilings kept apart."""

    id: int
    call_title: str
    state_label: str
    submitted_on: dt.date | None
    certain_fen: int
    ceiling_fen: int
    approved_fen: int | None

    @classmethod
    def of(cls, application: Application, call: Call) -> ApplicationRow:
        rules = application.rules or []
        return cls(application.id, call.title, STATE_LABELS[State(application.state)],
                   beijing_date(application.submitted_at),
                   sum(int(r.get("amount_fen") or 0) for r in rules if not r.get("is_ceiling")),
                   sum(int(r.get("amount_fen") or 0) for r in rules if r.get("is_ceiling")),
                   application.approved_fen)  # fmt: skip


@dataclass(frozen=True)
class FactRow:
    """A registered fact as the applicant reads it: its name, year, value and where it came from."""

    label: str
    year: int | None
    value: str
    provenance: str
    source: str
    recorded_on: dt.date | None

    @classmethod
    def of(cls, fact: Fact, policy: PolicyEngine) -> FactRow:
        known = policy.base.catalogue.get(fact.key)
        value = fact.value
        text = ("是" if value else "否") if isinstance(value, bool) else str(value)
        return cls(known.label if known is not None else fact.key, fact.year, text,
                   PROVENANCE_LABELS.get(fact.provenance, fact.provenance),
                   "，".join(x for x in (fact.source or "", f"登记人 {fact.recorded_by}") if x),
                   beijing_date(fact.recorded_at))  # fmt: skip


def read_page(request: Request, build: Callable[[Session], Response]) -> Response:
    """Run ``build`` in a read-only session; a refusal of the workflow is a Chinese page (未找到 is 404); never
    cached."""
    database: Database = request.app.state.database
    try:
        with database.sessions() as session:
            response = build(session)
    except NotFound as exc:
        response = render(request, "error.html", status_code=404, title="未找到", message=exc.message)
    except PermissionDenied as exc:
        response = render(request, "error.html", status_code=403, title="无权访问", message=exc.message)
    response.headers["Cache-Control"] = "no-store"  # personal data and amounts: kept by no browser or proxy
    return response


@router.get("/desk", response_model=None)
def desk(actor: SignedIn) -> Response:
    """进入本角色的工作台。"""
    return RedirectResponse(DESKS.get(actor.role, "/"), status_code=303)


@router.get("/desk/applicant", response_class=HTMLResponse, response_model=None)
def applicant_desk(request: Request, actor: SignedIn) -> Response:
    """申报主体工作台：本单位的申请。"""

    def build(session: Session) -> Response:
        require(actor, "applicant")
        entity = get_entity(session, actor.entity_id or 0)
        rows = [ApplicationRow.of(a, session.get_one(Call, a.call_id)) for a in own_applications(session, actor)]
        policy: PolicyEngine = request.app.state.policy
        facts = [FactRow.of(f, policy) for f in current_facts(session, entity.id)]
        calls = open_calls_for(session, entity, policy=policy, today=beijing.today())
        return render(request, "desks/applicant.html", entity=entity, rows=rows, facts=facts, calls=calls)

    return read_page(request, build)


@router.get("/desk/applicant/applications/{application_id}", response_class=HTMLResponse, response_model=None)
def applicant_application(
    request: Request, actor: SignedIn, application_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """一项申请（只能查看本单位的；其他编号一律“未找到”）。"""

    def build(session: Session) -> Response:
        require(actor, "applicant")
        application = get_application(session, application_id, actor=actor)
        call = session.get_one(Call, application.call_id)
        payments = session.scalars(
            visible_payments(select(Payment), actor)
            .where(Payment.application_id == application.id)
            .order_by(Payment.instalment)
        ).all()
        steps = application_timeline(session, application, today=beijing.today())
        reports = session.scalars(
            select(Report).where(Report.application_id == application.id).order_by(Report.due_on, Report.id)
        ).all()
        return render(request, "desks/application.html", row=ApplicationRow.of(application, call),
                      application=application, call=call, payments=payments, paid_on=beijing_date,
                      steps=steps, reports=reports, today=beijing.today())  # fmt: skip

    return read_page(request, build)


@router.get("/desk/official", response_class=HTMLResponse, response_model=None)
def official_desk(request: Request, actor: SignedIn) -> Response:
    """审核工作台：每个批次（含尚无申请的）及其各状态的申请数。"""

    def build(session: Session) -> Response:
        require(actor, "official", "administrator")
        counts = counts_by_state(session, actor)
        calls = session.scalars(select(Call).order_by(Call.opens_on.desc(), Call.id.desc())).all()
        return render(request, "desks/official.html", counts=counts, calls=calls, today=beijing.today())

    return read_page(request, build)
