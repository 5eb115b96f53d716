"""Random synthetic populations give the same status and amount on the scalar engine, DuckDB and Spark."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huiqi.compile.parity import Batch, differences, duckdb_run, spark_run
from huiqi.engine.evaluate import Engine
from huiqi.policy.base import PolicyBase, default_policies_dir
from huiqi.population.generate import generate_chunk, rule_refs
from huiqi.population.profiles import tables_to_profiles

ENGINE = Engine(PolicyBase.load(default_policies_dir()))
DOCUMENTS = [d for d, doc in ENGINE.documents.items() if doc.rules]
PERIOD = 2023


def _population(seed: int, size: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    tables = generate_chunk(ENGINE.catalogue, rule_refs(ENGINE), start=0, size=size, years=5, period=PERIOD, rng=rng)
    return [profile for _, profile in tables_to_profiles(*tables, ENGINE.catalogue)]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), any_jurisdiction=st.booleans())
@pytest.mark.parametrize("document", DOCUMENTS)
def test_duckdb_equals_scalar_on_random_populations(document: str, seed: int, any_jurisdiction: bool) -> None:
    profiles = _population(seed, 250)
    batch = Batch(document, dt.date(2024, 6, 30), PERIOD, (), any_jurisdiction)
    compared, diffs = differences(ENGINE, batch, profiles, duckdb_run(ENGINE))
    assert compared >= 250
    assert diffs[:5] == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_duckdb_equals_scalar_under_every_alternative_reading(document: str) -> None:
    profiles = _population(7, 150)
    for reading in ENGINE.documents[document].readings.values():
        for option in reading.options:
            if option.value == reading.default:
                continue
            batch = Batch(document, dt.date(2024, 6, 30), PERIOD, ((f"{document}:{reading.key}", option.value),), True)
            _, diffs = differences(ENGINE, batch, profiles, duckdb_run(ENGINE))
            assert diffs[:5] == [], f"{reading.key}={option.value}"


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), any_jurisdiction=st.booleans())
def test_spark_equals_scalar_on_random_populations(spark: Any, seed: int, any_jurisdiction: bool) -> None:
    profiles = _population(seed, 200)
    for document in DOCUMENTS:
        batch = Batch(document, dt.date(2024, 6, 30), PERIOD, (), any_jurisdiction)
        compared, diffs = differences(ENGINE, batch, profiles, spark_run(ENGINE, spark))
        assert compared > 0
        assert diffs[:5] == [], document


def test_evaluate_all_equals_one_document_at_a_time_and_leaves_out_only_unreachable_entities() -> None:
    import duckdb

    from huiqi.compile.duckdb_runner import DuckDBRunner

    rng = np.random.default_rng(3)
    tables = generate_chunk(ENGINE.catalogue, rule_refs(ENGINE), start=0, size=400, years=5, period=PERIOD, rng=rng)
    runner = DuckDBRunner(ENGINE, duckdb.connect())
    runner.load_arrow(*tables)
    shared = runner.evaluate_all(DOCUMENTS, period=PERIOD, as_of=dt.date(2024, 6, 30))
    regions = dict(zip(tables[0]["entity_id"].to_pylist(), tables[0]["region"].to_pylist(), strict=True))
    for document in DOCUMENTS:
        _, alone = runner.evaluate(document, period=PERIOD, as_of=dt.date(2024, 6, 30))
        _, table = shared[document]
        together = runner.connection.sql(f'SELECT * FROM "{table}" ORDER BY entity_id').to_arrow_table()
        assert together.to_pylist() == alone.sort_by("entity_id").to_pylist()
        # a row for exactly the entities whose region is in the jurisdiction or unknown
        region = ENGINE.documents[document].loaded.policy.document.jurisdiction.region
        reachable = {e for e, r in regions.items() if not r or region in r}
        assert set(together["entity_id"].to_pylist()) == reachable
        assert 0 < len(reachable) < len(regions)
