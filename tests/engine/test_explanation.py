"""Three-valued conditions, traces, missing facts, suggestions, applicability, readings, exclusions."""

from __future__ import annotations

from conftest import MiniFactory, run
from huiqi.engine.results import Status

NEW_FIRM = {
    "id": "2",
    "text": "对新设软件企业在苏缴纳社保员工数和营业收入同时达到20人和2000万元、50人和5000万元的软件企业，分别给予50万元、100万元奖励。",
    "rules": [
        {
            "id": "tiers",
            "benefit": {
                "form": "tiers",
                "mode": "highest",
                "tiers": [
                    {"id": "a", "when": "social_insurance_staff >= 20 and revenue >= 2000万元", "amount": "50万元"},
                    {"id": "b", "when": "social_insurance_staff >= 50 and revenue >= 5000万元", "amount": "100万元"},
                ],
            },
        }
    ],
}


def test_missing_fact_lists_exactly_what_is_needed(mini: MiniFactory) -> None:
    result = run(mini([NEW_FIRM]), {"social_insurance_staff": 30}).rule("2/tiers")
    assert result.status is Status.NEEDS_INFORMATION
    assert [m.fact for m in result.missing] == ["revenue"]


def test_false_member_decides_even_when_another_is_unknown(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "条件。", "rules": [{"id": "r", "conditions": {"all": ["social_insurance_staff >= 20", "revenue >= 1元"]},
                                                          "benefit": {"form": "fixed", "amount": "1元"}}]}])  # fmt: skip
    result = run(engine, {"social_insurance_staff": 10}).rule("1/r")
    assert result.status is Status.NOT_ELIGIBLE
    leaf_results = [child.result for child in result.trace[0].children]
    assert leaf_results == [False, None]


def test_nearest_way_to_qualify(mini: MiniFactory) -> None:
    result = run(mini([NEW_FIRM]), {"social_insurance_staff": 25, "revenue": "1500万元"}).rule("2/tiers")
    assert result.status is Status.NOT_ELIGIBLE
    assert result.suggestion is not None
    assert result.suggestion.amount_fen == 50 * 1_000_000
    assert "营业收入（2023年）达到2000万元（现为1500万元）" in result.suggestion.text


def test_trace_shows_fact_values(mini: MiniFactory) -> None:
    result = run(mini([NEW_FIRM]), {"social_insurance_staff": 60, "revenue": "6000万元"}).rule("2/tiers")
    assert result.amount_fen == 100 * 1_000_000
    tier_b = result.trace[1]
    leaf = tier_b.children[0]
    assert leaf.result is True
    assert {"name": "revenue", "label": "营业收入", "value": "6000万元"} in leaf.input_rows()


def test_wrong_entity_type_is_not_applicable(mini: MiniFactory) -> None:
    result = run(mini([NEW_FIRM]), {}, entity_type="park_operator").rule("2/tiers")
    assert result.status is Status.NOT_APPLICABLE
    assert "企业" in result.reason


def test_other_jurisdiction_is_not_applicable_and_unknown_region_asks(mini: MiniFactory) -> None:
    engine = mini([NEW_FIRM])
    facts = {"social_insurance_staff": 60, "revenue": "6000万元"}
    assert run(engine, facts, region=["无锡市"]).rule("2/tiers").status is Status.NOT_APPLICABLE
    unknown = run(engine, facts, region=[]).rule("2/tiers")
    assert unknown.status is Status.NEEDS_INFORMATION
    assert unknown.missing[0].fact == "region"


def test_reading_switches_the_base_and_is_reported(mini: MiniFactory) -> None:
    engine = mini(
        [{"id": "1", "text": "按注册资本的5%给予奖励。", "rules": [{"id": "r", "benefit": {"form": "rate", "base": "capital_base", "rate": "5%"}}]}],
        readings=[{"key": "capital_base", "question": "注册资本指实缴还是认缴？", "default": "paid_in", "options": [
            {"value": "paid_in", "label": "按实缴注册资本", "define": {"capital_base": "paid_in_capital"}},
            {"value": "registered", "label": "按注册资本（认缴）", "define": {"capital_base": "registered_capital"}}]}],
    )  # fmt: skip
    facts = {"paid_in_capital": "1000万元", "registered_capital": "2000万元"}
    default = run(engine, facts).rule("1/r")
    assert default.amount_fen == 50 * 1_000_000
    assert default.readings[0]["value"] == "paid_in"
    switched = run(engine, facts, readings={"capital_base": "registered"}).rule("1/r")
    assert switched.amount_fen == 100 * 1_000_000
    assert switched.readings[0]["label"] == "按注册资本（认缴）"


def test_exclusion_keeps_the_better_award(mini: MiniFactory) -> None:
    engine = mini(
        [
            {"id": "1", "text": "甲奖励60万元。", "rules": [{"id": "a", "benefit": {"form": "fixed", "amount": "60万元"}}]},
            {"id": "2", "text": "乙奖励100万元。", "rules": [{"id": "b", "benefit": {"form": "fixed", "amount": "100万元"}}]},
            {"id": "3", "text": "丙奖励5万元。", "rules": [{"id": "c", "benefit": {"form": "fixed", "amount": "5万元"}}]},
        ],
        exclusions=[{"id": "x", "rules": ["1/a", "2/b"], "max": 1, "reason": "不得重复享受"}],
    )  # fmt: skip
    evaluation = run(engine, {})
    assert evaluation.rule("2/b").status is Status.ELIGIBLE
    excluded = evaluation.rule("1/a")
    assert excluded.status is Status.EXCLUDED
    assert excluded.excluded_by == "x"
    assert "乙" not in excluded.reason or "100万元" in excluded.reason
    assert evaluation.rule("3/c").status is Status.ELIGIBLE
    assert evaluation.documents[0].totals.certain_fen == 105 * 1_000_000


def test_rule_less_provision_is_not_applicable_with_reason(mini: MiniFactory) -> None:
    engine = mini([{"id": "9", "text": "鼓励企业发展。", "kind": "qualitative"}])
    provision = run(engine, {}).provision("9")
    assert provision.status is Status.NOT_APPLICABLE
    assert "定性" in provision.reason


def test_exclusion_counts_what_the_ledger_already_paid(mini: MiniFactory) -> None:
    engine = mini(
        [
            {"id": "1", "text": "甲奖励60万元。", "rules": [{"id": "a", "benefit": {"form": "fixed", "amount": "60万元"}}]},
            {"id": "2", "text": "乙奖励100万元。", "rules": [{"id": "b", "benefit": {"form": "fixed", "amount": "100万元"}}]},
        ],
        exclusions=[{"id": "x", "rules": ["1/a", "2/b"], "max": 1, "reason": "不得重复享受"}],
    )  # fmt: skip
    evaluation = run(engine, {}, ledger=[{"rule": "test-doc:1/a", "period": 2022, "amount": "60万元"}])
    later = evaluation.rule("2/b")
    assert later.status is Status.EXCLUDED
    assert "台账显示已享受：1/a" in later.reason


def test_alternative_reading_rules_share_the_ledger(mini: MiniFactory) -> None:
    engine = mini(
        [{"id": "1", "text": "一次性奖励20万元。", "rules": [
            {"id": "r", "once": True, "when_reading": {"v": "a"}, "benefit": {"form": "fixed", "amount": "20万元"}},
            {"id": "r-alt", "once": True, "when_reading": {"v": "b"}, "ledger_as": "1/r", "benefit": {"form": "fixed", "amount": "30万元"}},
        ]}],
        readings=[{"key": "v", "question": "?", "default": "a", "options": [{"value": "a", "label": "甲"}, {"value": "b", "label": "乙"}]}],
    )  # fmt: skip
    ledger = [{"rule": "test-doc:1/r", "period": 2022, "amount": "20万元"}]
    assert run(engine, {}, ledger=ledger, readings={"v": "b"}).rule("1/r-alt").status is Status.NOT_ELIGIBLE
