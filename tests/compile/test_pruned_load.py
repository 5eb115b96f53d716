"""Loading only the facts the documents read gives the same results as loading every column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from huiqi.compile.duckdb_runner import DuckDBRunner, PopulationError
from huiqi.compile.facts import facts_read, split_facts
from huiqi.engine.evaluate import Engine
from huiqi.facts.catalogue import Period
from huiqi.policy.base import PolicyBase, default_policies_dir
from huiqi.population.generate import generate_chunk, rule_refs

ENGINE = Engine(PolicyBase.load(default_policies_dir()))
DOCUMENTS = [d for d, doc in ENGINE.documents.items() if doc.rules]
PERIOD = 2023
AS_OF = dt.date(2024, 6, 30)


def _write(folder: Path, size: int) -> None:
    rng = np.random.default_rng(11)
    tables = generate_chunk(ENGINE.catalogue, rule_refs(ENGINE), start=0, size=size, years=5, period=PERIOD, rng=rng)
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in zip(("entities", "history", "ledger"), tables, strict=True):
        pq.write_table(table, folder / f"{name}.parquet")


def _results(runner: DuckDBRunner, documents: list[str]) -> dict[str, list[dict[str, object]]]:
    out = {}
    for document, (_, table) in runner.evaluate_all(documents, period=PERIOD, as_of=AS_OF).items():
        out[document] = (
            runner.connection.sql(f'SELECT * FROM "{table}" ORDER BY entity_id').to_arrow_table().to_pylist()
        )
    return out


def test_facts_read_follows_definitions_and_readings() -> None:
    facts = facts_read([ENGINE.documents[d] for d in DOCUMENTS], ENGINE.catalogue)
    assert "revenue" in facts and "established_on" in facts
    assert facts <= {fact.key for fact in ENGINE.catalogue}
    # a document reads fewer facts than all of them together
    one = facts_read([ENGINE.documents["zhejiang-software-bases"]], ENGINE.catalogue)
    assert one < facts
    entity, annual = split_facts(one, ENGINE.catalogue)
    assert entity | annual == one
    assert all(ENGINE.catalogue[key].period is Period.ANNUAL for key in annual)


def test_each_document_on_its_own_facts_equals_the_full_load(tmp_path: Path) -> None:
    _write(tmp_path, 600)
    full = DuckDBRunner(ENGINE, duckdb.connect())
    full.load_parquet(tmp_path)
    expected = _results(full, DOCUMENTS)
    every = {row[0] for row in full.connection.execute("DESCRIBE entities").fetchall()}
    for document in DOCUMENTS:
        facts = facts_read([ENGINE.documents[document]], ENGINE.catalogue)
        runner = DuckDBRunner(ENGINE, duckdb.connect())
        runner.load_parquet(tmp_path, facts=facts)
        loaded = {row[0] for row in runner.connection.execute("DESCRIBE entities").fetchall()}
        assert loaded < every  # some columns were not read at all
        assert loaded - {"_k", "entity_id", "entity_type", "region"} <= facts  # the name is not read either
        history = {row[0] for row in runner.connection.execute("DESCRIBE history").fetchall()}
        assert history - {"_k", "entity_id", "year"} <= facts
        assert _results(runner, [document]) == {document: expected[document]}, document


def test_a_fact_left_out_is_an_error_not_a_silent_null(tmp_path: Path) -> None:
    _write(tmp_path, 50)
    runner = DuckDBRunner(ENGINE, duckdb.connect())
    runner.load_parquet(tmp_path, facts=set())
    with pytest.raises(duckdb.BinderException, match="not found"):
        runner.evaluate_all(["zhejiang-software-bases"], period=PERIOD, as_of=AS_OF)


def test_entities_left_in_their_file_give_the_same_results(tmp_path: Path) -> None:
    """``copy_entities=False`` (what ``huiqi simulate`` loads): ``entities`` is a view over the file, numbered
    as the copy is, and every document evaluates to the copy's results; the same runner can load either way."""
    _write(tmp_path, 400)
    facts = facts_read([ENGINE.documents[d] for d in DOCUMENTS], ENGINE.catalogue)
    copied = DuckDBRunner(ENGINE, duckdb.connect())
    copied.load_parquet(tmp_path, facts=facts)
    expected = _results(copied, DOCUMENTS)
    runner = DuckDBRunner(ENGINE, duckdb.connect())
    for copy in (False, True, False):
        runner.load_parquet(tmp_path, facts=facts, copy_entities=copy)
        kinds = runner.connection.execute(
            "SELECT 'view' FROM duckdb_views() WHERE view_name = 'entities' "
            "UNION ALL SELECT 'table' FROM duckdb_tables() WHERE table_name = 'entities'"
        ).fetchall()
        assert kinds == [("table" if copy else "view",)]
        assert _results(runner, DOCUMENTS) == expected
    keys = "SELECT entity_id, _k FROM entities ORDER BY _k"
    assert runner.connection.execute(keys).fetchall() == copied.connection.execute(keys).fetchall()
    history = "SELECT _k, year FROM history ORDER BY _k, year"
    assert runner.connection.execute(history).fetchall() == copied.connection.execute(history).fetchall()


def test_a_repeated_id_is_refused_from_a_view_too(tmp_path: Path) -> None:
    _write(tmp_path, 20)
    entities = pq.read_table(tmp_path / "entities.parquet")
    ids = entities.column("entity_id").to_pylist()
    ids[7] = ids[3]
    pq.write_table(entities.set_column(0, "entity_id", [ids]), tmp_path / "entities.parquet")
    runner = DuckDBRunner(ENGINE, duckdb.connect())
    with pytest.raises(PopulationError, match=f"entity_id {ids[3]!r} 出现 2 次"):
        runner.load_parquet(tmp_path, copy_entities=False)
    assert runner.shape() is None
