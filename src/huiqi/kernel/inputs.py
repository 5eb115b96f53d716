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


#: the column of ``history`` and ``ledger`` holding each row's entity: its row in ``entities``
ROW = "_row"


def keyed(entities: pa.Table, table: pa.Table) -> pa.Table:
    """``table`` with the row key ``_row`` (its entity's row in ``entities``); rows of entities the entity
    table does not hold are left out, as the SQL runners leave them out."""
    if ROW in table.column_names:
        return table
    rows = pc.index_in(table["entity_id"], value_set=entities["entity_id"]).cast(pa.int64())
    table = table.append_column(ROW, rows)
    return table.filter(pc.is_valid(rows)) if rows.null_count else table


@dataclass
class Inputs:
    """The arrays of one population for one assessed year and evaluation date, made on request.

    ``history`` and ``ledger`` carry the row key ``_row`` (``keyed`` adds it to tables without one;
    ``read_population`` reads it with the files), so that aligning a year's values or summing an entity's
    awards is an array operation on integers, never a lookup of text ids."""

    entities: pa.Table
    history: pa.Table
    catalogue: Catalogue
    period: int
    as_of: dt.date
    #: the awards paid (``rule``, ``period``, ``amount_fen``, ``tier`` and the row key); None: none
    ledger: pa.Table | None = None
    arrays: dict[Spec, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    dens: dict[str, int] = field(default_factory=dict)
    _years: dict[int, pa.Array] = field(default_factory=dict)
    #: aligned columns and flattened lists, by (fact, year offset): a column compared with several constants
    #: (``'ITSS' in certifications_obtained``, ``'CMMI3' in …``) is aligned and flattened once
    _columns: dict[tuple[str, int], pa.Array] = field(default_factory=dict)
    _flat: dict[tuple[str, int], tuple[pa.Array, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.history = keyed(self.entities, self.history)
        if self.ledger is not None:
            self.ledger = keyed(self.entities, self.ledger)
        self._history_rows = _ints(self.history[ROW])
        self._history_years = _ints(self.history["year"])

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
        return self.dens.get(_name(spec), 1)

    def series_start(self) -> int:
        """The first year of ``series`` inputs: the history's earliest year (the assessed year when empty)."""
        if self.history.num_rows == 0:
            return self.period
        return min(int(self._history_years.min()), self.period)

    # -- columns aligned to the entities -----------------------------------------------------------
    def _column(self, key: str, offset: int = 0) -> pa.Array:
        """A fact's column aligned to the entities: an annual fact at the assessed year plus ``offset`` (the
        entities' ``region`` for the key ``region``)."""
        if (key, offset) not in self._columns:
            self._columns[key, offset] = self._align(key, offset)
        return self._columns[key, offset]

    def _align(self, key: str, offset: int) -> pa.Array:
        if key == "region":
            column = self.entities["region"]
            return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        fact = self.catalogue[key]
        table = self.history if fact.period is Period.ANNUAL else self.entities
        if key not in table.column_names:  # a fact the registry does not hold: unknown for every entity
            return pa.nulls(self.rows, type=arrow_type(fact))
        column = table[key]
        if fact.period is Period.ANNUAL:
            column = column.take(self._year(self.period + offset))
        return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column

    def _year(self, year: int) -> pa.Array:
        """Per entity, the position of its history row of ``year`` (null: none)."""
        if year not in self._years:
            found = np.flatnonzero(self._history_years == year)
            positions = np.full(self.rows, -1, dtype=np.int64)
            positions[self._history_rows[found]] = found
            self._years[year] = pa.array(positions, mask=positions < 0)
        return self._years[year]

    def _list_has(self, key: str, offset: int, text: str, *, empty_unknown: bool) -> tuple[np.ndarray, np.ndarray]:
        """Whether each entity's list holds ``text``; a null list is unknown (and an empty one, where
        ``empty_unknown``)."""
        column = self._column(key, offset)
        if (key, offset) not in self._flat:
            parents = np.asarray(pc.list_parent_indices(column).to_numpy(zero_copy_only=False))
            self._flat[key, offset] = (pc.list_flatten(column), parents)
        flat, parents = self._flat[key, offset]
        hits = _mask(pc.equal(flat, text))
        values = np.bincount(parents[hits], minlength=self.rows) > 0
        known = _known(column)
        if empty_unknown:
            known &= _ints(pc.fill_null(pc.list_value_length(column), 0)) > 0
        return values, known

    # -- inputs -------------------------------------------------------------------------------------
    def _read(self, spec: Spec) -> tuple[np.ndarray, np.ndarray]:
        kind = spec[0]
        if kind == "ledger":
            return self._ledger(spec[1:])
        if kind == "applies":
            values = _bools(pc.is_in(self.entities["entity_type"], value_set=pa.array(list(spec[1]), pa.string())))
            return values, _known(self.entities["entity_type"])
        if kind == "in_region":
            return self._list_has("region", 0, spec[1], empty_unknown=True)
        if kind == "series":
            return self._series(spec[1])
        if kind == "max_before":
            return self._max_before(spec[1])
        column = self._column(spec[1], spec[2] if kind == "at" else 0)
        known = _known(column)
        if kind == "text_in":
            return _bools(pc.is_in(column, value_set=pa.array(list(spec[2]), pa.string()))), known
        if kind == "set_has":
            return self._list_has(spec[1], 0, spec[2], empty_unknown=False)
        if kind == "year":
            years = pc.fill_null(pc.year(column), 0)
            return np.asarray(years.to_numpy(zero_copy_only=False), dtype=np.int64), known
        if kind == "add_years":
            return _add_years(_dates(column), spec[2]), known
        if kind == "years_since":
            days = _dates(column)
            day = days.astype("datetime64[D]")
            years = day.astype("datetime64[Y]").astype(np.int64) + 1970
            month = day.astype("datetime64[M]")
            month_day = (day - month).astype(np.int64) + 1 + 100 * (month.astype(np.int64) % 12 + 1)
            later = month_day > self.as_of.month * 100 + self.as_of.day
            return np.where(known, self.as_of.year - years - later, 0).astype(np.int64), known
        fact = self.catalogue[spec[1]]
        if fact.type is Type.BOOL:
            return _bools(column), known
        if fact.type is Type.DATE:
            return _dates(column), known
        values, den = _numbers(column, known, spec[1], fact.type)
        self.dens[_name(spec)] = den
        return values, known

    def _max_before(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The largest value of an annual fact before the assessed year; 0 for an entity established in the
        assessed year or later that has none (as ``huiqi.engine.compiler._max_before``)."""
        fact = self.catalogue[key]
        values = np.full(self.rows, np.iinfo(np.int64).min, dtype=np.int64)
        den = 1
        if key in self.history.column_names:
            column = self.history[key].combine_chunks()
            present = _known(column)
            numbers, den = _numbers(column, present, key, fact.type)
            earlier = present & (self._history_years < self.period)
            np.maximum.at(values, self._history_rows[earlier], numbers[earlier])
        known = values != np.iinfo(np.int64).min
        if "established_on" in self.catalogue and "established_on" in self.entities.column_names:
            founded = pc.year(self.entities["established_on"])
            new = np.asarray(pc.fill_null(pc.greater_equal(founded, self.period), False).to_numpy(zero_copy_only=False))
            known = known | new
        values[~known | (values == np.iinfo(np.int64).min)] = 0
        self.dens[_name(("max_before", key))] = den
        return values, known

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
            if self.dens.get(_name(("at", key, year - self.period)), 1) != 1:
                raise NoKernel(f"sum_years() 累加的 {key} 含小数：由 SQL 计算")
            values[:, column], known[:, column] = value, present
        return values, known

    def _ledger(self, what: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
        """One ledger aggregate per entity, as the SQL compiler's (``huiqi.compile.document.base_relation``) and
        the scalar engine's ``Env.paid`` read it; 0 where the ledger holds nothing, and always known."""
        out = np.zeros(self.rows, dtype=np.int64)
        known = np.ones(self.rows, dtype=np.bool_)
        ledger = self.ledger
        if ledger is None or ledger.num_rows == 0:
            return out, known
        kind, ref = what[0], what[1]
        rows, period = _ints(ledger[ROW]), _ints(ledger["period"])
        amount = _ints(pc.fill_null(ledger["amount_fen"], 0))
        if kind == "xdup":  # awards of other documents that rule the rule out: any year, or the assessed one
            anytime = _mask(pc.is_in(ledger["rule"], value_set=pa.array(list(ref), pa.string())))
            this_year = _mask(pc.is_in(ledger["rule"], value_set=pa.array(list(what[2]), pa.string())))
            chosen = (amount > 0) & (anytime | (this_year & (period == self.period)))
            return np.bincount(rows[chosen], minlength=self.rows).astype(np.int64), known
        if kind == "prov":
            under = _mask(pc.starts_with(ledger["rule"], ref + "/"))
        else:
            under = _mask(pc.equal(ledger["rule"], ref))
        if kind in ("paid", "prov", "paidp"):
            chosen = under & (period == self.period) if kind == "paidp" else under
            np.add.at(out, rows[chosen], amount[chosen])
        elif kind == "tier":
            chosen = under & _mask(pc.equal(ledger["tier"], what[2]))
            out = np.bincount(rows[chosen], minlength=self.rows).astype(np.int64)
        elif kind in ("years", "each"):  # distinct years paid (among the n before the assessed one)
            chosen = under if kind == "years" else under & (period >= self.period - what[2]) & (period < self.period)
            pairs = np.unique(np.stack([rows[chosen], period[chosen]], axis=1), axis=0)
            out = np.bincount(pairs[:, 0], minlength=self.rows).astype(np.int64) if len(pairs) else out
        elif kind == "last":  # the total of the latest year paid before the assessed one
            chosen = under & (period < self.period)
            latest = np.full(self.rows, np.iinfo(np.int64).min, dtype=np.int64)
            np.maximum.at(latest, rows[chosen], period[chosen])
            chosen &= period == latest[rows]
            np.add.at(out, rows[chosen], amount[chosen])
        else:  # pragma: no cover — the generator asks for the kinds above
            raise NoKernel(f"编译内核不认识台账汇总 {kind}")
        return out, known


def _name(spec: Spec) -> str:
    """Where ``dens`` keeps an input's denominator."""
    kind = spec[0]
    return spec[1] if kind == "fact" else f"{kind}:{spec[1]}:{spec[2] if kind == 'at' else ''}"


def _ints(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.to_numpy(), dtype=np.int64)


def _mask(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _numbers(column: pa.Array, known: np.ndarray, key: str, kind: Type) -> tuple[np.ndarray, int]:
    """Money (int64 fen) or exact numbers (``_decimals``) as int64 numerators and their denominator."""
    if kind is Type.MONEY:
        return np.asarray(pc.fill_null(column.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)), 1
    if kind is Type.NUMBER:
        return _decimals(column, known)
    raise NoKernel(f"事实 {key}（{kind.value}）不能直接进入编译内核")


def _known(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)


def _bools(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _dates(column: pa.Array) -> np.ndarray:
    days = pc.fill_null(column.cast(pa.date32()).cast(pa.int32()), 0)
    return np.asarray(days.to_numpy(zero_copy_only=False), dtype=np.int64)


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
    if not np.array_equal(high[known], low[known] >> 63):
        raise NoKernel("数值超出 64 位整数范围")
    # the largest power of ten dividing every value, tried from the whole scale down (a count: one test)
    for digits in range(scale, 0, -1):
        if not np.any(low % 10**digits):
            return low // 10**digits, 10 ** (scale - digits)
    return low, 10**scale


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
    (with the structural ones) where given: what the kernel reads, without a database of its own. DuckDB joins
    the history and the ledger to the entities' rows in the file (the row key ``_row``) as it reads them."""
    paths = {name: folder / f"{name}.parquet" for name in ("entities", "history", "ledger")}
    wanted = None if facts is None else set(facts)

    def columns(name: str, structural: tuple[str, ...]) -> list[str]:
        present = pq.read_schema(paths[name]).names
        return [c for c in present if wanted is None or c in wanted or c in structural]

    entities = pq.read_table(paths["entities"], columns=columns("entities", ("entity_id", "entity_type", "region")))
    con = duckdb.connect()
    try:
        # the columns are the file's own names, the paths bound parameters
        numbered = f"(SELECT entity_id, file_row_number AS {ROW} FROM read_parquet(?, file_row_number = true))"  # noqa: S608
        tables = []
        for name, structural in (("history", ("year",)), ("ledger", ("rule", "period", "amount_fen", "tier"))):
            kept = ", ".join(f't."{c}"' for c in columns(name, structural) if c != "entity_id")
            query = f"SELECT e.{ROW}, {kept} FROM read_parquet(?) t JOIN {numbered} e USING (entity_id)"  # noqa: S608
            tables.append(con.sql(query, params=[str(paths[name]), str(paths["entities"])]).to_arrow_table())
    finally:
        con.close()
    return entities, tables[0], tables[1]
