"""Bounded memos for the calculator: a result computed from some facts is reused while those facts are the same.

A calculator session re-sends every answer at each step (the web page, the API and ``huiqi ask`` hold no
state), and one answer changes what only a few documents and rules read. ``facts_key`` makes the part of a
profile a computation reads into a hashable key; ``Memo`` keeps a bounded number of results by key.

>>> facts_key({"revenue": {2023: 5, 2022: 4}, "staff": 56, "city": "苏州市"}, ("revenue", "staff", "absent"))
(('revenue', ((2022, 4), (2023, 5))), ('staff', 56))
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def facts_key(facts: Mapping[str, Any], keys: Iterable[str]) -> tuple[tuple[str, Any], ...]:
    """The values of ``keys`` in ``facts`` (those present), hashable: a yearly fact as sorted (year, value) pairs.

    Raises ``TypeError`` for a value that cannot be hashed (the caller then computes without the memo)."""
    found: list[tuple[str, Any]] = []
    for key in keys:
        if key not in facts:
            continue
        value = facts[key]
        if isinstance(value, dict):
            value = tuple(sorted(value.items(), key=lambda item: (item[0] is None, item[0] or 0)))
        hash(value)
        found.append((key, value))
    return tuple(found)


class Memo(Generic[K, V]):
    """A map of at most ``size`` entries; when full, the older half is dropped (safe across threads).

    >>> memo: Memo[str, int] = Memo(2)
    >>> memo.put("a", 1); memo.put("b", 2); memo.put("c", 3)
    >>> memo.get("a"), memo.get("c")
    (None, 3)
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: dict[K, V] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        with self._lock:
            if len(self._data) >= self.size:
                for old in list(self._data)[: max(1, self.size // 2)]:
                    del self._data[old]
            self._data[key] = value

    def __len__(self) -> int:
        return len(self._data)
