"""不得重复享受 across documents (issue 14.6): Guangzhou's "本文件与市级层面其他同类政策措施不得重复享受" checked
against the ledger — awards under another Guangzhou city-level software document of the same matter — on the
scalar engine (with the award named in the explanation), DuckDB and Spark alike."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import run
from huiqi.compile.parity import Batch, differences, duckdb_run, spark_run
from huiqi.engine.evaluate import Engine
from huiqi.engine.profile import parse_profile
from huiqi.engine.results import Status
from huiqi.policy.base import PolicyBase, default_policies_dir

SETTLE = "gz-test-other:1/settle"
TIERS = "gz-test-other:2/first-1yi"
GZ_SETTLE = "二.4/new-settlement"
GZ_TIERS = "二.5/revenue-tiers"

OTHER_SOURCE = (
    "第一条 对新落户本市的软件和信息技术服务企业，给予100万元一次性奖励。\n"
    "第二条 对年营业收入首次达到1亿元的软件和信息技术服务企业，给予50万元奖励。\n"
    "第三条 本办法与市级其他同类政策不得重复享受。\n"
)

OTHER_POLICY = """\
document:
  id: gz-test-other
  title: 广州市另一项软件产业扶持办法（测试）
  issuers: [广州市测试局]
  jurisdiction: {region: 广州市, level: city}
  type: 政策措施
  status: 现行有效
  kinds: [软件和信息技术服务业]
  source: {seed: none}
provisions:
  - id: "1"
    kind: computable
    quote: 第一条 对新落户本市的软件和信息技术服务企业，给予100万元一次性奖励。
    span: [0, 36]
    rules:
      - id: settle
        label: 新落户一次性奖励100万元
        matter: 企业新落户
        quote: 对新落户本市的软件和信息技术服务企业，给予100万元一次性奖励
        span: [4, 35]
        applies_to: enterprise
        once: true
        conditions: is_software_it_service_enterprise
        benefit: {form: fixed, amount: 100万元}
  - id: "2"
    kind: computable
    quote: 第二条 对年营业收入首次达到1亿元的软件和信息技术服务企业，给予50万元奖励。
    span: [37, 76]
    rules:
      - id: first-1yi
        label: 营业收入首次达到1亿元奖励50万元
        matter: 营业收入首次达档
        quote: 对年营业收入首次达到1亿元的软件和信息技术服务企业，给予50万元奖励
        span: [41, 75]
        applies_to: enterprise
        conditions:
          all:
            - is_software_it_service_enterprise
            - first_reached(revenue, 1亿元)
        benefit: {form: fixed, amount: 50万元}
  - id: "3"
    kind: meta
    quote: 第三条 本办法与市级其他同类政策不得重复享受。
    span: [77, 100]
"""

#: Settled in 2023 in Guangzhou, paid-in capital 2000万: eligible for Guangzhou 二.4 (up to 300万元) and for the
#: other document's 第一条; revenue first at 1亿 in 2023: both documents' first-tier rewards.
FACTS: dict[str, Any] = {
    "is_software_it_service_enterprise": True,
    "settled_on": "2023-03-01",
    "paid_in_capital": "2000万元",
    "revenue": {2022: "8000万元", 2023: "1亿元"},
    "received_similar_gz_city_support": False,
}
GZ = ["广东省", "广州市"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("base") / "policies"
    shutil.copytree(default_policies_dir(), root)
    folder = root / "gz-test-other"
    folder.mkdir()
    (folder / "source.txt").write_text(OTHER_SOURCE, "utf-8")
    (folder / "policy.yaml").write_text(textwrap.dedent(OTHER_POLICY), "utf-8")
    base = PolicyBase.load(root)
    assert not base.errors, [str(e) for e in base.errors]
    return Engine(base)


def _gz(engine: Engine, ledger: list[dict[str, Any]], **kwargs: Any) -> Any:
    return run(engine, FACTS, ledger=ledger, region=GZ, **kwargs)


def test_without_awards_elsewhere_both_documents_pay(engine: Engine) -> None:
    result = _gz(engine, [])
    assert result.rule(f"guangzhou-software:{GZ_SETTLE}").status is Status.ELIGIBLE
    assert result.rule(SETTLE).status is Status.ELIGIBLE


def test_an_award_of_the_same_matter_elsewhere_excludes_and_is_named(engine: Engine) -> None:
    result = _gz(engine, [{"rule": SETTLE, "period": 2023, "amount": "100万元"}])
    settle = result.rule(f"guangzhou-software:{GZ_SETTLE}")
    assert settle.status is Status.EXCLUDED
    assert (
        "2023年度已享受《广州市另一项软件产业扶持办法（测试）》第1项“新落户一次性奖励100万元”100万元" in settle.reason
    )
    assert "同一事项（企业新落户）" in settle.reason
    assert "本文件与市级层面其他同类政策措施不得重复享受" in settle.reason
    # another matter of Guangzhou's document is untouched
    assert result.rule(f"guangzhou-software:{GZ_TIERS}").status is Status.ELIGIBLE


def test_a_one_off_matter_conflicts_whatever_the_year(engine: Engine) -> None:
    result = _gz(engine, [{"rule": SETTLE, "period": 2021, "amount": "100万元"}])
    assert result.rule(f"guangzhou-software:{GZ_SETTLE}").status is Status.EXCLUDED


def test_a_yearly_matter_conflicts_only_in_the_same_year(engine: Engine) -> None:
    same = _gz(engine, [{"rule": TIERS, "period": 2023, "amount": "50万元"}])
    assert same.rule(f"guangzhou-software:{GZ_TIERS}").status is Status.EXCLUDED
    earlier = _gz(engine, [{"rule": TIERS, "period": 2022, "amount": "50万元"}])
    assert earlier.rule(f"guangzhou-software:{GZ_TIERS}").status is Status.ELIGIBLE


def test_the_clause_binds_both_ways(engine: Engine) -> None:
    """The other document says nothing of Guangzhou's; Guangzhou's clause still forbids taking it second."""
    result = _gz(engine, [{"rule": f"guangzhou-software:{GZ_SETTLE}", "period": 2023, "amount": "300万元"}])
    other = result.rule(SETTLE)
    assert other.status is Status.EXCLUDED
    assert (
        "已享受《广州软件和信息技术服务业高质量发展若干措施》第二.4项“新落户软件和信息技术服务企业奖励" in other.reason
    )


def test_the_stricter_reading_any_award_in_the_year(engine: Engine) -> None:
    ledger = [{"rule": TIERS, "period": 2023, "amount": "50万元"}]
    default = _gz(engine, ledger)
    assert default.rule(f"guangzhou-software:{GZ_SETTLE}").status is Status.ELIGIBLE
    strict = _gz(engine, ledger, readings={"non_duplication_matter": "any_award"})
    settle = strict.rule(f"guangzhou-software:{GZ_SETTLE}")
    assert settle.status is Status.EXCLUDED
    assert "同类政策" in settle.reason
    earlier = _gz(engine, [{"rule": TIERS, "period": 2022, "amount": "50万元"}],
                  readings={"non_duplication_matter": "any_award"})  # fmt: skip
    assert earlier.rule(f"guangzhou-software:{GZ_SETTLE}").status is Status.ELIGIBLE


def test_awards_in_other_cities_do_not_count(engine: Engine) -> None:
    suzhou = next(r.ref for r in engine.documents["suzhou-software-cluster"].rules if r.rule.benefit.form != "none")
    result = _gz(engine, [{"rule": suzhou, "period": 2023, "amount": "100万元"}],
                 readings={"non_duplication_matter": "any_award"})  # fmt: skip
    assert result.rule(f"guangzhou-software:{GZ_SETTLE}").status is Status.ELIGIBLE


def test_validate_asks_for_the_matter_of_every_paying_rule(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), root)
    policy = root / "guangzhou-software" / "policy.yaml"
    policy.write_text(policy.read_text("utf-8").replace("        matter: 企业新落户\n", "", 1), "utf-8")
    errors = [str(e) for e in PolicyBase.load(root, strict=False).errors]
    assert any("须写 matter" in e and "guangzhou-software" in e for e in errors), errors


def _profiles(engine: Engine) -> list[Any]:
    ledgers: list[list[dict[str, Any]]] = [
        [],
        [{"rule": SETTLE, "period": 2023, "amount": "100万元"}],
        [{"rule": SETTLE, "period": 2021, "amount": "100万元"}],
        [{"rule": TIERS, "period": 2023, "amount": "50万元"}],
        [{"rule": TIERS, "period": 2022, "amount": "50万元"}],
        [{"rule": f"guangzhou-software:{GZ_SETTLE}", "period": 2023, "amount": "300万元"}],
        [{"rule": f"guangzhou-software:{GZ_TIERS}", "period": 2023, "amount": "70万元", "tier": "t1yi"}],
        [{"rule": SETTLE, "period": 2023, "amount": "0元"}],
    ]
    return [
        parse_profile({"entity_type": "enterprise", "region": GZ, "facts": FACTS, "ledger": ledger}, engine.catalogue)
        for ledger in ledgers
    ]


BATCHES = [
    Batch(doc, dt.date(2024, 6, 30), 2023, readings, False)
    for doc in ("guangzhou-software", "gz-test-other")
    for readings in ((), (("guangzhou-software:non_duplication_matter", "any_award"),))
]


@pytest.mark.parametrize("batch", BATCHES, ids=lambda b: f"{b.document}{'-any' if b.readings else ''}")
def test_duckdb_agrees_with_the_scalar_engine(engine: Engine, batch: Batch) -> None:
    compared, found = differences(engine, batch, _profiles(engine), duckdb_run(engine))
    assert compared > 0
    assert found == []


@pytest.mark.parametrize("batch", BATCHES[:2], ids=lambda b: b.document)
def test_spark_agrees_with_the_scalar_engine(engine: Engine, batch: Batch, spark: Any) -> None:
    compared, found = differences(engine, batch, _profiles(engine), spark_run(engine, spark))
    assert compared > 0
    assert found == []
