"""免申即享: the registry evaluated, the list published, awards made without applications."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from huiqi.store.db import Database
from huiqi.store.errors import Conflict
from huiqi.store.models import Award, Call
from huiqi.workflow.batches import award_batch, compute_batch, items_of, publish_batch
from huiqi.workflow.policy import PolicyEngine
from platform_fixtures import OFFICIAL, add_call, add_firm


def test_a_batch_lists_who_qualifies_and_awards_them_once_within_budget(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, review_mode="none", budget="500万元")
    qualifying = [add_firm(db, policy, n) for n in (1, 2, 3)]
    add_firm(db, policy, 4, revenue_2023="9000万元")  # below 1亿元: not listed
    with db.transaction() as session:
        batch = compute_batch(session, call=session.get_one(Call, call_id), actor=OFFICIAL, policy=policy)
        assert sorted(i.entity_id for i in items_of(session, batch.id)) == qualifying
        with pytest.raises(Conflict, match="先发布"):
            award_batch(session, batch=batch, actor=OFFICIAL)
        publish_batch(session, batch=batch, actor=OFFICIAL)
        result = award_batch(session, batch=batch, actor=OFFICIAL)
        assert result["awarded_fen"] == 4_000_000_00  # ranking: two of three fit in 500万元
        assert [i.status for i in items_of(session, batch.id)] == ["awarded", "awarded", "skipped"]
    with db.transaction() as session:  # a second batch finds the ledger and lists only the one left out
        again = compute_batch(session, call=session.get_one(Call, call_id), actor=OFFICIAL, policy=policy)
        assert [i.entity_id for i in items_of(session, again.id)] == [qualifying[2]]
    with db.sessions() as session:
        assert session.get_one(Call, call_id).reserved_fen == 4_000_000_00
        assert len(session.scalars(select(Award)).all()) == 2
