"""对账: the live tables against the audit chain. An intact chain says nothing of a row edited directly in
the database; reconciliation does, naming the object, the value in the table and the value in the chain."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from huiqi import beijing
from huiqi.cli import app
from huiqi.store.db import Database
from huiqi.store.migrate import upgrade
from huiqi.store.models import Application, Award, Call, Payment
from huiqi.workflow.audit import verify
from huiqi.workflow.awards import approve, pay
from huiqi.workflow.batches import award_batch, compute_batch, publish_batch
from huiqi.workflow.clawback import claw_back
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.reconcile import NOTE_BATCH, NOTE_INSTALMENTS, Reconciliation, reconcile, repeatable_read
from platform_fixtures import FINANCE, OFFICIAL, add_call, add_firm, propose_all


def _world(db: Database, policy: PolicyEngine) -> dict[str, Any]:
    """Two approvals in instalments (one paid in part, one clawed back) and a 免申即享 batch in another call."""
    call_id = add_call(db, policy, instalments=[60, 40])
    firms = [add_firm(db, policy, n) for n in (1, 2, 3)]
    paid_application, clawed_application = propose_all(db, policy, call_id, firms[:2])
    with db.transaction() as session:
        for application_id in (paid_application, clawed_application):
            approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
    with db.transaction() as session:
        first, second = session.scalars(
            select(Payment).where(Payment.application_id == paid_application).order_by(Payment.instalment)
        ).all()
        pay(session, payment_id=first.id, actor=FINANCE, reference="CZ-2024-001")
        unpaid = second.id
    with db.transaction() as session:
        claw_back(session, application=session.get_one(Application, clawed_application), actor=OFFICIAL,
                  reason="营业收入虚报", blacklist_until=beijing.today() + dt.timedelta(days=365))  # fmt: skip
    batch_call = add_call(db, policy, title="免申即享：软件产业规模奖励", budget="500万元")
    with db.transaction() as session:
        batch = compute_batch(session, call=session.get_one(Call, batch_call), actor=OFFICIAL, policy=policy)
        publish_batch(session, batch=batch, actor=OFFICIAL)
        assert award_batch(session, batch=batch, actor=OFFICIAL)["awarded_fen"] == 200_000_000
    with db.sessions() as session:
        award = session.scalars(select(Award).where(Award.application_id == paid_application)).one()
        return {"call": call_id, "award": award.id, "unpaid": unpaid, "batch_call": batch_call}


def _reconcile(db: Database) -> Reconciliation:
    with db.sessions() as session:
        repeatable_read(session)
        assert verify(session).ok  # the chain itself is intact: only reconciliation can tell
        return reconcile(session)


def test_a_clean_world_reconciles_and_says_what_the_chain_cannot_tell(db: Database, policy: PolicyEngine) -> None:
    _world(db, policy)
    result = _reconcile(db)
    assert result.problems == []
    assert result.checked == {"calls": 2, "awards": 3, "payments": 5, "applications": 2}
    assert result.notes == [NOTE_BATCH, NOTE_INSTALMENTS]
    with db.sessions() as session:  # the reservations really are what the chain derives
        reserved = {c.id: (c.reserved_fen, c.paid_fen) for c in session.scalars(select(Call))}
    assert sorted(reserved.values()) == [(200_000_000, 0), (200_000_000, 120_000_000)]


def test_an_award_amount_edited_in_the_database_is_found(db: Database, policy: PolicyEngine) -> None:
    w = _world(db, policy)
    with db.transaction() as session:
        session.execute(text("UPDATE awards SET amount_fen = 300000000 WHERE id = :id"), {"id": w["award"]})
    problems = _reconcile(db).problems
    assert any(
        p.startswith(f"奖励 #{w['award']}（suzhou-software-cluster:3/revenue-milestone，2023年度")
        and "表中金额（amount_fen）为 300万元（300000000分），审计链中为 200万元（200000000分）" in p
        for p in problems
    ), problems


def test_a_payment_status_edited_in_the_database_is_found(db: Database, policy: PolicyEngine) -> None:
    w = _world(db, policy)
    with db.transaction() as session:
        session.execute(text("UPDATE payments SET status = 'paid' WHERE id = :id"), {"id": w["unpaid"]})
    problems = _reconcile(db).problems
    assert problems == [
        f"拨付 #{w['unpaid']}（奖励 #{w['award']} 第2期）：表中状态（status）为 “已拨付”，审计链中为 “待拨付”"
        "（审计链中没有该期的拨付事件）"
    ]


def test_a_call_reservation_edited_in_the_database_is_found(db: Database, policy: PolicyEngine) -> None:
    w = _world(db, policy)
    with db.transaction() as session:
        session.execute(text("UPDATE calls SET reserved_fen = reserved_fen + 100 WHERE id = :id"), {"id": w["call"]})
        session.execute(text("UPDATE calls SET budget_fen = 600000000 WHERE id = :id"), {"id": w["batch_call"]})
    problems = _reconcile(db).problems
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"申报批次 #{w['call']}（2024年苏州市软件产业规模奖励申报）：")
    assert "已预留预算（reserved_fen）为 2000001元（200000100分），审计链中为 200万元（200000000分）" in problems[0]
    assert "表中预算（budget_fen）为 600万元（600000000分），审计链中为 500万元（500000000分）" in problems[1]


@pytest.mark.parametrize(
    ("statement", "says"),
    [
        ("UPDATE awards SET paid_fen = 0, state = 'approved' WHERE id = :award", "已拨付金额（paid_fen）为 0元"),
        ("UPDATE awards SET state = 'paid' WHERE id = :award", "表中状态（state）为 “已拨付”（paid），审计链中为 “已批准”"),
        ("UPDATE payments SET amount_fen = amount_fen + 1 WHERE id = :unpaid", "各期拨付计划合计"),
        ("UPDATE applications SET approved_fen = 1 WHERE id = (SELECT application_id FROM awards WHERE id = :award)",
         "拟支持/批准金额（approved_fen）为 0.01元"),
    ],
)  # fmt: skip
def test_other_edits_of_money_and_state_are_found(
    db: Database, policy: PolicyEngine, statement: str, says: str
) -> None:
    w = _world(db, policy)
    with db.transaction() as session:
        session.execute(text(statement), {"award": w["award"], "unpaid": w["unpaid"]})
    problems = _reconcile(db).problems
    assert any(says in p for p in problems), problems


def test_audit_verify_reconcile_exits_non_zero_and_names_the_award(tmp_path: Path, policy: PolicyEngine) -> None:
    url = f"sqlite:///{tmp_path / 'reconcile.db'}"
    database = Database(url)
    upgrade(database.engine)
    w = _world(database, policy)
    runner = CliRunner()
    clean = runner.invoke(app, ["audit", "verify", "--reconcile", "--database", url])
    assert clean.exit_code == 0, clean.output
    assert "审计链完整" in clean.output and "对账一致" in clean.output
    with database.transaction() as session:
        session.execute(text("UPDATE awards SET amount_fen = 300000000 WHERE id = :id"), {"id": w["award"]})
    assert runner.invoke(app, ["audit", "verify", "--database", url]).exit_code == 0  # the chain alone sees nothing
    edited = runner.invoke(app, ["audit", "verify", "--reconcile", "--database", url])
    assert edited.exit_code == 1
    assert f"奖励 #{w['award']}" in edited.output and "300万元" in edited.output and "200万元" in edited.output
    assert "对账不符" in edited.output
    database.dispose()
