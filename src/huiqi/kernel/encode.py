"""The kernel's results to Arrow: the validity bitmaps of its amount columns, packed by compiled code.

An amount the kernel did not write (a rule not eligible, or without an amount) holds ``NO_AMOUNT``; Arrow
wants a bitmap of the amounts present and their count of nulls. Numpy takes three passes per column for that
(compare, count, pack); one compiled pass over every rule's row of amounts, run by the kernel's own threads on
the rows each has just written, took 3.6–4.2 ms where numpy took 8.6–8.9 ms for 30 rules of 250,000 entities.

Imported only by ``huiqi.kernel.runner`` when a kernel runs, so that the rest of the package imports without
numba.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, inline="always")
def _ones(byte: int) -> int:
    """The bits set in a byte."""
    byte = byte - ((byte >> 1) & 0x55)
    byte = (byte & 0x33) + ((byte >> 2) & 0x33)
    return (byte + (byte >> 4)) & 0x0F


@numba.njit(cache=True, nogil=True)
def validity(
    amount: np.ndarray, rules: np.ndarray, missing: int, bitmaps: np.ndarray, nulls: np.ndarray, start: int, stop: int
) -> None:  # fmt: skip
    """For each rule ``rules[k]`` (a row of ``amount``), bits ``start`` to ``stop`` of its Arrow validity bitmap
    (``bitmaps[k]``, least significant bit first): set where the amount is not ``missing``; ``nulls[k]`` grows
    by the amounts missing. ``start`` is a multiple of 8, so that threads packing other rows write other bytes."""
    whole = start + (stop - start) // 8 * 8
    for k in range(len(rules)):
        values, bits = amount[rules[k]], bitmaps[k]
        present = 0
        for i in range(start, whole, 8):
            byte = (
                (values[i] != missing) | ((values[i + 1] != missing) << 1) | ((values[i + 2] != missing) << 2)
                | ((values[i + 3] != missing) << 3) | ((values[i + 4] != missing) << 4)
                | ((values[i + 5] != missing) << 5) | ((values[i + 6] != missing) << 6)
                | ((values[i + 7] != missing) << 7)
            )  # fmt: skip
            bits[i >> 3] = byte
            present += _ones(byte)
        if whole < stop:
            byte = 0
            for i in range(whole, stop):
                if values[i] != missing:
                    byte |= 1 << (i - whole)
                    present += 1
            bits[whole >> 3] = byte
        nulls[k] += stop - start - present
