"""Run profiles through the scalar engine and a SQL runner side by side, and list every difference.

Used by the parity tests (every policy case, random populations, exact rounding).
Compared for every entity and rule: the status; and the amount to the fen wherever the scalar engine
fixes one (eligible, needs_review, excluded).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import Profile
from huiqi.engine.results import Status

from .document import CODE_STATUS, DocumentQuery
from .tables import profiles_to_tables

COMPARED_AMOUNTS = (Status.ELIGIBLE, Status.NEEDS_REVIEW, Status.EXCLUDED)


@dataclass(frozen=True)
class Batch:
    """Profiles evaluated together: same document, date, assessed year, readings and jurisdiction rule."""

    document: str
    as_of: dt.date
    period: int
    readings: tuple[tuple[str, str], ...]
    any_jurisdiction: bool
    quarter: int | None = None


Runner = Callable[[Batch, pa.Table, pa.Table, pa.Table], tuple[DocumentQuery, list[dict[str, Any]]]]


def differences(engine: Engine, batch: Batch, profiles: list[Profile], run: Runner) -> tuple[int, list[str]]:
    """(number of rule results compared, descriptions of every difference)."""
    ids = [f"e{i}" for i in range(len(profiles))]
    tables = profiles_to_tables(list(zip(ids, profiles, strict=True)), engine.catalogue, period=batch.period,
                                ledger_alias=engine._ledger_alias)  # fmt: skip
    query, rows = run(batch, *tables)
    by_id = {row["entity_id"]: row for row in rows}
    options = Options(as_of=batch.as_of, period=batch.period, documents=(batch.document,), readings=dict(batch.readings),
                      any_jurisdiction=batch.any_jurisdiction, quarter=batch.quarter)  # fmt: skip
    compared = 0
    found: list[str] = []
    for entity_id, profile in zip(ids, profiles, strict=True):
        scalar = engine.evaluate(profile, options)
        row = by_id.get(entity_id)  # no row: outside the document's jurisdiction, every rule not applicable
        for column in query.rules:
            compared += 1
            expected = scalar.rule(column.ref)
            status = CODE_STATUS[row[column.status]] if row else Status.NOT_APPLICABLE
            amount = row[column.amount] if row and column.amount else None
            same_amount = (
                expected.status not in COMPARED_AMOUNTS or expected.amount_fen is None or amount == expected.amount_fen
            )
            if status is not expected.status or not same_amount:
                found.append(
                    f"{entity_id} {column.ref}: scalar {expected.status.value} {expected.amount_fen} "
                    f"({expected.reason}) ≠ sql {status.value} {amount}"
                )
    return compared, found


def duckdb_run(engine: Engine) -> Runner:
    """A runner evaluating each batch on a fresh in-memory DuckDB."""
    from .duckdb_runner import DuckDBRunner

    def run(
        batch: Batch, entities: pa.Table, history: pa.Table, ledger: pa.Table
    ) -> tuple[DocumentQuery, list[dict[str, Any]]]:
        runner = DuckDBRunner(engine)
        runner.load_arrow(entities, history, ledger)
        query, table = runner.evaluate(batch.document, period=batch.period, as_of=batch.as_of,
                                       readings=dict(batch.readings), any_jurisdiction=batch.any_jurisdiction,
                                       quarter=batch.quarter)  # fmt: skip
        return query, table.to_pylist()

    return run


def spark_run(engine: Engine, session: Any) -> Runner:
    """A runner evaluating each batch on a Spark session (through Parquet files)."""
    from .spark_runner import SparkRunner

    def run(
        batch: Batch, entities: pa.Table, history: pa.Table, ledger: pa.Table
    ) -> tuple[DocumentQuery, list[dict[str, Any]]]:
        runner = SparkRunner(engine, session)
        runner.load_arrow(entities, history, ledger)
        try:
            return runner.evaluate(batch.document, period=batch.period, as_of=batch.as_of, readings=dict(batch.readings),
                                   any_jurisdiction=batch.any_jurisdiction, quarter=batch.quarter)  # fmt: skip
        finally:
            runner.close()

    return run
