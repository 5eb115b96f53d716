"""The population tables: their schema from the fact catalogue, and building them from profiles.

``entities`` has one column per non-annual fact, ``history`` one per annual fact (one row per entity and
year), ``ledger`` one row per award paid. Money is BIGINT fen; numbers are exact DECIMAL(38, 9).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pyarrow as pa

from huiqi.engine.env import LedgerEntry
from huiqi.engine.profile import Profile
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import Catalogue, Fact, ItemField, Period

NUMBER_TYPE = pa.decimal128(38, 9)

#: The row key the runners add to all three tables when they load a population: a dense integer per entity
#: on DuckDB (joins on one integer column instead of the text id), the entity id itself on Spark. It is
#: not part of the population files.
ROW_KEY = "_k"


_SCALAR_TYPES: dict[Type, pa.DataType] = {
    Type.MONEY: pa.int64(),
    Type.NUMBER: NUMBER_TYPE,
    Type.BOOL: pa.bool_(),
    Type.DATE: pa.date32(),
    Type.TEXT: pa.string(),
    Type.SET: pa.list_(pa.string()),
}


def arrow_type(fact: Fact) -> pa.DataType:
    """The Arrow (and so DuckDB / Spark) type of a fact's column; a list fact is a list of structs."""
    if fact.type is Type.ITEMS:
        return pa.list_(pa.struct([pa.field(f.key, _SCALAR_TYPES[f.type]) for f in fact.fields or []]))
    if fact.period is Period.QUARTERLY:  # (year, quarter, value) of each quarter given
        value = _SCALAR_TYPES[fact.type]
        return pa.list_(pa.struct([pa.field("y", pa.int32()), pa.field("q", pa.int32()), pa.field("v", value)]))
    return _SCALAR_TYPES[fact.type]


def entity_schema(catalogue: Catalogue) -> pa.Schema:
    fields = [pa.field("entity_id", pa.string(), nullable=False), pa.field("entity_type", pa.string()),
              pa.field("region", pa.list_(pa.string())), pa.field("name", pa.string())]  # fmt: skip
    fields += [pa.field(f.key, arrow_type(f)) for f in catalogue if f.period is not Period.ANNUAL]
    return pa.schema(fields)


def history_schema(catalogue: Catalogue) -> pa.Schema:
    fields = [pa.field("entity_id", pa.string(), nullable=False), pa.field("year", pa.int32(), nullable=False)]
    fields += [pa.field(f.key, arrow_type(f)) for f in catalogue if f.period is Period.ANNUAL]
    return pa.schema(fields)


LEDGER_SCHEMA = pa.schema(
    [
        pa.field("entity_id", pa.string(), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("period", pa.int32(), nullable=False),
        pa.field("amount_fen", pa.int64(), nullable=False),
        pa.field("tier", pa.string()),
        pa.field("quarter", pa.int32()),  # 1–4 for an award of a quarterly rule, else null
    ]
)


def _cell(fact: Fact | ItemField, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(fact, Fact) and fact.type is Type.ITEMS:
        return [{f.key: _cell(f, item.get(f.key)) for f in fact.fields or []} for item in value]
    if isinstance(fact, Fact) and fact.period is Period.QUARTERLY:
        scalar = fact.model_copy(update={"period": Period.INSTANT})
        return [{"y": y, "q": q, "v": _cell(scalar, v)} for (y, q), v in sorted(value.items())]
    if fact.type is Type.NUMBER:
        number = Fraction(value)
        return Decimal(number.numerator) / Decimal(number.denominator)
    if fact.type is Type.MONEY:
        return int(value)
    if fact.type is Type.SET:
        return sorted(value)
    return value


def profiles_to_tables(
    profiles: list[tuple[str, Profile]],
    catalogue: Catalogue,
    *,
    period: int,
    ledger_alias: dict[str, str] | None = None,
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(entities, history, ledger) Arrow tables from typed profiles keyed by entity id.

    An annual fact given as one value (``{None: v}``) is the assessed year's value, as in the engine.
    """
    alias = ledger_alias or {}
    entity_rows: list[dict[str, Any]] = []
    history_rows: dict[tuple[str, int], dict[str, Any]] = {}
    ledger_rows: list[dict[str, Any]] = []
    annual = [f for f in catalogue if f.period is Period.ANNUAL]
    for entity_id, profile in profiles:
        row: dict[str, Any] = {"entity_id": entity_id, "entity_type": profile.entity_type.value,
                               "region": list(profile.region) or None, "name": profile.name}  # fmt: skip
        for fact in catalogue:
            if fact.period is not Period.ANNUAL:
                row[fact.key] = _cell(fact, profile.facts.get(fact.key))
        entity_rows.append(row)
        for fact in annual:
            series = profile.facts.get(fact.key)
            if not series:
                continue
            for year, value in series.items():
                key = (entity_id, period if year is None else int(year))
                history_rows.setdefault(key, {"entity_id": key[0], "year": key[1]})[fact.key] = _cell(fact, value)
        for entry in profile.ledger:
            ledger_rows.append(_ledger_row(entity_id, entry, alias))
    entities = pa.Table.from_pylist(entity_rows, schema=entity_schema(catalogue))
    history = pa.Table.from_pylist(list(history_rows.values()), schema=history_schema(catalogue))
    ledger = pa.Table.from_pylist(ledger_rows, schema=LEDGER_SCHEMA)
    return entities, history, ledger


def _ledger_row(entity_id: str, entry: LedgerEntry, alias: dict[str, str]) -> dict[str, Any]:
    return {"entity_id": entity_id, "rule": alias.get(entry.rule, entry.rule), "period": entry.period,
            "amount_fen": entry.amount_fen, "tier": entry.tier, "quarter": entry.quarter}  # fmt: skip
