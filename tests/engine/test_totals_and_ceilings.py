"""Certain money and ceilings: one definition of a ceiling, and totals that never add the two."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from rich.console import Console

from conftest import MiniFactory, run
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import load_profile_file
from huiqi.engine.results import SCHEMA, AmountKind, Status, Totals
from huiqi.present import evaluation_table

ROOT = Path(__file__).resolve().parents[2]


def _example(name: str) -> Path:
    found = sorted(ROOT.glob(f"**/examples/profiles/{name}"))
    found = [p for p in found if ".venv" not in p.parts]
    assert found, name
    return found[0]


def _text(renderable: object) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(renderable)
    return buffer.getvalue()


def test_guangzhou_example_amounts_are_all_ceilings_and_never_a_certain_total(seed_engine: Engine) -> None:
    profile = load_profile_file(_example("guangzhou-software-firm.yaml"), seed_engine.catalogue)
    options = Options(as_of=dt.date(2024, 6, 30), documents=("guangzhou-software",))
    evaluation = seed_engine.evaluate(profile, options)
    eligible = [r for r in evaluation.rules() if r.status is Status.ELIGIBLE]
    assert len(eligible) == 5
    assert all(r.amount_kind is AmountKind.CEILING for r in eligible)
    totals = evaluation.totals
    assert totals.certain_fen == 0 and totals.certain_rules == 0
    assert totals.ceiling_fen == 650 * 1_000_000 and totals.ceiling_rules == 5
    text = _text(evaluation_table(evaluation))
    assert "可确定金额" not in text
    assert "确定金额合计：无" in text
    assert "最高可达合计：650万元" in text and "不是应得金额" in text
    data = evaluation.to_json()
    assert data["schema"] == SCHEMA == "huiqi.evaluation/2"
    assert "total_eligible" not in data and "total_eligible" not in data["documents"][0]
    assert data["totals"]["certain"] == "0.00"
    assert data["totals"]["ceiling"] == "6500000.00" and data["totals"]["ceiling_label"] == "最高650万元"


CAPITAL = {
    "id": "1",
    "text": "按注册资本的5%，给予最高100万元奖励；对核心企业给予最高50万元支持。",
    "rules": [
        {"id": "rate", "quote": "按注册资本的5%，给予最高100万元奖励",
         "benefit": {"form": "rate", "base": "paid_in_capital", "rate": "5%", "ceiling": "100万元"}},
        {"id": "bound", "quote": "对核心企业给予最高50万元支持",
         "benefit": {"form": "fixed", "amount": "50万元", "is_ceiling": True}},
    ],
}  # fmt: skip


def test_a_rate_with_a_cap_is_certain_even_when_the_cap_binds(mini: MiniFactory) -> None:
    engine = mini([CAPITAL])
    below = run(engine, {"paid_in_capital": "1200万元"})
    assert below.rule("1/rate").amount_fen == 60 * 1_000_000
    assert below.rule("1/rate").amount_kind is AmountKind.CERTAIN
    bound = run(engine, {"paid_in_capital": "3000万元"}).rule("1/rate")
    assert bound.amount_fen == 100 * 1_000_000
    assert bound.amount_kind is AmountKind.CERTAIN and bound.amount_text == "100万元"
    assert any("按上限" in line for line in bound.calculation)
    assert "上限" in bound.reason  # the explanation says the cap applied
    fixed_bound = run(engine, {"paid_in_capital": "3000万元"}).rule("1/bound")
    assert fixed_bound.amount_kind is AmountKind.CEILING and fixed_bound.amount_text == "最高50万元"


def test_totals_keep_certain_money_and_ceilings_apart(mini: MiniFactory) -> None:
    evaluation = run(mini([CAPITAL]), {"paid_in_capital": "1200万元"})
    totals = evaluation.totals
    assert (totals.certain_fen, totals.certain_rules) == (60 * 1_000_000, 1)
    assert (totals.ceiling_fen, totals.ceiling_rules) == (50 * 1_000_000, 1)
    lines = totals.lines()
    assert lines[0].startswith("确定金额合计：60万元") and lines[1].startswith("最高可达：50万元")
    assert not any("110万元" in line for line in lines)
    # The provision adds a certain amount and a ceiling: the sum is only a bound.
    provision = evaluation.provision("1")
    assert provision.amount_fen == 110 * 1_000_000 and provision.amount_kind is AmountKind.CEILING


def test_a_certain_provision_stays_certain_beside_a_rule_left_to_officials(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "给予20万元奖励；可给予最高80万元支持。", "rules": [
        {"id": "fixed", "quote": "给予20万元奖励", "benefit": {"form": "fixed", "amount": "20万元"}},
        {"id": "review", "quote": "可给予最高80万元支持",
         "benefit": {"form": "fixed", "amount": "80万元", "is_ceiling": True, "review": True}},
    ]}])  # fmt: skip
    evaluation = run(engine, {})
    assert evaluation.rule("1/review").status is Status.NEEDS_REVIEW
    provision = evaluation.provision("1")
    assert provision.amount_fen == 20 * 1_000_000
    assert provision.is_ceiling is False and provision.amount_kind is AmountKind.CERTAIN
    totals = evaluation.totals
    assert (totals.certain_fen, totals.review_rules, totals.review_fen) == (20 * 1_000_000, 1, 80 * 1_000_000)


def test_document_wide_ceilings_and_review_rules_are_ceilings(mini: MiniFactory) -> None:
    engine = mini(
        [{"id": "1", "text": "给予20万元奖励。", "rules": [{"id": "r", "benefit": {"form": "fixed", "amount": "20万元"}}]},
         {"id": "2", "text": "给予支持。", "rules": [{"id": "n", "benefit": {"form": "none"}}]}],
        meta={"budget_semantics": {"amounts_are_ceilings": True}},
    )  # fmt: skip
    evaluation = run(engine, {})
    assert evaluation.rule("1/r").amount_kind is AmountKind.CEILING
    review = evaluation.rule("2/n")
    assert review.status is Status.NEEDS_REVIEW and review.is_ceiling and review.amount_kind is None
    compiled = {r.ref: r.is_ceiling for r in engine.documents["test-doc"].rules}
    assert compiled == {"test-doc:1/r": True, "test-doc:2/n": True}  # the SQL path reads the same flag


def test_floor_reads_as_a_minimum_and_counts_as_certain(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "给予不低于20万元的奖励。", "rules": [
        {"id": "r", "benefit": {"form": "fixed", "amount": "20万元", "is_floor": True}}]}])  # fmt: skip
    result = run(engine, {}).rule("1/r")
    assert result.amount_kind is AmountKind.FLOOR and result.amount_text == "不低于20万元"
    assert result.to_json()["amount_kind"] == "floor"
    assert run(engine, {}).totals.certain_fen == 20 * 1_000_000


def test_qualification_without_an_amount_is_counted_apart(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "可认定为基地。", "rules": [
        {"id": "r", "benefit": {"form": "none", "review": False}}]}])  # fmt: skip
    evaluation = run(engine, {})
    assert evaluation.rule("1/r").status is Status.ELIGIBLE
    assert evaluation.totals == Totals(without_amount=1)
    assert "符合资格（不涉及金额）：1项" in evaluation.totals.lines()


def test_an_exclusion_names_the_kept_ceiling_as_a_ceiling(mini: MiniFactory) -> None:
    engine = mini(
        [{"id": "1", "text": "甲奖励60万元。", "rules": [{"id": "a", "benefit": {"form": "fixed", "amount": "60万元"}}]},
         {"id": "2", "text": "乙奖励最高100万元。", "rules": [
             {"id": "b", "benefit": {"form": "fixed", "amount": "100万元", "is_ceiling": True}}]}],
        exclusions=[{"id": "x", "rules": ["1/a", "2/b"], "max": 1, "reason": "不得重复享受"}],
    )  # fmt: skip
    excluded = run(engine, {}).rule("1/a")
    assert excluded.status is Status.EXCLUDED
    assert "已保留对申请人更有利的：b（最高100万元）" in excluded.reason
