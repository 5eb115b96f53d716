"""Arrow buffers to the kernel's aligned arrays, one pass per column, compiled with numba.

Where a chunk's rows go to entities picked by index (a year of the history), numpy needs several passes
(and as many temporary arrays) to unpack a validity bitmap, gather the rows, zero the values behind a null
and scatter them; on this project's benchmark machine the memory a pass writes costs more than its
arithmetic. (A chunk read whole into its rows, a column of the entities, is unpacked by numpy's vectorised
loops instead: ``huiqi.kernel.inputs._decode``.) Each function here reads a chunk's buffers once and writes
the final array in place:
``values`` zero where unknown, ``known`` a bool per row. They are compiled on first use and cached on disk
(numba's own cache, beside this file or in the user's cache folder).

Imported only by ``huiqi.kernel.inputs`` when it builds arrays, so that the rest of the kernel package
imports without numba.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


def _compiled(function: F) -> F:
    """``function`` compiled by numba on first call, the machine code cached on disk; the GIL released."""
    return cast(F, numba.njit(cache=True, nogil=True)(function))


@_compiled
def bit(bitmap: np.ndarray, index: int) -> bool:
    """Bit ``index`` of an Arrow bitmap (least significant bit first)."""
    return bool((bitmap[index >> 3] >> (index & 7)) & 1 != 0)


# Each function below reads ``count`` values of one Arrow chunk (after its ``offset``) into rows of the output:
# for a year of the history, the chunk's rows ``sources`` into the entities ``targets`` that own them; for a
# column of the entities (``targets`` and ``sources`` None: numba compiles that case apart, without the
# indirection), the chunk's rows in order into the rows from ``start``.


@_compiled
def at(indices: np.ndarray | None, start: int, j: int) -> int:
    """``indices[j]``, or ``start + j`` where there are none."""
    if indices is None:
        return start + j
    return int(indices[j])


@_compiled
def validity(
    bitmap: np.ndarray, offset: int, targets: np.ndarray | None, sources: np.ndarray | None, start: int, count: int,
    known: np.ndarray,
) -> None:  # fmt: skip
    """Whether each value is present, from the chunk's validity bitmap."""
    for j in range(count):
        known[at(targets, start, j)] = bit(bitmap, offset + at(sources, 0, j))


@_compiled
def present(targets: np.ndarray | None, start: int, count: int, known: np.ndarray) -> None:
    """Every value present (a chunk without nulls)."""
    for j in range(count):
        known[at(targets, start, j)] = True


@_compiled
def integers(
    data: np.ndarray, offset: int, targets: np.ndarray | None, sources: np.ndarray | None, start: int, count: int,
    known: np.ndarray, values: np.ndarray,
) -> None:  # fmt: skip
    """Integers (money in fen, days of a date) as int64, 0 where unknown."""
    for j in range(count):
        row = at(targets, start, j)
        values[row] = data[offset + at(sources, 0, j)] if known[row] else 0


@_compiled
def decimals(
    words: np.ndarray, offset: int, targets: np.ndarray | None, sources: np.ndarray | None, start: int, count: int,
    known: np.ndarray, values: np.ndarray, divisor: int,
) -> int:  # fmt: skip
    """The low 64-bit word of each 128-bit decimal (its unscaled value), 0 where unknown. Returns 0 when a
    known value does not fit in 64 bits (its high word is not the low word's sign), 2 when every value is a
    multiple of ``divisor`` (a whole number, for the scale's power of ten), else 1."""
    fits, whole = True, True
    for j in range(count):
        row = at(targets, start, j)
        if known[row]:
            word = 2 * (offset + at(sources, 0, j))
            low = words[word]
            if words[word + 1] != (low >> 63):
                fits = False
            if low % divisor != 0:
                whole = False
            values[row] = low
        else:
            values[row] = 0
    return 0 if not fits else 2 if whole else 1


@_compiled
def booleans(
    bitmap: np.ndarray, offset: int, targets: np.ndarray | None, sources: np.ndarray | None, start: int, count: int,
    known: np.ndarray, values: np.ndarray,
) -> None:  # fmt: skip
    """Yes/no values from Arrow's bit-packed booleans, False where unknown."""
    for j in range(count):
        row = at(targets, start, j)
        values[row] = known[row] and bit(bitmap, offset + at(sources, 0, j))


@_compiled
def by_chunk(
    where: np.ndarray, found: np.ndarray, starts: np.ndarray, targets: np.ndarray, sources: np.ndarray,
    bounds: np.ndarray,
) -> None:  # fmt: skip
    """For a year of the history: the entities that have a row (``found``, at position ``where``) grouped by
    the chunk that holds it (``starts``: each chunk's first position, then the total). Chunk ``c``'s entities
    are ``targets[bounds[c]:bounds[c + 1]]``, their rows within it the same slice of ``sources``."""
    chunks = len(starts) - 1
    chunk = np.empty(len(where), dtype=np.int64)
    for c in range(chunks + 1):
        bounds[c] = 0
    for i in range(len(where)):
        if found[i]:
            c = np.searchsorted(starts, where[i], side="right") - 1
            chunk[i] = c
            bounds[c + 1] += 1
    for c in range(chunks):
        bounds[c + 1] += bounds[c]
    fill = bounds[:-1].copy()
    for i in range(len(where)):
        if found[i]:
            c = chunk[i]
            targets[fill[c]] = i
            sources[fill[c]] = where[i] - starts[c]
            fill[c] += 1


@_compiled
def year_rows(
    entity_rows: np.ndarray, years: np.ndarray, first_year: int, count: int, entities: int, start: int, stop: int,
    targets: np.ndarray, sources: np.ndarray,
) -> int:  # fmt: skip
    """For rows ``start`` to ``stop`` of a history table (a chunk of its columns): those of the ``count`` years
    from ``first_year``, each as its place in a (years × entities) block (``targets``) and its row in the chunk
    (``sources``), in the table's order (of two rows of one entity and year the later is read last, as
    ``positions`` keeps it); how many there are."""
    n = 0
    for row in range(start, stop):
        year = years[row] - first_year
        if 0 <= year < count:
            targets[n] = year * entities + entity_rows[row]
            sources[n] = row - start
            n += 1
    return n


@_compiled
def positions(entity_rows: np.ndarray, years: np.ndarray, year: int, found: np.ndarray, where: np.ndarray) -> None:
    """Per entity, the position of its history row of ``year`` (``where``) and whether it has one."""
    for row in range(len(years)):
        if years[row] == year:
            where[entity_rows[row]] = row
            found[entity_rows[row]] = True


@_compiled
def greatest(data: np.ndarray, known: np.ndarray, values: np.ndarray, seen: np.ndarray) -> None:
    """The running maximum over years: ``values[i]`` becomes ``data[i]`` where that is known and larger (or the
    first seen)."""
    for i in range(len(data)):
        if known[i] and (not seen[i] or data[i] > values[i]):
            values[i] = data[i]
            seen[i] = True


@_compiled
def divisible(values: np.ndarray, divisor: int) -> bool:
    """Whether every value is a multiple of ``divisor`` (stops at the first that is not)."""
    for value in values:  # noqa: SIM110 — a loop numba compiles, stopping early
        if value % divisor != 0:
            return False
    return True


@_compiled
def pick(table: np.ndarray, codes: np.ndarray, out: np.ndarray) -> None:
    """``out[j] = table[codes[j]]``, False where the code is -1 (a null): whether each text is one of those
    wanted, from its dictionary code, in one pass (numpy's indexing first widens the codes to 64 bits)."""
    for j in range(len(codes)):
        code = codes[j]
        out[j] = code >= 0 and table[code]


@_compiled
def mark(rows: np.ndarray, table: np.ndarray, codes: np.ndarray, values: np.ndarray) -> None:
    """``values[rows[j]] = True`` for every item ``j`` whose code is a hit in ``table``: a list holds the text."""
    for j in range(len(codes)):
        code = codes[j]
        if code >= 0 and table[code]:
            values[rows[j]] = True


@_compiled
def civil(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a count of days since 1970-01-01, in the proleptic Gregorian calendar (the
    era-based algorithm of H. Hinnant's ``civil_from_days``)."""
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    day_of_era = z - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    return year_of_era + era * 400 + (1 if month <= 2 else 0), month, day


@_compiled
def from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a date (H. Hinnant's ``days_from_civil``)."""
    year -= 1 if month <= 2 else 0
    era = (year if year >= 0 else year - 399) // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


@_compiled
def years(days: np.ndarray, known: np.ndarray, out: np.ndarray) -> None:
    """The calendar year of each date, 0 where unknown."""
    for i in range(len(days)):
        out[i] = civil(days[i])[0] if known[i] else 0


@_compiled
def years_since(days: np.ndarray, known: np.ndarray, year: int, month: int, day: int, out: np.ndarray) -> None:
    """Whole years from each date to (year, month, day), 0 where unknown."""
    for i in range(len(days)):
        if known[i]:
            y, m, d = civil(days[i])
            out[i] = year - y - (1 if m * 100 + d > month * 100 + day else 0)
        else:
            out[i] = 0


@_compiled
def add_years(days: np.ndarray, known: np.ndarray, count: int, out: np.ndarray) -> None:
    """The same calendar day ``count`` years later, 29 February becoming 28 February in a common year; 0 where
    unknown."""
    for i in range(len(days)):
        if known[i]:
            y, m, d = civil(days[i])
            y += count
            if m == 2 and d == 29 and not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
                d = 28
            out[i] = from_civil(y, m, d)
        else:
            out[i] = 0


@_compiled
def divide(values: np.ndarray, divisor: int) -> None:
    """``values //= divisor`` in place (every value a multiple of it)."""
    for i in range(len(values)):
        values[i] //= divisor
