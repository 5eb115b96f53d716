"""Run compiled document queries on DuckDB, in process."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from huiqi.engine.evaluate import Engine
from huiqi.errors import HuiqiError

from .document import BaseNeeds, DocumentQuery, base_relation, build_document_query
from .sql import quote_ident, sql_string


class PopulationError(HuiqiError):
    """A population folder or file is missing or malformed."""


class DuckDBRunner:
    """Population evaluation on one DuckDB connection holding ``entities``, ``history`` and ``ledger``."""

    def __init__(self, engine: Engine, connection: duckdb.DuckDBPyConnection | None = None) -> None:
        self.engine = engine
        self.connection = connection or duckdb.connect()

    def load_arrow(self, entities: pa.Table, history: pa.Table, ledger: pa.Table) -> None:
        """Make Arrow tables the population (copied into DuckDB tables)."""
        con = self.connection
        for name, table in (("entities", entities), ("history", history), ("ledger", ledger)):
            con.register(f"_{name}_arrow", table)
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _{name}_arrow")
            con.unregister(f"_{name}_arrow")

    def load_parquet(self, folder: Path) -> None:
        """Make the Parquet files of a population folder the population, as views: DuckDB streams them, so a
        registry larger than memory is read in pieces rather than loaded whole."""
        for name in ("entities", "history", "ledger"):
            path = folder / f"{name}.parquet"
            if not path.exists():
                raise PopulationError(
                    f"人口数据目录缺少 {name}.parquet：{folder}（可用 huiqi population generate 生成样例）"
                )
            self.connection.execute(
                f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({sql_string(str(path))})"
            )

    def query(
        self, document: str, *, period: int, as_of: dt.date, readings: dict[str, str] | None = None,
        any_jurisdiction: bool = False,
    ) -> DocumentQuery:  # fmt: skip
        resolved = self.engine.resolve_readings(readings or {})
        return build_document_query(
            self.engine.documents[document], self.engine.catalogue, period=period, as_of=as_of, readings=resolved,
            any_jurisdiction=any_jurisdiction,
        )  # fmt: skip

    def evaluate(
        self, document: str, *, period: int, as_of: dt.date, readings: dict[str, str] | None = None,
        any_jurisdiction: bool = False,
    ) -> tuple[DocumentQuery, pa.Table]:  # fmt: skip
        """The document's wide result: ``entity_id`` and each rule's status code and amount."""
        query = self.query(document, period=period, as_of=as_of, readings=readings, any_jurisdiction=any_jurisdiction)
        return query, self.connection.sql(query.sql).to_arrow_table()

    def evaluate_all(
        self, documents: list[str], *, period: int, as_of: dt.date, readings: dict[str, str] | None = None,
        any_jurisdiction: bool = False, table_prefix: str = "result_",
    ) -> dict[str, tuple[DocumentQuery, str]]:  # fmt: skip
        """Evaluate several documents into DuckDB tables (``result_<document>``), sharing one base relation.

        The history pivot and ledger aggregates all documents need are computed once into ``base_all``.
        Returns, per document, its query and the name of its result table.
        """
        resolved = self.engine.resolve_readings(readings or {})
        queries = {
            document: build_document_query(
                self.engine.documents[document], self.engine.catalogue, period=period, as_of=as_of, readings=resolved,
                any_jurisdiction=any_jurisdiction, base_table="base_all",
            )
            for document in documents
        }  # fmt: skip
        needs = BaseNeeds()
        for query in queries.values():
            needs.merge(query.needs)
        self.connection.execute(
            f"CREATE OR REPLACE TEMP TABLE base_all AS WITH {base_relation(needs, period, ids_only=True)} SELECT * FROM base"
        )
        results = {}
        for document, query in queries.items():
            table = table_prefix + document.replace("-", "_")
            self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS {query.sql}")
            results[document] = (query, table)
        return results
