"""Every transition the machine does not list is refused, with a Chinese message, and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from huiqi.store.db import Database
from huiqi.store.errors import IllegalTransition, PermissionDenied
from huiqi.store.models import Application, AuditEvent
from huiqi.workflow.actors import Actor
from huiqi.workflow.lifecycle import check
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.states import DEFAULT_TRANSITIONS, State, machine_for
from platform_fixtures import OFFICIAL, add_call, add_firm, applicant, submit_application

MODES = [(mode, days) for mode in ("none", "formal", "expert", "competitive") for days in (0, 7)]
ROLES = ("applicant", "official", "expert", "finance", "administrator")


@pytest.mark.parametrize(("mode", "days"), MODES)
def test_every_transition_from_every_state_is_refused_unless_listed(mode: str, days: int) -> None:
    machine = machine_for(review_mode=mode, publicity_days=days)
    for transition in DEFAULT_TRANSITIONS:
        for state in State:
            listed = machine.transitions.get(transition.name)
            allowed = listed is not None and state in listed.sources
            for role in ROLES:
                actor = Actor("someone", role)
                if allowed and listed is not None and role == listed.role:
                    assert machine.check(transition.name, state.value, actor) is listed
                elif allowed:
                    with pytest.raises(PermissionDenied, match="只能由"):
                        machine.check(transition.name, state.value, actor)
                else:
                    with pytest.raises(IllegalTransition) as refused:
                        machine.check(transition.name, state.value, actor)
                    assert "不能" in refused.value.message or "没有" in refused.value.message


def test_each_transition_is_allowed_to_exactly_one_role_and_roles_can_be_reassigned() -> None:
    machine = machine_for(review_mode="expert", publicity_days=7, roles={"approve": "administrator"})
    assert machine.transitions["approve"].role == "administrator"
    with pytest.raises(PermissionDenied, match="系统管理员"):
        machine.check("approve", "publicity", OFFICIAL)


def test_without_review_a_submission_is_accepted_as_it_stands_and_publicity_cannot_be_skipped() -> None:
    assert machine_for(review_mode="none", publicity_days=0).transitions["submit"].targets == (State.CHECKED,)
    with_publicity = machine_for(review_mode="formal", publicity_days=7)
    with pytest.raises(IllegalTransition, match="公示中"):
        with_publicity.check("approve", "proposed", OFFICIAL)


def test_a_refused_transition_leaves_the_application_and_the_audit_log_unchanged(
    db: Database, policy: PolicyEngine
) -> None:
    call_id = add_call(db, policy)
    firm = add_firm(db, policy, 1)
    application_id = submit_application(db, policy, call_id, firm)
    with db.sessions() as session:
        events_before = session.scalar(select(func.count(AuditEvent.id)))
    for name, actor in (("approve", OFFICIAL), ("pay", Actor("f", "finance")), ("close", OFFICIAL),
                        ("submit", applicant(firm)), ("pass_check", applicant(firm))):  # fmt: skip
        with pytest.raises((IllegalTransition, PermissionDenied)), db.transaction() as session:
            application = session.get_one(Application, application_id)
            check(session, application, name, actor)
    with db.sessions() as session:
        application = session.get_one(Application, application_id)
        assert application.state == "submitted" and application.version == 2
        assert session.scalar(select(func.count(AuditEvent.id))) == events_before
