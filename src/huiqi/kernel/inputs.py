"""The kernel's inputs: one aligned numpy array per value a document reads, with its known mask.

Every array is read from the population's Arrow tables (``entities`` and the assessed year's rows of
``history``, aligned to the entities by their row key), once per input however many rules read it, and
written once: numbers, money, yes/no and dates are decoded from the Arrow buffers of each chunk straight into
the final array by compiled code (``huiqi.kernel.decode``), a year of history from the chunk that holds each
entity's row. Making arrays is what this module's time goes into, and on a machine where memory first
touched is dear, most of that is the memory written (docs/population.md, "The kernel's inputs").

- money: int64 fen, as stored;
- numbers (``DECIMAL(38, 9)``): int64 numerators over the smallest power of ten that holds every value of the
  column exactly (1 for counts and levels), read from the decimal's own 128-bit words without a cast;
- yes/no: bool; dates: int64 days since 1970-01-01;
- what the code would otherwise compare as text (``industry == '软件'``, ``'高新技术企业' in certifications``,
  ``in_region('苏州市')``, the rule's entity types): bool, decided here over the whole column through its
  dictionary codes (Parquet's own, as ``read_population`` reads them, or made once per column).

The documents of one scenario share one ``Inputs`` and may be prepared in threads side by side
(``huiqi.kernel.runner.prepare``): every value is made once, under a lock of its own.

A null is *unknown*: its mask is False and its value 0. A value the kernel cannot hold exactly raises
``NoKernel``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from huiqi.compile.tables import ROW_KEY, arrow_type
from huiqi.errors import HuiqiError
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import Catalogue, Period


class NoKernel(HuiqiError):
    """A document, or a value of the population, the kernel does not compile: evaluate it with SQL."""


#: an input: ("fact", key) | ("at", key, year offset) | ("max_before", key) | ("year", key) |
#: ("years_since", key) | ("text_in", key, (texts…)) | ("set_has", key, text) | ("in_region", text) |
#: ("applies", (entity types…))
Spec = tuple[Any, ...]
T = TypeVar("T")

#: for each chunk of a column: the entities (rows of the output) its values go to, the rows of the chunk they
#: are read from, the first entity and how many; for a chunk of the entities read whole, (None, None, its first
#: row, its length)
Selection = list[tuple[np.ndarray | None, np.ndarray | None, int, int]]


#: the column of ``history`` and ``ledger`` holding each row's entity: its row in ``entities``
ROW = "_row"
#: the two history tables of ``Inputs``: every year's rows, and the assessed year's (``Inputs.current``)
HISTORY, CURRENT = "history", "current"


class Tables(NamedTuple):
    """A population's tables as the kernel reads them (``read_population``, ``read_keyed``): the entities, their
    history (every year's rows; where ``current`` is given, only of the annual facts read at other years) and
    ledger, each history and ledger row keyed by its entity's row (``_row``), and the assessed year's history
    rows of the annual facts read at that year only (None: none apart)."""

    entities: pa.Table
    history: pa.Table
    ledger: pa.Table
    current: pa.Table | None = None


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
    #: the denominators an earlier slice of the same population read its numbers over: each number is read over
    #: at least its denominator there, so that the kernel compiled for that slice serves this one
    denominators: dict[str, int] = field(default_factory=dict)
    #: the assessed year's rows of the history, with the annual facts read at that year only (``Tables.current``,
    #: keyed as ``history``); ``history`` then holds every year's rows of the others. None: ``history`` holds
    #: every annual fact
    current: pa.Table | None = None
    arrays: dict[Spec, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    dens: dict[str, int] = field(default_factory=dict)
    _years: dict[tuple[str, int], pa.Array] = field(default_factory=dict)
    #: aligned columns and flattened lists, by (fact, year offset): a column compared with several constants
    #: (``'ITSS' in certifications_obtained``, ``'CMMI3' in …``) is aligned and flattened once
    _columns: dict[tuple[str, int], pa.Array] = field(default_factory=dict)
    _flat: dict[tuple[str, int], tuple[pa.Array, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.history = keyed(self.entities, self.history)
        if self.ledger is not None:
            self.ledger = keyed(self.entities, self.ledger)
        if self.current is not None:
            self.current = keyed(self.entities, self.current)
        #: each history table's rows: their entities and years (``HISTORY``: every year; ``CURRENT``: the assessed
        #: year's rows of ``current``)
        self._keys = {HISTORY: (_ints(self.history[ROW]), _ints(self.history["year"]))}
        if self.current is not None:
            self._keys[CURRENT] = (_ints(self.current[ROW]), _ints(self.current["year"]))
        self._series_start: int | None = None
        #: the history's text and list columns in one chunk each, made on request (``_align`` takes a year's
        #: rows from them; numbers, money, yes/no and dates are read chunk by chunk by ``_numbers_of``)
        self._history_columns: dict[tuple[str, str], pa.Array] = {}
        #: aligned text columns as codes: (per row the text's index, -1 for none; the texts; known)
        self._codes: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._lists_known: dict[tuple[str, int, bool], np.ndarray] = {}
        self._positions_of: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        #: for each history table, year (None: every year, ``_every_year``) and chunk layout, which rows of each
        #: chunk go to which entities
        self._selections: dict[tuple[str, int | None, tuple[int, ...]], Selection] = {}
        #: the facts of the history decoded at every year at once (``_block``)
        self._blocks: dict[str, tuple[np.ndarray, np.ndarray, int, bool]] = {}
        #: every ledger aggregate is known: one array, read by every rule
        self._always = np.ones(self.rows, dtype=np.bool_)
        self._ledger_columns = None if self.ledger is None else (
            _ints(self.ledger[ROW]), _ints(self.ledger["period"]), _ints(pc.fill_null(self.ledger["amount_fen"], 0)))  # fmt: skip
        #: the locks of ``_once``: one per value being made, made under ``_guard``
        self._guard = threading.Lock()
        self._locks: dict[tuple[int, Any], threading.Lock] = {}

    @property
    def rows(self) -> int:
        return int(self.entities.num_rows)

    def get(self, spec: Spec) -> tuple[np.ndarray, np.ndarray]:
        """(values, known) of one input, read once (documents prepared side by side share it)."""
        return self._once(self.arrays, spec, lambda: self._read(spec))

    def _once(self, cache: dict[Any, T], key: Any, make: Callable[[], T]) -> T:
        """``cache[key]``, made by ``make`` once however many threads ask for it at the same time (each
        document's inputs and code are made in a thread of its own: ``huiqi.kernel.runner.prepare``)."""
        if key in cache:
            return cache[key]
        with self._guard:
            lock = self._locks.setdefault((id(cache), key), threading.Lock())
        with lock:
            if key not in cache:
                cache[key] = make()
        return cache[key]

    def den(self, spec: Spec) -> int:
        """The denominator of a number input's numerators (reads the column)."""
        self.get(spec)
        return self.dens.get(_name(spec), 1)

    def series_start(self) -> int:
        """The first year of ``series`` inputs: the history's earliest year (the assessed year when empty); found
        once (every document's run asks for it)."""
        if self._series_start is None:
            empty = self.history.num_rows == 0
            self._series_start = self.period if empty else min(int(self._keys[HISTORY][1].min()), self.period)
        return self._series_start

    # -- columns aligned to the entities -----------------------------------------------------------
    def _column(self, key: str, offset: int = 0) -> pa.Array:
        """A fact's column aligned to the entities: an annual fact at the assessed year plus ``offset`` (the
        entities' ``region`` for the key ``region``)."""
        return self._once(self._columns, (key, offset), lambda: self._align(key, offset))

    def _align(self, key: str, offset: int) -> pa.Array:
        if key in ("region", "entity_type"):  # the entities' own columns, not facts of the catalogue
            return _combined(self.entities[key])
        fact = self.catalogue[key]
        if fact.period is Period.ANNUAL:
            source = self._holder(key, offset)
            if source is None:  # a fact the registry does not hold: unknown for every entity
                return pa.nulls(self.rows, type=arrow_type(fact))
            return self._history_column(source, key).take(self._year(source, self.period + offset))
        if key not in self.entities.column_names:
            return pa.nulls(self.rows, type=arrow_type(fact))
        return _combined(self.entities[key])

    def _holder(self, key: str, offset: int) -> str | None:
        """Which history table holds an annual fact (``HISTORY`` or ``CURRENT``), None where neither does. A fact
        read at the assessed year only (``current``) asked for at another year — a rule the split of the history
        (``annual_over_years``) did not foresee — is left to SQL, never read as unknown."""
        if self.current is not None and key in self.current.column_names:
            if offset:
                raise NoKernel(f"历史事实 {key} 只读取了评估年度（{self.period}）的行：由 SQL 计算")
            return CURRENT
        return HISTORY if key in self.history.column_names else None

    def _table(self, source: str) -> pa.Table:
        table = self.current if source == CURRENT else self.history
        assert table is not None
        return table

    def _history_column(self, source: str, key: str) -> pa.Array:
        return self._once(self._history_columns, (source, key), lambda: _combined(self._table(source)[key]))

    def _positions(self, source: str, year: int) -> tuple[np.ndarray, np.ndarray]:
        """Per entity, the position of its row of ``year`` in a history table (0 where it has none) and whether it
        has one."""
        from . import decode

        def positions() -> tuple[np.ndarray, np.ndarray]:
            where = np.zeros(self.rows, dtype=np.int64)
            found = np.zeros(self.rows, dtype=np.bool_)
            decode.positions(*self._keys[source], year, found, where)
            return where, found

        return self._once(self._positions_of, (source, year), positions)

    def _year(self, source: str, year: int) -> pa.Array:
        """Per entity, the position of its row of ``year`` in a history table (null: none)."""

        def positions() -> pa.Array:
            where, found = self._positions(source, year)
            return pa.array(where, mask=~found)

        return self._once(self._years, (source, year), positions)

    def _numbers_of(self, key: str, offset: int = 0, *, lowest: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
        """A number, money, yes/no or date fact aligned to the entities, as (numerators, known, denominator),
        read from the Arrow buffers of the entities or of the year's history rows without an intermediate
        column; numbers over the smallest exact power of ten (``lowest``), else over their column's scale."""
        fact = self.catalogue[key]
        source = self._holder(key, offset) if fact.period is Period.ANNUAL else None
        table = self.entities if fact.period is not Period.ANNUAL else None if source is None else self._table(source)
        if table is None or key not in table.column_names or table.num_rows == 0:
            return np.zeros(self.rows, dtype=np.int64), np.zeros(self.rows, dtype=np.bool_), 1
        column = table[key]
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        year = self.period + offset
        if source == HISTORY and self.current is not None and self.series_start() <= year <= self.period:
            # a fact read over the years (the history holds no other where the assessed year is apart): every
            # year decoded at once, each year a row of the block
            block, present, den, whole = self._block(key, fact.type, chunks)
            values, known = block[year - self.series_start()], present[year - self.series_start()]
            if not lowest or den == 1:
                return values, known, den
            return (values // den, known, 1) if whole else _lowest_terms(values, known, den)
        if source is not None:
            selection = self._history_selection(source, year, chunks)
        else:
            selection = self._entity_selection(chunks)
        return _decode(chunks, selection, self.rows, key, fact.type, lowest=lowest)

    def _block(self, key: str, kind: Type, chunks: list[pa.Array]) -> tuple[np.ndarray, np.ndarray, int, bool]:
        """An annual fact of the history (every year's rows) at every year from ``series_start`` to the assessed
        one, in one pass over its chunks: (values, known) as (years × entities) arrays, the denominator, and
        whether every value is whole. A fact read at several years (``at`` each year, ``max_before``,
        ``sum_years``) reads each row once, not once per year asked (the seed base's revenue and software revenue,
        five years read and the four before again for their maximum: 47 → 29 ms a slice of 250,000 entities)."""

        def block() -> tuple[np.ndarray, np.ndarray, int, bool]:
            years = self.period - self.series_start() + 1
            selection = self._once(self._selections, (HISTORY, None, tuple(len(chunk) for chunk in chunks)),
                                   lambda: self._every_year(chunks, years))  # fmt: skip
            values, known, den, whole = _decode_raw(chunks, selection, years * self.rows, key, kind)
            return values.reshape(years, self.rows), known.reshape(years, self.rows), den, whole

        return self._once(self._blocks, key, block)

    def _every_year(self, chunks: list[pa.Array], years: int) -> Selection:
        """For each chunk of a column of the history (every year's rows), its rows of the years from
        ``series_start`` on (``years`` of them) and where each goes in a (years × entities) block."""
        from . import decode

        rows, of_year = self._keys[HISTORY]
        selection: Selection = []
        start = 0
        for chunk in chunks:
            targets, sources = np.empty(len(chunk), dtype=np.int64), np.empty(len(chunk), dtype=np.int64)
            count = decode.year_rows(rows, of_year, self.series_start(), years, self.rows, start, start + len(chunk),
                                     targets, sources)  # fmt: skip
            selection.append((targets[:count], sources[:count], 0, count))
            start += len(chunk)
        return selection

    def _entity_selection(self, chunks: list[pa.Array]) -> Selection:
        """Each chunk of an entity column read whole, into the rows it holds."""
        starts = np.cumsum([0, *(len(chunk) for chunk in chunks)]).tolist()
        return [(None, None, a, b - a) for a, b in itertools.pairwise(starts)]

    def _history_selection(self, source: str, year: int, chunks: list[pa.Array]) -> Selection:
        """For each chunk of a column of a history table, the entities whose row of ``year`` it holds and where."""
        from . import decode

        def selection() -> Selection:
            where, found = self._positions(source, year)
            starts = np.cumsum([0, *(len(chunk) for chunk in chunks)]).astype(np.int64)
            count = int(found.sum())
            targets, sources = np.empty(count, dtype=np.int64), np.empty(count, dtype=np.int64)
            bounds = np.empty(len(chunks) + 1, dtype=np.int64)
            decode.by_chunk(where, found, starts, targets, sources, bounds)
            return [(targets[a:b], sources[a:b], 0, b - a) for a, b in itertools.pairwise(bounds.tolist())]

        return self._once(self._selections, (source, year, tuple(len(chunk) for chunk in chunks)), selection)

    def _text_codes(self, key: str, offset: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A text column (or a list column's items) as each value's index among its distinct texts, -1 for a
        null, those texts, and whether each value is known (one array, read by every comparison): every
        comparison with a constant is then one integer test per row."""

        def codes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            column = self._column(key, offset)
            if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
                column = self._flattened(key, offset)[0]
            # read from Parquet as a dictionary (``read_population``), the codes are already there
            encoded = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
            indices = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int32)
            texts = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
            return indices, texts, indices >= 0

        return self._once(self._codes, (key, offset), codes)

    def _flattened(self, key: str, offset: int) -> tuple[pa.Array, np.ndarray]:
        """A list column's items in one array, and the row each belongs to."""

        def flattened() -> tuple[pa.Array, np.ndarray]:
            column = self._column(key, offset)
            parents = np.asarray(pc.list_parent_indices(column).to_numpy(zero_copy_only=False))
            return pc.list_flatten(column), parents

        return self._once(self._flat, (key, offset), flattened)

    def _text_in(self, key: str, offset: int, texts: Iterable[str]) -> np.ndarray:
        """Per value of a text column: whether it is one of ``texts``."""
        from . import decode

        indices, dictionary, _ = self._text_codes(key, offset)
        out = np.empty(len(indices), dtype=np.bool_)
        decode.pick(np.isin(dictionary, list(texts)), indices, out)
        return out

    def _list_has(self, key: str, offset: int, text: str, *, empty_unknown: bool) -> tuple[np.ndarray, np.ndarray]:
        """Whether each entity's list holds ``text``; a null list is unknown (and an empty one, where
        ``empty_unknown``)."""
        from . import decode

        column = self._column(key, offset)
        parents = self._flattened(key, offset)[1]
        values = np.zeros(self.rows, dtype=np.bool_)
        indices, dictionary, _ = self._text_codes(key, offset)  # of the items
        decode.mark(parents, np.isin(dictionary, [text]), indices, values)

        def known() -> np.ndarray:  # one array, read by every text tested
            present = _known(column)
            if empty_unknown:
                present &= _ints(pc.fill_null(pc.list_value_length(column), 0)) > 0
            return present

        return values, self._once(self._lists_known, (key, offset, empty_unknown), known)

    # -- inputs -------------------------------------------------------------------------------------
    def _read(self, spec: Spec) -> tuple[np.ndarray, np.ndarray]:
        kind = spec[0]
        if kind == "ledger":
            return self._ledger(spec[1:])
        if kind == "applies":
            return self._text_in("entity_type", 0, spec[1]), self._text_codes("entity_type", 0)[2]
        if kind == "in_region":
            return self._list_has("region", 0, spec[1], empty_unknown=True)
        if kind == "series":
            return self._series(spec[1])
        if kind == "max_before":
            return self._max_before(spec[1])
        if kind == "text_in":
            return self._text_in(spec[1], 0, spec[2]), self._text_codes(spec[1], 0)[2]
        if kind == "set_has":
            return self._list_has(spec[1], 0, spec[2], empty_unknown=False)
        values, known, den = self._numbers_of(spec[1], spec[2] if kind == "at" else 0)
        if kind in ("year", "add_years", "years_since"):  # of a date: days since 1970-01-01
            from . import decode

            out = np.empty(self.rows, dtype=np.int64)
            if kind == "year":
                decode.years(values, known, out)
            elif kind == "add_years":
                decode.add_years(values, known, spec[2], out)
            else:
                decode.years_since(values, known, self.as_of.year, self.as_of.month, self.as_of.day, out)
            return out, known
        if self.catalogue[spec[1]].type is Type.NUMBER:
            values, self.dens[_name(spec)] = self._at_least(_name(spec), values, den)
        return values, known

    def _at_least(self, name: str, values: np.ndarray, den: int) -> tuple[np.ndarray, int]:
        """Numerators over ``den`` brought over the larger denominator an earlier slice read them over
        (``denominators``), where they still fit in 64 bits (else they stay, and the slice gets a kernel of
        its own)."""
        floor = self.denominators.get(name, 1)
        if floor <= den or floor % den:
            return values, den
        factor = floor // den
        largest = max(int(values.max(initial=0)), -int(values.min(initial=0)))
        if largest > np.iinfo(np.int64).max // factor:
            return values, den
        return values * factor, floor

    def _max_before(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The largest value of an annual fact before the assessed year; 0 for an entity established in the
        assessed year or later that has none (as ``huiqi.engine.compiler._max_before``)."""
        from . import decode

        values = np.full(self.rows, np.iinfo(np.int64).min, dtype=np.int64)
        den = 1
        if self._holder(key, -1) is not None and self.history.num_rows:
            seen = np.zeros(self.rows, dtype=np.bool_)
            # year by year, each over its column's scale (np.maximum.at over the rows took ten times as long)
            for year in range(self.series_start(), self.period):
                numbers, present, scale = self._numbers_of(key, year - self.period, lowest=False)
                decode.greatest(numbers, present, values, seen)
                den = max(den, scale)  # a column's years share its scale
        known = values != np.iinfo(np.int64).min
        if "established_on" in self.catalogue and "established_on" in self.entities.column_names:
            founded = pc.year(self.entities["established_on"])
            new = np.asarray(pc.fill_null(pc.greater_equal(founded, self.period), False).to_numpy(zero_copy_only=False))
            known = known | new
        values[~known | (values == np.iinfo(np.int64).min)] = 0
        values, known, den = _lowest_terms(values, known, den)
        values, self.dens[_name(("max_before", key))] = self._at_least(_name(("max_before", key)), values, den)
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
            value, present = self.get(("at", key, year - self.period))
            if self.dens.get(_name(("at", key, year - self.period)), 1) != 1:
                raise NoKernel(f"sum_years() 累加的 {key} 含小数：由 SQL 计算")
            values[:, column], known[:, column] = value, present
        return values, known

    def _ledger(self, what: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
        """One ledger aggregate per entity, as the SQL compiler's (``huiqi.compile.document.base_relation``) and
        the scalar engine's ``Env.paid`` read it; 0 where the ledger holds nothing, and always known. Only the
        entities with an award are written (the rest of the array stays the zero pages it was allocated as), and
        every aggregate is computed over the few ledger rows it counts, never over every entity."""
        out = np.zeros(self.rows, dtype=np.int64)
        known = self._always
        ledger = self.ledger
        if ledger is None or ledger.num_rows == 0:
            return out, known
        kind, ref = what[0], what[1]
        assert self._ledger_columns is not None
        rows, period, amount = self._ledger_columns
        if kind == "xdup":  # awards of other documents that rule the rule out: any year, or the assessed one
            anytime = _mask(pc.is_in(ledger["rule"], value_set=pa.array(list(ref), pa.string())))
            this_year = _mask(pc.is_in(ledger["rule"], value_set=pa.array(list(what[2]), pa.string())))
            chosen = (amount > 0) & (anytime | (this_year & (period == self.period)))
            np.add.at(out, rows[chosen], 1)
            return out, known
        if kind == "prov":
            under = _mask(pc.starts_with(ledger["rule"], ref + "/"))
        else:
            under = _mask(pc.equal(ledger["rule"], ref))
        if kind in ("paid", "prov", "paidp"):
            chosen = under & (period == self.period) if kind == "paidp" else under
            np.add.at(out, rows[chosen], amount[chosen])
        elif kind == "tier":
            chosen = under & _mask(pc.equal(ledger["tier"], what[2]))
            np.add.at(out, rows[chosen], 1)
        elif kind in ("years", "each"):  # distinct years paid (among the n before the assessed one)
            chosen = under if kind == "years" else under & (period >= self.period - what[2]) & (period < self.period)
            pairs = np.unique(np.stack([rows[chosen], period[chosen]], axis=1), axis=0)
            np.add.at(out, pairs[:, 0], 1)
        elif kind == "last":  # the total of the latest year paid before the assessed one
            chosen = np.flatnonzero(under & (period < self.period))
            entities, which = np.unique(rows[chosen], return_inverse=True)
            latest = np.full(len(entities), np.iinfo(np.int64).min, dtype=np.int64)
            np.maximum.at(latest, which, period[chosen])
            chosen = chosen[period[chosen] == latest[which]]
            np.add.at(out, rows[chosen], amount[chosen])
        else:  # pragma: no cover — the generator asks for the kinds above
            raise NoKernel(f"编译内核不认识台账汇总 {kind}")
        return out, known


def _combined(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column in one chunk (Arrow brings the chunks of a dictionary column, one dictionary per Parquet row
    group, to one dictionary as it concatenates them)."""
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _name(spec: Spec) -> str:
    """Where ``dens`` keeps an input's denominator."""
    kind = spec[0]
    return spec[1] if kind == "fact" else f"{kind}:{spec[1]}:{spec[2] if kind == 'at' else ''}"


def _ints(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An integer column without nulls as int64, its chunks combined first: a ``ChunkedArray``'s own
    ``to_numpy`` takes a slower path (1,250,000 rows of the history's keys 5.4 → 0.8 ms)."""
    return np.asarray(_combined(column).to_numpy(zero_copy_only=False), dtype=np.int64)


def _mask(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _known(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)


def _decode(
    chunks: list[pa.Array], selection: Selection, rows: int, key: str, kind: Type, *, lowest: bool = True
) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """A column as (values, known, denominator) (``_decode_raw``); numbers over the smallest exact power of ten
    where ``lowest``, else over their column's scale."""
    from . import decode

    values, known, den, whole = _decode_raw(chunks, selection, rows, key, kind)
    if not lowest:
        return values, known, den
    if den > 1 and whole:  # every value whole (counts, levels): the numerators over 1, in place
        decode.divide(values, den)
        return values, known, 1
    return _lowest_terms(values, known, den)


def _decode_raw(
    chunks: list[pa.Array], selection: Selection, rows: int, key: str, kind: Type
) -> tuple[np.ndarray, np.ndarray, int, bool]:  # fmt: skip
    """A money, number, yes/no or date column as (values, known, denominator, whether every number is whole),
    from the Arrow buffers of its chunks, each chunk's ``selection`` (its rows, and the entities they go to)
    only: money as int64 fen; numbers as int64 numerators over their column's scale, read from a decimal's own
    128-bit words by compiled code (``huiqi.kernel.decode``); yes/no as bool; dates as int64 days since
    1970-01-01; 0 (False) where unknown or not selected.

    A chunk read whole into its rows (a column of the entities) is unpacked and copied by numpy's vectorised
    loops on views of those rows: a yes/no column of 250,000 entities 0.72 → 0.19 ms, money 0.56 → 0.32 ms,
    dates 0.51 → 0.24 ms against one compiled loop over each value. Rows picked by index (a year of the
    history) keep the compiled loops, which numpy's indexing (a gather and a scatter) does not beat."""
    from . import decode

    if kind not in (Type.MONEY, Type.NUMBER, Type.BOOL, Type.DATE):
        raise NoKernel(f"事实 {key}（{kind.value}）不能直接进入编译内核")
    values: np.ndarray = np.zeros(rows, dtype=np.bool_ if kind is Type.BOOL else np.int64)
    known = np.zeros(rows, dtype=np.bool_)
    den, whole = 1, True
    for chunk, (targets, sources, first, count) in zip(chunks, selection, strict=True):
        offset, dtype = chunk.offset, chunk.type
        if count == 0 or pa.types.is_null(dtype):
            continue
        buffers = chunk.buffers()
        where = (targets, sources, first, count)
        # a chunk read whole into its rows (the entities): numpy's vectorised loops on views of those rows; a
        # year of the history (rows picked by index): the compiled loops, quicker than numpy's indexing
        rows_of = None if targets is not None else slice(first, first + count)
        if rows_of is not None:
            known[rows_of] = True if chunk.null_count == 0 else _bits(buffers[0], offset, count)
        elif chunk.null_count == 0:
            decode.present(targets, first, count, known)
        else:
            decode.validity(np.frombuffer(buffers[0], dtype=np.uint8), offset, *where, known)
        if kind is Type.BOOL and pa.types.is_boolean(dtype):
            if rows_of is not None:
                np.logical_and(_bits(buffers[1], offset, count), known[rows_of], out=values[rows_of])
            else:
                decode.booleans(np.frombuffer(buffers[1], dtype=np.uint8), offset, *where, known, values)
        elif (kind is Type.DATE and pa.types.is_date32(dtype)) or (
            kind in (Type.MONEY, Type.NUMBER) and pa.types.is_integer(dtype)
        ):
            width = np.int32 if pa.types.is_date32(dtype) else dtype.to_pandas_dtype()  # date32: int32 days
            data = np.frombuffer(buffers[1], dtype=width, count=offset + len(chunk))
            if rows_of is not None:  # 0 behind a null
                np.multiply(data[offset : offset + count], known[rows_of], out=values[rows_of])
            else:
                decode.integers(data, offset, *where, known, values)
        elif kind is Type.NUMBER and pa.types.is_decimal128(dtype):
            words = np.frombuffer(buffers[1], dtype=np.int64, count=2 * (offset + len(chunk)))
            read = decode.decimals(words, offset, targets, sources, first, count, known, values, 10**dtype.scale)
            if read == 0:
                raise NoKernel("数值超出 64 位整数范围")
            den, whole = max(den, 10**dtype.scale), whole and read == 2
        elif kind is Type.DATE and (pa.types.is_date64(dtype) or pa.types.is_timestamp(dtype)):
            days = pc.fill_null(chunk.cast(pa.date32()).cast(pa.int32()), 0)
            into = np.arange(first, first + count) if targets is None else targets
            picked = np.arange(count) if sources is None else sources
            values[into] = np.asarray(days.to_numpy(zero_copy_only=False), dtype=np.int64)[picked]
        else:
            raise NoKernel(f"事实 {key} 的列类型 {dtype} 不能直接进入编译内核")
    return values, known, den, whole


def _bits(buffer: pa.Buffer, offset: int, length: int) -> np.ndarray:
    """Bits ``offset`` to ``offset + length`` of an Arrow bitmap (least significant bit first) as bools: a view
    of numpy's unpacked bytes, which are 0 or 1."""
    unpacked = np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), count=offset + length, bitorder="little")
    return unpacked[offset:].view(np.bool_)


def _lowest_terms(values: np.ndarray, known: np.ndarray, den: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Numerators over ``den`` (a power of ten) brought over the smallest power of ten that holds them all: the
    largest power dividing every value is tried first (a column of counts: one pass)."""
    from . import decode

    digits = len(str(den)) - 1
    for power in range(digits, 0, -1):
        if decode.divisible(values, 10**power):
            return values // 10**power, known, den // 10**power
    return values, known, den


def slices(folder: Path, rows: int) -> list[tuple[int, int]]:
    """The entities of a population folder cut into slices of about ``rows`` (start, stop), each bound moved to
    the start of the file's row group nearest it where no row group is larger than a slice, so that a slice
    reads whole row groups (a slice is then at most half a group longer than ``rows``; groups of 131,072 rows,
    each read by two slices of 250,000 before: the seed base's kernel run 1.37 → 1.2 s); where the groups are
    larger, consecutive slices share a group (``RowGroups``); one empty slice where the file holds no entity."""
    metadata = pq.ParquetFile(folder / "entities.parquet").metadata
    total = metadata.num_rows
    starts = np.cumsum([0, *(metadata.row_group(g).num_rows for g in range(metadata.num_row_groups))])
    bounds = [0]
    while bounds[-1] < total:
        target = min(total, bounds[-1] + max(1, rows))
        if target < total and len(starts) > 2 and int(np.diff(starts).max()) <= rows:
            target = int(starts[np.abs(starts - target).argmin()])
        bounds.append(max(target, bounds[-1] + 1))
    return list(itertools.pairwise(bounds)) or [(0, 0)]  # a registry without entities: one empty slice


def read_ahead(read: Callable[[tuple[int, int]], T], ranges: list[tuple[int, int]]) -> Iterator[T]:
    """``read(rows)`` of each slice in turn, the next slice read in a thread of its own while the caller works on
    this one (Parquet's and DuckDB's readers release the GIL): the slice's reading, about a third of the kernel
    path's time, overlaps the kernels and the storing of results instead of following them. Memory holds two
    slices' tables at a time. ``read`` must be safe in another thread: on DuckDB, a cursor of its own."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="huiqi-kernel-read") as reader:
        pending = reader.submit(read, ranges[0]) if ranges else None
        for number in range(len(ranges)):
            assert pending is not None
            tables = pending.result()
            pending = reader.submit(read, ranges[number + 1]) if number + 1 < len(ranges) else None
            yield tables
            del tables


def read_population(
    folder: Path, facts: Iterable[str] | None = None, rows: tuple[int, int] | None = None, *,
    period: int | None = None, over_years: Iterable[str] = (), kept: RowGroups | None = None,
) -> Tables:  # fmt: skip
    """The entities, history and ledger of a population folder as Arrow tables, only the columns of ``facts``
    (with the structural ones) where given: what the kernel reads, without a database of its own. DuckDB joins
    the history and the ledger to the entities' rows in the file (the row key ``_row``) as it reads them.

    ``rows``: only the entities of rows ``start`` to ``stop`` of the file, with their history and ledger,
    ``_row`` counted from ``start`` (``slices``). ``period``: the assessed year; the history's annual facts not
    in ``over_years`` (those read at that year only: ``huiqi.compile.facts.annual_over_years``) are read from
    that year's rows alone, into ``current``. ``kept``: the last row group of the entities read, kept for the
    next slice (``RowGroups``)."""
    paths = {name: folder / f"{name}.parquet" for name in ("entities", "history", "ledger")}
    facts = None if facts is None else set(facts)
    entities = read_entities(folder, facts, rows, kept=kept)
    # each entity's row as read (the file's order, from the slice's first), joined by id: not DuckDB's
    # ``file_row_number``, which a file with a column of that name refuses
    numbered = pa.table({"entity_id": entities["entity_id"], ROW: np.arange(entities.num_rows, dtype=np.int64)})
    history = [c for c in _columns(paths["history"], facts, ("year",)) if c != "entity_id"]
    ledger = [c for c in _columns(paths["ledger"], facts, ("rule", "period", "amount_fen", "tier")) if c != "entity_id"]
    every, current = _history_split(history, period, over_years)
    con = duckdb.connect()
    try:
        con.register("_numbered", numbered)

        def read(name: str, columns: list[str], where: str = "") -> pa.Table:
            # the columns are the file's own names, the path a bound parameter
            kept = ", ".join(f't."{c}"' for c in columns)
            query = f"SELECT e.{ROW}, {kept} FROM read_parquet(?) t JOIN _numbered e USING (entity_id) {where}"  # noqa: S608
            return con.sql(query, params=[str(paths[name])]).to_arrow_table()

        over = _no_years() if _nothing_over_years(every, current) else read("history", every)
        return Tables(entities, over, read("ledger", ledger),
                      None if current is None else read("history", current, f"WHERE t.year = {period}"))  # fmt: skip
    finally:
        con.close()


def read_keyed(
    connection: duckdb.DuckDBPyConnection, folder: Path, facts: Iterable[str] | None, rows: tuple[int, int], *,
    period: int | None = None, over_years: Iterable[str] = (), kept: RowGroups | None = None, ids: bool = True,
) -> Tables:  # fmt: skip
    """As ``read_population`` for rows ``start`` to ``stop``, the history and ledger taken from the keyed tables
    a DuckDB runner loaded on ``connection`` (``DuckDBRunner.load_parquet``: ``history`` and ``ledger`` keyed by
    their entity's row in the file — unless the entities file has a column of its own named ``file_row_number``),
    so that a slice reads its own rows of them and not the files again. Without ``ids``, the entities' text ids
    are not read: a caller that keys each result by its row (``KernelRun.compute``'s ``key_start``) has no use
    for them (a quarter of a million distinct texts a slice)."""
    start, stop = int(rows[0]), int(rows[1])
    key = f'"{ROW_KEY}"'
    history = [c for c in connection.sql("SELECT * FROM history LIMIT 0").columns if c != ROW_KEY]
    every, current = _history_split(history, period, over_years)

    def read(name: str, columns: str, where: str = "") -> pa.Table:
        return connection.sql(f"SELECT CAST({key} - {start} AS BIGINT) AS {ROW}, {columns} FROM {name} "  # noqa: S608
                              f"WHERE {key} >= {start} AND {key} < {stop} {where}").to_arrow_table()  # fmt: skip

    def names(columns: list[str]) -> str:
        return ", ".join(f'"{c}"' for c in columns)

    over = _no_years() if _nothing_over_years(every, current) else read("history", names(every))
    return Tables(read_entities(folder, facts, rows, kept=kept, ids=ids), over,
                  read("ledger", f"* EXCLUDE ({key})"),
                  None if current is None else read("history", names(current), f"AND year = {period}"))  # fmt: skip


def split_history(history: pa.Table, period: int, over_years: Iterable[str]) -> tuple[pa.Table, pa.Table | None]:
    """A history table in memory split as ``read_keyed`` reads one: every year's rows of the annual facts in
    ``over_years``, and the assessed year's rows of the others (``Tables.current``; None: nothing to split), each
    with the history's keys (``_row``, ``entity_id``) and years."""
    keys = [c for c in (ROW, "entity_id") if c in history.column_names]
    every, current = _history_split([c for c in history.column_names if c not in keys], period, over_years)
    if current is None:
        return history, None
    this_year = history.filter(pc.equal(history["year"], period))
    return history.select(keys + every), this_year.select(keys + current)


def _history_split(
    columns: list[str], period: int | None, over_years: Iterable[str]
) -> tuple[list[str], list[str] | None]:  # fmt: skip
    """The history columns to read over every year and those to read at the assessed year only (None: no split,
    where ``period`` is None or every fact is read over the years). Reading a year's rows instead of five took
    the seed base's history at 1,000,000 × 5 years from 0.27–0.33 to 0.15–0.17 s (docs/population.md, "Issue
    13, twelfth round")."""
    if period is None:
        return columns, None
    wanted = set(over_years)
    every = [c for c in columns if c == "year" or c in wanted]
    current = [c for c in columns if c == "year" or c not in wanted]
    return (every, current) if len(current) > 1 else (columns, None)


def _nothing_over_years(every: list[str], current: list[str] | None) -> bool:
    """Whether the history's assessed year is read apart and no annual fact over the years: every year's rows
    would then hold their keys alone, read and joined for nothing (the peer's registry, 1,000,000 entities:
    the history's rows read twice over)."""
    return current is not None and every == ["year"]


def _no_years() -> pa.Table:
    """The history over the years where no fact is read over them: no row (``Inputs.series_start`` is then the
    assessed year, and no input reads another)."""
    return pa.table({ROW: pa.array([], pa.int64()), "year": pa.array([], pa.int32())})


def read_entities(
    folder: Path, facts: Iterable[str] | None = None, rows: tuple[int, int] | None = None, *,
    kept: RowGroups | None = None, ids: bool = True,
) -> pa.Table:  # fmt: skip
    """The entities of a population folder (rows ``start`` to ``stop`` of the file where ``rows`` is given, read
    from the row groups that hold them; the last of them ``kept`` for the next slice, where given), only the
    columns of ``facts`` with the structural ones where given (``entity_id`` only with ``ids``); their text
    columns (and lists of text) read as dictionaries."""
    path = folder / "entities.parquet"
    wanted = [c for c in _columns(path, facts, ("entity_id", "entity_type", "region")) if ids or c != "entity_id"]
    schema = pq.read_schema(path)
    # text and lists of text as Parquet stores them, a dictionary per row group: no string is materialised, and
    # comparing a column with a constant needs no hashing (``Inputs._text_codes``)
    texts = [n for n in wanted if n != "entity_id" and pa.types.is_string(schema.field(n).type)]
    texts += [f"{n}.list.element" for n in wanted if pa.types.is_list(schema.field(n).type)
              and pa.types.is_string(schema.field(n).type.value_type)]  # fmt: skip
    if rows is None:
        return pq.read_table(path, columns=wanted, read_dictionary=texts)
    return _read_rows(path, wanted, texts, *rows, kept=kept)


def _columns(path: Path, facts: Iterable[str] | None, structural: tuple[str, ...]) -> list[str]:
    """The columns of a Parquet file to read: those of ``facts`` (every one where None) and the structural ones."""
    present = pq.read_schema(path).names
    wanted = None if facts is None else set(facts)
    return [c for c in present if wanted is None or c in wanted or c in structural]


class RowGroups:
    """The row group of an entities file read last, kept for the slice after: where a file's row groups are
    larger than a slice (pyarrow writes 1,048,576 rows a group unless told otherwise), consecutive slices cut the
    same group, which is then read once instead of once per slice (a registry of 1,000,000 entities in one
    group: the seed base's kernel run 2.43 → 1.2 s). One per run, used by the thread reading its slices."""

    def __init__(self) -> None:
        self._key: tuple[str, tuple[str, ...], tuple[str, ...], int] | None = None
        self._table: pa.Table | None = None

    def read(self, file: pq.ParquetFile, key: tuple[str, tuple[str, ...], tuple[str, ...], int]) -> pa.Table:
        """Row group ``key[3]`` of ``file`` (``key``: its path, the columns read and those read as dictionaries,
        the group)."""
        if key != self._key or self._table is None:
            self._key, self._table = key, file.read_row_group(key[3], columns=list(key[1]))
        return self._table


def _read_rows(
    path: Path, columns: list[str], texts: list[str], start: int, stop: int, *, kept: RowGroups | None = None
) -> pa.Table:  # fmt: skip
    """Rows ``start`` to ``stop`` of a Parquet file: the row groups that hold them, read and cut; the last of
    them ``kept`` where given (the next slice may start in it)."""
    file = pq.ParquetFile(path, read_dictionary=texts)
    metadata = file.metadata
    groups, first, at = [], None, 0
    for group in range(metadata.num_row_groups):
        size = metadata.row_group(group).num_rows
        if at < stop and at + size > start:
            groups.append(group)
            first = at if first is None else first
        at += size
    if not groups:
        return file.schema_arrow.empty_table().select(columns)
    # group by group: a list read as dictionaries cannot come out of several groups at once
    tables = [file.read_row_group(group, columns=columns) for group in groups[:-1]]
    last = (str(path), tuple(columns), tuple(texts), groups[-1])
    tables.append(kept.read(file, last) if kept is not None else file.read_row_group(groups[-1], columns=columns))
    table = pa.concat_tables(tables)
    assert first is not None
    return table.slice(start - first, stop - start)
