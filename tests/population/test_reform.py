"""Reforms: overrides change a rule without touching the policy; the delta is exactly the difference of two runs."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from huiqi.engine.evaluate import Engine
from huiqi.population.delta import reform_report
from huiqi.population.labels import wan_text
from huiqi.population.outputs import write_report
from huiqi.population.reform import ReformError, apply_reform, load_reform
from huiqi.population.session import PopulationSession, Scenario

from .conftest import Synthetic
from .expected import entity_benefit
from .populations import AS_OF, PERIOD, scalar

REFORM = """\
name: 降低门槛、提高高档、降低比例
overrides:
  - rule: test-doc:1/scale
    replace: {"2000万元": "1000万元"}
    set: {benefit.tiers.t2.amount: 120万元}
  - rule: test-doc:2/capital
    set: {benefit.rate: 4%}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reform.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reform_changes_only_the_named_figures(synthetic: Synthetic, tmp_path: Path) -> None:
    reformed = apply_reform(synthetic.engine.base, load_reform(_write(tmp_path, REFORM)))
    rules = {p.id: p.rules[0] for p in reformed.documents["test-doc"].policy.provisions}
    tiers = rules["1"].benefit.tiers or []
    assert [(t.when, t.amount) for t in tiers] == [
        ("revenue >= 1000万元", "50万元"),
        ("revenue >= 5000万元", "120万元"),
    ]
    assert rules["2"].benefit.rate == "4%" and rules["2"].benefit.ceiling == "100万元"
    original = synthetic.engine.base.documents["test-doc"].policy.provisions[1].rules[0]
    assert original.benefit.rate == "5%"


def test_reform_delta_is_the_difference_of_two_runs(synthetic: Synthetic, tmp_path: Path) -> None:
    engine = synthetic.engine
    reform = load_reform(_write(tmp_path, REFORM))
    reform_engine = Engine(apply_reform(engine.base, reform))
    with PopulationSession(synthetic.folder, engine) as session:
        _, _, report = reform_report(session, engine, reform_engine, reform, ["test-doc"], Scenario(AS_OF, PERIOD))
        write_report(report, tmp_path / "out", session.connection)
    before = scalar(engine, synthetic.profiles, ["test-doc"])
    after = scalar(reform_engine, synthetic.profiles, ["test-doc"])
    expected = {}
    for entity_id in before:
        delta = entity_benefit(reform_engine, after[entity_id]) - entity_benefit(engine, before[entity_id])
        if delta:
            expected[entity_id] = delta
    rows = pq.read_table(tmp_path / "out" / "reform_entities.parquet").to_pylist()
    assert {r["entity_id"]: r["delta_fen"] for r in rows} == expected
    assert all(r["reform_fen"] - r["baseline_fen"] == r["delta_fen"] for r in rows)
    winners = sum(1 for d in expected.values() if d > 0)
    losers = sum(1 for d in expected.values() if d < 0)
    assert winners > 10 and losers > 10
    provisions = report.table("reform_by_provision").to_pylist()
    assert sum(p["delta_fen"] for p in provisions) == sum(expected.values())
    scale = next(p for p in provisions if p["provision"] == "1")
    assert scale["beneficiaries_delta"] > 0 and scale["losers"] == 0 and scale["winners"] > 0
    capital = next(p for p in provisions if p["provision"] == "2")
    assert capital["delta_fen"] < 0 and capital["winners"] == 0 and capital["beneficiaries_delta"] == 0
    document = report.table("reform_by_document").to_pylist()[0]
    assert document["delta_fen"] == sum(expected.values())
    assert document["reform_total_fen"] - document["baseline_total_fen"] == document["delta_fen"]
    headline = next(n for n in report.notes if "合计变化" in n)  # in 万元, as every table and chart
    assert f"合计变化 {wan_text(document['delta_fen'])} 万元" in headline
    changes = pq.read_table(tmp_path / "out" / "reform_changes.parquet").to_pylist()
    assert sum(c["delta_fen"] for c in changes) == sum(expected.values())
    assert {c["rule"] for c in changes} == {"scale", "capital"}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("- rule: test-doc:1/nope\n  set: {benefit.amount: 1万元}", "没有规则 'nope'"),
        ("- rule: no-such-doc:1/scale\n  set: {benefit.amount: 1万元}", "没有编号为 'no-such-doc' 的文件"),
        ("- rule: test-doc:9/scale\n  set: {benefit.amount: 1万元}", "没有条款 '9'"),
        ("- rule: test-doc:1/scale\n  set: {benefit.tiers.t9.amount: 1万元}", "路径 benefit.tiers.t9.amount 不存在"),
        ('- rule: test-doc:1/scale\n  replace: {"3000万元": "1万元"}', "找不到 '3000万元'"),
        ('- rule: test-doc:1/scale\n  replace: {"000万元": "1万元"}', "找不到 '000万元'"),
        ('- rule: test-doc:2/capital\n  set: {benefit.ceiling: "100"}', "此处需要 money"),
        ('- rule: test-doc:2/capital\n  set: {benefit.rate: "5%%"}', "修改后"),
        (
            "- rule: test-doc:2/capital\n  set: {benefit.colour: red}",
            "修改后字段 provisions.1.rules.0.benefit.colour 无效",
        ),
        ("- definition: test-doc:nothing\n  replace: {a: b}", "没有定义 'nothing'"),
        ("- rule: test-doc:1/scale", "应有 replace"),
        ("- rule: test-doc-1-scale\n  set: {a: b}", "格式应为 文件:条款/规则"),
        ("- rule: test-doc:1/scale\n  definition: test-doc:x\n  set: {a: b}", "恰好指定 rule 或 definition 之一"),
    ],
)
def test_bad_overrides_are_refused_naming_the_override(
    synthetic: Synthetic, tmp_path: Path, override: str, message: str
) -> None:
    path = _write(tmp_path, "overrides:\n" + "\n".join("  " + line for line in override.splitlines()) + "\n")
    with pytest.raises(ReformError) as caught:
        apply_reform(synthetic.engine.base, load_reform(path))
    assert message in caught.value.message
    assert caught.value.where == f"{path}:2"


def test_a_reform_file_needs_overrides(tmp_path: Path) -> None:
    with pytest.raises(ReformError, match="overrides"):
        load_reform(_write(tmp_path, "name: 空\n"))
    with pytest.raises(ReformError, match="找不到改革方案文件"):
        load_reform(tmp_path / "missing.yaml")


def test_the_example_reform_applies_to_the_seed_policies(seed_engine: Engine) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "reforms" / "suzhou-threshold.yaml"
    reform = load_reform(example)
    reformed = Engine(apply_reform(seed_engine.base, reform))
    rules = {r.ref: r.rule for r in reformed.documents["suzhou-software-cluster"].rules}
    assert rules["suzhou-software-cluster:11/first-version"].benefit.rate == "15%"
    tiers = rules["suzhou-software-cluster:2/new-firm"].benefit.tiers or []
    assert "800万元" in str(tiers[0].when) and tiers[0].amount == "60万元"
    assert reform.documents == ["suzhou-software-cluster"]
