"""Where two texts differ, said so an author can find it: the closest passage to a quote, the first difference."""

from __future__ import annotations

import difflib

_CONTEXT = 8
_MAX_CHANGES = 5


def closest_passage(source: str, quote: str) -> tuple[int, int] | None:
    """The span of ``source`` most like ``quote`` (anchored on their longest common run), or None."""
    if not quote or not source:
        return None
    matcher = difflib.SequenceMatcher(None, source, quote, autojunk=False)
    anchor = matcher.find_longest_match(0, len(source), 0, len(quote))
    if anchor.size < min(4, len(quote)):
        return None
    slack = max(10, len(quote) // 4)
    lo = max(0, anchor.a - anchor.b - slack)
    hi = min(len(source), anchor.a - anchor.b + len(quote) + slack)
    window = source[lo:hi]
    blocks = [b for b in difflib.SequenceMatcher(None, window, quote, autojunk=False).get_matching_blocks() if b.size]
    if not blocks:
        return None
    start = lo + blocks[0].a - blocks[0].b
    end = lo + blocks[-1].a + blocks[-1].size + (len(quote) - blocks[-1].b - blocks[-1].size)
    return max(0, start), min(len(source), end)


def differences(expected: str, actual: str, *, expected_name: str = "引文", actual_name: str = "原文") -> list[str]:
    """The places where ``actual`` differs from ``expected``, each as one Chinese line with some context.

    >>> differences("在苏新设立独立法人", "在苏设立独立法人")
    ['第3字起：引文为“新”，原文无（…在苏[新]设立独立法人…）']
    """
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, expected, actual, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if len(out) == _MAX_CHANGES:
            out.append("……（另有不同之处）")
            break
        ours, theirs = _shown(expected[i1:i2]), _shown(actual[j1:j2])
        said = (
            f"{expected_name}为“{ours}”，{actual_name}无"
            if tag == "delete"
            else f"{expected_name}无，{actual_name}为“{theirs}”"
            if tag == "insert"
            else f"{expected_name}为“{ours}”，{actual_name}为“{theirs}”"
        )
        before = expected[max(0, i1 - _CONTEXT // 2) : i1]
        after = expected[i2 : i2 + _CONTEXT // 2 + 2]
        marked = (
            f"…{_shown(before)}[{ours}]{_shown(after)}…" if tag != "insert" else f"…{_shown(before)}[+]{_shown(after)}…"
        )
        out.append(f"第{i1 + 1}字起：{said}（{marked}）")
    return out


def first_difference(expected: str, actual: str) -> str:
    """Where two long texts first differ, as line:column and a few characters of each.

    >>> first_difference("甲乙\\n丙丁", "甲乙\\n丙戊")
    '第2行第2列：应为“丁”，实际为“戊”'
    """
    index = next((i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b), None)
    if index is None:
        if len(expected) == len(actual):
            return "两者相同"
        index = min(len(expected), len(actual))
    line = expected.count("\n", 0, index) + 1
    column = index - (expected.rfind("\n", 0, index) + 1) + 1
    return (
        f"第{line}行第{column}列：应为“{_shown(expected[index : index + _CONTEXT]) or '（结束）'}”，"
        f"实际为“{_shown(actual[index : index + _CONTEXT]) or '（结束）'}”"
    )


def _shown(text: str) -> str:
    """Invisible characters made visible: a line break as ⏎, a tab as →, a full-width space as □."""
    return text.replace("\n", "⏎").replace("\t", "→").replace("\u3000", "□").replace("\r", "␍")
