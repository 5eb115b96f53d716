"""One DuckDB connection over a population folder, and scenario runs on it.

A *run* evaluates documents under one engine (the policy base, or a reform of it) and one scenario
(assessed year, evaluation date, readings) and keeps every applicable rule result in DuckDB:

- ``<run>``: ``_k`` (the entity's row key: ``entities._k``), ``rule_no``, ``status`` (code), ``amount_fen`` —
  one row per entity and rule that is not ``not_applicable``; ``amount_fen`` only where the status carries
  money (eligible, needs_review, excluded);
- ``<run>_rules``: what each ``rule_no`` is (document, provision, rule, label, whether the amount is a
  ceiling);
- ``<run>_prov``: one row per entity (``_k``) and provision: the provision's status (the best of its rules, as
  the engine reports it) and its money.

Results are keyed by the entity's row, an integer, not by its text id: inserting millions of results and
grouping them by entity went quicker (docs/population.md, "Issue 13, eleventh round"). What is shown or
written per entity takes the id from ``entities`` (``JOIN entities USING (_k)``) once, at the end.

Aggregation happens in DuckDB; Python only sees summaries. The population tables and intermediate
results spill to a temporary folder when they do not fit in memory. The rules themselves run on DuckDB,
or on Spark when the session is opened with a Spark master.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from huiqi.compile.document import CODE_STATUS, STATUS_CODES, DocumentQuery, RuleColumns
from huiqi.compile.duckdb_runner import DuckDBRunner, PopulationError
from huiqi.compile.facts import annual_over_years
from huiqi.compile.sql import quote_ident, sql_string
from huiqi.compile.tables import ROW_KEY
from huiqi.engine.evaluate import Engine
from huiqi.engine.results import Status

if TYPE_CHECKING:
    from huiqi.kernel.inputs import RowGroups, Tables

ELIGIBLE = STATUS_CODES[Status.ELIGIBLE]
REVIEW = STATUS_CODES[Status.NEEDS_REVIEW]
INFORMATION = STATUS_CODES[Status.NEEDS_INFORMATION]
EXCLUDED = STATUS_CODES[Status.EXCLUDED]
NOT_ELIGIBLE = STATUS_CODES[Status.NOT_ELIGIBLE]
NOT_APPLICABLE = STATUS_CODES[Status.NOT_APPLICABLE]
#: statuses whose amount means something (the rest carry no money)
MONEY_CODES = (ELIGIBLE, REVIEW, EXCLUDED)


def status_name_sql(column: str) -> str:
    """SQL turning a status code column into its name (``eligible`` …)."""
    names = ", ".join(sql_string(CODE_STATUS[code].value) for code in sorted(CODE_STATUS))
    return f"([{names}])[{column} + 1]"


Progress = Callable[[str], None]
#: entities the compiled kernel evaluates at a time: a registry larger than this is read a slice at a time
KERNEL_SLICE = 250_000
#: the most memory (bytes of Arrow buffers) a registry's slices may take to be kept from one kernel run for the
#: next of the same assessed year (``PopulationSession._run_kernels``): a reform's second run, or a session's
#: later scenarios, then read nothing (1,000,000 entities × 5 years of the seed base: about 0.5 GB)
KERNEL_KEEP_BYTES = 1 << 30


@dataclass(frozen=True)
class Scenario:
    """What a run assumes: the assessed year (评价年度), the evaluation date, the readings (口径)."""

    as_of: dt.date
    period: int
    readings: tuple[tuple[str, str], ...] = ()
    any_jurisdiction: bool = False
    quarter: int | None = None  # the assessed quarter of ``period`` (rules paid by quarter)

    def describe(self) -> str:
        readings = "、".join(f"{k}={v}" for k, v in self.readings) or "默认口径"
        scope = "；忽略属地" if self.any_jurisdiction else ""
        quarter = f"第{self.quarter}季度" if self.quarter else ""
        return f"评价年度 {self.period}{quarter}，评价日 {self.as_of.isoformat()}，{readings}{scope}"


@dataclass(frozen=True)
class RuleInfo:
    """What one ``rule_no`` of a run is."""

    rule_no: int
    document: str
    provision: str
    provision_label: str
    rule: str
    label: str
    is_ceiling: bool


@dataclass
class Run:
    """The tables of one evaluated scenario (see the module docstring)."""

    name: str
    scenario: Scenario
    documents: list[str] = field(default_factory=list)
    rules: list[RuleInfo] = field(default_factory=list)

    @property
    def prov(self) -> str:
        return f"{self.name}_prov"

    @property
    def rules_table(self) -> str:
        return f"{self.name}_rules"


RULES_SCHEMA = pa.schema(
    [
        pa.field("rule_no", pa.int32()),
        pa.field("document", pa.string()),
        pa.field("provision", pa.string()),
        pa.field("provision_label", pa.string()),
        pa.field("rule", pa.string()),
        pa.field("label", pa.string()),
        pa.field("is_ceiling", pa.bool_()),
    ]
)


class PopulationSession:
    """A population folder loaded into DuckDB (``entities``, a view over its file, ``history`` and ``ledger``,
    keyed by ``_k``).

    DuckDB holds the tables in its buffer pool and spills to a private temporary folder, so a registry
    larger than memory (or than ``memory_limit``, e.g. ``"4GB"``) is processed in pieces. With ``spark_master`` the rules run on Spark instead
    (``local[2]``, or a cluster's master URL): each document's results come back as Parquet files, which
    DuckDB then summarises exactly as it summarises its own. ``facts``: load only these fact columns into
    DuckDB (``huiqi.population.pipeline.needed_facts``); None loads every column.
    """

    def __init__(
        self, folder: Path, engine: Engine, *, spark_master: str | None = None, memory_limit: str | None = None,
        facts: Iterable[str] | None = None, kernel: bool = False, kernel_slice: int = KERNEL_SLICE,
        kernel_keep: int = KERNEL_KEEP_BYTES,
    ) -> None:  # fmt: skip
        if not folder.is_dir():
            raise PopulationError(
                f"找不到人口数据目录 {folder}：应包含 entities.parquet、history.parquet、ledger.parquet"
                "（可用 huiqi population generate 生成样例）",
                where="--population",
            )
        self.folder = folder
        self._spill = tempfile.TemporaryDirectory(prefix="huiqi-simulate-")
        config: dict[str, str | bool | int | float | list[str]] = {"temp_directory": self._spill.name}
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        try:
            self.connection = duckdb.connect(config=config)
        except duckdb.Error as exc:
            self._spill.cleanup()
            raise PopulationError(f"DuckDB 设置无效：{exc}", where="--memory-limit") from exc
        self.spark: Any = None
        self._owns_spark = False
        #: the compiled kernel (``huiqi.kernel``): its tables (read from the files on first use), its inputs per
        #: assessed year and date, and what it said of each document it left to SQL
        self.kernel = kernel
        #: the kernel's tables of a registry read whole, by assessed year and the annual facts read over the years
        self._kernel_tables: dict[tuple[int, frozenset[str]], Any] = {}
        self._kernel_inputs: dict[tuple[int, dt.date, frozenset[str]], Any] = {}
        #: entities per slice of the kernel path (``_run_kernels``)
        self.kernel_slice = kernel_slice
        #: a larger registry's slices, read by one run and kept for the next of the same assessed year and annual
        #: facts read over the years, where they take at most ``kernel_keep`` bytes
        self._kernel_slices: dict[tuple[int, frozenset[str]], list[Any]] = {}
        self.kernel_keep = kernel_keep
        self._facts = None if facts is None else set(facts)
        #: documents the kernel left to SQL, each with the reason (said in the report's notes)
        self.kernel_fallbacks: dict[str, str] = {}
        if kernel:
            from huiqi.kernel.runner import available

            if not available():
                self._spill.cleanup()
                raise PopulationError("编译内核需要 numba：pip install 'huiqi[kernel]'，或改用 --engine duckdb",
                                      where="--engine")  # fmt: skip
        try:
            self._check_columns()
            #: the runner that loaded the tables: it knows their shape (entity types, regions), which the
            #: queries of every run use (``huiqi.compile.shape``). The entities stay in their file, each
            #: query decoding the columns it reads: a simulation reads each about once, and copying them
            #: would cost twice as much (``DuckDBRunner.load_parquet``)
            self.runner = DuckDBRunner(engine, self.connection)
            self.runner.load_parquet(folder, facts=facts, copy_entities=False)
            if spark_master is not None:
                from pyspark.sql import SparkSession

                from huiqi.compile.spark_runner import SparkRunner, spark_session

                self._owns_spark = SparkSession.getActiveSession() is None  # stop only a session started here
                self.spark = spark_session(spark_master)
                self.spark.sparkContext.setLogLevel("ERROR")
                SparkRunner(engine, self.spark).load_parquet(folder)
        except BaseException:
            self.close()
            raise

    @property
    def engine_name(self) -> str:
        if self.kernel:
            return "编译内核（numba）"
        return "Spark" if self.spark is not None else "DuckDB"

    def close(self) -> None:
        if self.spark is not None and self._owns_spark:
            self.spark.stop()
        self.spark = None
        self.connection.close()
        self._spill.cleanup()

    def __enter__(self) -> PopulationSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def columns(self, table: str) -> set[str]:
        return {row[0] for row in self.connection.execute(f"DESCRIBE {table}").fetchall()}

    def _check_columns(self) -> None:
        """Every file is there with the columns the engine reads (checked before anything is loaded)."""
        required = {"entities": {"entity_id", "entity_type", "region"}, "history": {"entity_id", "year"},
                    "ledger": {"entity_id", "rule", "period", "amount_fen", "tier"}}  # fmt: skip
        for table, needed in required.items():
            path = self.folder / f"{table}.parquet"
            if not path.exists():
                raise PopulationError(
                    f"人口数据目录缺少 {table}.parquet（可用 huiqi population generate 生成样例）", where=str(path)
                )
            try:
                present = self.columns(f"SELECT * FROM read_parquet({sql_string(str(path))})")
            except duckdb.Error as exc:
                raise PopulationError(
                    f"无法读取 {table}.parquet（不是有效的 Parquet 文件？）：{exc}", where=str(path)
                ) from exc
            missing = needed - present
            if missing:
                raise PopulationError(
                    f"{table}.parquet 缺少列 {'、'.join(sorted(missing))}（格式见 docs/population.md）",
                    where=str(self.folder / f"{table}.parquet"),
                )

    def latest_year(self) -> int | None:
        """The latest year in the history table (the default assessed year)."""
        value = self.scalar("SELECT max(year) FROM history")
        return None if value is None else int(value)

    def entity_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM entities") or 0)

    def scalar(self, sql: str) -> Any:
        """The one value a query returns (read to the end: DuckDB keeps a half-read result open)."""
        rows = self.connection.execute(sql).fetchall()
        return rows[0][0] if rows else None

    def run(
        self, engine: Engine, documents: list[str], scenario: Scenario, *, name: str, progress: Progress | None = None
    ) -> Run:
        """Evaluate ``documents`` for every entity; one progress step per document."""
        con = self.connection
        runner = self.runner.for_engine(engine)
        table = quote_ident(name)
        con.execute(
            f"CREATE OR REPLACE TABLE {table} ({ROW_KEY} INTEGER, rule_no INTEGER, status TINYINT, amount_fen BIGINT)"
        )
        run = Run(name=name, scenario=scenario, documents=list(documents))
        con.execute(
            f"CREATE OR REPLACE TABLE {quote_ident(run.prov)} ({ROW_KEY} INTEGER, document VARCHAR, provision VARCHAR, "
            f"status TINYINT, cost_fen HUGEINT, ceiling_fen HUGEINT, review_ceiling_fen HUGEINT)"
        )
        queries: dict[str, tuple[int, DocumentQuery]] = {}
        if not scenario.any_jurisdiction:
            runner.count_jurisdictions(documents)
        for document in documents:
            query = runner.query(document, period=scenario.period, as_of=scenario.as_of,
                                 readings=dict(scenario.readings), any_jurisdiction=scenario.any_jurisdiction,
                                 quarter=scenario.quarter, row_key=True)  # fmt: skip
            if query.rules:
                queries[document] = (len(run.rules), query)
                loaded = engine.documents[document].loaded
                for columns in query.rules:
                    provision = loaded.provision(columns.provision)
                    heading = " ".join(p for p in (provision.number, provision.heading) if p) or provision.id
                    run.rules.append(RuleInfo(len(run.rules), document, columns.provision, heading, columns.rule,
                                              columns.label, columns.is_ceiling))  # fmt: skip
        computed = self._run_kernels(engine, run, queries, progress) if self.kernel else set()
        for document in documents:
            if document in computed:  # its step said by the kernel's run
                continue
            if document in queries:
                offset, query = queries[document]
                # the wide results kept once, for the two tables made from them
                con.execute(f"CREATE OR REPLACE TEMP TABLE _wide AS SELECT * FROM "
                            f"{self._results(query.sql, f'{name}-{document}')}")  # fmt: skip
                try:
                    self._store(run, document, offset, query, "_wide")
                finally:
                    con.execute("DROP TABLE IF EXISTS _wide")
            if progress is not None:
                progress(document)
        rules = pa.Table.from_pylist([vars(r) for r in run.rules], schema=RULES_SCHEMA)
        self._with_arrow("_rules_arrow", rules,
                         f"CREATE OR REPLACE TABLE {quote_ident(run.rules_table)} AS SELECT * FROM _rules_arrow")  # fmt: skip
        return run

    def _store(self, run: Run, document: str, offset: int, query: DocumentQuery, relation: str) -> None:
        """One document's wide results (``relation``: a table, or a registered Arrow table, with the row key
        ``_k``) into the run's long table, its rules numbered from ``offset``, and into its table of provisions."""
        self._insert(quote_ident(run.name), offset, query, relation)
        self.connection.execute(provisions_sql(quote_ident(run.prov), document, query, relation))

    def _store_rows(self, run: Run, document: str, offset: int, query: DocumentQuery, rows: KernelRows) -> None:
        """One document's results as the kernel's threads made them (``_kernel_rows``): appended to the run's
        tables as they are; the provisions of a sum beyond 64 bits made in SQL from the wide result."""
        prov = quote_ident(run.prov)
        self._with_arrow("_kernel_long", rows.long, f"INSERT INTO {quote_ident(run.name)} SELECT * FROM _kernel_long")
        if rows.provisions is not None:
            self._with_arrow("_kernel_prov", rows.provisions, f"INSERT INTO {prov} SELECT {ROW_KEY}, "
                             f"{sql_string(document)}, provision, status, cost_fen, ceiling_fen, review_ceiling_fen "
                             f"FROM _kernel_prov")  # fmt: skip
        else:
            self._with_arrow("_kernel_wide", rows.wide, provisions_sql(prov, document, query, "_kernel_wide"))

    def _with_arrow(self, label: str, table: pa.Table | None, sql: str) -> None:
        """``sql`` run with ``table`` registered as ``label`` for it alone."""
        self.connection.register(label, table)
        try:
            self.connection.execute(sql)
        finally:
            self.connection.unregister(label)

    def _insert(self, table: str, offset: int, query: DocumentQuery, relation: str) -> None:
        """One document's wide results (``relation``: a query, or a registered Arrow table, with the row key
        ``_k``) into the run's long table, its rules numbered from ``offset``."""
        statuses = ", ".join(quote_ident(c.status) for c in query.rules)
        amounts = ", ".join(c.amount_sql() for c in query.rules)
        money = ", ".join(str(c) for c in MONEY_CODES)
        self.connection.execute(
            f"INSERT INTO {table} SELECT {ROW_KEY}, {offset} + rule_no, status, "
            f"CASE WHEN status IN ({money}) THEN amount END FROM ("
            f"SELECT {ROW_KEY}, UNNEST(range({len(query.rules)})) AS rule_no, UNNEST([{statuses}]) AS status, "
            f"UNNEST([{amounts}]) AS amount FROM {relation}) "
            f"WHERE status <> {NOT_APPLICABLE}"
        )

    def _run_kernels(
        self, engine: Engine, run: Run, queries: dict[str, tuple[int, DocumentQuery]], progress: Progress | None = None
    ) -> set[str]:  # fmt: skip
        """Every document of ``queries`` the compiled kernel evaluates, its results stored in the run's tables
        (``progress`` called as each is done); the rest (``NoKernel``: the reason kept in ``kernel_fallbacks``)
        are left to SQL.

        A registry of up to ``kernel_slice`` entities is read once and its inputs kept per assessed year and
        date; a larger one is read and evaluated a slice of entities at a time (the slice's history and ledger
        with it), so that memory holds one slice's arrays beside DuckDB's tables (and the tables of the next
        slice, read in a thread while this one runs: ``read_ahead``); where the slices' tables take at most
        ``kernel_keep`` bytes, they are kept for the session's next run of the same assessed year, which then
        reads nothing (a reform's second run, at 1,000,000 entities: docs/population.md, "Issue 13, thirteenth
        round"). A slice's documents run side by side
        (``run_all``), each result stored as it comes. Every slice reads its numbers
        over at least the denominators of the slice before, so one compiled kernel serves them all. A document
        the kernel refuses in a later slice is taken out of the long table and left to SQL whole."""
        from huiqi.kernel.inputs import NoKernel, RowGroups, read_ahead, slices
        from huiqi.kernel.runner import prepare, run_all

        scenario = run.scenario
        pending = list(queries)
        ranges = slices(self.folder, self.kernel_slice)
        denominators: dict[str, int] = {}
        keyed = self._keyed()
        # of the history, only the assessed year's rows of the annual facts no rule reads at another year
        over_years = frozenset(annual_over_years((engine.documents[d] for d in pending), engine.catalogue))
        # a registry of several slices: read by an earlier run and kept, or read now, the next slice on a cursor of
        # its own while this one runs, and kept for the next run while the slices fit in ``kernel_keep``
        read_before = self._kernel_slices.get((scenario.period, over_years)) if len(ranges) > 1 else None
        cursor = self.connection.cursor() if len(ranges) > 1 and read_before is None else None
        keeping: list[Any] | None = [] if cursor is not None and self.kernel_keep > 0 else None
        size = 0
        kept = RowGroups()  # a row group of the entities that the next slice starts in
        try:
            tables: Iterable[Any] = [None]  # one slice: the registry read whole, once (``_kernel_inputs_of``)
            if read_before is not None:
                tables = read_before
            elif cursor is not None:
                tables = read_ahead(lambda rows: self._kernel_read(rows, cursor, keyed=keyed, period=scenario.period,
                                                                   over_years=over_years, kept=kept), ranges)  # fmt: skip
            for number, (rows, read) in enumerate(zip(ranges, tables, strict=True)):
                if keeping is not None:
                    size += sum(table.get_total_buffer_size() for table in read if table is not None)
                    # the slices are alike: where the first, times their number, would not fit, none is kept (at
                    # 10,000,000 entities not even the first slices are held until the budget runs out)
                    if size * (len(ranges) if number == 0 else 1) <= self.kernel_keep:
                        keeping.append(read)
                    else:  # too large to keep: each slice let go once run, as before
                        keeping = None
                inputs = self._kernel_inputs_of(engine, scenario, rows, denominators, read, over_years)
                runs = prepare(engine, pending, inputs, readings=dict(scenario.readings),
                               any_jurisdiction=scenario.any_jurisdiction, quarter=scenario.quarter)  # fmt: skip
                # where the loaded tables are keyed by the row in the file, each result's row key is its row in the
                # slice counted from the slice's first, and the kernel's arrays become the run's rows in its
                # threads; else (``_keyed``) the wide result takes its row key from ``entities`` by id
                make = partial(_kernel_rows, first=rows[0], offsets={d: o for d, (o, _) in queries.items()})
                for document, result in run_all(runs, make if keyed else None):
                    offset, query = queries[document]
                    if isinstance(result, NoKernel):
                        self.kernel_fallbacks[document] = result.message
                        pending.remove(document)
                        if number:  # the slices before are stored: SQL evaluates the document whole
                            self.connection.execute(f"DELETE FROM {quote_ident(run.name)} WHERE rule_no >= {offset} "
                                                    f"AND rule_no < {offset + len(query.rules)}")  # fmt: skip
                            self.connection.execute(f"DELETE FROM {quote_ident(run.prov)} "
                                                    f"WHERE document = {sql_string(document)}")  # fmt: skip
                        continue
                    try:
                        if isinstance(result, KernelRows):
                            self._store_rows(run, document, offset, query, result)
                        else:
                            label = f"_kernel_{document.replace('-', '_')}"
                            self.connection.register(label, result)
                            try:
                                self._store(run, document, offset, query, f"(SELECT e.{ROW_KEY}, r.* FROM "
                                            f"{quote_ident(label)} r JOIN (SELECT {ROW_KEY}, entity_id FROM entities) e "
                                            f"USING (entity_id))")  # fmt: skip
                            finally:
                                self.connection.unregister(label)
                    finally:  # the kernel's results are stored now: let them go
                        del result
                    if progress is not None and number == len(ranges) - 1:
                        progress(document)
                denominators = inputs.dens
                del runs, inputs, read
        finally:
            if cursor is not None:
                cursor.close()
        if keeping is not None:
            self._kernel_slices[(scenario.period, over_years)] = keeping
        return set(pending)

    def _kernel_inputs_of(
        self, engine: Engine, scenario: Scenario, rows: tuple[int, int], denominators: dict[str, int],
        tables: Tables | None, over_years: frozenset[str],
    ) -> Any:  # fmt: skip
        """The kernel's inputs of one slice: over ``tables``, the slice of a larger registry read for this run
        only; where None (the slice is the whole registry), its tables are read once per assessed year and set of
        annual facts read over the years, and its inputs kept per assessed year, evaluation date and that set (a
        reform's second run of the same scenario reuses them)."""
        from huiqi.kernel.inputs import Inputs

        def make(tables: Tables) -> Inputs:
            return Inputs(tables.entities, tables.history, engine.catalogue, scenario.period, scenario.as_of,
                          tables.ledger, denominators=denominators, current=tables.current)  # fmt: skip

        if tables is not None:
            return make(tables)
        read = (scenario.period, over_years)
        key = (scenario.period, scenario.as_of, over_years)
        if key not in self._kernel_inputs:
            if read not in self._kernel_tables:
                self._kernel_tables[read] = self._kernel_read(rows, self.connection, keyed=self._keyed(),
                                                              period=scenario.period, over_years=over_years)  # fmt: skip
            self._kernel_inputs[key] = make(self._kernel_tables[read])
        return self._kernel_inputs[key]

    def _keyed(self) -> bool:
        """Whether the loaded history and ledger are keyed by their entity's row in the file (``_kernel_read``)."""
        return "file_row_number" not in self.columns("entities")

    def _kernel_read(
        self, rows: tuple[int, int], connection: duckdb.DuckDBPyConnection, *, keyed: bool, period: int,
        over_years: frozenset[str], kept: RowGroups | None = None,
    ) -> Tables:  # fmt: skip
        """The kernel's tables of entities ``start`` to ``stop`` (rows of the file): the entities from their file,
        their history and ledger from the keyed tables the session loaded (``_row`` counted from ``start``), read
        on ``connection`` (the session's, or a cursor of it for a reader in another thread), so that a slice reads
        its own rows of them and nothing else; of the history, the annual facts not in ``over_years`` only at the
        assessed year ``period``. Not ``keyed`` (an entities file with a column of its own named
        ``file_row_number`` was keyed in an order of DuckDB's choosing): the tables are joined again by id.
        ``kept``: the entities' last row group read, kept for the next slice."""
        from huiqi.kernel.inputs import read_keyed, read_population

        if not keyed:
            return read_population(self.folder, self._facts, rows, period=period, over_years=over_years, kept=kept)
        # each result keyed by its row (``_kernel_rows``, ``KernelRun.run(first)``): the text ids are not read
        return read_keyed(connection, self.folder, self._facts, rows, period=period, over_years=over_years,
                          kept=kept, ids=False)  # fmt: skip

    def _results(self, sql: str, label: str) -> str:
        """The relation of one document's wide results, with the row key ``_k``: the query itself on DuckDB; on
        Spark, the Parquet files Spark wrote from the same query (transpiled to Spark SQL), where the key is the
        entity id: each result takes its row key from ``entities`` by that id."""
        if self.spark is None:
            return f"({sql})"
        from huiqi.compile.spark_runner import to_spark_sql

        path = Path(self._spill.name) / "spark" / label
        self.spark.sql(to_spark_sql(sql)).write.mode("overwrite").parquet(str(path))
        key = quote_ident(ROW_KEY)
        return (f"(SELECT e.{key}, r.* EXCLUDE ({key}) FROM read_parquet({sql_string(str(path / '*.parquet'))}) r "
                f"JOIN (SELECT {key}, entity_id FROM entities) e USING (entity_id))")  # fmt: skip

    def long_sql(self, run: Run) -> str:
        """Per-entity results in the documented long format (document, provision, rule, status name), each
        entity named by its id."""
        return (
            f"SELECT e.entity_id, u.document, u.provision, u.rule, {status_name_sql('r.status')} "
            f"AS status, r.amount_fen FROM {quote_ident(run.name)} r JOIN {quote_ident(run.rules_table)} u "
            f"USING (rule_no) JOIN (SELECT {ROW_KEY}, entity_id FROM entities) e USING ({ROW_KEY}) "
            f"ORDER BY e.entity_id, r.rule_no"
        )


def provisions_sql(table: str, document: str, query: DocumentQuery, relation: str) -> str:
    """The INSERT of one document's rows of a run's table of provisions from its wide results: per entity and
    provision with a rule that applies, the best status of its rules (the lowest code: ``not_applicable`` is
    the highest) and the money of its rules as ``SUM`` over the long table gives it (NULL where no rule has
    any). Made from each row's columns, so that millions of results are never grouped by entity: 0.95–1.23 s
    for the grouping of the long table at 1,000,000 entities, against 0.55–0.68 s for these inserts, the tables
    identical row for row."""
    rules: dict[str, list[RuleColumns]] = {}
    for rule in query.rules:
        rules.setdefault(rule.provision, []).append(rule)

    def paid(columns: RuleColumns, code: int) -> str:
        return f"CASE WHEN {quote_ident(columns.status)} = {code} THEN {columns.amount_sql()} END"

    def total(terms: list[str]) -> str:  # SUM's: NULL where every term is, else the sum of the others
        if not terms:
            return "CAST(NULL AS HUGEINT)"
        if len(terms) == 1:
            return f"CAST({terms[0]} AS HUGEINT)"
        added = " + ".join(f"COALESCE(CAST({t} AS HUGEINT), 0)" for t in terms)
        return f"(CASE WHEN COALESCE({', '.join(terms)}) IS NOT NULL THEN {added} END)"

    lists: dict[str, list[str]] = {
        n: [] for n in ("provision", "status", "cost_fen", "ceiling_fen", "review_ceiling_fen")
    }
    for provision, of_provision in rules.items():
        priced = [c for c in of_provision if c.amount is not None]
        lists["provision"].append(sql_string(provision))
        lists["status"].append(f"LEAST({', '.join(quote_ident(c.status) for c in of_provision)})")
        lists["cost_fen"].append(total([paid(c, ELIGIBLE) for c in priced if not c.is_ceiling]))
        lists["ceiling_fen"].append(total([paid(c, ELIGIBLE) for c in priced if c.is_ceiling]))
        lists["review_ceiling_fen"].append(total([paid(c, REVIEW) for c in priced]))
    unnested = ", ".join(f"UNNEST([{', '.join(values)}]) AS {name}" for name, values in lists.items())
    return (
        f"INSERT INTO {table} SELECT {ROW_KEY}, {sql_string(document)}, {', '.join(lists)} "
        f"FROM (SELECT {ROW_KEY}, {unnested} FROM {relation}) WHERE status <> {NOT_APPLICABLE}"
    )


@dataclass
class KernelRows:
    """One document's results over a slice as rows of a run's tables, made from the kernel's arrays: the long
    table's and the table of provisions' (None where a sum left 64 bits: then ``wide``, the kernel's wide
    result, for SQL to sum over 128 bits)."""

    long: pa.Table
    provisions: pa.Table | None
    wide: pa.Table | None = None


def _kernel_rows(kernel: Any, *, first: int, offsets: dict[str, int]) -> KernelRows:
    """A document's kernel run (``huiqi.kernel.runner.KernelRun``) over a slice whose first entity has the row key
    ``first``, its results made into the rows of the run's long table (rules numbered from the document's
    offset) and of its table of provisions, in the kernel's thread (``run_all``): what DuckDB's UNNEST of the
    wide result did in the session's thread, at 1,000,000 entities 1.7 s of a run's 4.0 s."""
    import numpy as np

    from huiqi.kernel import encode
    from huiqi.kernel.codegen import NO_AMOUNT

    computed = kernel.compute(first, bitmaps=False)
    rules = kernel.query.rules
    status, amount, keys = computed.status, computed.amount, computed.keys
    priced = np.zeros(len(rules), dtype=np.bool_)
    priced[computed.priced] = True
    money = np.zeros(len(Status), dtype=np.bool_)
    money[list(MONEY_CODES)] = True
    size = encode.applicable(status, NOT_APPLICABLE)
    key, rule, code = np.empty(size, np.int32), np.empty(size, np.int32), np.empty(size, np.int8)
    paid, fen = np.empty(size, np.bool_), np.empty(size, np.int64)
    encode.long_rows(status, amount, priced, NO_AMOUNT, keys, offsets[kernel.query.document], NOT_APPLICABLE, money,
                     key, rule, code, fen, paid)  # fmt: skip
    long = pa.table({ROW_KEY: key, "rule_no": rule, "status": code, "amount_fen": pa.array(fen, mask=~paid)})
    groups: dict[str, list[int]] = {}
    for index, columns in enumerate(rules):
        groups.setdefault(columns.provision, []).append(index)
    members = np.array([i for group in groups.values() for i in group], dtype=np.int64)
    starts = np.cumsum([0, *(len(group) for group in groups.values())]).astype(np.int64)
    ceiling = np.array([c.is_ceiling for c in rules], dtype=np.bool_)
    size = encode.provisions_applicable(status, members, starts, NOT_APPLICABLE)
    key, which, code = np.empty(size, np.int32), np.empty(size, np.int32), np.empty(size, np.int8)
    sums, present = np.empty((size, 3), np.int64), np.empty((size, 3), np.bool_)
    if not encode.provision_rows(status, amount, priced, ceiling, NO_AMOUNT, keys, members, starts, NOT_APPLICABLE,
                                 ELIGIBLE, REVIEW, key, which, code, sums, present):  # fmt: skip
        return KernelRows(long, None, kernel.run(first))
    names = pa.DictionaryArray.from_arrays(pa.array(which), pa.array(list(groups), pa.string()))
    provisions = pa.table({ROW_KEY: key, "provision": names, "status": code} | {
        column: pa.array(sums[:, i], mask=~present[:, i])
        for i, column in enumerate(("cost_fen", "ceiling_fen", "review_ceiling_fen"))
    })  # fmt: skip
    return KernelRows(long, provisions)
