"""What a simulation hands back: summary tables, large per-entity exports, charts and notes.

The same ``Report`` is written as Parquet, CSV, Excel, PNG and HTML (``outputs``) and printed by the CLI.
Summary tables are small Arrow tables; exports are SQL over the session's DuckDB connection, written
straight to files so that millions of rows never pass through Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


@dataclass
class Table:
    """A summary table: ``name`` is the file stem, ``title`` the Chinese heading."""

    name: str
    title: str
    data: pa.Table
    #: columns the command line prints (none: the table is only written to files)
    console: tuple[str, ...] = ()


@dataclass
class Export:
    """A per-entity table written by DuckDB (``sql`` runs on the session's connection)."""

    name: str
    title: str
    sql: str


@dataclass
class Chart:
    """A PNG chart."""

    name: str
    title: str
    png: bytes


@dataclass
class Report:
    """Everything one ``huiqi simulate`` run writes."""

    title: str
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    #: the short title of each document, for display (the data keep the ids)
    titles: dict[str, str] = field(default_factory=dict)

    def table(self, name: str) -> pa.Table:
        for table in self.tables:
            if table.name == name:
                return table.data
        raise KeyError(name)

    def extend(self, other: Report) -> None:
        """Append another report's notes (those not already there), tables, exports and charts (e.g. a
        budget after a simulation)."""
        self.notes.extend(note for note in other.notes if note not in self.notes)
        self.tables.extend(other.tables)
        self.exports.extend(other.exports)
        self.charts.extend(other.charts)
        self.titles.update(other.titles)
