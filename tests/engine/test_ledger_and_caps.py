"""The award ledger drives 一次性, 连续支持不超过N年 and cumulative caps."""

from __future__ import annotations

from conftest import MiniFactory, run
from huiqi.engine.results import Status

CENTRE = {
    "id": "7",
    "text": "每年给予最高480万元支持，连续支持不超过3年。",
    "rules": [{"id": "centre", "benefit": {"form": "fixed", "amount": "480万元", "is_ceiling": True},
               "caps": [{"scope": "per_year", "amount": "480万元"}], "duration": {"max_years": 3}}],
}  # fmt: skip


def _paid(years: list[int], amount: str = "480万元") -> list[dict[str, object]]:
    return [{"rule": "test-doc:7/centre", "period": y, "amount": amount} for y in years]


def test_duration_stops_after_the_last_year(mini: MiniFactory) -> None:
    engine = mini([CENTRE])
    assert run(engine, {}, ledger=_paid([2020, 2021])).rule("7/centre").status is Status.ELIGIBLE
    stopped = run(engine, {}, ledger=_paid([2020, 2021, 2022])).rule("7/centre")
    assert stopped.status is Status.NOT_ELIGIBLE
    assert "不超过3年" in stopped.reason


def test_per_year_cap_counts_what_this_year_paid(mini: MiniFactory) -> None:
    engine = mini([CENTRE])
    result = run(engine, {}, ledger=_paid([2023], amount="300万元")).rule("7/centre")
    assert result.amount_fen == 180 * 1_000_000


def test_cumulative_cap_over_the_provision(mini: MiniFactory) -> None:
    engine = mini(
        [{"id": "2", "text": "累计奖励资金最高100万元。", "rules": [
            {"id": "a", "benefit": {"form": "fixed", "amount": "60万元"}, "caps": [{"scope": "cumulative", "amount": "100万元", "over": "provision"}]},
        ]}]
    )  # fmt: skip
    ledger = [{"rule": "test-doc:2/other", "period": 2022, "amount": "70万元"}]
    result = run(engine, {}, ledger=ledger).rule("2/a")
    assert result.amount_fen == 30 * 1_000_000
    full = run(engine, {}, ledger=[*ledger, {"rule": "test-doc:2/a", "period": 2022, "amount": "30万元"}]).rule("2/a")
    assert full.status is Status.NOT_ELIGIBLE
    assert "累计上限" in full.reason


def test_once_is_not_paid_twice(mini: MiniFactory) -> None:
    engine = mini(
        [
            {
                "id": "1",
                "text": "一次性奖励20万元。",
                "rules": [{"id": "r", "once": True, "benefit": {"form": "fixed", "amount": "20万元"}}],
            }
        ]
    )
    assert run(engine, {}).rule("1/r").status is Status.ELIGIBLE
    again = run(engine, {}, ledger=[{"rule": "test-doc:1/r", "period": 2020, "amount": "20万元"}]).rule("1/r")
    assert again.status is Status.NOT_ELIGIBLE
    assert "一次性" in again.reason
