"""Who sees which rows: the object-level filters of the lists (applications, review assignments, payments),
and the queues the desks show. The API's list routes and the web desks use these same functions, so a
permission lives in one place (an applicant sees its own entity's rows, an expert its own assignments)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from huiqi.store.models import Application, Assignment, Award, Call, Payment
from huiqi.workflow.actors import Actor
from huiqi.workflow.states import STATE_LABELS, State


def visible_applications(query: Select[Application], actor: Actor) -> Select[Application]:
    """Object-level filter of a query on applications by the actor's role."""
    if actor.role == "applicant":
        return query.where(Application.entity_id == (actor.entity_id or 0))
    if actor.role == "expert":
        assigned = select(Assignment.application_id).where(Assignment.expert_id == (actor.expert_id or 0))
        return query.where(Application.id.in_(assigned))
    return query


def visible_assignments(query: Select[Assignment], actor: Actor) -> Select[Assignment]:
    """An expert sees only its own assignments; officials and administrators all of them."""
    if actor.role == "expert":
        return query.where(Assignment.expert_id == (actor.expert_id or 0))
    return query


def visible_payments(query: Select[Payment], actor: Actor) -> Select[Payment]:
    """An applicant sees the payments of its own entity's awards; finance and officials all of them."""
    if actor.role == "applicant":
        mine = select(Award.id).where(Award.entity_id == (actor.entity_id or 0))
        return query.where(Payment.award_id.in_(mine))
    return query


@dataclass(frozen=True)
class StateCount:
    """How many applications of a call are in a state."""

    call_id: int
    call_title: str
    state: str
    count: int

    @property
    def state_label(self) -> str:
        return STATE_LABELS[State(self.state)]


def counts_by_state(session: Session, actor: Actor) -> list[StateCount]:
    """Applications per call and state, among those the actor may see (calls in id order, states in the
    lifecycle's order)."""
    order = {state.value: index for index, state in enumerate(State)}
    query = visible_applications(select(Application), actor).subquery()
    rows = session.execute(
        select(query.c.call_id, Call.title, query.c.state, func.count())
        .join(Call, Call.id == query.c.call_id)
        .group_by(query.c.call_id, Call.title, query.c.state)
    ).all()
    counts = [StateCount(call_id, title, state, count) for call_id, title, state, count in rows]
    return sorted(counts, key=lambda c: (c.call_id, order.get(c.state, len(order))))


def own_applications(session: Session, actor: Actor) -> list[Application]:
    """The applications the actor may see, newest first (an applicant's: its entity's)."""
    return list(session.scalars(visible_applications(select(Application), actor).order_by(Application.id.desc())))


def own_assignments(session: Session, actor: Actor) -> list[Assignment]:
    """The review assignments the actor may see, oldest first."""
    return list(session.scalars(visible_assignments(select(Assignment), actor).order_by(Assignment.id)))


def payments_due(session: Session, actor: Actor) -> list[Payment]:
    """Scheduled instalments the actor may see, in the order they are to be paid (award, then instalment)."""
    query = visible_payments(select(Payment), actor).where(Payment.status == "scheduled")
    return list(session.scalars(query.order_by(Payment.award_id, Payment.instalment)))
