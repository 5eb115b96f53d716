"""A synthetic enterprise registry with years of history, for trying huiqi at scale.

Distributions (documented in docs/population.md; all draws from one seeded generator, so a seed
reproduces a registry exactly):

- entity types: 88% enterprises, 6% talents, 2% park operators, 2% institutions, 1.5% projects,
  0.5% local governments;
- regions: 35% Suzhou, 30% Guangzhou, 15% Urumqi (Xinjiang), 15% Zhejiang (Hangzhou, Ningbo, Wenzhou),
  3% elsewhere, 2% unknown; a district is the last element;
- revenue: log-normal, median 2,000万元 (σ 1.6), growing each year by a log-normal factor (median +10%);
  software revenue 50–100% of it; park operators' software revenue median 50亿元;
- paid-in capital median 1,000万元, registered capital 1–3× it; staff with social insurance median 40;
  individual income tax of talents median 5万元 a year;
- yes/no facts true with 30% (memberships and honours 2–10%; "is a software firm" 80%); dates uniform
  2005–the assessed year; set facts hold each value with 10%; text facts uniform over their values;
- 5% of each applicable fact is left blank (unknown), so "needs information" appears as in real data;
- the ledger: 3% of entities received an award from a random rule in an earlier year.

Money is int64 fen; numbers are exact decimals; nothing here uses floats for money.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq

from huiqi.compile.tables import LEDGER_SCHEMA, entity_schema, history_schema
from huiqi.engine.evaluate import Engine
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import Catalogue, EntityType, Fact, Period

WAN = 1_000_000  # fen per 万元

TYPES = [
    (EntityType.ENTERPRISE, 0.88),
    (EntityType.TALENT, 0.06),
    (EntityType.PARK_OPERATOR, 0.02),
    (EntityType.INSTITUTION, 0.02),
    (EntityType.PROJECT, 0.015),
    (EntityType.LOCAL_GOVERNMENT, 0.005),
]
REGIONS: list[tuple[list[str], float, list[str]]] = [
    (["江苏省", "苏州市"], 0.35, ["工业园区", "姑苏区", "吴中区", "相城区", "昆山市"]),
    (["广东省", "广州市"], 0.30, ["天河区", "海珠区", "黄埔区", "番禺区", "南沙区", "白云区"]),
    (["新疆维吾尔自治区", "乌鲁木齐市"], 0.15, ["高新区（新市区）", "经开区（头屯河区）", "天山区"]),
    (["浙江省", "杭州市"], 0.08, ["西湖区", "滨江区", "余杭区"]),
    (["浙江省", "宁波市"], 0.04, ["鄞州区", "海曙区"]),
    (["浙江省", "温州市"], 0.03, ["鹿城区", "瓯海区"]),
    (["北京市"], 0.03, ["海淀区", "朝阳区"]),
]
MISSING = 0.05
#: Text facts that hold the entity's city (the second element of its region).
CITY_FACTS = ("registered_city", "prefecture_city")


def _money_scale(fact: Fact, entity: EntityType) -> tuple[float, float]:
    """(median in 万元, σ of the log) for a money fact."""
    key = fact.key
    if entity is EntityType.PARK_OPERATOR and "revenue" in key:
        return 500_000.0, 1.0
    if "revenue" in key or "sales" in key:
        return 2000.0, 1.6
    if "capital" in key:
        return 1000.0, 1.2
    if key.startswith("iit"):
        return 5.0, 1.0
    if "investment" in key or "value" in key or "income" in key:
        return 3000.0, 1.3
    return 50.0, 1.2


def _bool_probability(fact: Fact) -> float:
    key = fact.key
    if any(word in key for word in ("top100", "renowned", "famous", "little_giant", "leading", "first_listed")):
        return 0.02
    if any(word in key for word in ("software", "main_business", "miit", "registered")):
        return 0.8
    if key.startswith(("in_", "selected_", "listed_")):
        return 0.1
    return 0.3


class _Columns:
    """Vectorised column generation for one chunk of entities."""

    def __init__(self, rng: np.random.Generator, period: int) -> None:
        self.rng = rng
        self.period = period

    def money(self, fact: Fact, entity: EntityType, size: int) -> np.ndarray:
        median, sigma = _money_scale(fact, entity)
        values = self.rng.lognormal(np.log(median), sigma, size) * WAN
        return np.round(values).astype(np.int64)

    def number(self, fact: Fact, size: int) -> np.ndarray:
        key = fact.key
        if "staff" in key:
            return np.round(self.rng.lognormal(np.log(40), 1.0, size)).astype(np.int64)
        if "rank" in key:
            return self.rng.integers(1, 91, size)
        if "years" in key:
            return self.rng.integers(0, 11, size)
        return self.rng.poisson(8, size)

    def dates(self, size: int) -> np.ndarray:
        start = dt.date(2005, 1, 1).toordinal()
        end = dt.date(self.period, 12, 31).toordinal()
        return self.rng.integers(start, end + 1, size)


_EPOCH = dt.date(1970, 1, 1).toordinal()


def _column(columns: _Columns, fact: Fact, kinds: np.ndarray, shape: tuple[int, ...]) -> pa.Array:
    """One fact's values for a chunk (``shape`` = (entities,) or (entities, years)), blank where the fact does
    not apply to the entity's type or is left unknown; built with numpy, never a Python loop per entity."""
    rng = columns.rng
    size = shape[0]
    applies = np.zeros(size, dtype=bool)
    for index, (entity, _) in enumerate(TYPES):
        if entity in fact.entity:
            applies |= kinds == index
    mask = np.broadcast_to(~applies.reshape((size,) + (1,) * (len(shape) - 1)), shape) | (rng.random(shape) < MISSING)
    flat_mask = mask.ravel()
    arrow_type = _arrow_type(fact)
    if fact.type is Type.MONEY:
        values = np.zeros(shape, dtype=np.int64)
        for index, (entity, _) in enumerate(TYPES):
            members = np.flatnonzero((kinds == index) & applies)
            if members.size == 0:
                continue
            last = columns.money(fact, entity, members.size)
            if len(shape) == 1:
                values[members] = last
            else:  # a growth path back from the assessed year
                growth = rng.lognormal(np.log(1.10), 0.20, (members.size, shape[1]))
                path = np.empty((members.size, shape[1]))
                path[:, -1] = last
                for y in range(shape[1] - 2, -1, -1):
                    path[:, y] = path[:, y + 1] / growth[:, y + 1]
                values[members] = np.round(path).astype(np.int64)
        return pa.array(values.ravel(), type=pa.int64(), mask=flat_mask)
    if fact.type is Type.NUMBER:
        numbers = np.resize(columns.number(fact, int(np.prod(shape))), shape).astype(np.int64)
        return pa.array(numbers.ravel(), type=pa.int64(), mask=flat_mask).cast(arrow_type)
    if fact.type is Type.BOOL:
        flags = rng.random(shape) < _bool_probability(fact)
        return pa.array(flags.ravel(), type=pa.bool_(), mask=flat_mask)
    if fact.type is Type.DATE:
        days = columns.dates(int(np.prod(shape))) - _EPOCH
        return pa.array(days.astype(np.int32), type=pa.int32(), mask=flat_mask).cast(pa.date32())
    options = fact.values or (["甲", "乙"] if fact.type is Type.SET else ["其他"])
    count = int(np.prod(shape))
    if fact.type is Type.SET:
        picks = rng.random((count, len(options))) < 0.1
        cells: list[Any] = [
            None if m else [o for o, p in zip(options, row, strict=True) if p]
            for row, m in zip(picks, flat_mask, strict=True)
        ]
        return pa.array(cells, type=arrow_type)
    chosen = np.array(options, dtype=object)[rng.integers(0, len(options), count)]
    return pa.array(chosen, type=pa.string(), mask=flat_mask)


def _arrow_type(fact: Fact) -> pa.DataType:
    from huiqi.compile.tables import arrow_type

    return arrow_type(fact)


def generate_chunk(
    catalogue: Catalogue, rule_refs: list[tuple[str, str | None]], *, start: int, size: int, years: int, period: int,
    rng: np.random.Generator,
) -> tuple[pa.Table, pa.Table, pa.Table]:  # fmt: skip
    """``size`` entities numbered from ``start``, with ``years`` years of history up to ``period``."""
    ids = np.array([f"E{start + i:09d}" for i in range(size)], dtype=object)
    kinds = rng.choice(len(TYPES), size, p=[p for _, p in TYPES])
    region_pick = rng.choice(len(REGIONS) + 1, size, p=[p for _, p, _ in REGIONS] + [0.02])
    district_pick = rng.integers(0, 8, size)
    options: list[list[str] | None] = []
    lookup: dict[tuple[int, int], int] = {}
    codes = np.empty(size, dtype=np.int64)
    for i, (r, d) in enumerate(zip(region_pick.tolist(), district_pick.tolist(), strict=True)):
        key = (r, d)
        if key not in lookup:
            lookup[key] = len(options)
            if r == len(REGIONS):
                options.append(None)
            else:
                base, _, districts = REGIONS[r]
                options.append([*base, districts[d % len(districts)]])
        codes[i] = lookup[key]
    regions = pa.array(options, type=pa.list_(pa.string())).take(pa.array(codes))
    columns = _Columns(rng, period)
    type_names = np.array([t.value for t, _ in TYPES], dtype=object)
    entity_arrays: dict[str, pa.Array] = {
        "entity_id": pa.array(ids, type=pa.string()),
        "entity_type": pa.array(type_names[kinds], type=pa.string()),
        "region": regions,
        "name": pa.array(
            np.char.add("样例主体", np.arange(start, start + size).astype(str)).astype(object), type=pa.string()
        ),
    }
    for fact in catalogue:
        if fact.period is not Period.ANNUAL:
            entity_arrays[fact.key] = _column(columns, fact, kinds, (size,))
    # Where a fact names the entity's city, it agrees with the region (blank where the fact is blank).
    city_names = pa.array([o[1] if o and len(o) > 1 else None for o in options], type=pa.string()).take(pa.array(codes))
    for city_fact in CITY_FACTS:
        if city_fact in entity_arrays:
            present = pa.compute.is_valid(entity_arrays[city_fact])
            entity_arrays[city_fact] = pa.compute.if_else(present, city_names, pa.nulls(size, pa.string()))
    history_arrays: dict[str, pa.Array] = {
        "entity_id": pa.array(np.repeat(ids, years), type=pa.string()),
        "year": pa.array(np.tile(np.arange(period - years + 1, period + 1, dtype=np.int32), size), type=pa.int32()),
    }
    for fact in catalogue:
        if fact.period is Period.ANNUAL:
            history_arrays[fact.key] = _column(columns, fact, kinds, (size, years))
    ledger_rows: dict[str, list[Any]] = {"entity_id": [], "rule": [], "period": [], "amount_fen": [], "tier": [],
                                         "quarter": []}  # fmt: skip
    if rule_refs:
        paid = np.flatnonzero(rng.random(size) < 0.03)
        picks = rng.integers(0, len(rule_refs), paid.size)
        for position, pick in zip(paid.tolist(), picks.tolist(), strict=True):
            ref, tier = rule_refs[pick]
            ledger_rows["entity_id"].append(ids[position])
            ledger_rows["rule"].append(ref)
            ledger_rows["period"].append(period - 1 - int(rng.integers(0, max(years - 1, 1))))
            ledger_rows["amount_fen"].append(50 * WAN)
            ledger_rows["tier"].append(tier)
            ledger_rows["quarter"].append(None)
    entities = pa.Table.from_pydict(entity_arrays, schema=entity_schema(catalogue))
    history = pa.Table.from_pydict(history_arrays, schema=history_schema(catalogue))
    ledger = pa.Table.from_pydict(ledger_rows, schema=LEDGER_SCHEMA)
    return entities, history, ledger


def rule_refs(engine: Engine) -> list[tuple[str, str | None]]:
    """(ledger reference, first tier id) of every rule: what past awards in the ledger can name."""
    refs = []
    for document in engine.documents.values():
        for rule in document.rules:
            tiers = rule.rule.benefit.tiers
            refs.append((rule.ledger_ref, tiers[0].id if tiers else None))
    return refs


def generate(
    engine: Engine, folder: Path, *, n: int, years: int, seed: int, period: int, chunk: int = 250_000,
    progress: Any = None,
) -> dict[str, int]:  # fmt: skip
    """Write ``entities.parquet``, ``history.parquet`` and ``ledger.parquet`` into ``folder``, in chunks."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    refs = rule_refs(engine)
    catalogue = engine.catalogue
    writers = {
        "entities": pq.ParquetWriter(folder / "entities.parquet", entity_schema(catalogue)),
        "history": pq.ParquetWriter(folder / "history.parquet", history_schema(catalogue)),
        "ledger": pq.ParquetWriter(folder / "ledger.parquet", LEDGER_SCHEMA),
    }
    counts = {"entities": 0, "history": 0, "ledger": 0}
    try:
        for start in range(0, n, chunk):
            size = min(chunk, n - start)
            tables = generate_chunk(catalogue, refs, start=start, size=size, years=years, period=period, rng=rng)
            for name, table in zip(("entities", "history", "ledger"), tables, strict=True):
                writers[name].write_table(table)
                counts[name] += table.num_rows
            if progress is not None:
                progress(size)
    finally:
        for writer in writers.values():
            writer.close()
    return counts
