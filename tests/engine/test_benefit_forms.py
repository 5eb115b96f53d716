"""Each benefit form computes exactly, with ceilings, tiers and schedules (synthetic policy)."""

from __future__ import annotations

from conftest import MiniFactory, run
from huiqi.engine.results import Status

RATE = {
    "id": "1",
    "text": "对实缴注册资本不低于1000万元的企业，按注册资本的5%，给予最高100万元奖励。",
    "rules": [
        {
            "id": "capital",
            "conditions": {"all": [{"expr": "paid_in_capital >= 1000万元", "label": "实缴注册资本不低于1000万元"}]},
            "benefit": {"form": "rate", "base": "paid_in_capital", "rate": "5%", "ceiling": "100万元"},
        }
    ],
}


def test_rate_of_a_base_is_exact_to_the_fen(mini: MiniFactory) -> None:
    engine = mini([RATE])
    result = run(engine, {"paid_in_capital": "1234.5678万元"}).rule("1/capital")
    assert result.status is Status.ELIGIBLE
    assert result.amount_fen == 61_728_390  # 12,345,678元 × 5% = 617,283.90元


def test_threshold_is_inclusive_for_bu_di_yu(mini: MiniFactory) -> None:
    engine = mini([RATE])
    assert run(engine, {"paid_in_capital": "1000万元"}).rule("1/capital").status is Status.ELIGIBLE
    below = run(engine, {"paid_in_capital": "9999999.99元"}).rule("1/capital")
    assert below.status is Status.NOT_ELIGIBLE
    assert "实缴注册资本不低于1000万元" in below.reason


def test_ceiling_caps_the_rate_and_says_so(mini: MiniFactory) -> None:
    engine = mini([RATE])
    result = run(engine, {"paid_in_capital": "3000万元"}).rule("1/capital")
    assert result.amount_fen == 100_000_000
    assert any("按上限计" in line for line in result.calculation)


def test_rounding_half_up_once_at_the_end(mini: MiniFactory) -> None:
    engine = mini(
        [{"id": "1", "text": "按营业收入的2‰给予奖励。",
          "rules": [{"id": "r", "benefit": {"form": "rate", "base": "revenue", "rate": "2‰"}}]}]
    )  # fmt: skip
    # 1234.25元 × 2‰ = 2.4685元 → 2.47元 (half-up on 246.85 fen)
    assert run(engine, {"revenue": "1234.25元"}).rule("1/r").amount_fen == 247


TIERS = {
    "id": "3",
    "text": "对营业收入首次达到1亿元、5亿元、10亿元的软件企业，给予200万元、300万元、500万元的进档补差奖励。",
    "rules": [
        {
            "id": "tiers",
            "benefit": {
                "form": "tiers",
                "mode": "top_up",
                "tiers": [
                    {"id": "t1", "when": "first_reached(revenue, 1亿元)", "amount": "200万元"},
                    {"id": "t5", "when": "first_reached(revenue, 5亿元)", "amount": "300万元"},
                    {"id": "t10", "when": "first_reached(revenue, 10亿元)", "amount": "500万元"},
                ],
            },
        }
    ],
}


def test_top_up_pays_only_the_difference(mini: MiniFactory) -> None:
    engine = mini([TIERS])
    revenue = {2022: "2亿元", 2023: "6亿元"}
    ledger = [{"rule": "test-doc:3/tiers", "period": 2021, "amount": "200万元", "tier": "t1"}]
    result = run(engine, {"revenue": revenue}, ledger=ledger).rule("3/tiers")
    assert result.status is Status.ELIGIBLE
    assert result.amount_fen == 100_000_000  # 300万 − 200万
    assert result.tier == ["t5"]


def test_first_reached_needs_history(mini: MiniFactory) -> None:
    engine = mini([TIERS])
    result = run(engine, {"revenue": {2023: "1.2亿元"}}).rule("3/tiers")
    assert result.status is Status.NEEDS_INFORMATION
    assert [(m.fact, m.year) for m in result.missing] == [("revenue", 2022)]


def test_first_reached_is_false_when_reached_before(mini: MiniFactory) -> None:
    engine = mini([TIERS])
    result = run(engine, {"revenue": {2021: "1.1亿元", 2022: "0.9亿元", 2023: "1.2亿元"}}).rule("3/tiers")
    assert result.status is Status.NOT_ELIGIBLE


def test_highest_and_each_tier_modes(mini: MiniFactory) -> None:
    each = {**TIERS, "rules": [{**TIERS["rules"][0], "benefit": {**TIERS["rules"][0]["benefit"], "mode": "each"}}]}
    highest = {
        **TIERS,
        "rules": [{**TIERS["rules"][0], "benefit": {**TIERS["rules"][0]["benefit"], "mode": "highest"}}],
    }
    facts = {"revenue": {2022: "0.5亿元", 2023: "6亿元"}}
    assert run(mini([each]), facts).rule("3/tiers").amount_fen == 500_000_000  # 200万 + 300万
    assert run(mini([highest]), facts).rule("3/tiers").amount_fen == 300_000_000


def test_schedule_changes_share_by_year(mini: MiniFactory) -> None:
    provision = {
        "id": "8",
        "text": "按其个人所得税地方留存部分，第1至5年给予90%的奖励，第6至10年给予60%的奖励。",
        "rules": [
            {
                "id": "iit",
                "benefit": {
                    "form": "schedule",
                    "index": "period - year(established_on) + 1",
                    "base": "revenue",
                    "steps": [{"years": [1, 5], "rate": "90%"}, {"years": [6, 10], "rate": "60%"}],
                },
            }
        ],
    }
    engine = mini([provision])
    assert run(engine, {"established_on": "2019-03-01", "revenue": "10万元"}).rule("8/iit").amount_fen == 9_000_000
    assert run(engine, {"established_on": "2018-03-01", "revenue": "10万元"}).rule("8/iit").amount_fen == 6_000_000
    late = run(engine, {"established_on": "2010-03-01", "revenue": "10万元"}).rule("8/iit")
    assert late.status is Status.NOT_ELIGIBLE
    assert "不在支持年限内" in late.reason


def test_form_none_goes_to_review_and_eligibility_only_is_eligible(mini: MiniFactory) -> None:
    engine = mini(
        [
            {"id": "a", "text": "可给予补贴。", "rules": [{"id": "r", "conditions": "revenue > 0元", "benefit": {"form": "none"}}]},
            {"id": "b", "text": "可申报。", "rules": [{"id": "r", "conditions": "revenue > 0元",
                                                     "benefit": {"form": "none", "review": False}}]},
        ]
    )  # fmt: skip
    evaluation = run(engine, {"revenue": "1元"})
    assert evaluation.rule("a/r").status is Status.NEEDS_REVIEW
    assert evaluation.rule("a/r").amount_fen is None
    assert evaluation.rule("b/r").status is Status.ELIGIBLE


def test_instalments_add_up_exactly(mini: MiniFactory) -> None:
    engine = mini(
        [{"id": "1", "text": "给予100.01元。", "rules": [{"id": "r", "benefit": {"form": "fixed", "amount": "100.01元"},
          "instalments": [{"share": "1/3", "label": "一期"}, {"share": "1/3", "label": "二期"}, {"share": "1/3", "label": "三期"}]}]}]
    )  # fmt: skip
    parts = run(engine, {}).rule("1/r").instalments
    assert [p["amount"] for p in parts] == ["33.34", "33.34", "33.33"]
