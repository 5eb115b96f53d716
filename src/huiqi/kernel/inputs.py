"""The kernel's inputs: one aligned numpy array per value a document reads, with its known mask.

Every array is read from the population's Arrow tables (``entities`` and the assessed year's rows of
``history``, aligned to the entities by ``entity_id``), once per input however many rules read it:

- money: int64 fen, as stored;
- numbers (``DECIMAL(38, 9)``): int64 numerators over the smallest power of ten that holds every value of the
  column exactly (1 for counts and levels), read from the decimal's own 128-bit words without a cast;
- yes/no: bool; dates: int64 days since 1970-01-01;
- what the code would otherwise compare as text (``industry == '软件'``, ``'高新技术企业' in certifications``,
  ``in_region('苏州市')``, the rule's entity types): bool, decided here over the whole column.

A null is *unknown*: its mask is False and its value 0. A value the kernel cannot hold exactly raises
``NoKernel``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from huiqi.compile.tables import arrow_type
from huiqi.errors import HuiqiError
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import Catalogue, Period


class NoKernel(HuiqiError):
    """A document, or a value of the population, the kernel does not compile: evaluate it with SQL."""


#: an input: ("fact", key) | ("at", key, year offset) | ("max_before", key) | ("year", key) |
#: ("years_since", key) | ("text_in", key, (texts…)) | ("set_has", key, text) | ("in_region", text) |
#: ("applies", (entity types…))
Spec = tuple[Any, ...]


@dataclass
class Inputs:
    """The arrays of one population for one assessed year and evaluation date, made on request."""

    entities: pa.Table
    history: pa.Table
    catalogue: Catalogue
    period: int
    as_of: dt.date
    #: the awards paid (``entity_id``, ``rule``, ``period``, ``amount_fen``, ``tier``); None: none
    ledger: pa.Table | None = None
    arrays: dict[Spec, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    dens: dict[str, int] = field(default_factory=dict)
    _years: dict[int, tuple[pa.Table, pa.Array]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return int(self.entities.num_rows)

    def get(self, spec: Spec) -> tuple[np.ndarray, np.ndarray]:
        """(values, known) of one input, read once."""
        if spec not in self.arrays:
            self.arrays[spec] = self._read(spec)
        return self.arrays[spec]

    def den(self, spec: Spec) -> int:
        """The denominator of a number input's numerators (reads the column)."""
        self.get(spec)
        kind = spec[0]
        return self.dens.get(spec[1] if kind == "fact" else f"{kind}:{spec[1]}:{spec[2] if kind == 'at' else ''}", 1)

    def _column(self, key: str, offset: int = 0) -> pa.Array:
        """A fact's column aligned to the entities: an annual fact at the assessed year plus ``offset``."""
        fact = self.catalogue[key]
        if fact.period is Period.ANNUAL:
            year, positions = self._year(self.period + offset)
            if key not in year.column_names:  # a fact the registry does not hold: unknown for every entity
                return pa.nulls(self.rows, type=arrow_type(fact))
            column = year[key].take(positions)
        else:
            if key not in self.entities.column_names:
                return pa.nulls(self.rows, type=arrow_type(fact))
            column = self.entities[key]
        return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column

    def _year(self, year: int) -> tuple[pa.Table, pa.Array]:
        """The history rows of one year and, per entity, the position of its row there (null: none)."""
        if year not in self._years:
            rows = self.history.filter(pc.equal(self.history["year"], year))
            self._years[year] = (rows, pc.index_in(self.entities["entity_id"], value_set=rows["entity_id"]))
        return self._years[year]

    def _ledger(self, what: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
        """One ledger aggregate per entity, as the SQL compiler's (``huiqi.compile.document.base_relation``) and
        the scalar engine's ``Env.paid`` read it; 0 where the ledger holds nothing, and always known."""
        zeros = np.zeros(self.rows, dtype=np.int64)
        known = np.ones(self.rows, dtype=np.bool_)
        if self.ledger is None or self.ledger.num_rows == 0:
            return zeros, known
        kind, ref = what[0], what[1]
        period = self.period
        rule = "rule = $ref"
        sql = {
            "paid": f"SUM(amount_fen) FILTER (WHERE {rule})",
            "paidp": f"SUM(amount_fen) FILTER (WHERE {rule} AND period = {period})",
            "years": f"COUNT(DISTINCT period) FILTER (WHERE {rule})",
            "prov": "SUM(amount_fen) FILTER (WHERE starts_with(rule, $ref || '/'))",
            "tier": f"COUNT(*) FILTER (WHERE {rule} AND tier = $extra)",
            "each": f"COUNT(DISTINCT period) FILTER (WHERE {rule} AND period BETWEEN {period} - $extra AND {period - 1})",
            "xdup": "COUNT(*) FILTER (WHERE amount_fen > 0 AND (list_contains($ref, rule) OR "
            f"(list_contains($extra, rule) AND period = {period})))",
        }
        con = duckdb.connect()
        try:
            con.register("ledger", self.ledger)
            parameters: dict[str, Any] = {"ref": list(ref) if isinstance(ref, tuple) else ref}
            if kind == "last":  # the total of the latest year paid before the assessed one
                # the period is an int; the references are bound parameters
                query = (
                    f"SELECT entity_id, SUM(amount_fen) AS v FROM ledger l WHERE {rule} AND period = "  # noqa: S608
                    f"(SELECT MAX(period) FROM ledger m WHERE m.entity_id = l.entity_id AND m.rule = $ref AND "
                    f"m.period < {period}) GROUP BY entity_id"
                )
            else:
                if len(what) > 2:
                    parameters["extra"] = list(what[2]) if isinstance(what[2], tuple) else what[2]
                query = f"SELECT entity_id, CAST({sql[kind]} AS BIGINT) AS v FROM ledger GROUP BY entity_id"  # noqa: S608
            found: pa.Table = con.sql(query, params=parameters).to_arrow_table()
        finally:
            con.close()
        positions = pc.index_in(self.entities["entity_id"], value_set=found["entity_id"])
        values = pc.fill_null(found["v"].cast(pa.int64()).take(positions), 0)
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64), known

    def series_start(self) -> int:
        """The first year of ``series`` inputs: the history's earliest year (the assessed year when empty)."""
        if self.history.num_rows == 0:
            return self.period
        return min(int(pc.min(self.history["year"]).as_py()), self.period)

    def _series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """An annual fact from ``series_start`` to the assessed year: (entities × years) values and known."""
        start = self.series_start()
        years = range(start, self.period + 1)
        fact = self.catalogue[key]
        values = np.zeros((self.rows, len(years)), dtype=np.int64)
        known = np.zeros((self.rows, len(years)), dtype=np.bool_)
        if fact.type not in (Type.MONEY, Type.NUMBER):
            raise NoKernel(f"sum_years() 只累加金额或数值（{key}）")
        for column, year in enumerate(years):
            value, present = self._read(("at", key, year - self.period))
            if self.dens.get(f"at:{key}:{year - self.period}", 1) != 1:
                raise NoKernel(f"sum_years() 累加的 {key} 含小数：由 SQL 计算")
            values[:, column], known[:, column] = value, present
        return values, known

    def _max_before(self, key: str) -> pa.Array:
        """The largest value of an annual fact before the assessed year; 0 for an entity established in the
        assessed year or later that has none (as ``huiqi.engine.compiler._max_before``)."""
        fact = self.catalogue[key]
        if key not in self.history.column_names:
            column = pa.nulls(self.rows, type=arrow_type(fact))
        else:
            earlier = self.history.filter(pc.less(self.history["year"], self.period))
            grouped = earlier.group_by("entity_id").aggregate([(key, "max")])
            positions = pc.index_in(self.entities["entity_id"], value_set=grouped["entity_id"])
            column = grouped[f"{key}_max"].take(positions).combine_chunks()
        if "established_on" in self.catalogue and "established_on" in self.entities.column_names:
            founded = pc.year(self.entities["established_on"])
            new = pc.fill_null(pc.greater_equal(founded, self.period), False)
            column = pc.if_else(pc.and_(pc.is_null(column), new), pa.scalar(0).cast(column.type), column)
        return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column

    def _read(self, spec: Spec) -> tuple[np.ndarray, np.ndarray]:
        kind = spec[0]
        if kind == "ledger":
            return self._ledger(spec[1:])
        if kind == "applies":
            values = _bools(pc.is_in(self.entities["entity_type"], value_set=pa.array(list(spec[1]), pa.string())))
            return values, _known(self.entities["entity_type"])
        if kind == "in_region":
            return _list_has(self.entities["region"], spec[1], empty_unknown=True)
        if kind == "series":
            return self._series(spec[1])
        if kind == "max_before":
            column = self._max_before(spec[1])
        else:
            column = self._column(spec[1], spec[2] if kind == "at" else 0)
        known = _known(column)
        if kind == "text_in":
            return _bools(pc.is_in(column, value_set=pa.array(list(spec[2]), pa.string()))), known
        if kind == "set_has":
            return _list_has(column, spec[2], empty_unknown=False)
        if kind == "year":
            years = pc.fill_null(pc.year(column), 0)
            return np.asarray(years.to_numpy(zero_copy_only=False), dtype=np.int64), known
        if kind == "add_years":
            return _add_years(_dates(column), spec[2]), known
        if kind == "years_since":
            days = _dates(column)
            day = days.astype("datetime64[D]")
            years = day.astype("datetime64[Y]").astype(np.int64) + 1970
            month_day = (
                (day - day.astype("datetime64[M]")).astype(np.int64)
                + 1
                + 100 * (day.astype("datetime64[M]").astype(np.int64) % 12 + 1)
            )
            later = month_day > self.as_of.month * 100 + self.as_of.day
            return np.where(known, self.as_of.year - years - later, 0).astype(np.int64), known
        fact = self.catalogue[spec[1]]
        name = spec[1] if kind == "fact" else f"{kind}:{spec[1]}:{spec[2] if kind == 'at' else ''}"
        if fact.type is Type.MONEY:
            return np.asarray(pc.fill_null(column.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)), known
        if fact.type is Type.BOOL:
            return _bools(column), known
        if fact.type is Type.DATE:
            return _dates(column), known
        if fact.type is Type.NUMBER:
            values, den = _decimals(column, known)
            self.dens[name] = den
            return values, known
        raise NoKernel(f"事实 {spec[1]}（{fact.type.value}）不能直接进入编译内核")


def _known(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)


def _bools(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _dates(column: pa.Array) -> np.ndarray:
    days = pc.fill_null(column.cast(pa.date32()).cast(pa.int32()), 0)
    return np.asarray(days.to_numpy(zero_copy_only=False), dtype=np.int64)


def _list_has(column: pa.Array | pa.ChunkedArray, text: str, *, empty_unknown: bool) -> tuple[np.ndarray, np.ndarray]:
    """Whether each list holds ``text``; a null list is unknown (and an empty one, where ``empty_unknown``)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    rows = len(column)
    flat = pc.list_flatten(column)
    parents = np.asarray(pc.list_parent_indices(column).to_numpy(zero_copy_only=False))
    hits = np.asarray(pc.fill_null(pc.equal(flat, text), False).to_numpy(zero_copy_only=False), dtype=np.bool_)
    values = np.bincount(parents[hits], minlength=rows) > 0 if rows else np.zeros(0, np.bool_)
    known = _known(column)
    if empty_unknown:
        lengths = np.asarray(pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False))
        known &= lengths > 0
    return values, known


def _decimals(column: pa.Array, known: np.ndarray) -> tuple[np.ndarray, int]:
    """Exact numerators of a ``DECIMAL(p, s)`` column over the smallest power of ten that holds them all."""
    if not pa.types.is_decimal128(column.type):
        if pa.types.is_integer(column.type):
            return np.asarray(pc.fill_null(column.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)), 1
        raise NoKernel(f"数值列的类型 {column.type} 不是精确小数")
    scale = column.type.scale
    rows = len(column)
    words = np.frombuffer(column.buffers()[1], dtype=np.int64, count=2 * (column.offset + rows))[2 * column.offset :]
    low, high = words[0::2].copy(), words[1::2]
    low[~known] = 0
    if not np.all(high[known] == (low[known] >> 63)):
        raise NoKernel("数值超出 64 位整数范围")
    values, den = low, 10**scale
    for _ in range(scale):
        if den == 1 or np.any(values % 10):
            break
        values, den = values // 10, den // 10
    return values, den


def _add_years(days: np.ndarray, years: int) -> np.ndarray:
    """The same calendar day ``years`` later, 29 February becoming 28 February in a common year (as
    ``huiqi.engine.compiler.add_years``), as days since 1970-01-01."""
    day = days.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    day_of_month = (day - month).astype(np.int64)
    year = month.astype("datetime64[Y]").astype(np.int64) + 1970 + years
    month_of_year = month.astype(np.int64) % 12
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    day_of_month = np.where((month_of_year == 1) & (day_of_month == 28) & ~leap, 27, day_of_month)
    shifted = (month + np.timedelta64(12 * years, "M")).astype("datetime64[D]") + day_of_month
    return shifted.astype(np.int64)


def read_population(folder: Path, facts: Iterable[str] | None = None) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The entities, history and ledger of a population folder as Arrow tables, only the columns of ``facts``
    (with the structural ones) where given: what the kernel reads, without a database."""
    tables = []
    for name, structural in (("entities", ("entity_id", "entity_type", "region")), ("history", ("entity_id", "year")),
                             ("ledger", None)):  # fmt: skip
        path = folder / f"{name}.parquet"
        if structural is None or facts is None:
            tables.append(pq.read_table(path))
            continue
        present = pq.read_schema(path).names
        wanted = set(facts) | set(structural)
        tables.append(pq.read_table(path, columns=[c for c in present if c in wanted]))
    return tables[0], tables[1], tables[2]
