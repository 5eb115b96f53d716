"""Named, reproducible normalisations from a seed text (``original.txt``) to ``source.txt``.

A policy file lists the names it applied (``document.source.normalisation``); a test re-applies them to
``original.txt`` and checks the result is byte-for-byte ``source.txt``, so the offsets of every quote stay
traceable to the document as received.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Normaliser = Callable[[str], str]

_BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")


def strip_word_bookmarks(text: str) -> str:
    """Remove Word bookmark markers left by document conversion.

    >>> strip_word_bookmarks("[bookmark: _GoBack]苏州市")
    '苏州市'
    """
    return _BOOKMARK.sub("", text)


def strip_trailing_whitespace(text: str) -> str:
    """Remove spaces at the end of each line.

    >>> strip_trailing_whitespace("甲  \\n乙 ")
    '甲\\n乙'
    """
    return "\n".join(line.rstrip() for line in text.split("\n"))


NORMALISERS: dict[str, Normaliser] = {
    "strip_word_bookmarks": strip_word_bookmarks,
    "strip_trailing_whitespace": strip_trailing_whitespace,
}


def apply(names: list[str], text: str) -> str:
    """Apply the named normalisations in order; an unknown name raises ``KeyError``."""
    for name in names:
        text = NORMALISERS[name](text)
    return text
