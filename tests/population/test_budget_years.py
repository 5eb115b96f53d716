"""A simulation's cost per budget year (issue 14.4): awards paid in instalments over years are split per
entity exactly as the scalar engine splits them (each part rounded to the fen, the last taking the rest) and
summed in the year each part is paid."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from huiqi.compile.tables import profiles_to_tables
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import Profile, parse_profile
from huiqi.money import parse_money
from huiqi.policy.base import PolicyBase, default_policies_dir
from huiqi.population.session import PopulationSession, Scenario
from huiqi.population.simulate import simulate

FIXTURE = Path(__file__).parent.parent / "fixtures" / "policies" / "sz-test-schedule"
AS_OF = dt.date(2024, 6, 30)
#: 2023 revenues first over 1亿元 (and one below): the rate below gives amounts with odd fen
REVENUES = ["100000000.01元", "123456789.13元", "1.5亿元", "9999万元", "987654321.99元", "100000003.33元"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("base") / "policies"
    shutil.copytree(default_policies_dir(), root)
    shutil.copytree(FIXTURE, root / FIXTURE.name)
    policy = root / FIXTURE.name / "policy.yaml"
    text = policy.read_text("utf-8").replace(
        "benefit: {form: fixed, amount: 100万元}", "benefit: {form: rate, base: revenue, rate: 0.07%}"
    )
    policy.write_text(text, "utf-8")
    return Engine(PolicyBase.load(root))


def _report(engine: Engine, profiles: list[tuple[str, Profile]], folder: Path, document: str) -> dict[str, list[Any]]:
    """Write the profiles as a population in ``folder``, simulate ``document`` over it: each table's rows by name."""
    for name, table in zip(("entities", "history", "ledger"),
                           profiles_to_tables(profiles, engine.catalogue, period=2023), strict=True):  # fmt: skip
        pq.write_table(table, folder / f"{name}.parquet")
    with PopulationSession(folder, engine) as session:
        _run, report = simulate(session, engine, [document], Scenario(as_of=AS_OF, period=2023))
    return {t.name: t.data.to_pylist() for t in report.tables}


def test_the_simulation_splits_each_award_as_the_engine_does(engine: Engine, tmp_path: Path) -> None:
    profiles = [
        (f"e{i}", parse_profile({"entity_type": "enterprise", "region": ["江苏省", "苏州市"],
                                 "facts": {"registered_city": "苏州市", "main_business_software": True,
                                           "revenue": {2022: "9000万元", 2023: revenue}}}, engine.catalogue))
        for i, revenue in enumerate(REVENUES)
    ]  # fmt: skip
    expected: dict[int, int] = defaultdict(int)
    options = Options(as_of=AS_OF, period=2023, documents=("sz-test-schedule",))
    for _id, profile in profiles:
        result = engine.evaluate(profile, options).rule("sz-test-schedule:1/first-1yi")
        for part in result.instalments:
            expected[part["year"]] += parse_money(part["amount"] + "元")
    assert len(expected) == 3 and sum(expected.values()) % 10 != 0  # odd fen: rounding is exercised
    table = _report(engine, profiles, tmp_path, "sz-test-schedule")["by_budget_year"]
    assert {row["budget_year"]: row["cost_fen"] for row in table} == dict(expected)
    assert all(row["ceiling_fen"] == 0 for row in table)


def test_a_rule_without_instalments_is_paid_in_the_award_year(engine: Engine, tmp_path: Path) -> None:
    profiles = [("e0", parse_profile({"entity_type": "enterprise", "region": ["江苏省", "苏州市"],
                                      "facts": {"registered_city": "苏州市", "main_business_software": True,
                                                "in_miit_software_statistics": True,
                                                "revenue": {2022: "4800万元", 2023: "1.35亿元"}}}, engine.catalogue))]  # fmt: skip
    tables = _report(engine, profiles, tmp_path, "suzhou-software-cluster")
    table, by_document = tables["by_budget_year"], tables["by_document"]
    assert [row["budget_year"] for row in table] == [2024]
    assert table[0]["total_fen"] == by_document[0]["total_fen"] > 0
