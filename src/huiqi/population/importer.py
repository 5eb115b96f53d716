"""Population tables from CSV or Excel files, checked cell by cell, written as Parquet.

Officials keep registries in spreadsheets. Each file has a header row of column names (the same as the
Parquet tables: ``entity_id``, ``entity_type``, ``region`` and fact keys; ``year`` in the history;
``rule``, ``period``, ``amount``/``amount_fen``, ``tier`` in the ledger). Cells are read as text and
converted exactly: money with its unit (``1200万元``) or in the declared ``money_unit``; numbers as exact
decimals; yes/no as true/false/是/否/1/0; dates as YYYY-MM-DD; sets and regions split on ``;``, ``、``
or ``/``. A bad cell stops the import with its file, row and column; nothing is written.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from huiqi.compile.tables import LEDGER_SCHEMA, entity_schema, history_schema
from huiqi.errors import HuiqiError
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import Catalogue, EntityType, Fact, Period
from huiqi.money import parse_money
from huiqi.userfiles.tables import read_table
from huiqi.userfiles.text import prepare_output_dir

_SPLIT = re.compile(r"[;；、/|]")
_TRUE = {"true", "1", "是", "yes", "y", "t"}
_FALSE = {"false", "0", "否", "no", "n", "f"}


class ImportError_(HuiqiError):
    """A cell or header of an imported file is wrong."""


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8 ±BOM, GBK, GB18030), ``.xlsx`` or ``.xls`` file (first sheet) as text cells."""
    rows = read_table(path, what="登记表", error=ImportError_)
    if not rows or not any(c.strip() for c in rows[0]):
        raise ImportError_("第一行应为列名，但为空", where=f"{path}:1")
    header = [h.strip() for h in rows[0]]
    return [
        dict(zip(header, (c.strip() for c in row), strict=False)) for row in rows[1:] if any(c.strip() for c in row)
    ]


def _convert(fact: Fact, text: str, money_unit: str, where: str) -> Any:
    if text == "":
        return None
    if fact.type is Type.MONEY:
        unit_given = bool(re.search(r"[元万亿]$", text))
        fen = parse_money(text, default_unit=None if unit_given else money_unit, where=where)
        if fen < 0:
            raise ImportError_(f"{fact.name}不能为负数（{text}）", where=where)
        return fen
    if fact.type is Type.NUMBER:
        try:
            return Decimal(text.rstrip("人家个项年"))
        except InvalidOperation:
            raise ImportError_(f"{fact.name}应为数值，得到 {text!r}", where=where) from None
    if fact.type is Type.BOOL:
        lowered = text.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise ImportError_(f"{fact.name}应为 是/否（true/false），得到 {text!r}", where=where)
    if fact.type is Type.DATE:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ImportError_(f"{fact.name}的日期应为 YYYY-MM-DD，得到 {text!r}", where=where) from None
    if fact.type is Type.SET:
        items = [i.strip() for i in _SPLIT.split(text) if i.strip()]
        wrong = sorted(set(items) - set(fact.values or items))
        if wrong:
            raise ImportError_(f"{fact.name}含无效取值 {wrong}：可用 {'、'.join(fact.values or [])}", where=where)
        return items
    if fact.values and text not in fact.values:
        raise ImportError_(f"{fact.name}的取值 {text!r} 无效：可用 {'、'.join(fact.values)}", where=where)
    return text


def _check_header(rows: list[dict[str, str]], allowed: set[str], required: set[str], path: Path) -> None:
    header = set(rows[0]) if rows else set()
    unknown = sorted(header - allowed)
    if unknown:
        raise ImportError_(
            f"未知的列 {unknown}：列名应为事实键（见 huiqi facts）或 {sorted(required)}", where=str(path)
        )
    missing = sorted(required - header)
    if missing and rows:
        raise ImportError_(f"缺少必需的列 {missing}", where=str(path))


def import_population(
    catalogue: Catalogue,
    *,
    entities: Path,
    history: Path | None,
    ledger: Path | None,
    out: Path,
    money_unit: str = "元",
) -> dict[str, int]:
    """Check and convert the files, then write ``entities/history/ledger.parquet`` into ``out``."""
    prepare_output_dir(out, error=ImportError_)  # before the work: a file in the way is said at once
    instant = {f.key: f for f in catalogue if f.period is not Period.ANNUAL}
    annual = {f.key: f for f in catalogue if f.period is Period.ANNUAL}
    entity_rows = read_rows(entities)
    _check_header(
        entity_rows, {"entity_id", "entity_type", "region", "name", *instant}, {"entity_id", "entity_type"}, entities
    )
    types = {e.value for e in EntityType}
    converted: list[dict[str, Any]] = []
    for number, row in enumerate(entity_rows, start=2):
        where = f"{entities}:第{number}行"
        if row.get("entity_type") not in types:
            raise ImportError_(
                f"entity_type {row.get('entity_type')!r} 无效：可用 {'、'.join(sorted(types))}", where=where
            )
        item: dict[str, Any] = {
            "entity_id": row["entity_id"],
            "entity_type": row["entity_type"],
            "region": [r.strip() for r in _SPLIT.split(row.get("region", "")) if r.strip()] or None,
            "name": row.get("name") or None,
        }
        for key, fact in instant.items():
            item[key] = _convert(fact, row.get(key, ""), money_unit, f"{where} 列 {key}")
        converted.append(item)
    ids = {r["entity_id"] for r in converted}
    history_items: list[dict[str, Any]] = []
    if history is not None:
        rows = read_rows(history)
        _check_header(rows, {"entity_id", "year", *annual}, {"entity_id", "year"}, history)
        for number, row in enumerate(rows, start=2):
            where = f"{history}:第{number}行"
            if row["entity_id"] not in ids:
                raise ImportError_(f"entity_id {row['entity_id']!r} 不在主体表中", where=where)
            try:
                year = int(row["year"])
            except ValueError:
                raise ImportError_(f"year 应为四位年份，得到 {row['year']!r}", where=where) from None
            entry: dict[str, Any] = {"entity_id": row["entity_id"], "year": year}
            for key, fact in annual.items():
                entry[key] = _convert(fact, row.get(key, ""), money_unit, f"{where} 列 {key}")
            history_items.append(entry)
    ledger_items: list[dict[str, Any]] = []
    if ledger is not None:
        rows = read_rows(ledger)
        _check_header(
            rows, {"entity_id", "rule", "period", "amount", "tier"}, {"entity_id", "rule", "period", "amount"}, ledger
        )
        for number, row in enumerate(rows, start=2):
            where = f"{ledger}:第{number}行"
            amount = row["amount"]
            unit_given = bool(re.search(r"[元万亿]$", amount))
            ledger_items.append({
                "entity_id": row["entity_id"], "rule": row["rule"], "period": int(row["period"]),
                "amount_fen": parse_money(amount, default_unit=None if unit_given else money_unit, where=where),
                "tier": row.get("tier") or None,
            })  # fmt: skip
    tables = {
        "entities": pa.Table.from_pylist(converted, schema=entity_schema(catalogue)),
        "history": pa.Table.from_pylist(history_items, schema=history_schema(catalogue)),
        "ledger": pa.Table.from_pylist(ledger_items, schema=LEDGER_SCHEMA),
    }
    for name, table in tables.items():
        pq.write_table(table, out / f"{name}.parquet")
    return {name: table.num_rows for name, table in tables.items()}
