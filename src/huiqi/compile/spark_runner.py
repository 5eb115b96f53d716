"""Run the same compiled document queries on Spark (local mode in tests, a cluster in production).

The DuckDB-dialect SQL of ``huiqi.compile.document`` is transpiled by sqlglot to Spark SQL; the
population is read from Parquet (``entities.parquet``, ``history.parquet``, ``ledger.parquet``), so the
same files serve both engines and a cluster reads them from shared storage.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot

from huiqi.engine.evaluate import Engine

from .document import DocumentQuery, build_document_query
from .tables import ROW_KEY


def to_spark_sql(sql: str) -> str:
    """DuckDB SQL → Spark SQL (sqlglot), with the two functions whose names differ in meaning fixed."""
    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def spark_session(master: str = "local[2]") -> Any:
    """A Spark session configured for exact decimals and a small machine (import is deferred: pyspark is optional)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)  # type: ignore[attr-defined]
    return (
        SparkSession.builder.master(master)
        .appName("huiqi")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


class SparkRunner:
    """Population evaluation on Spark over Parquet files."""

    def __init__(self, engine: Engine, session: Any) -> None:
        self.engine = engine
        self.spark = session
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    def load_parquet(self, folder: Path | str) -> None:
        """Register ``entities``, ``history`` and ``ledger`` from the Parquet files in a folder: a local path,
        or a location on the cluster's shared storage given as text (``s3a://bucket/registry``, ``hdfs://…``).

        On Spark the row key ``_k`` is the entity id itself: a cluster joins on it as well as on a number,
        and no numbering pass over the registry is needed.
        """
        location = str(folder).rstrip("/")
        for name in ("entities", "history", "ledger"):
            frame = self.spark.read.parquet(f"{location}/{name}.parquet")
            frame.selectExpr(f"entity_id AS {ROW_KEY}", "*").createOrReplaceTempView(name)

    def close(self) -> None:
        """Remove the private Parquet folder written by ``load_arrow``."""
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def load_arrow(self, entities: pa.Table, history: pa.Table, ledger: pa.Table) -> None:
        """Write Arrow tables to a private Parquet folder and register them."""
        self.close()
        self._folder = tempfile.TemporaryDirectory(prefix="huiqi-spark-")
        folder = Path(self._folder.name)
        for name, table in (("entities", entities), ("history", history), ("ledger", ledger)):
            pq.write_table(table, folder / f"{name}.parquet")
        self.load_parquet(folder)

    def evaluate(
        self, document: str, *, period: int, as_of: dt.date, readings: dict[str, str] | None = None,
        any_jurisdiction: bool = False, quarter: int | None = None,
    ) -> tuple[DocumentQuery, list[dict[str, Any]]]:  # fmt: skip
        resolved = self.engine.resolve_readings(readings or {})
        query = build_document_query(
            self.engine.documents[document], self.engine.catalogue, period=period, as_of=as_of, readings=resolved,
            any_jurisdiction=any_jurisdiction, quarter=quarter,
        )  # fmt: skip
        rows = self.spark.sql(to_spark_sql(query.sql)).collect()
        return query, [row.asDict() for row in rows]
