"""Spans written by the tool: find each quote of a policy file in ``source.txt`` and fill in or repair its span.

``huiqi policies spans`` reads ``policy.yaml`` as plain YAML (a span may be missing or wrong; the file need
not pass the model yet), locates every ``quote`` of ``omitted``, ``provisions`` and their ``rules`` in the
source, and reports or writes ``span: [start, end]``. A quote found more than once is placed at the
occurrence after the previous item (for a rule: inside its provision). A quote not found is reported
with the closest passage and how it differs, character by character.

Writing edits only the numbers of the ``span`` lines (or inserts a ``span`` line) so comments, order and
layout of the file stay as the author wrote them; the file is re-read afterwards to check every span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huiqi.errors import PolicyError
from huiqi.policy.textdiff import closest_passage, differences
from huiqi.policy.yamlio import load_yaml

_SPAN = re.compile(r"(\bspan\s*:\s*)\[\s*-?\d+\s*,\s*-?\d+\s*\]")
_EMPTY_SPAN = re.compile(r"(\bspan\s*:)\s*(null|~)?(\s*#.*)?$")
_QUOTE_KEY = re.compile(r"^(\s*(?:-\s+)?)quote\s*:")
_KEY = re.compile(r"^(\s*(?:-\s+)?)[A-Za-z_]+\s*:")


@dataclass
class SpanItem:
    """One quote of the policy file and what its span should be."""

    path: str
    line: int
    quote: str
    old: tuple[int, int] | None
    new: tuple[int, int] | None = None
    problem: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def changed(self) -> bool:
        return self.new is not None and self.new != self.old


@dataclass
class SpanReport:
    """The spans of one document."""

    file: Path
    items: list[SpanItem]

    @property
    def changes(self) -> list[SpanItem]:
        return [item for item in self.items if item.changed]

    @property
    def problems(self) -> list[SpanItem]:
        return [item for item in self.items if item.problem]


def plan(folder: Path) -> SpanReport:
    """Where every quote of ``folder/policy.yaml`` lies in ``folder/source.txt``."""
    path, source_path = folder / "policy.yaml", folder / "source.txt"
    for needed in (path, source_path):
        if not needed.is_file():
            raise PolicyError(f"缺少 {needed.name}", where=str(folder))
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise PolicyError("policy.yaml 的顶层应为映射（document、provisions …）", where=f"{path}:1")
    source = source_path.read_text(encoding="utf-8")
    items: list[SpanItem] = []
    cursor = 0
    for index, entry in enumerate(_mappings(raw.get("omitted"))):
        item = _locate(source, entry, f"omitted[{index}]", (0, len(source)), cursor)
        items.append(item)
    for p_index, provision in enumerate(_mappings(raw.get("provisions"))):
        item = _locate(source, provision, f"provisions[{p_index}]", (0, len(source)), cursor)
        items.append(item)
        where = item.new or item.old
        if item.new is not None:
            cursor = item.new[1]
        inside = where if where is not None else (0, len(source))
        rule_cursor = inside[0]
        for r_index, rule in enumerate(_mappings(provision.get("rules"))):
            rule_item = _locate(source, rule, f"provisions[{p_index}].rules[{r_index}]", inside, rule_cursor)
            items.append(rule_item)
    return SpanReport(path, [item for item in items if item.quote or item.problem])


def write(report: SpanReport) -> int:
    """Write the changed spans into the file; returns how many were written. Refuses what it cannot edit."""
    lines = report.file.read_text(encoding="utf-8").split("\n")
    inserts: list[tuple[int, str]] = []
    for item in report.changes:
        assert item.new is not None
        start, end = item.new
        span_line = item.raw.get("__lines__", {}).get("span")
        if span_line is not None:
            text = lines[span_line - 1]
            if _EMPTY_SPAN.search(text):  # span: null, span: ~ or span: with nothing after it
                lines[span_line - 1] = _EMPTY_SPAN.sub(rf"\g<1> [{start}, {end}]\g<3>", text)
                continue
            if len(_SPAN.findall(text)) != 1:
                raise PolicyError(f"{item.path} 的 span 不是写在一行的 [起点, 终点]，请手动改为 [{start}, {end}]",
                                  where=f"{report.file}:{span_line}")  # fmt: skip
            lines[span_line - 1] = _SPAN.sub(rf"\g<1>[{start}, {end}]", text)
        else:
            inserts.append(_insertion(lines, item, report.file))
    for at, text in sorted(inserts, reverse=True):
        if at < 0:  # a flow mapping on one line: add the key before its closing brace
            line = lines[-at - 1].rstrip()
            lines[-at - 1] = line[:-1].rstrip() + f", {text}}}"
        else:
            lines.insert(at, text)
    original = report.file.read_text(encoding="utf-8")
    report.file.write_text("\n".join(lines), encoding="utf-8")
    check = plan(report.file.parent)
    if check.changes:
        report.file.write_text(original, encoding="utf-8")
        raise PolicyError("写入后的 span 仍不正确，已恢复原文件；请手动修改", where=str(report.file))
    return len(report.changes)


def _insertion(lines: list[str], item: SpanItem, file: Path) -> tuple[int, str]:
    """Where to add ``span: [a, b]`` for an item without one: (line index to insert at, text)."""
    assert item.new is not None
    text = f"span: [{item.new[0]}, {item.new[1]}]"
    key_lines: dict[str, int] = {k: v for k, v in item.raw.get("__lines__", {}).items() if k}
    quote_line = key_lines["quote"]
    quote_text = lines[quote_line - 1]
    if quote_text.rstrip().endswith("}") and quote_text.count("{") == 1 and quote_text.count("}") == 1:
        return -quote_line, text
    later = sorted(line for line in key_lines.values() if line > quote_line)
    if later:
        match = _KEY.match(lines[later[0] - 1])
        if match:
            indent = " " * len(match.group(1))
            return later[0] - 1, indent + text
    match = _QUOTE_KEY.match(quote_text)
    if match and not quote_text.rstrip().endswith(("|", ">", "|-", ">-", "|+", ">+")):
        return quote_line, " " * len(match.group(1)) + text
    raise PolicyError(f"无法自动为 {item.path} 添加 span，请手动添加 {text}", where=f"{file}:{quote_line}")


def _mappings(value: Any) -> list[dict[str, Any]]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _span_of(entry: dict[str, Any]) -> tuple[int, int] | None:
    span = entry.get("span")
    if isinstance(span, list) and len(span) == 2 and all(isinstance(n, int) for n in span):
        return span[0], span[1]
    return None


def _locate(source: str, entry: dict[str, Any], path: str, inside: tuple[int, int], cursor: int) -> SpanItem:
    line = entry.get("__lines__", {}).get("quote") or entry.get("__lines__", {}).get("", 1)
    quote = entry.get("quote")
    old = _span_of(entry)
    item = SpanItem(path=path, line=line, quote=quote if isinstance(quote, str) else "", old=old, raw=entry)
    if not isinstance(quote, str) or not quote:
        item.problem = "缺少 quote（逐字引文），无法确定 span"
        return item
    if old is not None and 0 <= old[0] <= old[1] <= len(source) and source[old[0] : old[1]] == quote:
        item.new = old
        return item
    found = _occurrences(source, quote)
    within = [i for i in found if inside[0] <= i and i + len(quote) <= inside[1]]
    candidates = within or found
    if not candidates:
        item.problem = _not_found(source, quote, inside)
        return item
    after = [i for i in candidates if i >= cursor]
    start = min(candidates, key=lambda i: abs(i - old[0])) if old is not None else (after or candidates)[0]
    item.new = (start, start + len(quote))
    return item


def _occurrences(source: str, quote: str) -> list[int]:
    found, start = [], source.find(quote)
    while start >= 0:
        found.append(start)
        start = source.find(quote, start + 1)
    return found


def _not_found(source: str, quote: str, inside: tuple[int, int]) -> str:
    return "原文中找不到该引文；" + describe_missing_quote(source, quote, inside)


def describe_missing_quote(source: str, quote: str, inside: tuple[int, int] | None = None) -> str:
    """The closest passage of ``source`` to a quote it does not contain, and how the two differ."""
    start_at, end_at = inside or (0, len(source))
    passage = closest_passage(source[start_at:end_at], quote)
    if passage is not None:
        start, end = passage[0] + start_at, passage[1] + start_at
    elif (whole := closest_passage(source, quote)) is not None:
        start, end = whole
    else:
        return "也没有相近的段落：请从 source.txt 逐字复制"
    return f"最接近的是 source.txt[{start}:{end}]，不同之处：" + "；".join(differences(quote, source[start:end]))


def report_lines(report: SpanReport) -> list[str]:
    """One Chinese line per span to change and per quote not found."""
    out = []
    for item in report.items:
        where = f"{report.file}:{item.line} {item.path}"
        if item.problem:
            out.append(f"✘ {where}：{item.problem}")
        elif item.changed and item.new is not None:
            old = f"[{item.old[0]}, {item.old[1]}]" if item.old else "（未填写）"
            out.append(f"✎ {where}：span {old} → [{item.new[0]}, {item.new[1]}]")
    return out
