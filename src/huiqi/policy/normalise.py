"""Named, reproducible normalisations from a seed text (``original.txt``) to ``source.txt``.

A policy file lists the names it applied (``document.source.normalisation``); a test re-applies them to
``original.txt`` and checks the result is byte-for-byte ``source.txt``, so the offsets of every quote stay
traceable to the document as received.
"""

from __future__ import annotations

import re
import unicodedata
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


_PARAGRAPH_END = re.compile(r"[。！？；：;:!?][”’」』）)]*$")
_HEADING_END = re.compile(r"(答复|印发)$")
_PARENTHESISED = re.compile(r"^[（(].*[）)]$")
_SHORT_LINE = 0.8


def _display_width(line: str) -> int:
    """Width of a line in columns: a CJK (wide or fullwidth) character counts 2, anything else 1."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _ends_paragraph(line: str, wrap_width: float) -> bool:
    stripped = line.strip()
    return bool(
        _PARAGRAPH_END.search(stripped)
        or _HEADING_END.search(stripped)
        or _PARENTHESISED.match(stripped)
        or _display_width(stripped) < _SHORT_LINE * wrap_width
    )


def join_hard_wrapped_lines(text: str) -> str:
    """Join hard-wrapped lines (a PDF's print lines, often with blank lines between them) into paragraphs.

    A non-empty line ends its paragraph when it ends in 。！？；：;:!? (optionally followed by a closing
    quote or bracket), when it is a heading or print mark ending in 答复 or 印发, when it is wholly in
    brackets (（此件予以公开）, a contact line), or when it is short: narrower than 80% of the wrap width,
    taken as the median display width of the text's non-empty lines (a CJK character counts two
    columns). Otherwise it continues on the next non-empty line: the blank lines between them are
    dropped, the continuation's leading whitespace is dropped and no space is inserted. Everything
    else (spaces inside a line, the blank lines between paragraphs, a paragraph's first line) is kept.

    >>> join_hard_wrapped_lines("您好！您在会议上提\\n\\n 出的建议收悉。\\n\\n一、关于建议的答复\\n\\n"
    ...                         "我市已于 2020\\n\\n年印发方案。")
    '您好！您在会议上提出的建议收悉。\\n\\n一、关于建议的答复\\n\\n我市已于 2020年印发方案。'
    """
    lines = text.split("\n")
    widths = sorted(_display_width(line.strip()) for line in lines if line.strip())
    if not widths:
        return text
    wrap_width = widths[len(widths) // 2]
    out: list[str] = []
    held: list[str] = []  # blank lines after an unfinished line: dropped if the paragraph goes on
    open_paragraph = False
    for line in lines:
        if not line.strip():
            (held if open_paragraph else out).append(line)
            continue
        if open_paragraph:
            out[-1] += line.lstrip()
            held = []
        else:
            out.append(line)
        open_paragraph = not _ends_paragraph(out[-1], wrap_width)
    return "\n".join(out + held)


NORMALISERS: dict[str, Normaliser] = {
    "strip_word_bookmarks": strip_word_bookmarks,
    "strip_trailing_whitespace": strip_trailing_whitespace,
    "join_hard_wrapped_lines": join_hard_wrapped_lines,
}


def apply(names: list[str], text: str) -> str:
    """Apply the named normalisations in order; an unknown name raises ``KeyError``."""
    for name in names:
        text = NORMALISERS[name](text)
    return text
