"""The nearest known name to a misspelled one, for "是否应为 …？" hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(word: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The candidate closest to ``word`` (difflib ratio at least ``cutoff``), or None.

    >>> nearest("max_year", ["max_years", "label"])
    'max_years'
    >>> nearest("zzz", ["max_years"]) is None
    True
    """
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str:
    """``"；是否应为 X？"`` when a near candidate exists, else the empty string."""
    found = nearest(word, candidates, cutoff=cutoff)
    return f"；是否应为 {found}？" if found else ""
