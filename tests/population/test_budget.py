"""Budgets: never more than the budget, pro-rata shares exact to the fen, ranking funds a prefix in order."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huiqi.population.budget import BudgetError, allocation_sql, budget_report, load_budgets, oversubscription
from huiqi.population.outputs import write_report
from huiqi.population.session import PopulationSession, Scenario
from huiqi.population.simulate import simulate

from .conftest import Synthetic
from .populations import AS_OF, PERIOD

CLAIMS = st.lists(st.integers(min_value=1, max_value=10**13), min_size=0, max_size=40)
BUDGET = st.integers(min_value=1, max_value=10**14)


def _allocate(claims: list[int], budget: int, method: str, keys: list[int] | None = None) -> list[dict[str, int]]:
    connection = duckdb.connect()
    table = pa.table(
        {"entity_id": [f"E{i:03d}" for i in range(len(claims))], "claim_fen": pa.array(claims, pa.int64()),
         "rank_key": pa.array(keys if keys is not None else claims, pa.int64())}
    )  # fmt: skip
    connection.register("claims", table)
    rows: list[dict[str, int]] = (
        connection.sql(allocation_sql("SELECT * FROM claims", budget, method)).to_arrow_table().to_pylist()
    )
    connection.close()
    return rows


@settings(max_examples=60, deadline=None)
@given(claims=CLAIMS, budget=BUDGET)
def test_pro_rata_shares_are_exact_and_add_up_to_the_budget(claims: list[int], budget: int) -> None:
    rows = _allocate(claims, budget, "pro_rata")
    demand = sum(claims)
    allocated = sum(r["allocated_fen"] for r in rows)
    assert len(rows) == len(claims)
    assert allocated == min(demand, budget)
    for row in rows:
        assert 0 <= row["allocated_fen"] <= row["claim_fen"]
        if demand > budget:  # within one fen of the exact share, rounded down or up by the largest remainders
            exact = Fraction(row["claim_fen"] * budget, demand)
            assert exact - 1 < row["allocated_fen"] < exact + 1
        else:
            assert row["allocated_fen"] == row["claim_fen"]


@settings(max_examples=40, deadline=None)
@given(claims=st.lists(st.integers(1, 10**6), min_size=2, max_size=30), budget=st.integers(1, 10**7))
def test_pro_rata_leftover_fen_go_to_the_largest_remainders(claims: list[int], budget: int) -> None:
    rows = {r["entity_id"]: r for r in _allocate(claims, budget, "pro_rata")}
    demand = sum(claims)
    if demand <= budget:
        return
    ids = [f"E{i:03d}" for i in range(len(claims))]
    remainders = {i: (c * budget) % demand for i, c in zip(ids, claims, strict=True)}
    bumped = {i for i in ids if rows[i]["allocated_fen"] > rows[i]["claim_fen"] * budget // demand}
    order = sorted(ids, key=lambda i: (-remainders[i], i))
    assert bumped == set(order[: len(bumped)])


@settings(max_examples=60, deadline=None)
@given(claims=CLAIMS, budget=BUDGET, data=st.data())
def test_ranking_funds_whole_claims_in_order_until_one_does_not_fit(
    claims: list[int], budget: int, data: st.DataObject
) -> None:
    keys = data.draw(st.lists(st.integers(0, 5), min_size=len(claims), max_size=len(claims)))
    rows = _allocate(claims, budget, "ranking", keys)
    assert sum(r["allocated_fen"] for r in rows) <= budget
    by_id = {f"E{i:03d}": (k, c) for i, (k, c) in enumerate(zip(keys, claims, strict=True))}
    order = sorted(by_id, key=lambda i: (-by_id[i][0], -by_id[i][1], i))
    assert [r["entity_id"] for r in rows] == order
    funded = [r["allocated_fen"] > 0 for r in rows]
    assert funded == sorted(funded, reverse=True)  # a prefix
    assert all(r["allocated_fen"] in (0, r["claim_fen"]) for r in rows)
    spent = sum(r["allocated_fen"] for r in rows)
    first_unfunded = next((r for r in rows if r["allocated_fen"] == 0), None)
    if first_unfunded is not None:
        assert first_unfunded["claim_fen"] > budget - spent


def test_oversubscription_is_rounded_half_up() -> None:
    assert oversubscription(300, 200) == "1.50"
    assert oversubscription(1, 3) == "0.33"
    assert oversubscription(2, 3) == "0.67"
    assert oversubscription(10**20, 1) == "100000000000000000000.00"


BUDGETS = """\
allocation: pro_rata
budgets:
  - target: test-doc:1
    amount: 1000万元
  - target: test-doc
    amount: 0.5亿元
    allocation: ranking
    rank_by: social_insurance_staff
"""


def test_budget_report_over_a_population(synthetic: Synthetic, tmp_path: Path) -> None:
    path = tmp_path / "budget.yaml"
    path.write_text(BUDGETS, encoding="utf-8")
    budgets = load_budgets(path)
    engine = synthetic.engine
    with PopulationSession(synthetic.folder, engine) as session:
        run, report = simulate(session, engine, ["test-doc"], Scenario(AS_OF, PERIOD))
        report.extend(budget_report(session, run, budgets, engine.catalogue))
        write_report(report, tmp_path / "out", session.connection)
    provision = next(p for p in report.table("by_provision").to_pylist() if p["provision"] == "1")
    document = report.table("by_document").to_pylist()[0]
    rows = {r["target"]: r for r in report.table("budget").to_pylist()}
    assert rows["test-doc:1"]["demand_fen"] == provision["total_fen"] > 1_000_000_000
    assert rows["test-doc:1"]["allocated_fen"] == 1_000_000_000 and rows["test-doc:1"]["unallocated_fen"] == 0
    assert rows["test-doc:1"]["claimants"] == provision["beneficiaries"]
    assert rows["test-doc"]["demand_fen"] == document["total_fen"]
    assert rows["test-doc"]["allocated_fen"] <= 5_000_000_000
    assert "最大余数法" in rows["test-doc:1"]["allocation"]
    assert "排序择优" in rows["test-doc"]["allocation"]
    assert engine.catalogue["social_insurance_staff"].name in rows["test-doc"]["allocation"]
    allocation = pq.read_table(tmp_path / "out" / "budget_allocation.parquet").to_pylist()
    ranked = [r for r in allocation if r["target"] == "test-doc"]
    staff = {e: p.facts["social_insurance_staff"] for e, p in synthetic.profiles if "social_insurance_staff" in p.facts}
    keys = [staff[r["entity_id"]] for r in ranked]
    assert keys == sorted(keys, reverse=True)


def test_ranking_by_an_annual_fact_reads_the_assessed_year(synthetic: Synthetic, tmp_path: Path) -> None:
    path = tmp_path / "budget.yaml"
    path.write_text("allocation: ranking\nrank_by: revenue\nbudgets:\n  test-doc: 0.5亿元\n", encoding="utf-8")
    engine = synthetic.engine
    with PopulationSession(synthetic.folder, engine) as session:
        run, report = simulate(session, engine, ["test-doc"], Scenario(AS_OF, PERIOD))
        report.extend(budget_report(session, run, load_budgets(path), engine.catalogue))
        write_report(report, tmp_path / "out", session.connection)
    ranked = pq.read_table(tmp_path / "out" / "budget_allocation.parquet").to_pylist()
    revenue = {e: (p.facts.get("revenue") or {}).get(PERIOD) for e, p in synthetic.profiles}
    keys = [revenue[r["entity_id"]] for r in ranked]
    assert len(ranked) > 5 and any(k is not None for k in keys)
    known = [k for k in keys if k is not None]
    assert known == sorted(known, reverse=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("budgets:\n  test-doc: 1000\n", "缺少单位"),
        ("budgets:\n  test-doc: 0元\n", "应大于0"),
        ("budgets:\n  - target: test-doc\n    amount: 1万元\n    allocation: lottery\n", "分配规则 'lottery' 无效"),
        ("budgets: []\n", "budgets 为空"),
        ("nothing: 1\n", "应有 budgets"),
    ],
)
def test_bad_budget_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "budget.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BudgetError, match=message):
        load_budgets(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("budgets:\n  other-doc: 1万元\n", "不在本次模拟中"),
        ("budgets:\n  test-doc:9: 1万元\n", "没有可计算的条款 '9'"),
        ("allocation: ranking\nrank_by: colour\nbudgets:\n  test-doc: 1万元\n", "rank_by 'colour'"),
    ],
)
def test_budgets_must_name_what_was_simulated(synthetic: Synthetic, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "budget.yaml"
    path.write_text(text, encoding="utf-8")
    engine = synthetic.engine
    with PopulationSession(synthetic.folder, engine) as session:
        run, _ = simulate(session, engine, ["test-doc"], Scenario(AS_OF, PERIOD))
        with pytest.raises(BudgetError, match=message):
            budget_report(session, run, load_budgets(path), engine.catalogue)


def test_the_example_budget_file_reads() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "budgets" / "suzhou.yaml"
    budgets = load_budgets(example)
    assert [(b.target, b.amount_fen, b.allocation) for b in budgets] == [
        ("suzhou-software-cluster:11", 50_000_000_000, "pro_rata"),
        ("suzhou-software-cluster:10", 10_000_000_000, "ranking"),
        ("suzhou-software-cluster", 100_000_000_000, "pro_rata"),
    ]
