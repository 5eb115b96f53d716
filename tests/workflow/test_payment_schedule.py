"""Payment schedules over years (issue 14.4): an award paid 40/30/30 over three budget years becomes three
payment orders in their years; a later one waits for its year, for the reports due before it and for the
condition the text states (仍在本市注册), judged by the engine on the registered facts — on SQLite and
PostgreSQL. The engine side is the fixture policy's case file (year and conditions of each instalment)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from huiqi.cases import load_cases, run_case
from huiqi.engine.evaluate import Engine
from huiqi.policy.base import PolicyBase, default_policies_dir
from huiqi.store.db import Database
from huiqi.store.entities import get_entity, record_fact
from huiqi.store.errors import Conflict
from huiqi.store.models import Application, Payment, Report
from huiqi.workflow.awards import approve, pay
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.reports import submit_report
from platform_fixtures import FINANCE, OFFICIAL, add_call, add_firm, applicant, propose_all

FIXTURE = Path(__file__).parent.parent / "fixtures" / "policies" / "sz-test-schedule"
RULE = "sz-test-schedule:1/first-1yi"
CHINA = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def schedule_policy(tmp_path_factory: pytest.TempPathFactory) -> PolicyEngine:
    root = tmp_path_factory.mktemp("base") / "policies"
    shutil.copytree(default_policies_dir(), root)
    shutil.copytree(FIXTURE, root / FIXTURE.name)
    base = PolicyBase.load(root)
    return PolicyEngine(base=base, engine=Engine(base))


def test_the_case_file_asserts_each_instalments_year_and_conditions(schedule_policy: PolicyEngine) -> None:
    cases = load_cases(schedule_policy.engine, "sz-test-schedule")
    assert cases
    assert [run_case(schedule_policy.engine, case).failures for case in cases] == [[]] * len(cases)


def _at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 10, 0, tzinfo=CHINA)


def _approved(db: Database, policy: PolicyEngine, **call: object) -> tuple[int, int, list[int]]:
    """A firm first over 1亿元 in 2023, its application approved on 2024-07-01: (entity, application, payments)."""
    call_id = add_call(db, policy, document_id="sz-test-schedule", provisions=["1"], **call)
    firm = add_firm(db, policy, 7)
    [application_id] = propose_all(db, policy, call_id, [firm])
    with db.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL,
                today=dt.date(2024, 7, 1), now=_at(2024, 7, 1))  # fmt: skip
        payments = session.scalars(
            select(Payment).where(Payment.application_id == application_id).order_by(Payment.instalment)
        ).all()
        return firm, application_id, [p.id for p in payments]


def test_approval_schedules_each_instalment_in_its_budget_year(db: Database, schedule_policy: PolicyEngine) -> None:
    _firm, _application, ids = _approved(db, schedule_policy)
    with db.sessions() as session:
        rows = [session.get_one(Payment, i) for i in ids]
        assert [(p.share, p.amount_fen, p.due_year) for p in rows] == [
            (40, 40_000_000, 2024),
            (30, 30_000_000, 2025),
            (30, 30_000_000, 2026),
        ]
        assert rows[0].waits_on is None and not rows[0].reports_required
        assert rows[1].waits_on == "仍在本市注册；到期的绩效报告均已提交" and rows[1].reports_required


def test_a_later_instalment_waits_for_its_year_and_its_condition(db: Database, schedule_policy: PolicyEngine) -> None:
    firm, _application, (first, second, third) = _approved(db, schedule_policy)
    with db.transaction() as session:
        pay(session, payment_id=first, actor=FINANCE, reference="FQ-1", now=_at(2024, 7, 2), policy=schedule_policy)
    with (
        pytest.raises(Conflict, match="第2期按分期计划应于2025年度拨付，现为2024年度，尚未到期"),
        db.transaction() as session,
    ):
        pay(session, payment_id=second, actor=FINANCE, reference="FQ-2", now=_at(2024, 12, 31),
            policy=schedule_policy)  # fmt: skip
    with db.transaction() as session:  # the firm moved away
        record_fact(session, entity=get_entity(session, firm), key="registered_city", value="无锡市", year=None,
                    provenance="verified", recorded_by="official1", catalogue=schedule_policy.base.catalogue)  # fmt: skip
    with pytest.raises(Conflict, match="第2期的拨付条件不满足：仍在本市注册"), db.transaction() as session:
        pay(session, payment_id=second, actor=FINANCE, reference="FQ-2", now=_at(2025, 3, 1),
            policy=schedule_policy)  # fmt: skip
    with db.sessions() as session:
        assert session.get_one(Payment, second).status == "scheduled"  # nothing paid, nothing lost
    with db.transaction() as session:  # back in Suzhou
        record_fact(session, entity=get_entity(session, firm), key="registered_city", value="苏州市", year=None,
                    provenance="verified", recorded_by="official1", catalogue=schedule_policy.base.catalogue)  # fmt: skip
    with db.transaction() as session:
        paid = pay(session, payment_id=second, actor=FINANCE, reference="FQ-2", now=_at(2025, 3, 1),
                   policy=schedule_policy)  # fmt: skip
        assert paid.status == "paid"
    with pytest.raises(Conflict, match="2026年度"), db.transaction() as session:
        pay(session, payment_id=third, actor=FINANCE, reference="FQ-3", now=_at(2025, 12, 1),
            policy=schedule_policy)  # fmt: skip


def test_a_later_instalment_waits_for_the_reports_due_before_it(db: Database, schedule_policy: PolicyEngine) -> None:
    firm, application_id, (first, second, _third) = _approved(db, schedule_policy, report_due=["12-31"], report_years=2)
    with db.transaction() as session:
        pay(session, payment_id=first, actor=FINANCE, reference="BG-1", now=_at(2024, 7, 2), policy=schedule_policy)
    with (
        pytest.raises(
            Conflict, match=r"须在到期的绩效报告均已提交后拨付，尚未提交：2024年下半年绩效报告（截止2024年12月31日）"
        ),
        db.transaction() as session,
    ):
        pay(session, payment_id=second, actor=FINANCE, reference="BG-2", now=_at(2025, 1, 10),
            policy=schedule_policy)  # fmt: skip
    with db.transaction() as session:
        report = session.scalars(select(Report).where(Report.application_id == application_id)).first()
        assert report is not None
        submit_report(session, report_id=report.id, actor=applicant(firm), content="2024年度项目执行情况良好")
    with db.transaction() as session:
        assert pay(session, payment_id=second, actor=FINANCE, reference="BG-2", now=_at(2025, 1, 10),
                   policy=schedule_policy).status == "paid"  # fmt: skip
