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
from huiqi.facts.catalogue import ENTITY_LABELS, Catalogue, EntityType, Fact, Period
from huiqi.money import parse_money
from huiqi.regions import canonical_region
from huiqi.userfiles.tables import read_table
from huiqi.userfiles.text import prepare_output_dir

from .columns import Column, resolve_columns

_SPLIT = re.compile(r"[;；、/|]")
#: rows per Parquet row group of the files written: DuckDB reads a file's row groups in parallel, and the
#: compiled kernel's slices take whole groups. In pyarrow's default single group of 1,048,576 rows, a registry
#: of 1,000,000 entities took DuckDB 2.15–2.34 s to evaluate against 1.81 s in groups of this size, and the
#: kernel 2.43 s against 1.19 s (docs/population.md, "Issue 13, twelfth round")
ROW_GROUP_ROWS = 131_072
_TRUE = {"true", "1", "是", "yes", "y", "t"}
_FALSE = {"false", "0", "否", "no", "n", "f"}


class ImportError_(HuiqiError):
    """A cell or header of an imported file is wrong."""


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank rows (with their line numbers) of a CSV (UTF-8 ±BOM, GBK, GB18030),
    ``.xlsx`` or ``.xls`` file (first sheet), as text cells."""
    rows = read_table(path, what="登记表", error=ImportError_)
    if not rows or not any(c.strip() for c in rows[0]):
        raise ImportError_("第一行应为列名，但为空", where=f"{path}:1")
    body = [
        (number, [c.strip() for c in row])
        for number, row in enumerate(rows[1:], start=2)
        if any(c.strip() for c in row)
    ]
    return rows[0], body


def _table(
    path: Path,
    *,
    structural: tuple[str, ...],
    facts: dict[str, Fact],
    elsewhere: dict[str, tuple[Fact, str]],
) -> tuple[list[Column], list[tuple[int, dict[str, str]]]]:
    """The resolved columns and each row keyed by column key (missing cells are empty)."""
    header, body = read_rows(path)
    columns = resolve_columns(header, structural=structural, facts=facts, elsewhere=elsewhere, where=path,
                              error=ImportError_)  # fmt: skip
    keyed = []
    for number, row in body:
        if len(row) > len(header) and any(row[len(header) :]):
            raise ImportError_(
                f"此行比列名多 {len(row) - len(header)} 个单元格：请检查分隔符或引号", where=f"{path}:第{number}行"
            )
        item = {c.key: "" for c in columns if c is not None}
        for column, cell in zip(columns, row, strict=False):
            if column is not None:
                item[column.key] = cell
        keyed.append((number, item))
    return [c for c in columns if c is not None], keyed


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


def _region(text: str, *, where: str) -> list[str] | None:
    """The region path of a cell (``江苏;苏州``), split on ``;``, ``、`` or ``/``, checked against GB/T 2260."""
    names = tuple(r.strip() for r in _SPLIT.split(text) if r.strip())
    if names not in _REGIONS:  # registries repeat a few places many times
        _REGIONS[names] = list(canonical_region(names, where=where, error=ImportError_)) or None
    found = _REGIONS[names]
    return None if found is None else list(found)


_REGIONS: dict[tuple[str, ...], list[str] | None] = {}


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
    instant = {f.key: f for f in catalogue if f.period is not Period.ANNUAL}
    annual = {f.key: f for f in catalogue if f.period is Period.ANNUAL}
    in_history = {k: (f, "年度历史表（--history）") for k, f in annual.items()}
    in_entities = {k: (f, "主体表（--entities）") for k, f in instant.items()}
    columns, entity_rows = _table(entities, structural=("entity_id", "entity_type", "region", "name"), facts=instant,
                                  elsewhere=in_history)  # fmt: skip
    units = {c.key: c.money_unit or money_unit for c in columns}
    present = [key for key in instant if key in units]
    types = {e.value for e in EntityType} | set(ENTITY_LABELS.values())
    by_label = {label: key for key, label in ENTITY_LABELS.items()}
    converted: list[dict[str, Any]] = []
    for number, row in entity_rows:
        where = f"{entities}:第{number}行"
        if row["entity_type"] not in types:
            allowed = "、".join(f"{e.value}（{ENTITY_LABELS[e.value]}）" for e in EntityType)
            raise ImportError_(f"主体类型（entity_type）{row['entity_type']!r} 无效：可用 {allowed}", where=where)
        if not row["entity_id"]:
            raise ImportError_("主体编号（entity_id）为空", where=where)
        item: dict[str, Any] = {
            "entity_id": row["entity_id"],
            "entity_type": by_label.get(row["entity_type"], row["entity_type"]),
            "region": _region(row.get("region", ""), where=f"{where} 列 region"),
            "name": row.get("name") or None,
        }
        for key in present:
            item[key] = _convert(instant[key], row[key], units[key], f"{where} 列 {key}")
        converted.append(item)
    ids = {r["entity_id"] for r in converted}
    history_items: list[dict[str, Any]] = []
    if history is not None:
        columns, rows = _table(history, structural=("entity_id", "year"), facts=annual, elsewhere=in_entities)
        units = {c.key: c.money_unit or money_unit for c in columns}
        present = [key for key in annual if key in units]
        for number, row in rows:
            where = f"{history}:第{number}行"
            if row["entity_id"] not in ids:
                raise ImportError_(f"主体编号 {row['entity_id']!r} 不在主体表中", where=where)
            try:
                year = int(row["year"])
            except ValueError:
                raise ImportError_(f"年度应为四位年份，得到 {row['year']!r}", where=where) from None
            entry: dict[str, Any] = {"entity_id": row["entity_id"], "year": year}
            for key in present:
                entry[key] = _convert(annual[key], row[key], units[key], f"{where} 列 {key}")
            history_items.append(entry)
    ledger_items: list[dict[str, Any]] = []
    if ledger is not None:
        columns, rows = _table(ledger, structural=("entity_id", "rule", "period", "amount", "tier"), facts={},
                               elsewhere={})  # fmt: skip
        unit = next((c.money_unit for c in columns if c.key == "amount" and c.money_unit), money_unit)
        for number, row in rows:
            where = f"{ledger}:第{number}行"
            amount = row["amount"]
            unit_given = bool(re.search(r"[元万亿]$", amount))
            try:
                period = int(row["period"])
            except ValueError:
                raise ImportError_(f"期间应为四位年份，得到 {row['period']!r}", where=where) from None
            ledger_items.append({
                "entity_id": row["entity_id"], "rule": row["rule"], "period": period,
                "amount_fen": parse_money(amount, default_unit=None if unit_given else unit, where=f"{where} 列 amount"),
                "tier": row.get("tier") or None,
            })  # fmt: skip
    tables = {
        "entities": pa.Table.from_pylist(converted, schema=entity_schema(catalogue)),
        "history": pa.Table.from_pylist(history_items, schema=history_schema(catalogue)),
        "ledger": pa.Table.from_pylist(ledger_items, schema=LEDGER_SCHEMA),
    }
    prepare_output_dir(out, error=ImportError_)  # only now: a refused import leaves nothing behind
    for name, table in tables.items():
        pq.write_table(table, out / f"{name}.parquet", row_group_size=ROW_GROUP_ROWS)
    return {name: table.num_rows for name, table in tables.items()}
