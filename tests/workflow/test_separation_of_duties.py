"""Separation of duties (职责分离): no configuration lets an applicant approve itself, an expert decide, or
one role both approve and pay; changing who approves or pays needs an administrator and is on record."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from huiqi.store.db import Database
from huiqi.store.errors import InvalidInput, PermissionDenied
from huiqi.store.models import Application, AuditEvent, Award, Call
from huiqi.workflow.awards import approve
from huiqi.workflow.calls import machine_of, open_call
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.states import APPLICANT_STEPS, DEFAULT_TRANSITIONS, StateMachine, machine_for
from platform_fixtures import ADMIN, OFFICIAL, add_firm, call_spec, propose_all

ROLES = ("applicant", "official", "expert", "finance", "administrator")
DECISION_STEPS = sorted(t.name for t in DEFAULT_TRANSITIONS if t.name not in APPLICANT_STEPS)


def _full(roles: dict[str, str]) -> StateMachine:
    """Expert review with 公示: the machine with every step of the default lifecycle."""
    return machine_for(review_mode="expert", publicity_days=7, roles=roles)


def _refused_any(roles: dict[str, str]) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        _full(roles)
    return refused.value


def _refused(roles: dict[str, str]) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        _full(roles)
    [name] = roles
    assert refused.value.where == f"transition_roles.{name}"
    assert "职责分离" in refused.value.message and f"（{name}）" in refused.value.message
    return refused.value


@pytest.mark.parametrize("step", DECISION_STEPS)
def test_no_review_decision_approval_or_payment_step_goes_to_the_applicant_or_an_expert(step: str) -> None:
    assert "不能交给申报主体" in _refused({step: "applicant"}).message
    assert "不能交给评审专家" in _refused({step: "expert"}).message


@pytest.mark.parametrize("step", sorted(APPLICANT_STEPS))
def test_the_applicants_own_steps_stay_with_the_applicant(step: str) -> None:
    for role in ROLES:
        if role == "applicant":
            assert _full({step: role}).transitions[step].role == "applicant"
        else:
            assert "申报主体本人的步骤" in _refused({step: role}).message


def test_pay_stays_with_finance_and_approve_never_goes_to_the_role_that_pays() -> None:
    for role in ("official", "administrator"):
        assert "只能由财政" in _refused({"pay": role}).message
    assert "批准与拨付不能由同一角色执行" in _refused({"approve": "finance"}).message
    both = _refused_any({"approve": "administrator", "pay": "administrator"})
    assert "批准与拨付不能由同一角色执行" in both.message and both.where == "transition_roles.approve"
    machine = _full({"approve": "administrator", "claw_back": "administrator"})
    assert machine.transitions["approve"].role == "administrator" and machine.transitions["pay"].role == "finance"


def test_an_official_may_open_a_call_with_default_roles_but_not_change_who_approves(
    db: Database, policy: PolicyEngine
) -> None:
    with db.transaction() as session:
        call_id = open_call(session, spec=call_spec(), actor=OFFICIAL, policy=policy).id
    with db.sessions() as session:
        events = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(call_id))).all()
        assert events == ["call.open"]
    for roles in ({"approve": "applicant"}, {"approve": "administrator"}, {"close": "official"}):
        with pytest.raises(PermissionDenied, match="须由系统管理员设定") as refused, db.transaction() as session:
            open_call(session, spec=call_spec(transition_roles=roles), actor=OFFICIAL, policy=policy)
        assert refused.value.where == "transition_roles"
    with db.sessions() as session:
        assert len(session.scalars(select(Call)).all()) == 1


def test_an_administrator_is_held_to_separation_of_duties_too(db: Database, policy: PolicyEngine) -> None:
    for roles in ({"approve": "applicant"}, {"approve": "finance"}, {"pay": "official"}, {"propose": "expert"}):
        with pytest.raises(InvalidInput, match="职责分离"), db.transaction() as session:
            open_call(session, spec=call_spec(transition_roles=roles), actor=ADMIN, policy=policy)
    with db.sessions() as session:
        assert session.scalars(select(Call)).all() == []


def test_a_change_of_who_approves_is_audited_and_takes_effect(db: Database, policy: PolicyEngine) -> None:
    with db.transaction() as session:
        call = open_call(session, spec=call_spec(transition_roles={"approve": "administrator"}), actor=ADMIN,
                         policy=policy)  # fmt: skip
        call_id = call.id
        assert machine_of(call).transitions["approve"].role == "administrator"
    with db.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "call.transition_roles")).one()
        assert event.actor == ADMIN.username and event.object_id == str(call_id)
        before, after = json.loads(event.before), json.loads(event.after)
        assert before["transition_roles"] == {} and after["transition_roles"] == {"approve": "administrator"}
        assert before["roles"]["approve"] == "official" and after["roles"]["approve"] == "administrator"
        assert before["roles"]["pay"] == after["roles"]["pay"] == "finance"
    [application_id] = propose_all(db, policy, call_id, [add_firm(db, policy, 1)])
    with pytest.raises(PermissionDenied, match="系统管理员"), db.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
    with db.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=ADMIN)
    with db.sessions() as session:
        assert [a.approved_by for a in session.scalars(select(Award))] == [ADMIN.username]
