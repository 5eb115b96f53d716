"""The kernel reads the history's annual facts that no rule reads at another year from the assessed year's rows
alone (``annual_over_years``, ``Tables.current``): the facts under a history function are found through
definitions and readings, and a population read either way gives the same statuses and amounts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import MiniFactory
from huiqi.compile.duckdb_runner import DuckDBRunner
from huiqi.compile.facts import annual_over_years, facts_read
from huiqi.engine.evaluate import Engine
from huiqi.kernel import runner
from huiqi.kernel.inputs import Inputs, NoKernel, read_keyed, read_population, split_history
from huiqi.population.generate import generate_chunk, rule_refs

pytestmark = pytest.mark.skipif(not runner.available(), reason="numba is not installed")

PERIOD = 2023
AS_OF = dt.date(2024, 6, 30)


def _fact(key: str, name: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "name": name, "type": kind, "period": "annual", "entity": ["enterprise"],
            "definition": f"测试用的按年度事实：{name}。", **more}  # fmt: skip


FACTS = [
    _fact("t_bonus", "年度奖金", "money", unit="元"),
    _fact("t_exports", "年度出口额", "money", unit="元"),
    _fact("t_flag", "年度达标", "bool"),
    _fact("t_marks", "年度认证", "set", values=["甲", "乙", "丙"]),
]
TEXT = "营业收入较上年增长且软件业务收入超过此前最高、年度达标、年度认证含甲的企业，给予10万元。"


def _engine(mini: MiniFactory) -> Engine:
    """A rule whose history functions hide in definitions (one inside another) and in a reading's option."""
    definitions = [
        {"name": "grown", "label": "营业收入较上年增长", "expr": "revenue > at(revenue, period - 1)"},
        {"name": "prior_best", "label": "此前最高软件业务收入", "expr": "max_before(software_revenue)"},
        {"name": "beat", "label": "软件业务收入超过此前最高", "expr": "software_revenue > prior_best"},
    ]
    readings = [{"key": "bonus", "question": "奖金是否须首次达到10万元？", "default": "first", "options": [
        {"value": "first", "label": "须首次达到", "define": {"bonus_ok": "first_reached(t_bonus, 10万元)"}},
        {"value": "now", "label": "当年达到即可", "define": {"bonus_ok": "t_bonus >= 10万元"}}]}]  # fmt: skip
    conditions = ["grown", "beat", "bonus_ok", "t_flag", "'甲' in t_marks", "t_exports > 0元"]
    rules = [{"id": "r", "conditions": {"all": conditions}, "benefit": {"form": "fixed", "amount": "10万元"}}]
    return mini([{"id": "1", "text": TEXT, "rules": rules}], facts=FACTS, definitions=definitions, readings=readings)


def test_the_facts_read_over_the_years_are_found_through_definitions_and_readings(mini: MiniFactory) -> None:
    engine = _engine(mini)
    documents = list(engine.documents.values())
    assert annual_over_years(documents, engine.catalogue) == {"revenue", "software_revenue", "t_bonus"}
    # read at the assessed year only: the rest of the annual facts the rule reads
    read = facts_read(documents, engine.catalogue)
    assert {"t_flag", "t_marks", "t_exports"} <= read


def _population(engine: Engine, folder: Path) -> tuple[pa.Table, pa.Table, pa.Table]:
    tables = generate_chunk(engine.catalogue, rule_refs(engine), start=0, size=3000, years=4, period=PERIOD,
                            rng=np.random.default_rng(5))  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in zip(("entities", "history", "ledger"), tables, strict=True):
        pq.write_table(table, folder / f"{name}.parquet", row_group_size=800)
    return tables


@pytest.mark.parametrize("reading", ["first", "now"])
def test_a_population_read_with_the_assessed_year_apart_gives_the_same_results(
    mini: MiniFactory, tmp_path: Path, reading: str
) -> None:
    engine = _engine(mini)
    entities, history, ledger = _population(engine, tmp_path)
    readings = {"test-doc:bonus": reading}
    _, whole = runner.evaluate(engine, "test-doc", entities, history, ledger, period=PERIOD, as_of=AS_OF,
                               readings=readings, split=False)  # fmt: skip
    _, apart = runner.evaluate(engine, "test-doc", entities, history, ledger, period=PERIOD, as_of=AS_OF,
                               readings=readings, split=True)  # fmt: skip
    assert apart.to_pylist() == whole.to_pylist()
    statuses = {row[c] for row in whole.to_pylist() for c in whole.column_names if c.endswith("_s")}
    assert len(statuses) >= 3  # the population reaches several statuses, not one
    # and as huiqi simulate reads it: from the files, and from a runner's keyed tables
    over = annual_over_years(engine.documents.values(), engine.catalogue)
    con = duckdb.connect()
    DuckDBRunner(engine, con).load_parquet(tmp_path, copy_entities=False)
    for tables in (read_population(tmp_path, period=PERIOD, over_years=over),
                   read_keyed(con, tmp_path, None, (0, 3000), period=PERIOD, over_years=over)):  # fmt: skip
        assert tables.current is not None
        assert set(tables.history.column_names) == {"_row", "year", *over}
        assert set(tables.current["year"].to_pylist()) == {PERIOD}
        inputs = Inputs(tables.entities, tables.history, engine.catalogue, PERIOD, AS_OF, tables.ledger,
                        current=tables.current)  # fmt: skip
        run = runner.KernelRun(engine, "test-doc", inputs, readings=readings, any_jurisdiction=False)
        assert run.run().sort_by("entity_id").to_pylist() == whole.sort_by("entity_id").to_pylist()
    con.close()


def test_a_fact_read_at_the_assessed_year_only_is_never_read_as_unknown_at_another(mini: MiniFactory) -> None:
    """Where the split did not foresee a read at another year, the kernel refuses (SQL evaluates the document)
    rather than reading unknown."""
    engine = _engine(mini)
    entities, history, ledger = generate_chunk(engine.catalogue, rule_refs(engine), start=0, size=50, years=3,
                                               period=PERIOD, rng=np.random.default_rng(1))  # fmt: skip
    kept, current = split_history(history, PERIOD, {"revenue"})
    assert current is not None and "t_flag" in current.column_names and "t_flag" not in kept.column_names
    inputs = Inputs(entities, kept, engine.catalogue, PERIOD, AS_OF, ledger, current=current)
    assert inputs.get(("fact", "t_flag"))[1].any()  # at the assessed year: read
    with pytest.raises(NoKernel, match="只读取了评估年度"):
        inputs.get(("at", "t_flag", -1))
    with pytest.raises(NoKernel, match="只读取了评估年度"):
        inputs.get(("max_before", "software_revenue"))


def test_a_history_no_rule_reads_over_the_years_is_not_read_whole(mini: MiniFactory, tmp_path: Path) -> None:
    """Where every annual fact is read at the assessed year only, the history's other years are not read at all
    (their keys alone would be read and joined for nothing), and the results are those of the whole history."""
    conditions = ["revenue >= 100万元", "t_flag", "'甲' in t_marks", "t_exports > 0元"]
    rules = [{"id": "r", "conditions": {"all": conditions}, "benefit": {"form": "fixed", "amount": "10万元"}}]
    engine = mini([{"id": "1", "text": TEXT, "rules": rules}], facts=FACTS)
    assert annual_over_years(engine.documents.values(), engine.catalogue) == set()
    entities, history, ledger = _population(engine, tmp_path)
    _, whole = runner.evaluate(engine, "test-doc", entities, history, ledger, period=PERIOD, as_of=AS_OF,
                               split=False)  # fmt: skip
    statuses = {row["r0_s"] for row in whole.to_pylist()}
    assert 0 in statuses and len(statuses) >= 3  # some eligible, others not or unknown
    con = duckdb.connect()
    DuckDBRunner(engine, con).load_parquet(tmp_path, copy_entities=False)
    for tables in (read_population(tmp_path, period=PERIOD, over_years=set()),
                   read_keyed(con, tmp_path, None, (0, 3000), period=PERIOD, over_years=set())):  # fmt: skip
        assert tables.history.num_rows == 0 and tables.current is not None
        assert tables.current.num_rows > 0 and set(tables.current["year"].to_pylist()) == {PERIOD}
        inputs = Inputs(tables.entities, tables.history, engine.catalogue, PERIOD, AS_OF, tables.ledger,
                        current=tables.current)  # fmt: skip
        assert inputs.series_start() == PERIOD
        run = runner.KernelRun(engine, "test-doc", inputs, readings={}, any_jurisdiction=False)
        assert run.run().sort_by("entity_id").to_pylist() == whole.sort_by("entity_id").to_pylist()
    con.close()
