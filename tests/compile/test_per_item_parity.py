"""Lists of items in the population engine (issue 14.3): a per_item rule compiled to SQL over the list column
(UNNEST in DuckDB, EXPLODE on Spark) gives the scalar engine's status and amount to the fen — items that do
not count, caps per item by level, the cap per entity, a missing field, an empty list, no list at all."""

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
from test_per_item import items_base

BATCH = Batch("sz-test-items", dt.date(2024, 6, 30), 2023, (), False)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine(PolicyBase.load(items_base(tmp_path_factory.mktemp("base") / "policies")))


def _profiles(engine: Engine) -> list[Profile]:
    rng = random.Random(14_3)  # noqa: S311 - reproducible test data
    raws: list[dict[str, Any]] = [
        {"registered_city": "苏州市"},  # no list: needs information
        {"registered_city": "苏州市", "certificates_obtained": []},  # an empty list: nothing to pay
        {"registered_city": "无锡市", "certificates_obtained": [{"level": "国家级", "fee": "10万元", "year": 2023}]},
        {"registered_city": "苏州市", "certificates_obtained": [{"name": "CMMI5", "level": "国家级", "year": 2023}]},
        {"registered_city": "苏州市", "certificates_obtained": [{"name": "X", "fee": "10万元", "year": 2023}]},
        {"registered_city": "苏州市", "certificates_obtained": [{"name": "X", "level": "省级", "fee": "10万元"}]},
    ]
    for _ in range(60):
        items = [
            {"name": f"认证{j}", "level": rng.choice(["国家级", "省级"]), "year": rng.choice([2022, 2023, 2023]),
             "fee": f"{rng.randint(0, 250_000_00) / 100:.2f}元"}
            for j in range(rng.randint(0, 4))
        ]  # fmt: skip
        raws.append({"registered_city": "苏州市", "certificates_obtained": items})
    return [parse_profile({"entity_type": "enterprise", "region": ["江苏省", "苏州市"], "facts": facts},
                          engine.catalogue) for facts in raws]  # fmt: skip


def test_duckdb_agrees_with_the_scalar_engine(engine: Engine) -> None:
    compared, found = differences(engine, BATCH, _profiles(engine), duckdb_run(engine))
    assert compared == 66
    assert found == []


def test_spark_agrees_with_the_scalar_engine(engine: Engine, spark: Any) -> None:
    compared, found = differences(engine, BATCH, _profiles(engine), spark_run(engine, spark))
    assert compared == 66
    assert found == []
