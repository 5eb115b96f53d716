"""Run compiled document queries on DuckDB, in process.

A population is loaded into three DuckDB tables with the row key ``_k`` (``ROW_KEY``): a dense integer
numbering the entities, carried onto their history rows (in place of the text id, which the history then
does not keep) and ledger rows, so that every join of the document queries is on one integer column.
Loading reads each Parquet file once; DuckDB keeps the tables in its buffer pool and spills them to its
temporary folder when they do not fit in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa

from huiqi.engine.evaluate import Engine
from huiqi.errors import HuiqiError

from .document import DocumentQuery, build_document_query
from .shape import PopulationShape
from .sql import quote_ident, sql_string
from .tables import ROW_KEY

TABLES = ("entities", "history", "ledger")
#: the columns every load keeps, whatever facts are asked for (not the entity's name, which no query reads:
#: a million names cost 0.07 s of a 0.5 s load)
STRUCTURAL = {"entities": ("entity_id", "entity_type", "region"), "history": ("entity_id", "year"),
              "ledger": ("entity_id", "rule", "period", "amount_fen", "tier", "quarter")}  # fmt: skip


class PopulationError(HuiqiError):
    """A population folder or file is missing or malformed."""


class DuckDBRunner:
    """Population evaluation on one DuckDB connection holding ``entities``, ``history`` and ``ledger``."""

    def __init__(self, engine: Engine, connection: duckdb.DuckDBPyConnection | None = None) -> None:
        self.engine = engine
        self.connection = connection or duckdb.connect()
        #: what the tables this runner loaded hold (read on the first query after a load); None for tables
        #: it did not load, which the queries then test in full
        self._shape: PopulationShape | None = None
        self._types: frozenset[str | None] = frozenset()
        self._ledger_rules: frozenset[str] = frozenset()
        self._loaded = False

    def for_engine(self, engine: Engine) -> DuckDBRunner:
        """A runner of another engine (a reform's, say) over the tables this one loaded, knowing their shape."""
        other = DuckDBRunner(engine, self.connection)
        # one shape for both, so that each jurisdiction's split is counted once
        other._shape, other._loaded = self.shape(), self._loaded
        return other

    def load_arrow(self, entities: pa.Table, history: pa.Table, ledger: pa.Table) -> None:
        """Make Arrow tables the population (copied into DuckDB tables)."""
        con = self.connection
        for name, table in zip(TABLES, (entities, history, ledger), strict=True):
            con.register(f"_{name}_arrow", table)
        try:
            self._load({name: f"_{name}_arrow" for name in TABLES}, where={name: name for name in TABLES})
        finally:
            for name in TABLES:
                con.unregister(f"_{name}_arrow")

    def load_parquet(self, folder: Path, *, facts: Iterable[str] | None = None, copy_entities: bool = True) -> None:
        """Load the Parquet files of a population folder (``entities``, ``history``, ``ledger``).

        ``facts``: load only these fact columns (with the structural ones): the facts the documents to be
        evaluated read (``huiqi.compile.facts.facts_read``); the other columns are not read from the files
        at all. None loads every column.

        ``copy_entities=False`` makes ``entities`` a view over the file instead of a table: each query then
        decodes the columns it reads, and the load writes nothing but the keyed history and ledger. Writing a
        table costs DuckDB about 7 ms a column for a million rows, twice what decoding it costs, so where each
        column is read once (one run of ``huiqi simulate``) the view is faster in all, and it holds no memory:
        a million entities × 5 years with the seed base's facts load in 1.2 s instead of 2.3–2.7 s, and load
        and evaluation of the four documents with rules take 3.0–3.6 s instead of 4.3–4.5 s
        (docs/population.md). A query repeated over the same columns is faster on the copy. The file must not change while the runner reads it. (A file
        with its own ``file_row_number`` column is copied whatever is asked: the view numbers rows by it.)
        """
        con = self.connection
        paths = {name: folder / f"{name}.parquet" for name in TABLES}
        for name, path in paths.items():
            if not path.exists():
                raise PopulationError(
                    f"人口数据目录缺少 {name}.parquet：{folder}（可用 huiqi population generate 生成样例）"
                )
        present = {
            name: [
                row[0]
                for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_string(str(path))})").fetchall()
            ]
            for name, path in paths.items()
        }
        keep = None if facts is None else set(facts)

        def columns(name: str) -> str:
            if keep is None:
                return "*"
            wanted = [c for c in present[name] if c in STRUCTURAL[name] or c in keep]
            return ", ".join(quote_ident(c) for c in wanted) or "*"  # nothing known: _load says what is missing

        sources = {
            name: f"(SELECT {columns(name)} FROM read_parquet({sql_string(str(path))}))" for name, path in paths.items()
        }
        # the row key from the file's own row numbers: a parallel scan, where row_number() OVER () is one
        # sequential window over the whole table (0.37 → 0.26 s for a million entities)
        numbered = f"read_parquet({sql_string(str(paths['entities']))}, file_row_number = true)"
        if keep is not None:
            numbered = f"(SELECT {columns('entities')}, file_row_number FROM {numbered})"
        usable = "file_row_number" not in present["entities"]
        self._load(
            sources, where={name: str(path) for name, path in paths.items()}, numbered=numbered if usable else None,
            view=usable and not copy_entities,
        )  # fmt: skip

    def _load(
        self, sources: dict[str, str], *, where: dict[str, str], numbered: str | None = None, view: bool = False
    ) -> None:
        """The three tables from three relations, keyed by ``_k``; refuses a repeated ``entity_id``.

        ``numbered``: the entity relation with a dense ``file_row_number`` column, used as the key; ``view``:
        ``entities`` a view over it rather than a table.
        """
        con = self.connection
        self._shape, self._loaded = None, False
        key = quote_ident(ROW_KEY)
        extra = {"history": "", "ledger": ""}
        for name, source in sources.items():
            columns = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
            if "entity_id" not in columns:
                raise PopulationError(f"{name} 缺少列 entity_id（格式见 docs/population.md）", where=where[name])
            if name == "ledger" and "quarter" not in columns:  # a ledger written before awards had quarters
                extra["ledger"] = ", CAST(NULL AS INTEGER) AS quarter"
        # a view and a table cannot replace each other: the earlier one goes first
        earlier = con.execute(
            "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = 'entities' AND schema_name = 'main' "
            "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = 'entities' AND schema_name = 'main'"
        ).fetchall()
        for (kind,) in earlier:
            con.execute(f"DROP {kind} entities")
        if numbered is not None:
            con.execute(
                f"CREATE {'VIEW' if view else 'TABLE'} entities AS SELECT CAST(file_row_number AS INTEGER) AS {key}, "
                f"* EXCLUDE (file_row_number) FROM {numbered}"
            )
        else:
            con.execute(
                f"CREATE TABLE entities AS SELECT CAST(row_number() OVER () - 1 AS INTEGER) AS {key}, * "
                f"FROM {sources['entities']}"
            )
        # one pass for the check of repeated ids and the entity types present (the population shape)
        distinct, rows, types, untyped = con.execute(
            "SELECT count(DISTINCT entity_id), count(*), list(DISTINCT entity_type), count(*) - count(entity_type) "
            "FROM entities"
        ).fetchall()[0]
        repeated = [] if distinct == rows else con.execute(
            "SELECT entity_id, count(*) FROM entities GROUP BY entity_id HAVING count(*) > 1 ORDER BY entity_id LIMIT 1"
        ).fetchall()  # fmt: skip
        if repeated:
            entity_id, count = repeated[0]
            raise PopulationError(
                f"主体表中 entity_id {entity_id!r} 出现 {count} 次：每个主体只能有一行", where=where["entities"]
            )
        for name in ("history", "ledger"):
            # rows of entities the entity table does not hold have nothing to attach to and are left out; the
            # history keeps the row key alone (its text ids were 5,000,000 strings written for nothing: 0.11 s
            # of a million entities' load), the ledger, a few rows per award, keeps its ids
            kept = "t.* EXCLUDE (entity_id)" if name == "history" else "t.*"
            con.execute(
                f"CREATE OR REPLACE TABLE {name} AS SELECT e.{key}, {kept}{extra[name]} FROM {sources[name]} t "
                f"JOIN (SELECT {key}, entity_id FROM entities) e USING (entity_id)"
            )
        types = types or []  # list(…) over no rows is null
        self._types = frozenset([*types, None] if untyped else types)  # list(DISTINCT …) leaves nulls out
        # the rules the ledger names (a few rows per award: one grouping of a small table)
        self._ledger_rules = frozenset(con.execute("SELECT list(DISTINCT rule) FROM ledger").fetchall()[0][0] or [])
        self._loaded = True

    def shape(self) -> PopulationShape | None:
        """The entity types and regions of the loaded entity table and the rules its ledger names
        (``huiqi.compile.shape``), read on the first query after a load (the entity types present come from
        the load's check of repeated ids, the rules from the ledger once loaded; each jurisdiction's split is
        counted when a document first asks for it: 0.015 s for a million entities); None before this runner
        loads."""
        if self._shape is None and self._loaded:
            con = self.connection

            def count_regions(region: str) -> tuple[int, int, int]:
                return count_many([region])[region]

            def count_many(regions: list[str]) -> dict[str, tuple[int, int, int]]:
                inside = ", ".join(
                    f"count(*) FILTER (WHERE list_contains(region, ${n + 1}))" for n in range(len(regions))
                )
                *counts, unknown, total = con.execute(
                    f"SELECT {inside}, count(*) FILTER (WHERE region IS NULL OR len(region) = 0), count(*) "
                    "FROM entities",
                    regions,
                ).fetchall()[0]
                return {r: (n, unknown, total - n - unknown) for r, n in zip(regions, counts, strict=True)}

            self._shape = PopulationShape(self._types, count_regions, self._ledger_rules, count_many)
        return self._shape

    def count_jurisdictions(self, documents: Iterable[str]) -> None:
        """How the loaded entities split over the documents' jurisdictions, counted in one pass before their
        queries ask for each (``PopulationShape.count``)."""
        shape = self.shape()
        if shape is not None:
            shape.count(self.engine.documents[d].loaded.policy.document.jurisdiction.region for d in documents)

    def query(
        self, document: str, *, period: int, as_of: dt.date, readings: dict[str, str] | None = None,
        any_jurisdiction: bool = False, quarter: int | None = None, row_key: bool = False,
    ) -> DocumentQuery:  # fmt: skip
        """The document's query over the loaded tables (``build_document_query``; ``row_key``: its results carry
        their entity's row key ``_k``)."""
        resolved = self.engine.resolve_readings(readings or {})
        return build_document_query(
            self.engine.documents[document], self.engine.catalogue, period=period, as_of=as_of, readings=resolved,
            any_jurisdiction=any_jurisdiction, quarter=quarter, shape=self.shape(), row_key=row_key,
        )  # fmt: skip

    def evaluate(
        self, document: str, *, period: int, as_of: dt.date, readings: dict[str, str] | None = None,
        any_jurisdiction: bool = False, quarter: int | None = None,
    ) -> tuple[DocumentQuery, pa.Table]:  # fmt: skip
        """The document's wide result: ``entity_id`` and each rule's status code and amount, one row per
        entity the document can reach (the rest are not applicable)."""
        query = self.query(document, period=period, as_of=as_of, readings=readings, any_jurisdiction=any_jurisdiction,
                           quarter=quarter)  # fmt: skip
        return query, self.connection.sql(query.sql).to_arrow_table()

    def evaluate_all(
        self, documents: list[str], *, period: int, as_of: dt.date, readings: dict[str, str] | None = None,
        any_jurisdiction: bool = False, table_prefix: str = "result_",
    ) -> dict[str, tuple[DocumentQuery, str]]:  # fmt: skip
        """Evaluate several documents into DuckDB tables (``result_<document>``, as ``evaluate``).

        Returns, per document, its query and the name of its result table.
        """
        results = {}
        if not any_jurisdiction:
            self.count_jurisdictions(documents)
        for document in documents:
            query = self.query(
                document, period=period, as_of=as_of, readings=readings, any_jurisdiction=any_jurisdiction
            )
            table = table_prefix + document.replace("-", "_")
            self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS {query.sql}")
            results[document] = (query, table)
        return results
