"""The compiled SQL rounds exactly as the scalar engine: half up to the fen, once, on every path.

A constant rate over whole fen is applied in 64-bit integers (``q·P + (2rP + Q) div 2Q``); any other rate
stays an exact DECIMAL until the one rounding. Both are checked at the half-fen boundaries, on zero and
negative bases (a falling revenue), under a ceiling, and on amounts far beyond 2³¹ fen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from huiqi.compile.duckdb_runner import DuckDBRunner
from huiqi.compile.parity import Batch, differences, duckdb_run
from huiqi.compile.tables import profiles_to_tables
from huiqi.engine.evaluate import Engine
from huiqi.engine.profile import parse_profile

PERIOD = 2023
TEXT = "按实缴注册资本的2‰给予奖励；按营业收入增量的5%给予奖励，最高1万元；按实缴注册资本给予3%或5%的奖励。"
PROVISIONS: list[dict[str, Any]] = [
    {
        "id": "1",
        "text": TEXT,
        "rules": [
            {"id": "permille", "benefit": {"form": "rate", "base": "paid_in_capital", "rate": "2‰"}},
            {"id": "growth", "benefit": {"form": "rate", "base": "revenue - at(revenue, period - 1)", "rate": "5%",
                                         "ceiling": "1万元"}},
            {"id": "varying", "benefit": {"form": "rate", "base": "paid_in_capital",
                                          "rate": "if(social_insurance_staff >= 50, 5%, 3%)"}},
        ],
    }
]  # fmt: skip

#: paid_in_capital in fen: 2‰ of 250 fen is exactly half a fen
CAPITALS = [0, 1, 249, 250, 251, 749, 750, 1249, 1250, 99_999, 4_611_686_018_427_387_903]
#: (revenue of 2023, of 2022) in fen: increases at the half-fen boundary of 5%, a fall, a ceiling
GROWTH = [(110, 100), (109, 100), (130, 100), (100, 100), (50, 100), (10**12, 0), (2**40 + 10, 10)]


def _profiles(engine: Engine) -> list[Any]:
    raws = []
    for index, capital in enumerate(CAPITALS):
        revenue, previous = GROWTH[index % len(GROWTH)]
        raws.append({"entity_type": "enterprise", "region": ["江苏省", "苏州市"], "facts": {
            "paid_in_capital": f"{capital / 100:.2f}元" if capital < 10**15 else f"{capital // 100}元",
            "social_insurance_staff": 60 if index % 2 else 10,
            "revenue": {PERIOD: f"{revenue / 100:.2f}元" if revenue < 10**15 else f"{revenue // 100}元",
                        PERIOD - 1: f"{previous / 100:.2f}元"},
        }})  # fmt: skip
    return [parse_profile(raw, engine.catalogue) for raw in raws]


def test_rates_round_half_up_exactly_as_the_engine(mini: Any) -> None:
    engine = mini(PROVISIONS)
    profiles = _profiles(engine)
    batch = Batch("test-doc", dt.date(2024, 6, 30), PERIOD, (), False)
    compared, diffs = differences(engine, batch, profiles, duckdb_run(engine))
    assert compared == 3 * len(profiles)
    assert diffs == []


def test_the_whole_fen_path_gives_the_expected_fen(mini: Any) -> None:
    engine = mini(PROVISIONS)
    profiles = _profiles(engine)
    runner = DuckDBRunner(engine, duckdb.connect())
    ids = [f"e{i}" for i in range(len(profiles))]
    runner.load_arrow(*profiles_to_tables(list(zip(ids, profiles, strict=True)), engine.catalogue, period=PERIOD))
    query, table = runner.evaluate("test-doc", period=PERIOD, as_of=dt.date(2024, 6, 30))
    assert "DECIMAL" not in query.sql.split("AS r0_v")[0].rsplit(",", 1)[-1]  # 2‰ of whole fen: integers only
    rows = {r["entity_id"]: r for r in table.to_pylist()}
    permille = [rows[i]["r0_m"] if rows[i]["r0_s"] == 0 else None for i in ids]
    # 2‰: 0 and 0.002 and 0.498 fen round to nothing (not eligible); 0.5 → 1; 1.5 → 2; 2.498 → 2; 2.5 → 3
    assert permille[:10] == [None, None, None, 1, 1, 1, 2, 2, 3, 200]
    assert permille[10] == 9_223_372_036_854_776  # 2‰ of 2⁶²−1 fen, half up, in 64-bit integers
    growth = [rows[i]["r1_m"] if rows[i]["r1_s"] == 0 else None for i in ids[:7]]
    # 5% of +10 fen = 0.5 → 1; of +9 = 0.45 → 0 (not eligible); +30 → 1.5 → 2; no growth and a fall → none;
    # 5% of 1e12 fen and of 2⁴⁰ fen are over the 1万元 ceiling
    assert growth == [1, None, 2, None, None, 1_000_000, 1_000_000]
