"""The population shape leaves tests out of the document queries only where it decides them for every row.

A registry of one city and one entity type (the common case: a city's own registry) gets a query without the
region filter, the applicability test and the "region unknown" test; a mixed one keeps them. Both give the
scalar engine's status and amount for every entity and rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from huiqi.compile.document import ledger_column
from huiqi.compile.duckdb_runner import DuckDBRunner, PopulationError
from huiqi.compile.parity import Batch, differences, duckdb_run
from huiqi.compile.shape import PopulationShape
from huiqi.compile.tables import profiles_to_tables
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import Profile
from huiqi.engine.results import Status
from huiqi.facts.catalogue import EntityType
from huiqi.policy.base import PolicyBase, default_policies_dir
from huiqi.population.generate import generate_chunk, rule_refs
from huiqi.population.profiles import tables_to_profiles
from huiqi.population.session import PopulationSession, Scenario

ENGINE = Engine(PolicyBase.load(default_policies_dir()))
PERIOD = 2023
SUZHOU = ("江苏省", "苏州市", "苏州工业园区")


def _shape_of(rows: list[tuple[str | None, list[str | None] | None, int]]) -> PopulationShape:
    """The shape of (entity type, region list, rows) groups, counted in Python: the reference for the runner's."""

    def count(region: str) -> tuple[int, int, int]:
        inside = unknown = outside = 0
        for _, names, n in rows:
            if not names:
                unknown += n
            elif region in names:
                inside += n
            else:
                outside += n
        return inside, unknown, outside

    return PopulationShape(frozenset(kind for kind, _, _ in rows), count)


def _population(seed: int, size: int) -> list[Profile]:
    rng = np.random.default_rng(seed)
    tables = generate_chunk(ENGINE.catalogue, rule_refs(ENGINE), start=0, size=size, years=5, period=PERIOD, rng=rng)
    return [profile for _, profile in tables_to_profiles(*tables, ENGINE.catalogue)]


def _uniform(profiles: list[Profile], region: tuple[str, ...]) -> list[Profile]:
    """Every profile an enterprise of one region (the facts as generated)."""
    return [dataclasses.replace(p, region=region, entity_type=EntityType.ENTERPRISE) for p in profiles]


def _sql(profiles: list[Profile], document: str) -> str:
    runner = DuckDBRunner(ENGINE)
    ids = [f"e{i}" for i in range(len(profiles))]
    runner.load_arrow(*profiles_to_tables(list(zip(ids, profiles, strict=True)), ENGINE.catalogue, period=PERIOD))
    return runner.query(document, period=PERIOD, as_of=dt.date(2024, 6, 30)).sql


def test_region_counts_follow_the_query_test() -> None:
    shape = _shape_of([("enterprise", list(SUZHOU), 5), ("enterprise", None, 2),
                                       ("enterprise", [], 1), ("talent", ["广东省", "广州市"], 3)])  # fmt: skip
    assert shape.region_counts("苏州市") == (5, 3, 3)
    assert shape.region_counts("广州市") == (3, 3, 5)
    assert not shape.all_of_types(["enterprise"])
    assert shape.all_of_types(["enterprise", "talent"])
    assert _shape_of([(None, None, 1)]).all_of_types([])  # a null type passes the test too


def test_the_jurisdictions_of_a_run_are_counted_in_one_pass_as_each_alone() -> None:
    """``count_jurisdictions`` (before a run's queries) counts every document's region in one query of the
    entity table, with the same split as counting each alone; the queries then ask nothing more."""
    profiles = _population(2, 300)  # several cities, a few unknown regions
    profiles[0] = dataclasses.replace(profiles[0], region=())
    profiles[1] = dataclasses.replace(profiles[1], region=())
    tables = profiles_to_tables([(f"e{i}", p) for i, p in enumerate(profiles)], ENGINE.catalogue, period=PERIOD)
    alone, together = DuckDBRunner(ENGINE), DuckDBRunner(ENGINE)
    for runner in (alone, together):
        runner.load_arrow(*tables)
    documents = [d for d, doc in ENGINE.documents.items() if doc.rules]
    regions = [ENGINE.documents[d].loaded.policy.document.jurisdiction.region for d in documents]
    assert len(set(regions)) == 4
    shape = together.shape()
    assert shape is not None
    asked: list[list[str]] = []
    many = shape.count_many
    assert many is not None
    shape.count_many = lambda wanted: asked.append(wanted) or many(wanted)
    shape.count_regions = lambda region: pytest.fail(f"{region} counted alone")
    together.count_jurisdictions(documents)
    assert asked == [regions]
    expected = {region: alone.shape().region_counts(region) for region in regions}  # type: ignore[union-attr]
    assert {region: shape.region_counts(region) for region in regions} == expected
    assert sum(expected["苏州市"]) == len(profiles) and expected["苏州市"][1] >= 2  # the unknown ones counted
    together.evaluate_all(documents, period=PERIOD, as_of=dt.date(2024, 6, 30))  # no region counted again
    assert asked == [regions]


def test_one_city_of_enterprises_gets_a_query_without_the_row_tests() -> None:
    sql = _sql(_uniform(_population(1, 40), SUZHOU), "suzhou-software-cluster")
    assert "WHERE (CASE WHEN array_length(region)" not in sql  # no region filter
    assert "_region_ok IS NULL" not in sql  # no region unknown
    # the applicability test is left to the rules for talents, park operators and institutions alone
    readings = ENGINE.resolve_readings({})
    rules = [r for r in ENGINE.documents["suzhou-software-cluster"].rules
             if all(readings.get(k) == v for k, v in r.when_reading)]  # fmt: skip
    others = [r for r in rules if "enterprise" not in r.applies_to]
    assert sql.count("WHEN NOT _applies") == len(others) < len(rules)


def test_a_mixed_registry_keeps_them() -> None:
    profiles = _population(2, 120)  # several cities, a few unknown regions, talents beside enterprises
    profiles[0] = dataclasses.replace(profiles[0], region=())
    sql = _sql(profiles, "suzhou-software-cluster")
    assert "WHERE (CASE WHEN array_length(region)" in sql
    assert "_region_ok IS NULL" in sql


@pytest.mark.parametrize("document", [d for d, doc in ENGINE.documents.items() if doc.rules])
@pytest.mark.parametrize(
    "region", [SUZHOU, ("广东省", "广州市", "天河区"), ("新疆维吾尔自治区", "乌鲁木齐市"), ("浙江省", "杭州市")]
)
def test_uniform_registries_give_the_scalar_results(document: str, region: tuple[str, ...]) -> None:
    profiles = _uniform(_population(3, 120), region)
    compared, diffs = differences(ENGINE, Batch(document, dt.date(2024, 6, 30), PERIOD, (), False), profiles,
                                  duckdb_run(ENGINE))  # fmt: skip
    assert compared >= 120
    assert diffs[:5] == []


def test_unknown_regions_alone_still_need_information() -> None:
    profiles: list[Any] = _uniform(_population(4, 60), ())
    compared, diffs = differences(
        ENGINE, Batch("suzhou-software-cluster", dt.date(2024, 6, 30), PERIOD, (), False), profiles, duckdb_run(ENGINE)
    )
    assert compared >= 60
    assert diffs[:5] == []


def test_the_runner_counts_regions_as_the_query_tests_them() -> None:
    profiles = _population(5, 200)
    profiles[0] = dataclasses.replace(profiles[0], region=())
    runner = DuckDBRunner(ENGINE)
    assert runner.shape() is None  # nothing loaded: the queries test everything
    ids = [f"e{i}" for i in range(len(profiles))]
    runner.load_arrow(*profiles_to_tables(list(zip(ids, profiles, strict=True)), ENGINE.catalogue, period=PERIOD))
    rows = runner.connection.execute("SELECT entity_type, region, count(*) FROM entities GROUP BY ALL").fetchall()
    expected = _shape_of(rows)
    shape = runner.shape()
    assert shape is not None and shape.types == expected.types
    for region in ("苏州市", "广州市", "江苏省", "新疆维吾尔自治区", "浙江省"):
        assert shape.region_counts(region) == expected.region_counts(region)
    by_sql = runner.connection.execute(
        "SELECT count(*) FILTER (WHERE r IS TRUE), count(*) FILTER (WHERE r IS NULL), count(*) FILTER (WHERE NOT r) "
        "FROM (SELECT CASE WHEN array_length(region) > 0 THEN list_contains(region, '苏州市') END AS r FROM entities)"
    ).fetchall()[0]
    assert shape.region_counts("苏州市") == by_sql and by_sql[1] >= 1


def test_the_load_refuses_a_repeated_id_and_records_the_types_present() -> None:
    profiles = _population(6, 5)
    ids = ["e0", "e1", "e2", "e1", "e4"]
    entities, history, ledger = profiles_to_tables(list(zip(ids, profiles, strict=True)), ENGINE.catalogue,
                                                   period=PERIOD)  # fmt: skip
    runner = DuckDBRunner(ENGINE)
    with pytest.raises(PopulationError, match="entity_id 'e1' 出现 2 次"):
        runner.load_arrow(entities, history, ledger)
    assert runner.shape() is None  # a refused load leaves nothing to describe
    unique = entities.set_column(0, "entity_id", pa.array([f"u{i}" for i in range(5)]))
    typed = unique.set_column(1, "entity_type", pa.array(["talent", None, "talent", "talent", None]))
    runner.load_arrow(typed, history.slice(0, 0), ledger)
    shape = runner.shape()
    assert shape is not None and shape.types == {"talent", None}
    assert shape.all_of_types(["talent"]) and not shape.all_of_types(["enterprise"])


def test_an_empty_registry_loads_and_evaluates_to_no_rows() -> None:
    entities, history, ledger = profiles_to_tables([], ENGINE.catalogue, period=PERIOD)
    runner = DuckDBRunner(ENGINE)
    runner.load_arrow(entities, history, ledger)
    shape = runner.shape()
    assert shape is not None and shape.types == frozenset() and shape.region_counts("苏州市") == (0, 0, 0)
    _, table = runner.evaluate("suzhou-software-cluster", period=PERIOD, as_of=dt.date(2024, 6, 30))
    assert table.num_rows == 0


def test_any_jurisdiction_asks_for_no_region_count() -> None:
    asked: list[str] = []
    shape = PopulationShape(frozenset({"enterprise"}), lambda region: asked.append(region) or (1, 0, 0))
    runner = DuckDBRunner(ENGINE)
    runner._shape, runner._loaded = shape, True
    runner.query("suzhou-software-cluster", period=PERIOD, as_of=dt.date(2024, 6, 30), any_jurisdiction=True)
    assert asked == []
    runner.query("suzhou-software-cluster", period=PERIOD, as_of=dt.date(2024, 6, 30))
    assert asked == ["苏州市"]


def test_a_session_runs_with_the_shape_of_what_it_loaded(tmp_path: Path) -> None:
    """``huiqi simulate`` queries through the runner that loaded the tables (or one of another engine, a
    reform's, sharing it): a registry of Suzhou enterprises gets the query without row tests there too, and
    the scalar engine's results."""
    profiles = _uniform(_population(8, 60), SUZHOU)
    ids = [f"e{i}" for i in range(len(profiles))]
    tables = profiles_to_tables(list(zip(ids, profiles, strict=True)), ENGINE.catalogue, period=PERIOD)
    for name, table in zip(("entities", "history", "ledger"), tables, strict=True):
        pq.write_table(table, tmp_path / f"{name}.parquet")
    day = dt.date(2024, 6, 30)
    with PopulationSession(tmp_path, ENGINE) as session:
        other = session.runner.for_engine(Engine(PolicyBase.load(default_policies_dir())))
        assert other.shape() is session.runner.shape() is not None
        query = other.query("suzhou-software-cluster", period=PERIOD, as_of=day)
        assert "WHERE (CASE WHEN array_length(region)" not in query.sql and "_region_ok IS NULL" not in query.sql
        run = session.run(ENGINE, ["suzhou-software-cluster"], Scenario(as_of=day, period=PERIOD), name="r")
        rows = session.connection.execute(session.long_sql(run)).fetchall()
    got = {(e, f"{d}:{p}/{r}"): (status, amount) for e, d, p, r, status, amount in rows}
    options = Options(as_of=day, period=PERIOD, documents=("suzhou-software-cluster",))
    expected = {}
    for entity_id, profile in zip(ids, profiles, strict=True):
        for result in ENGINE.evaluate(profile, options).rules():
            if result.status is not Status.NOT_APPLICABLE:
                amount = result.amount_fen if result.status in (Status.ELIGIBLE, Status.NEEDS_REVIEW) else None
                expected[(entity_id, result.ref)] = (result.status.value, amount)
    assert got == expected and any(status == "eligible" for status, _ in got.values())


def test_the_ledger_is_read_only_for_the_rules_it_names() -> None:
    """A rule no award of the ledger is under gets NULL for what was paid under it, with no ledger grouping
    behind; a ledger of no awards is not read at all. The results stay the scalar engine's."""
    document = "suzhou-software-cluster"
    profiles = _uniform(_population(9, 150), SUZHOU)
    bare = [dataclasses.replace(p, ledger=()) for p in profiles]
    sql = _sql(bare, document)
    assert "FROM ledger" not in sql and '"led_' not in sql
    named = {entry.rule for p in profiles for entry in p.ledger}
    refs = {rule.ledger_ref for rule in ENGINE.documents[document].rules}
    assert named & refs and refs - named  # the generated ledger pays some of the document's rules, not all
    sql = _sql(profiles, document)
    kinds = ("paid", "years", "tiers", "paidp")
    assert any(ledger_column(kind, ref) in sql for ref in refs & named for kind in kinds)
    assert not any(ledger_column(kind, ref) in sql for ref in refs - named for kind in kinds)
    for population in (bare, profiles):
        compared, diffs = differences(ENGINE, Batch(document, dt.date(2024, 6, 30), PERIOD, (), False), population,
                                      duckdb_run(ENGINE))  # fmt: skip
        assert compared >= 150 and diffs[:5] == []


def test_paid_under_reads_rules_and_provisions() -> None:
    shape = PopulationShape(frozenset({"enterprise"}), lambda region: (1, 0, 0), frozenset({"d:1/a", "d:2/b"}))
    assert shape.paid_under("d:1/a") and not shape.paid_under("d:1/b")
    assert shape.paid_under("d:2/") and not shape.paid_under("d:3/") and not shape.paid_under("d:1")
    assert PopulationShape(frozenset(), lambda region: (0, 0, 0)).paid_under("anything")  # not known: read it
