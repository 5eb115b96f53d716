"""Quarterly awards through the platform (issue 14.1): one firm's Q1–Q4 of 2024 under the quarterly growth
test policy — a call per quarter, each application evaluated for its quarter from the registry's quarterly
facts with the earlier quarters' awards in its ledger, four awards of one rule in one year, and a second award
for the same quarter refused — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from huiqi.engine.evaluate import Engine
from huiqi.policy.base import PolicyBase, default_policies_dir
from huiqi.store.db import Database
from huiqi.store.entities import get_entity, record_fact
from huiqi.store.errors import Conflict, InvalidInput
from huiqi.store.models import Application, Award
from huiqi.workflow.awards import approve
from huiqi.workflow.policy import PolicyEngine, evaluate_entity
from platform_fixtures import OFFICIAL, add_call, add_firm, propose_all

FIXTURES = Path(__file__).parent.parent / "fixtures" / "policies"
DOCUMENT = "sz-test-quarterly"
RULE = f"{DOCUMENT}:1/growth"
REVENUE = {(2023, 1): "3000万元", (2023, 2): "6000万元", (2023, 3): "9000万元", (2023, 4): "1.2亿元",
           (2024, 1): "4500万元", (2024, 2): "9600万元", (2024, 3): "1.9亿元", (2024, 4): "2.1亿元"}  # fmt: skip


@pytest.fixture(scope="module")
def quarterly_policy(tmp_path_factory: pytest.TempPathFactory) -> PolicyEngine:
    root = tmp_path_factory.mktemp("base") / "policies"
    shutil.copytree(default_policies_dir(), root)
    shutil.copytree(FIXTURES / DOCUMENT, root / DOCUMENT)
    shutil.copy(FIXTURES / "_facts" / f"{DOCUMENT}.yaml", root / "_facts")
    base = PolicyBase.load(root)
    return PolicyEngine(base=base, engine=Engine(base))


def _firm(db: Database, policy: PolicyEngine) -> int:
    firm = add_firm(db, policy, 41, name="苏州季度增长软件有限公司")
    with db.transaction() as session:
        entity = get_entity(session, firm)
        for (year, quarter), value in REVENUE.items():
            record_fact(session, entity=entity, key="revenue_ytd", value=value, year=year, quarter=quarter,
                        provenance="verified", recorded_by="official1", catalogue=policy.base.catalogue)  # fmt: skip
    return firm


def _quarter_call(db: Database, policy: PolicyEngine, quarter: int) -> int:
    as_of = dt.date(2024 + (quarter == 4), 1 if quarter == 4 else quarter * 3 + 1, 20)
    return add_call(db, policy, title=f"2024年第{quarter}季度营收增长奖励兑现", document_id=DOCUMENT, provisions=["1"],
                    period=2024, quarter=quarter, as_of=as_of.isoformat())  # fmt: skip


def test_four_quarters_of_one_firm_through_the_platform(db: Database, quarterly_policy: PolicyEngine) -> None:
    firm = _firm(db, quarterly_policy)
    amounts = []
    for quarter in (1, 2, 3, 4):
        call_id = _quarter_call(db, quarterly_policy, quarter)
        [application_id] = propose_all(db, quarterly_policy, call_id, [firm])
        with db.transaction() as session:
            application = session.get_one(Application, application_id)
            assert application.evaluation.get("quarter") == quarter
            [award] = approve(session, application=application, actor=OFFICIAL)
            amounts.append((award.quarter, award.amount_fen))
    assert amounts == [(1, 5_000_000), (2, 19_000_000), (3, 50_000_000), (4, 16_000_000)]
    with db.sessions() as session:
        awards = session.scalars(select(Award).where(Award.entity_id == firm).order_by(Award.quarter)).all()
        assert [(a.rule_ref, a.period, a.quarter) for a in awards] == [(RULE, 2024, q) for q in (1, 2, 3, 4)]
        # evaluated again, the fourth quarter reads the three earlier awards (74万元) from the ledger
        again, _used = evaluate_entity(session, entity=get_entity(session, firm), policy=quarterly_policy,
                                       documents=(DOCUMENT,), as_of=dt.date(2025, 1, 20), period=2024, quarter=4)  # fmt: skip
        result = again.rule(RULE)
        assert result.amount_fen == 16_000_000
        assert any("本年度本规则已兑现 = 9 × 10万元 − 74万元" in line for line in result.calculation), (
            result.calculation
        )


def test_a_second_award_for_the_same_quarter_is_refused(db: Database, quarterly_policy: PolicyEngine) -> None:
    firm = _firm(db, quarterly_policy)
    first, second = _quarter_call(db, quarterly_policy, 1), _quarter_call(db, quarterly_policy, 1)
    [one] = propose_all(db, quarterly_policy, first, [firm])
    [two] = propose_all(db, quarterly_policy, second, [firm])
    with db.transaction() as session:
        approve(session, application=session.get_one(Application, one), actor=OFFICIAL)
    with (
        pytest.raises(Conflict, match="已就 sz-test-quarterly:1/growth 获得 2024年第1季度的奖励"),
        db.transaction() as session,
    ):
        approve(session, application=session.get_one(Application, two), actor=OFFICIAL)


def test_a_quarterly_fact_needs_its_quarter(db: Database, quarterly_policy: PolicyEngine) -> None:
    firm = add_firm(db, quarterly_policy, 42)
    with pytest.raises(InvalidInput, match="按季度填写，须填写年度和季度"), db.transaction() as session:
        record_fact(session, entity=get_entity(session, firm), key="revenue_ytd", value="3000万元", year=2024,
                    provenance="verified", recorded_by="official1", catalogue=quarterly_policy.base.catalogue)  # fmt: skip
