"""The audit chain records every change and finds any tampering: edits, deletions, truncation."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update

from huiqi.store.db import Database
from huiqi.store.models import Application, AuditEvent
from huiqi.workflow.audit import verify
from huiqi.workflow.awards import approve
from huiqi.workflow.policy import PolicyEngine
from platform_fixtures import OFFICIAL, add_call, add_firm, propose_all


def _history(db: Database, policy: PolicyEngine) -> int:
    call_id = add_call(db, policy)
    [application_id] = propose_all(db, policy, call_id, [add_firm(db, policy, 1)])
    with db.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
    with db.sessions() as session:
        return session.scalar(select(func.count(AuditEvent.id))) or 0


def test_every_step_is_an_event_with_before_and_after_and_the_chain_verifies(
    db: Database, policy: PolicyEngine
) -> None:
    count = _history(db, policy)
    with db.sessions() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
        assert actions[0] == "call.open" and "application.submit" in actions and "application.approve" in actions
        assert {"award.create", "budget.reserve"} <= set(actions)
        approve_event = session.scalar(select(AuditEvent).where(AuditEvent.action == "application.approve"))
        assert approve_event is not None and '"state":"proposed"' in approve_event.before
        assert '"state":"approved"' in approve_event.after
        result = verify(session)
        assert result.ok and result.events == count


@pytest.mark.parametrize("field", ["actor", "after", "before", "occurred_at", "object_id"])
def test_editing_any_field_of_an_event_is_detected(db: Database, policy: PolicyEngine, field: str) -> None:
    _history(db, policy)
    with db.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values({field: "tampered"}))
    with db.sessions() as session:
        result = verify(session)
        assert not result.ok and any("#3" in p and "篡改" in p for p in result.problems)


def test_deleting_an_event_in_the_middle_or_at_the_end_is_detected(db: Database, policy: PolicyEngine) -> None:
    count = _history(db, policy)
    with db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq == count))
    with db.sessions() as session:
        assert any("链尾" in p for p in verify(session).problems)
    with db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    with db.sessions() as session:
        assert any("#3" in p and "序号" in p for p in verify(session).problems)


def test_rehashing_an_edited_event_still_breaks_the_link_to_the_next(db: Database, policy: PolicyEngine) -> None:
    from huiqi.workflow.audit import event_hash

    _history(db, policy)
    with db.transaction() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.seq == 2))
        assert event is not None
        event.actor = "someone-else"
        event.hash = event_hash(seq=event.seq, occurred_at=event.occurred_at, actor=event.actor, action=event.action,
                                object_type=event.object_type, object_id=event.object_id, before=event.before,
                                after=event.after, prev_hash=event.prev_hash)  # fmt: skip
    with db.sessions() as session:
        assert any("#3" in p and "链接断开" in p for p in verify(session).problems)
