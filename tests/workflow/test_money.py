"""Money you can trust: reservation on approval, the ledger, instalments, no double payment, clawback."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from huiqi import beijing
from huiqi.engine.results import Status
from huiqi.store.db import Database
from huiqi.store.entities import get_entity
from huiqi.store.errors import BudgetExceeded, Conflict, IllegalTransition, PermissionDenied
from huiqi.store.models import Application, Award, Call, Payment, Report
from huiqi.workflow.applications import create_draft, pass_check
from huiqi.workflow.audit import verify
from huiqi.workflow.awards import approve, close, pay
from huiqi.workflow.clawback import claw_back
from huiqi.workflow.lifecycle import check, move
from huiqi.workflow.policy import PolicyEngine, evaluate_entity
from huiqi.workflow.proposals import allocate
from huiqi.workflow.reports import is_overdue, submit_report
from platform_fixtures import FINANCE, OFFICIAL, add_call, add_firm, applicant, propose_all, submit_application

MILESTONE = "suzhou-software-cluster:3/revenue-milestone"


def test_approval_reserves_the_budget_writes_the_ledger_and_changes_the_next_evaluation(
    db: Database, policy: PolicyEngine
) -> None:
    call_id = add_call(db, policy)
    firm = add_firm(db, policy, 1)
    [application_id] = propose_all(db, policy, call_id, [firm])
    with db.transaction() as session:
        entity = get_entity(session, firm)
        before, _ = evaluate_entity(session, entity=entity, policy=policy, documents=("suzhou-software-cluster",),
                                    as_of=dt.date(2024, 6, 30), period=2023)  # fmt: skip
        assert before.rule(MILESTONE).status is Status.ELIGIBLE
        awards = approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
        assert [(a.rule_ref, a.period, a.amount_fen, a.tiers) for a in awards] == [
            (MILESTONE, 2023, 2_000_000_00, ["t1"])
        ]
    with db.sessions() as session:
        assert session.get_one(Call, call_id).reserved_fen == 2_000_000_00
        after, _ = evaluate_entity(session, entity=get_entity(session, firm), policy=policy,
                                   documents=("suzhou-software-cluster",), as_of=dt.date(2024, 6, 30), period=2023)  # fmt: skip
        assert after.rule(MILESTONE).status is Status.NOT_ELIGIBLE  # 进档补差: the tier is in the ledger now
        assert verify(session).ok


def test_an_approval_that_would_overspend_is_refused_and_changes_nothing(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, budget="300万元")
    firms = [add_firm(db, policy, n) for n in (1, 2)]
    ids = [submit_application(db, policy, call_id, f) for f in firms]
    with db.transaction() as session:  # both proposed in full, bypassing the list's budget rule
        for application_id in ids:
            application = session.get_one(Application, application_id)
            pass_check(session, application=application, actor=OFFICIAL)
            _call, transition = check(session, application, "propose", OFFICIAL)
            move(session, application, transition, actor=OFFICIAL, approved_fen=application.requested_fen,
                 rules=[{**r, "approved_fen": r["amount_fen"]} for r in application.rules])  # fmt: skip
    with db.transaction() as session:
        approve(session, application=session.get_one(Application, ids[0]), actor=OFFICIAL)
    with pytest.raises(BudgetExceeded, match="预算不足"), db.transaction() as session:
        approve(session, application=session.get_one(Application, ids[1]), actor=OFFICIAL)
    with db.sessions() as session:
        assert session.get_one(Call, call_id).reserved_fen == 2_000_000_00
        assert session.get_one(Application, ids[1]).state == "proposed"
        assert session.scalars(select(Award.application_id)).all() == [ids[0]]


def test_the_proposed_list_follows_the_oversubscription_rule(db: Database, policy: PolicyEngine) -> None:
    ranking = add_call(db, policy, budget="500万元", oversubscription="ranking")
    pro_rata = add_call(db, policy, budget="500万元", oversubscription="pro_rata")
    firms = [add_firm(db, policy, n) for n in (1, 2, 3)]
    ranked = propose_all(db, policy, ranking, firms)
    shared = propose_all(db, policy, pro_rata, firms)
    with db.sessions() as session:
        states = [session.get_one(Application, i) for i in ranked]
        assert [a.state for a in states] == ["proposed", "proposed", "rejected"]
        assert "预算不足" in (states[2].reason or "")
        parts = [session.get_one(Application, i).approved_fen for i in shared]
        assert parts == [1_666_666_67, 1_666_666_67, 1_666_666_66] and sum(parts) == 5_000_000_00
    assert allocate([3, 3, 3], 10, "pro_rata") == [3, 3, 3]


def test_the_same_entity_cannot_be_awarded_twice_for_the_same_rule_and_period(
    db: Database, policy: PolicyEngine
) -> None:
    first, second = add_call(db, policy), add_call(db, policy)
    firm = add_firm(db, policy, 1)
    [one] = propose_all(db, policy, first, [firm])
    with db.transaction() as session:
        approve(session, application=session.get_one(Application, one), actor=OFFICIAL)
    with db.transaction() as session:  # the second call's evaluation already sees the ledger
        application = create_draft(session, call=session.get_one(Call, second), actor=applicant(firm))
        application_id = application.id
    with db.transaction() as session:  # force the same rule through, as if the engine had been bypassed
        application = session.get_one(Application, application_id)
        application.state, application.approved_fen = "proposed", 2_000_000_00
        application.rules = [{"ref": MILESTONE, "amount_fen": 2_000_000_00, "approved_fen": 2_000_000_00, "tiers": []}]
    with pytest.raises(Conflict, match="不能重复享受"), db.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
    with db.sessions() as session:
        assert len(session.scalars(select(Award)).all()) == 1
        assert session.get_one(Call, second).reserved_fen == 0


def test_instalments_are_paid_in_order_once_each_then_follow_up_and_close(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, instalments=[60, 40], report_due=["06-30", "12-31"], report_years=1)
    firm = add_firm(db, policy, 1)
    [application_id] = propose_all(db, policy, call_id, [firm])
    with db.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL,
                today=dt.date(beijing.today().year, 1, 15))  # fmt: skip
    with db.sessions() as session:
        first, second = session.scalars(select(Payment).order_by(Payment.instalment)).all()
        assert (first.amount_fen, second.amount_fen) == (1_200_000_00, 800_000_00)
        assert len(session.scalars(select(Report)).all()) == 2
    with pytest.raises(Conflict, match="请先拨付第1期"), db.transaction() as session:
        pay(session, payment_id=second.id, actor=FINANCE, reference="PZ-2")
    with pytest.raises(PermissionDenied, match="财政"), db.transaction() as session:
        pay(session, payment_id=first.id, actor=OFFICIAL, reference="PZ-1")
    with db.transaction() as session:
        pay(session, payment_id=first.id, actor=FINANCE, reference="PZ-1")
        assert session.get_one(Application, application_id).state == "paying"
    with pytest.raises(Conflict, match="不能重复拨付"), db.transaction() as session:
        pay(session, payment_id=first.id, actor=FINANCE, reference="PZ-1 again")
    with db.transaction() as session:
        pay(session, payment_id=second.id, actor=FINANCE, reference="PZ-2")
        application = session.get_one(Application, application_id)
        assert application.state == "follow_up"
        call = session.get_one(Call, call_id)
        assert (call.reserved_fen, call.paid_fen) == (2_000_000_00, 2_000_000_00)
    with pytest.raises(Conflict, match="绩效报告未提交"), db.transaction() as session:
        close(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
    with db.transaction() as session:
        reports = session.scalars(select(Report).order_by(Report.due_on)).all()
        assert is_overdue(reports[0], reports[0].due_on + dt.timedelta(days=1))
        assert not is_overdue(reports[0], reports[0].due_on)
        for report in reports:
            submit_report(session, report_id=report.id, content="项目按计划推进，营收增长。", actor=applicant(firm))
        assert not is_overdue(reports[0], reports[0].due_on + dt.timedelta(days=1))
        close(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
        assert session.get_one(Application, application_id).state == "closed"
        assert verify(session).ok


def test_clawback_cancels_unpaid_instalments_releases_budget_and_blacklists_until_a_date(
    db: Database, policy: PolicyEngine
) -> None:
    call_id = add_call(db, policy, instalments=[50, 50])
    firm = add_firm(db, policy, 1)
    [application_id] = propose_all(db, policy, call_id, [firm])
    with db.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
        first = session.scalars(select(Payment).order_by(Payment.instalment)).first()
        assert first is not None
        pay(session, payment_id=first.id, actor=FINANCE, reference="PZ-1")
    today = beijing.today()
    with db.transaction() as session:
        entry = claw_back(session, application=session.get_one(Application, application_id), actor=OFFICIAL,
                          reason="虚报2023年营业收入", blacklist_until=today + dt.timedelta(days=3 * 365))  # fmt: skip
        assert entry.expires_on > today
    with db.sessions() as session:
        call = session.get_one(Call, call_id)
        assert (call.reserved_fen, call.paid_fen) == (1_000_000_00, 1_000_000_00)
        assert [p.status for p in session.scalars(select(Payment).order_by(Payment.instalment))] == [
            "paid",
            "cancelled",
        ]
        assert session.scalars(select(Award.state)).all() == ["clawed_back"]
        entity = get_entity(session, firm)
        again, _ = evaluate_entity(session, entity=entity, policy=policy, documents=("suzhou-software-cluster",),
                                   as_of=dt.date(2024, 6, 30), period=2023)  # fmt: skip
        assert again.rule(MILESTONE).status is Status.ELIGIBLE  # a clawed-back award is not in the ledger
    with pytest.raises(IllegalTransition), db.transaction() as session:
        pay(session, payment_id=2, actor=FINANCE, reference="PZ-2")


def test_without_a_call_plan_the_rules_own_instalments_are_followed(db: Database, policy: PolicyEngine) -> None:
    from huiqi.workflow.awards import instalment_plan

    call_id = add_call(db, policy)
    with db.sessions() as session:
        call = session.get_one(Call, call_id)
        rule = {"instalments": [{"label": "首期", "share": "50%", "amount": "1000000.00"},
                                {"label": "验收后", "share": "50%", "amount": "1000000.00"}]}  # fmt: skip

        def plan(rule: dict[str, Any], amount: int) -> tuple[list[int], list[int]]:
            parts = instalment_plan(call, rule, amount, 2024)
            assert {p.due_year for p in parts} == {2024}  # no years in the rule: all in the award year
            return [p.share for p in parts], [p.amount_fen for p in parts]

        assert plan(rule, 1_999_999_99) == ([50, 50], [1_000_000_00, 999_999_99])
        assert plan({}, 5) == ([100], [5])
        call.instalments = [70, 30]
        assert plan(rule, 100) == ([70, 30], [70, 30])
