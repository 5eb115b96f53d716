"""Periods below a year in the population engine (issue 14.1): the quarterly test policy compiled to SQL —
quarterly facts as (year, quarter, value) lists, the ledger per quarter, paid_in_year(), caps per quarter and
per year — gives the scalar engine's status and amount for each quarter, on DuckDB and Spark."""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from huiqi.compile.parity import Batch, differences, duckdb_run, spark_run
from huiqi.engine.evaluate import Engine
from huiqi.engine.profile import Profile, parse_profile
from huiqi.policy.base import PolicyBase

sys.path.insert(0, str(Path(__file__).parent.parent / "engine"))
from test_quarterly import DOCUMENT, quarterly_base

RULE = f"{DOCUMENT}:1/growth"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine(PolicyBase.load(quarterly_base(tmp_path_factory.mktemp("base") / "policies")))


def _profiles(engine: Engine, quarter: int) -> list[Profile]:
    """Random firms with quarter-to-date revenue for 2023 and 2024 and payments earlier in 2024 (some in the
    same quarter, some annual awards of the rule, some of another year); a few with figures missing."""
    rng = random.Random(1400 + quarter)  # noqa: S311 - reproducible test data
    raws: list[dict[str, Any]] = [
        {"facts": {"registered_city": "苏州市"}},
        {"facts": {"registered_city": "苏州市", "revenue_ytd": {f"2024Q{quarter}": "8000万元"}}},
    ]
    for _ in range(80):
        revenue = {}
        for year, base in ((2023, rng.randint(500, 30000)), (2024, rng.randint(500, 40000))):
            for q in range(1, 5):
                if rng.random() < 0.95:
                    revenue[f"{year}Q{q}"] = f"{base * q * 10000 + rng.randint(0, 999999) / 100:.2f}元"
        ledger = [
            {"rule": RULE, "period": rng.choice([2023, 2024, 2024]), "quarter": rng.choice([None, 1, 2, 3, 4]),
             "amount": f"{rng.randint(0, 60) * 10000 + rng.randint(0, 99) / 100:.2f}元"}
            for _ in range(rng.randint(0, 3))
        ]  # fmt: skip
        for entry in ledger:
            if entry["quarter"] is None:
                del entry["quarter"]
        raws.append({"facts": {"registered_city": rng.choice(["苏州市"] * 9 + ["无锡市"]), "revenue_ytd": revenue},
                     "ledger": ledger})  # fmt: skip
    return [parse_profile({"entity_type": "enterprise", "region": ["江苏省", "苏州市"], **raw}, engine.catalogue)
            for raw in raws]  # fmt: skip


BATCHES = [Batch(DOCUMENT, dt.date(2025, 1, 28), 2024, (), False, q) for q in (1, 2, 3, 4)] + [
    Batch(DOCUMENT, dt.date(2024, 7, 28), 2024, ((f"{DOCUMENT}:step_rounding", "pro_rata"),), False, 2),
    Batch(DOCUMENT, dt.date(2024, 7, 28), 2024, (), False, None),  # no quarter: needs information
]


@pytest.mark.parametrize("batch", BATCHES, ids=lambda b: f"Q{b.quarter}{'-pro-rata' if b.readings else ''}")
def test_duckdb_agrees_with_the_scalar_engine(engine: Engine, batch: Batch) -> None:
    compared, found = differences(engine, batch, _profiles(engine, batch.quarter or 1), duckdb_run(engine))
    assert compared == 82
    assert found == []


@pytest.mark.parametrize("batch", BATCHES[1:3], ids=lambda b: f"Q{b.quarter}")
def test_spark_agrees_with_the_scalar_engine(engine: Engine, batch: Batch, spark: Any) -> None:
    compared, found = differences(engine, batch, _profiles(engine, batch.quarter or 1), spark_run(engine, spark))
    assert compared == 82
    assert found == []
