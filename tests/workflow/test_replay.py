"""Replaying a frozen evaluation (docs/authoring.md "Versions"): an application submitted while the 2021 version
was in force is replayed with that version after the 2024 amendment, byte for byte; a tampered evaluation or a
version no longer in the base is said."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from huiqi import beijing
from huiqi.engine.evaluate import Engine
from huiqi.policy.base import PolicyBase
from huiqi.store.db import Database
from huiqi.store.entities import create_entity, record_fact
from huiqi.store.errors import Conflict
from huiqi.store.models import Application
from huiqi.workflow.calls import CallSpec, open_call
from huiqi.workflow.policy import PolicyEngine, version_hash
from huiqi.workflow.replay import replay
from platform_fixtures import OFFICIAL, make_uscc, submit_application

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))
from versioned_tree import write_versioned


@pytest.fixture
def versioned(tmp_path: Path) -> PolicyEngine:
    base = PolicyBase.load(write_versioned(tmp_path))
    return PolicyEngine(base, Engine(base))


def _apply(db: Database, policy: PolicyEngine, as_of: str, n: int) -> int:
    """A firm with 1000万元 paid in applies to a call evaluated as of ``as_of``; the application's id."""
    today = beijing.today()
    with db.transaction() as session:
        call = open_call(session, actor=OFFICIAL, policy=policy, spec=CallSpec(
            title=f"版本测试 {as_of}", document_id="test-doc", provisions=["1"], period=2022, as_of=as_of,
            opens_on=today - dt.timedelta(days=1), closes_on=today + dt.timedelta(days=10), budget="1000万元",
            review_mode="formal", publicity_days=0))  # fmt: skip
        entity = create_entity(session, entity_type="enterprise", name=f"版本测试{n}有限公司", uscc=make_uscc(9000 + n),
                               region=["江苏省", "苏州市"])  # fmt: skip
        record_fact(session, entity=entity, key="paid_in_capital", value="1000万元", year=None, provenance="verified",
                    recorded_by="official1", catalogue=policy.base.catalogue)  # fmt: skip
        call_id, entity_id = call.id, entity.id
    return submit_application(db, policy, call_id, entity_id)


def test_an_application_is_replayed_with_the_version_it_used(db: Database, versioned: PolicyEngine) -> None:
    old_id = _apply(db, versioned, "2023-06-30", 1)
    new_id = _apply(db, versioned, "2024-06-30", 2)
    root = versioned.base.root
    with db.sessions() as session:
        old, new = session.get_one(Application, old_id), session.get_one(Application, new_id)
        assert old.requested_fen == 50_000_000 and new.requested_fen == 80_000_000
        assert old.policy_version == version_hash(root / "test-doc" / "versions" / "2021", root)
        assert new.policy_version == version_hash(root / "test-doc", root) == versioned.version("test-doc")
        assert old.ledger_used == []
        first = replay(session, application_id=old_id, policy=versioned)
        second = replay(session, application_id=new_id, policy=versioned)
    assert first.identical and first.version == "2021" and first.ledger_source == "frozen" and first.differences == []
    assert second.identical and second.version == "2024年修订"

    if db.url.startswith("sqlite"):  # the command opens its own connection (PostgreSQL tests run in a private schema)
        result = CliRunner().invoke(_app(), ["applications", "replay", str(old_id), "--database", db.url,
                                             "--policies", str(root)])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "版本 2021" in result.output and "逐字节一致" in result.output


def test_a_changed_evaluation_or_a_lost_version_is_said(db: Database, versioned: PolicyEngine) -> None:
    application_id = _apply(db, versioned, "2023-06-30", 3)
    with db.transaction() as session:
        application = session.get_one(Application, application_id)
        evaluation = dict(application.evaluation or {})
        evaluation["skipped"] = [{"document": "other", "reason": "后来添加"}]  # someone edited the frozen row
        application.evaluation = evaluation
    with db.sessions() as session:
        result = replay(session, application_id=application_id, policy=versioned)
    assert not result.identical and len(result.differences) == 1
    assert result.differences[0].startswith('skipped：冻结为 [{"document":"other"')
    if db.url.startswith("sqlite"):
        cli = CliRunner().invoke(_app(), ["applications", "replay", str(application_id), "--database", db.url,
                                          "--policies", str(versioned.base.root)])  # fmt: skip
        assert cli.exit_code == 1 and "不一致" in cli.output

    with db.transaction() as session:
        session.get_one(Application, application_id).policy_version = "0" * 64
    with db.sessions() as session, pytest.raises(Conflict) as lost:
        replay(session, application_id=application_id, policy=versioned)
    assert "已没有该申请所用的文件版本" in lost.value.message


def _app():  # type: ignore[no-untyped-def]
    from huiqi.cli import app

    return app


def test_the_api_replays_too(db: Database, versioned: PolicyEngine) -> None:
    from starlette.testclient import TestClient

    from platform_fixtures import add_user, make_app

    application_id = _apply(db, versioned, "2023-06-30", 4)
    token = add_user(db, "replay-official", "official")
    with TestClient(make_app(db, policies=versioned.base.root)) as client:
        answer = client.get(
            f"/api/v1/applications/{application_id}/replay", headers={"Authorization": f"Bearer {token}"}
        )
        frozen = client.get(
            f"/api/v1/applications/{application_id}/frozen", headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["identical"] is True and answer.json()["version"] == "2021"
    assert frozen.json()["ledger_used"] == []
