"""统计看板的查询 (huiqi.workflow.statistics) on SQLite and PostgreSQL, over awards made by the real workflow:
budget per call and provision, awards by district, industry, size band and month, exact to the fen."""

from __future__ import annotations

import datetime as dt
import doctest
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from huiqi import beijing
from huiqi.store.db import Database
from huiqi.store.entities import create_entity, record_fact
from huiqi.store.errors import NotFound
from huiqi.store.models import Application, Call, Entity, Payment
from huiqi.workflow import statistics
from huiqi.workflow.awards import approve, pay
from huiqi.workflow.clawback import claw_back
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.statistics import GroupRow, MonthRow
from platform_fixtures import FINANCE, OFFICIAL, SUZHOU_FACTS, add_call, make_uscc, propose_all

WAN = 1_000_000  # fen


def add_firm(db: Database, policy: PolicyEngine, n: int, region: list[str], revenue: dict[int, str],
             industry: str | None = None) -> int:  # fmt: skip
    """A Suzhou software firm (eligible for provision 3) registered in ``region``."""
    with db.transaction() as session:
        entity = create_entity(session, entity_type="enterprise", name=f"统计测试软件{n}有限公司", uscc=make_uscc(n),
                               region=region)  # fmt: skip
        facts: list[tuple[str, object, int | None]] = [(k, v, None) for k, v in SUZHOU_FACTS.items()]
        facts += [("revenue", value, year) for year, value in revenue.items()]
        if industry is not None:
            facts.append(("industry", industry, None))
        for key, value, year in facts:
            record_fact(session, entity=entity, key=key, value=value, year=year, provenance="verified",
                        recorded_by="official1", catalogue=policy.base.catalogue)  # fmt: skip
        return entity.id


def approve_at(db: Database, application_id: int, moment: dt.datetime) -> None:
    with db.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL, now=moment)


@dataclass
class World:
    call_a: int
    call_b: int
    applications: list[int]


@pytest.fixture
def world(db: Database, policy: PolicyEngine) -> World:
    """Call A (1000万元, 60/40 instalments): four firms (the last one's region later lost) proposed — 200万, 300万, 200万, 200万 — all approved,
    the first's first instalment paid (120万元), the third clawed back. Call B (500万元): one firm, 200万元."""
    firms = [
        add_firm(db, policy, 9_001, ["江苏省", "苏州市", "姑苏区"], {2022: "4800万元", 2023: "1.35亿元"}, "软件开发"),
        add_firm(db, policy, 9_002, ["江苏省", "苏州市", "工业园区"], {2022: "3.8亿元", 2023: "5.6亿元"}, "工业软件"),
        add_firm(db, policy, 9_003, ["江苏省", "苏州市", "姑苏区"], {2022: "9000万元", 2023: "1.2亿元"}, "软件开发"),
        add_firm(db, policy, 9_004, ["江苏省", "苏州市"], {2022: "7000万元", 2023: "1.1亿元"}),
    ]
    call_a = add_call(db, policy, title="统计测试批次甲", budget="1000万元", instalments=[60, 40])
    applications = propose_all(db, policy, call_a, firms)
    beijing_april_first = dt.datetime(2024, 3, 31, 20, 0, tzinfo=dt.UTC)  # 2024-04-01 04:00 in Beijing
    approve_at(db, applications[0], beijing_april_first)
    approve_at(db, applications[1], beijing_april_first)
    approve_at(db, applications[2], dt.datetime(2024, 6, 1, 2, 0, tzinfo=dt.UTC))
    approve_at(db, applications[3], dt.datetime(2024, 6, 15, 2, 0, tzinfo=dt.UTC))
    with db.transaction() as session:
        first = session.scalars(
            select(Payment).where(Payment.application_id == applications[0], Payment.instalment == 1)
        ).one()
        pay(session, payment_id=first.id, actor=FINANCE, reference="TJ-1")
    with db.transaction() as session:
        claw_back(session, application=session.get_one(Application, applications[2]), actor=OFFICIAL,
                  reason="虚报营业收入", blacklist_until=beijing.today() + dt.timedelta(days=365))  # fmt: skip
    with db.transaction() as session:  # a registry row whose region was lost later (an import without it)
        session.get_one(Entity, firms[3]).region = []
    firm_b = add_firm(db, policy, 9_005, ["江苏省", "苏州市"], {2022: "6000万元", 2023: "1.5亿元"}, "软件开发")
    call_b = add_call(db, policy, title="统计测试批次乙", budget="500万元")
    [application_b] = propose_all(db, policy, call_b, [firm_b])
    approve_at(db, application_b, dt.datetime(2024, 8, 1, 2, 0, tzinfo=dt.UTC))
    return World(call_a, call_b, [*applications, application_b])


def test_budget_per_call_is_the_calls_own_counters(db: Database, policy: PolicyEngine, world: World) -> None:
    with db.sessions() as session:
        rows = statistics.budget_by_call(session)
        assert [(r.title, r.budget_fen, r.paid_fen, r.unpaid_fen, r.left_fen, r.awards) for r in rows] == [
            ("统计测试批次甲", 1000 * WAN, 120 * WAN, 580 * WAN, 300 * WAN, 3),  # 200万 clawed back: released
            ("统计测试批次乙", 500 * WAN, 0, 200 * WAN, 300 * WAN, 1),
        ]
        for row in rows:
            call = session.get_one(Call, row.call_id)
            assert row.approved_fen == call.reserved_fen and row.paid_fen == call.paid_fen
        assert [r.call_id for r in statistics.budget_by_call(session, call_id=world.call_b)] == [world.call_b]


def test_per_provision_paid_and_unpaid_add_up_to_the_reservation(
    db: Database, policy: PolicyEngine, world: World
) -> None:
    with db.sessions() as session:
        [row] = statistics.budget_by_provision(session, policy, call_id=world.call_a)
        assert row.rule_ref == "suzhou-software-cluster:3/revenue-milestone"
        assert row.provision == "3 支持企业做大做强"
        assert row.rule_label.startswith("营业收入首次达到1亿元")
        assert (row.awards, row.paid_fen, row.unpaid_fen) == (3, 120 * WAN, 580 * WAN)
        assert row.approved_fen == session.get_one(Call, world.call_a).reserved_fen
        assert len(statistics.budget_by_provision(session, policy)) == 2  # one row per call and rule


def test_awards_by_district_industry_and_size(db: Database, policy: PolicyEngine, world: World) -> None:
    with db.sessions() as session:
        assert statistics.awards_by_district(session, call_id=world.call_a) == [
            GroupRow("苏州市工业园区", 1, 1, 300 * WAN),
            GroupRow("苏州市姑苏区", 1, 1, 200 * WAN),  # the clawed-back award of the same district is no award
            GroupRow("未登记", 1, 1, 200 * WAN),
        ]
        assert [r.label for r in statistics.awards_by_district(session)] == [
            "苏州市工业园区", "苏州市", "苏州市姑苏区", "未登记"]  # fmt: skip
        assert statistics.awards_by_industry(session) == [
            GroupRow("软件开发", 2, 2, 400 * WAN),
            GroupRow("工业软件", 1, 1, 300 * WAN),
            GroupRow("未登记", 1, 1, 200 * WAN),
        ]
        sizes = statistics.awards_by_size(session, call_id=world.call_a)
        assert [r.label for r in sizes] == ["1000万元以下", "1000万元–1亿元", "1亿元–10亿元", "10亿元及以上", "未登记"]
        assert sizes[2] == GroupRow("1亿元–10亿元", 3, 3, 700 * WAN)  # revenue of 2023, the award's period
        assert sum(r.amount_fen for r in sizes) == 700 * WAN


def test_awards_by_beijing_month_with_the_months_between(db: Database, policy: PolicyEngine, world: World) -> None:
    with db.sessions() as session:
        assert statistics.awards_by_month(session, call_id=world.call_a) == [
            MonthRow("2024-04", 2, 500 * WAN),  # 2024-03-31 20:00 UTC is April the 1st in Beijing
            MonthRow("2024-05", 0, 0),
            MonthRow("2024-06", 1, 200 * WAN),
        ]
        months = statistics.awards_by_month(session)
        assert [m.label for m in months] == ["2024年4月", "2024年5月", "2024年6月", "2024年7月", "2024年8月"]
        assert months[-1] == MonthRow("2024-08", 1, 200 * WAN)


def test_the_dashboard_of_one_call_and_of_an_unknown_call(db: Database, policy: PolicyEngine, world: World) -> None:
    with db.sessions() as session:
        board = statistics.dashboard(session, policy, call_id=world.call_b)
        assert board.call is not None and board.call.title == "统计测试批次乙"
        assert [r.amount_fen for r in board.districts] == [200 * WAN]
        assert [c.id for c in statistics.calls(session)] == [world.call_b, world.call_a]
        with pytest.raises(NotFound, match="没有编号为 999 的申报批次"):
            statistics.dashboard(session, policy, call_id=999)


def test_no_awards_is_empty_not_an_error(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, title="空批次")
    with db.sessions() as session:
        board = statistics.dashboard(session, policy, call_id=call_id)
        assert [(r.budget_fen, r.left_fen, r.awards) for r in board.budgets] == [(1000 * WAN, 1000 * WAN, 0)]
        assert board.provisions == board.districts == board.industries == board.months == []
        assert all(r.awards == 0 for r in board.sizes)


def test_docstring_examples() -> None:
    failures, tried = doctest.testmod(statistics)
    assert tried > 0 and failures == 0
