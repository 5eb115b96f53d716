"""Full-text search over the policy base for Chinese: titles and provisions.

An in-memory SQLite FTS5 table with the ``trigram`` tokenizer (SQLite ≥ 3.34), built once from the loaded
policy base. Why trigram and not a word segmenter (jieba): policy language is full of terms a general
dictionary cuts wrongly or not at all (进档补差, 首版次, 专精特新, 揭榜挂帅); trigrams match any substring of
three characters or more, exactly as a clerk's Ctrl-F would, with no dictionary to keep and no extra
dependency. Its one limit: a term needs three characters to use the index. Two-character terms (人才, 奖励)
are matched with ``LIKE`` on the same table — a scan, which over a base of this size takes well under a
millisecond (docs/web.md has the figures); one-character terms are refused as too broad.

Each row is one provision (its heading, its quote, the labels of its rules and the readings that concern it)
or one document's titles; several terms must all occur (AND). Rows found through the index are ranked by
``bm25`` with the heading weighted above the text.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from huiqi.errors import HuiqiError
from huiqi.policy.base import PolicyBase

#: Shortest term searched; terms under TRIGRAM characters are matched with LIKE (see the module docstring).
MIN_TERM = 2
TRIGRAM = 3
MAX_QUERY = 40


class QueryError(HuiqiError):
    """A search the user must rephrase (the message says how)."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One match: a provision (``provision`` set) or a document's title (``provision`` None)."""

    document: str
    provision: str | None
    heading: str
    text: str


def terms_of(query: str) -> list[str]:
    """The terms of a query (split on spaces and punctuation), each checked; raises ``QueryError``.

    >>> terms_of(" 首版次  人才 ")
    ['首版次', '人才']
    """
    query = query.strip()
    if len(query) > MAX_QUERY:
        raise QueryError(f"搜索词过长（{len(query)}个字），请不超过{MAX_QUERY}个字", where="q")
    terms = [t for t in re.split(r"[\s,，、;；。“”\"'()（）]+", query) if t]
    if not terms:
        raise QueryError("请输入搜索词，如“首版次”“人才”", where="q")
    short = [t for t in terms if len(t) < MIN_TERM]
    if short:
        raise QueryError(f"搜索词“{short[0]}”只有1个字，范围太大；请至少输入2个字，如“人才”", where="q")
    return terms


class SearchIndex:
    """The policy base's search table (built in memory; thread-safe for reads)."""

    def __init__(self, base: PolicyBase) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE hits USING fts5(document UNINDEXED, provision UNINDEXED, heading, text, "
            "extra, tokenize='trigram')"
        )
        rows: list[tuple[str, str | None, str, str, str]] = []
        for doc_id, loaded in base.documents.items():
            meta = loaded.policy.document
            titles = " ".join(t for t in (meta.title, meta.short_title or "", meta.doc_number or "") if t)
            rows.append((doc_id, None, meta.title, titles, "、".join(meta.issuers)))
            readings: dict[str, list[str]] = {}
            for reading in loaded.policy.readings:
                words = [reading.question, *(o.label for o in reading.options)]
                readings.setdefault(reading.provision or "", []).extend(words)
            for provision in loaded.policy.provisions:
                heading = " ".join(p for p in (provision.id, provision.heading or "") if p)
                extra = [r.label for r in provision.rules] + readings.get(provision.id, [])
                rows.append((doc_id, provision.id, heading, provision.quote, " ".join(extra)))
        self._db.executemany("INSERT INTO hits VALUES (?, ?, ?, ?, ?)", rows)
        self._db.commit()
        self.size = len(rows)

    def search(self, query: str, *, documents: set[str] | None = None, limit: int = 50) -> list[Hit]:
        """Provisions and titles containing every term of ``query``, best first (``QueryError`` if unusable)."""
        terms = terms_of(query)
        long = [t for t in terms if len(t) >= TRIGRAM]
        short = [t for t in terms if len(t) < TRIGRAM]
        where: list[str] = []
        params: list[str | int] = []
        if long:
            where.append("hits MATCH ?")
            params.append(" AND ".join('"' + t.replace('"', '""') + '"' for t in long))
        for term in short:
            pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(heading LIKE ? ESCAPE '\\' OR text LIKE ? ESCAPE '\\' OR extra LIKE ? ESCAPE '\\')")
            params.extend([pattern, pattern, pattern])
        order = "bm25(hits, 0, 0, 5.0, 1.0, 2.0)" if long else "rowid"
        sql = f"SELECT document, provision, heading, text FROM hits WHERE {' AND '.join(where)} ORDER BY {order}"  # noqa: S608 - fixed fragments, values bound
        found: list[Hit] = []
        for document, provision, heading, text in self._db.execute(sql, params):
            if documents is not None and document not in documents:
                continue
            found.append(Hit(document, provision, heading, text))
            if len(found) >= limit:
                break
        return found


def snippet(text: str, terms: list[str], *, width: int = 60) -> list[tuple[str, bool]]:
    """A window of ``text`` around the first term found, as (piece, is_match) parts for highlighting.

    >>> snippet("对符合条件的首版次软件产品项目给予奖励", ["首版次"], width=6)
    [('…', False), ('符合条件的', False), ('首版次', True), ('软件产品项目', False), ('…', False)]
    """
    positions = [(text.find(t), t) for t in terms if text.find(t) >= 0]
    if not positions:
        return [(text[: width * 2] + ("…" if len(text) > width * 2 else ""), False)]
    first = min(p for p, _ in positions)
    start, end = max(0, first - width // 2 - 2), min(len(text), first + width + width // 2)
    window = text[start:end]
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))
    parts: list[tuple[str, bool]] = []
    last = 0
    for match in pattern.finditer(window):
        if match.start() > last:
            parts.append((window[last : match.start()], False))
        parts.append((match.group(), True))
        last = match.end()
    if last < len(window):
        parts.append((window[last:], False))
    if start > 0:
        parts.insert(0, ("…", False))
    if end < len(text):
        parts.append(("…", False))
    return parts
