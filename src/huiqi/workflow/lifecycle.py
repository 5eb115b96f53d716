"""Moving an application through its call's state machine, with the audit event of every move."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi.store.errors import NotFound, PermissionDenied
from huiqi.store.models import Application, Assignment, Call
from huiqi.workflow import audit
from huiqi.workflow.actors import Actor
from huiqi.workflow.calls import machine_of
from huiqi.workflow.states import State, Transition


def get_application(session: Session, application_id: int, *, actor: Actor, lock: bool = False) -> Application:
    """An application the actor may see (others are reported as not found, never as forbidden)."""
    query = select(Application).where(Application.id == application_id)
    if lock:
        query = query.with_for_update()
    application = session.scalar(query)
    if application is None or not can_view(session, actor, application):
        raise NotFound(f"没有编号为 {application_id} 的申请，或您无权查看", where="application_id")
    return application


def can_view(session: Session, actor: Actor, application: Application) -> bool:
    """Object-level permission: an applicant its own entity's, an expert only what it was assigned."""
    if actor.role == "applicant":
        return actor.entity_id is not None and application.entity_id == actor.entity_id
    if actor.role == "expert":
        return actor.expert_id is not None and (
            session.scalar(
                select(Assignment.id).where(
                    Assignment.application_id == application.id, Assignment.expert_id == actor.expert_id
                )
            )
            is not None
        )
    return True


def require_owner(actor: Actor, application: Application) -> None:
    """Only the applicant acting for the application's entity may change it."""
    if actor.role != "applicant" or actor.entity_id != application.entity_id:
        raise PermissionDenied("只有本申请的申报主体可以进行此操作")


def check(session: Session, application: Application, name: str, actor: Actor) -> tuple[Call, Transition]:
    """The call and the transition, if the machine allows ``name`` from the current state for ``actor``."""
    call = session.get(Call, application.call_id)
    assert call is not None  # foreign key
    transition = machine_of(call).check(name, application.state, actor)
    if transition.role == "applicant":
        require_owner(actor, application)
    return call, transition


def move(
    session: Session,
    application: Application,
    transition: Transition,
    *,
    actor: Actor,
    target: State | None = None,
    now: dt.datetime | None = None,
    **changes: Any,
) -> Application:
    """Apply a checked transition (and field changes) and record it in the audit chain."""
    before = audit.snapshot(application)
    new_state = target or transition.target
    assert new_state in transition.targets, f"{transition.name} cannot lead to {new_state}"
    application.state = new_state.value
    for key, value in changes.items():
        setattr(application, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"application.{transition.name}",
        object_type="application",
        object_id=application.id,
        before=before,
        after=audit.snapshot(application),
        now=now,
    )
    return application
