"""Population tables back into engine profiles: what lets the scalar engine check the SQL path."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pyarrow as pa

from huiqi.engine.env import LedgerEntry
from huiqi.engine.profile import Profile
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import Catalogue, EntityType, Fact, Period


def _value(fact: Fact, cell: Any) -> Any:
    if fact.type is Type.NUMBER:
        number = Fraction(Decimal(cell))
        return number.numerator if number.denominator == 1 else number
    if fact.type is Type.SET:
        return frozenset(cell)
    return cell


def tables_to_profiles(
    entities: pa.Table, history: pa.Table, ledger: pa.Table, catalogue: Catalogue
) -> list[tuple[str, Profile]]:
    """(entity id, profile) for every entity row, with its annual facts and ledger entries."""
    series: dict[str, dict[str, dict[int, Any]]] = defaultdict(lambda: defaultdict(dict))
    annual = [f for f in catalogue if f.period is Period.ANNUAL]
    for row in history.to_pylist():
        for fact in annual:
            cell = row.get(fact.key)
            if cell is not None:
                series[row["entity_id"]][fact.key][int(row["year"])] = _value(fact, cell)
    entries: dict[str, list[LedgerEntry]] = defaultdict(list)
    for row in ledger.to_pylist():
        entries[row["entity_id"]].append(
            LedgerEntry(row["rule"], int(row["period"]), int(row["amount_fen"]), row["tier"])
        )
    instant = [f for f in catalogue if f.period is not Period.ANNUAL]
    profiles = []
    for row in entities.to_pylist():
        entity_id = row["entity_id"]
        facts: dict[str, Any] = {f.key: _value(f, row[f.key]) for f in instant if row.get(f.key) is not None}
        facts.update({key: dict(values) for key, values in series[entity_id].items()})
        profile = Profile(
            entity_type=EntityType(row["entity_type"]),
            facts=facts,
            region=tuple(row["region"] or ()),
            name=row.get("name"),
            ledger=tuple(entries[entity_id]),
        )
        profiles.append((entity_id, profile))
    return profiles
