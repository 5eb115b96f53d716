"""Explanations a clerk can check: formula steps with the values put in, and caps worded for what they hold."""

from __future__ import annotations

from conftest import MiniFactory, run
from huiqi.engine.results import Status

HIRES_FACT = {"key": "new_hires", "name": "新增就业人数", "type": "count", "unit": "人", "period": "annual",
              "entity": ["enterprise"], "definition": "评价年度新增就业人数"}  # fmt: skip


def test_a_formula_shows_its_steps_with_the_values(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "每新增1人给予3万元。", "rules": [
        {"id": "r", "benefit": {"form": "formula", "amount": "new_hires * 3万元"}}]}], facts=[HIRES_FACT])  # fmt: skip
    result = run(engine, {"new_hires": 7}).rule("1/r")
    assert result.amount_fen == 21 * 1_000_000
    assert "金额：新增就业人数 × 3万元 = 7 × 3万元 = 21万元" in result.calculation


def test_formula_steps_keep_the_brackets_that_change_the_result(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "按新增人数加2给予3万元。", "rules": [
        {"id": "r", "benefit": {"form": "formula", "amount": "(new_hires + 2) * 3万元"}}]}], facts=[HIRES_FACT])  # fmt: skip
    result = run(engine, {"new_hires": 7}).rule("1/r")
    assert result.amount_fen == 27 * 1_000_000
    assert "金额：（新增就业人数 + 2） × 3万元 = （7 + 2） × 3万元 = 27万元" in result.calculation


def test_a_constant_amount_needs_no_steps(mini: MiniFactory) -> None:
    engine = mini(
        [{"id": "1", "text": "给予50万元。", "rules": [{"id": "r", "benefit": {"form": "fixed", "amount": "50万元"}}]}]
    )
    assert run(engine, {}).rule("1/r").calculation == ["金额：50万元"]


def test_a_cumulative_cap_is_worded_as_what_one_entity_may_get_in_all(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "对每家企业累计奖励最高100万元。", "rules": [
        {"id": "r", "benefit": {"form": "fixed", "amount": "60万元"},
         "caps": [{"scope": "cumulative", "amount": "100万元"}]}]}])  # fmt: skip
    ledger = [{"rule": "test-doc:1/r", "period": 2022, "amount": "60万元"}]
    result = run(engine, {}, ledger=ledger).rule("1/r")
    assert result.amount_fen == 40 * 1_000_000
    steps = "\n".join(result.calculation)
    assert "本规则累计上限100万元（每个主体）：本规则已累计领取60万元，尚可领取40万元" in steps
    assert "年度" not in steps
    full = run(engine, {}, ledger=[*ledger, {"rule": "test-doc:1/r", "period": 2023, "amount": "40万元"}])
    assert full.rule("1/r").status is Status.NOT_ELIGIBLE
    assert full.rule("1/r").reason.startswith("已达本规则累计上限100万元")


def test_a_provision_cap_and_a_yearly_cap_say_what_they_count(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "本条各项累计最高100万元；每年最高30万元。", "rules": [
        {"id": "a", "benefit": {"form": "fixed", "amount": "50万元"},
         "caps": [{"scope": "cumulative", "amount": "100万元", "over": "provision"},
                  {"scope": "per_year", "amount": "30万元"}]}]}])  # fmt: skip
    result = run(engine, {}).rule("1/a")
    assert result.amount_fen == 30 * 1_000_000
    steps = "\n".join(result.calculation)
    assert "本条累计上限100万元（每个主体，本条各项合计）：本条已累计领取0元，尚可领取100万元" in steps
    assert "每年上限30万元：2023年度本规则已领取0元，尚可领取30万元" in steps
    assert "50万元超过尚可领取的30万元，按30万元计" in steps


def test_has_and_turns_a_missing_fact_into_not_eligible_as_the_docs_warn(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "新增就业5人以上的给予10万元。", "rules": [
        {"id": "guarded", "conditions": "has(new_hires) and new_hires >= 5", "benefit": {"form": "fixed", "amount": "10万元"}},
        {"id": "plain", "conditions": "new_hires >= 5", "benefit": {"form": "fixed", "amount": "10万元"}},
    ]}], facts=[HIRES_FACT])  # fmt: skip
    evaluation = run(engine, {})
    assert evaluation.rule("1/guarded").status is Status.NOT_ELIGIBLE
    plain = evaluation.rule("1/plain")
    assert plain.status is Status.NEEDS_INFORMATION and [m.fact for m in plain.missing] == ["new_hires"]
