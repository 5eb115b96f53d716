"""Peer benchmark: the same nine subsidy rules in OpenFisca, exact numpy, hand-written DuckDB SQL and huiqi.

One synthetic population of companies (default 1,000,000 rows) and nine rules of the seed policies' kind,
evaluated in one run by

- **OpenFisca** (``openfisca-core``, a benchmark-only dependency: ``pip install -e '.[bench]'``), the
  rules as a tax-benefit system — every rule a YEAR variable reading parameters, the revenue tiers as
  ``single_amount`` scales — in two modes: ``float32``, its default for money, and ``int64``, money as
  64-bit integers (a dtype override OpenFisca does not support officially) with rates applied as exact
  integer arithmetic. Without OpenFisca installed its columns are skipped, with a message;
- **numpy**: the exact floor — vectorised int64 fen, ``base * p // q`` for a product;
- **numba** (``bench/peer_kernel.py``, benchmark-only like OpenFisca; skipped with a message when numba is
  not installed): the nine rules as one hand-written compiled kernel computing what huiqi computes — every
  rule's status with three-valued logic over validity masks, and its amount — in one pass over the rows on
  every core: what a compiled row-wise backend could reach. Its first call compiles it (timed apart);
- **SQL**: hand-written DuckDB SQL of the nine amounts over the tables huiqi loaded (the same rows,
  the same engine), materialised as a table;
- **huiqi**: the policy ``bench/peer9/peer9`` (the nine rules in the normal policy format, with the
  hand-computed rows below as its cases), through the normal population path: the population written as
  Parquet with a null column for every other fact of the project's catalogue too (a city's registry holds
  the facts of all its documents), ``DuckDBRunner.load_parquet`` reading only the facts the rules read
  (``facts_read``; loading every column is timed beside it), ``evaluate_all`` (every rule's status and
  amount for every entity, materialised); and again as ``huiqi simulate`` loads, the entities left in their
  file (``copy_entities=False``: the query decodes the columns it reads), load and evaluation timed apart;
- **huiqi kernel** (``huiqi.kernel``, needs numba): the same policy generated as a compiled kernel, its
  inputs read from the Parquet files into aligned arrays (timed as its load), then run (timed as its
  evaluation: the kernel on every core and its result columns); its first call compiles it or loads it
  from its cache (timed apart, not in the medians). Beside its load, the **load floor**: the same columns
  read from the same files into numpy arrays by hand with pyarrow (``load_floor``), the least any engine
  that starts from the files pays (OpenFisca's load starts from arrays already in memory).

Every engine is checked against numpy row by row: a row is wrong when any rule's amount differs by a fen
(for huiqi, also when a status is not the one the amount implies: eligible where numpy pays, not eligible
where it pays 0). Rounds alternate the engines ``--repeat`` times; medians are printed, with the ratio of
each to exact OpenFisca's calculate and to the hand-written SQL.

The rules (money in 万元; a product ``rate × base`` is floored to the fen, amount 0 = not paid):

1. sz1  new industrial software firm, paid-in capital ≥ 1000万 and ≥ 50 staff: 5% of registered capital,
        at most 100万;
2. sz2  new software firm: ≥ 50 staff and revenue ≥ 5000万 → 100万; else ≥ 20 staff and ≥ 2000万 → 50万;
3. sz3  revenue first reaching 1亿 / 5亿 / 10亿 (the largest earlier revenue below the tier reached):
        200万 / 300万 / 500万, less the sz3 award already received (进档补差);
4. sz5  city park (level 1): 2‰ of the park's software revenue increment, at most 100万; provincial
        park (level 2): 1‰, at most 300万;
5. gz5  revenue first reaching 1亿 / 5亿 / 10亿 / 20亿: 70万 / 100万 / 200万 / 300万, the highest tier;
6. gz6  CSMM level ≥ 4 or DCMM level ≥ 3: 50万;
7. gz3  30% of an open-source platform investment, at most 1000万;
8. xj8  talent, > 12 months in the region, income tax ≥ 3万: 90% of the local share in years 1–5, 60% in
        years 6–10;
9. sz1b settled ≤ 3 years with cumulative revenue ≥ 2亿: 200万 (a ceiling).

The population (numpy ``default_rng(seed)``, assessed year 2024): revenue log-normal around 2000万 (σ 1.6,
5% zero), an earlier maximum for 80%, capital, staff, flags and levels as in the seed registries; 2% of the
rows put every threshold-sensitive field at a rule boundary −1 / 0 / +1 fen, where float32 flips.

Usage: python bench/peer.py [--n 1000000] [--seed 1] [--repeat 3] [--threads 2] [--skip-openfisca]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from huiqi.compile.duckdb_runner import DuckDBRunner
from huiqi.compile.facts import facts_read
from huiqi.compile.tables import LEDGER_SCHEMA, entity_schema, history_schema
from huiqi.engine.evaluate import Engine
from huiqi.facts.catalogue import Catalogue
from huiqi.policy.base import PolicyBase

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "bench" / "peer9"
DOCUMENT = "peer9"
YEAR = 2024
AS_OF = dt.date(YEAR + 1, 6, 30)
REGION = ["江苏省", "苏州市"]

YUAN = 100
WAN = 10_000 * YUAN  # 1万元 in fen
YI = 10_000 * WAN  # 1亿元 in fen
SZ3_TIERS = [(1 * YI, 200 * WAN), (5 * YI, 300 * WAN), (10 * YI, 500 * WAN)]
GZ5_TIERS = [(1 * YI, 70 * WAN), (5 * YI, 100 * WAN), (10 * YI, 200 * WAN), (20 * YI, 300 * WAN)]
RULES = ["sz1", "sz2", "sz3", "sz5", "gz5", "gz6", "gz3", "xj8", "sz1b"]
#: the huiqi rule (provision/rule) of each benchmark rule
HUIQI_RULE = {"sz1": "1/sz1", "sz2": "2/sz2", "sz3": "3/sz3", "sz5": "4/sz5", "gz5": "5/gz5", "gz6": "6/gz6",
              "gz3": "7/gz3", "xj8": "8/xj8", "sz1b": "9/sz1b"}  # fmt: skip

MONEY = ["revenue", "max_prior_revenue", "paid_in_capital", "registered_capital", "cum_revenue_3y_since_settling",
         "prior_award_sz3", "park_sw_revenue_increment", "oss_platform_investment", "talent_iit",
         "talent_local_share"]  # fmt: skip
COUNTS = ["ss_staff", "years_since_settling", "park_level", "csmm_level", "dcmm_level", "talent_year",
          "months_in_region"]  # fmt: skip
FLAGS = ["is_new_software_firm", "is_new_industrial_software_firm", "is_talent"]
#: a column whose huiqi fact has another name
FACT = {"ss_staff": "social_insurance_staff"}

Columns = dict[str, np.ndarray]


# -- the population -------------------------------------------------------------------------------


def _tier_amount(x: np.ndarray, tiers: list[tuple[int, int]]) -> np.ndarray:
    out = np.zeros(x.shape, dtype=np.int64)
    for threshold, amount in tiers:
        out = np.where(x >= threshold, amount, out)
    return out


def generate(n: int, seed: int, edge: float = 0.02) -> Columns:
    """The synthetic population: money int64 fen, counts int64, flags bool."""
    rng = np.random.default_rng(seed)

    def fen(median_yuan: float, sigma: float) -> np.ndarray:
        return np.floor(np.exp(rng.normal(np.log(median_yuan), sigma, n)) * YUAN).astype(np.int64)

    c: Columns = {}
    revenue = np.where(rng.random(n) < 0.05, 0, np.minimum(fen(2.0e7, 1.6), 10**11 * YUAN))
    c["revenue"] = revenue
    c["max_prior_revenue"] = np.where(
        rng.random(n) < 0.8, np.floor(revenue * np.exp(rng.normal(-0.15, 0.45, n))), 0
    ).astype(np.int64)
    paid_in = np.floor(np.exp(rng.normal(np.log(5.0e6), 1.3, n))).astype(np.int64) * YUAN
    c["paid_in_capital"] = paid_in
    c["registered_capital"] = np.floor(paid_in // YUAN * rng.uniform(1.0, 3.0, n)).astype(np.int64) * YUAN
    c["ss_staff"] = np.clip(np.floor(np.exp(rng.normal(np.log(25.0), 1.1, n))), 0, 100_000).astype(np.int64)
    c["is_new_software_firm"] = rng.random(n) < 0.10
    c["is_new_industrial_software_firm"] = rng.random(n) < 0.05
    years = rng.integers(0, 11, n)
    c["years_since_settling"] = years
    c["cum_revenue_3y_since_settling"] = np.floor(
        revenue * np.minimum(years + 1, 3) * np.exp(rng.normal(-0.1, 0.3, n))
    ).astype(np.int64)
    c["prior_award_sz3"] = np.where(rng.random(n) < 0.6, _tier_amount(c["max_prior_revenue"], SZ3_TIERS), 0)
    c["park_level"] = rng.choice(np.array([0, 1, 2]), n, p=[0.7, 0.2, 0.1])
    c["park_sw_revenue_increment"] = np.floor(revenue * rng.normal(0.08, 0.25, n)).astype(np.int64)
    levels = [0.55, 0.15, 0.12, 0.10, 0.05, 0.03]
    c["csmm_level"] = rng.choice(np.arange(6), n, p=levels)
    c["dcmm_level"] = rng.choice(np.arange(6), n, p=levels)
    c["oss_platform_investment"] = np.where(rng.random(n) < 0.08, fen(2.0e6, 1.5), 0)
    c["is_talent"] = rng.random(n) < 0.15
    c["talent_year"] = rng.integers(1, 16, n)
    tax = fen(4.0e4, 1.0)
    c["talent_iit"] = tax
    c["talent_local_share"] = np.floor(tax * rng.uniform(0.35, 0.50, n)).astype(np.int64)
    c["months_in_region"] = rng.integers(0, 73, n)

    # boundary rows: each threshold-sensitive field at a rule's boundary −1 / 0 / +1 fen
    m = round(n * edge)
    if m:
        rows = rng.choice(n, m, replace=False)

        def near(values: list[int]) -> np.ndarray:
            return rng.choice(np.array(values, dtype=np.int64), m) + rng.integers(-1, 2, m)

        def one_of(values: list[int]) -> np.ndarray:
            return rng.choice(np.array(values, dtype=np.int64), m)

        c["revenue"][rows] = near([2000 * WAN, 5000 * WAN, 1 * YI, 5 * YI, 10 * YI, 20 * YI])
        c["max_prior_revenue"][rows] = np.maximum(near([0, 1 * YI, 5 * YI, 10 * YI, 20 * YI]), 0)
        c["paid_in_capital"][rows] = near([1000 * WAN])
        c["registered_capital"][rows] = near([2000 * WAN])  # 5% of it is the 100万 ceiling
        c["ss_staff"][rows] = one_of([19, 20, 49, 50])
        c["years_since_settling"][rows] = one_of([3, 4])
        c["cum_revenue_3y_since_settling"][rows] = near([2 * YI])
        c["talent_iit"][rows] = near([3 * WAN])
        c["months_in_region"][rows] = one_of([12, 13])
        c["park_sw_revenue_increment"][rows] = near([5 * 10**10, 3 * 10**11])  # where 2‰ and 1‰ reach the ceiling
        c["oss_platform_investment"][rows] = one_of([3_333_333_333, 3_333_333_334])
        c["prior_award_sz3"][rows] = np.where(
            rng.random(m) < 0.5, _tier_amount(c["max_prior_revenue"][rows], SZ3_TIERS), 0
        )
    return {k: np.ascontiguousarray(v, dtype=bool if k in FLAGS else np.int64) for k, v in c.items()}


def write_population(c: Columns, engine: Engine, folder: Path, *, wide: Catalogue | None = None) -> None:
    """The rows as a huiqi population (docs/population.md): revenue in the history at the assessed year,
    every other column an entity fact; every fact of the catalogue the rules do not read is a null column.

    ``wide``: also a null column for every fact of this catalogue (the project's), as a city's registry
    holds the facts of all its documents — what loading only the columns the rules read skips.
    """
    n = len(c["revenue"])
    ids = pa.array(np.char.add("c", np.char.zfill(np.arange(n).astype(str), 8)).astype(object), pa.string())
    given = {FACT.get(k, k): pa.array(v) for k, v in c.items() if k != "revenue"}
    columns = []
    schema = _widen(entity_schema(engine.catalogue), wide and entity_schema(wide))
    for f in schema:
        if f.name == "entity_id":
            columns.append(ids)
        elif f.name == "entity_type":
            columns.append(pa.repeat(pa.scalar("enterprise"), n))
        elif f.name == "region":
            columns.append(pa.repeat(pa.scalar(REGION, pa.list_(pa.string())), n))
        elif f.name in given:
            columns.append(given[f.name].cast(f.type))  # int64 → DECIMAL(38, 9) is exact
        else:
            columns.append(pa.nulls(n, f.type))
    history_fields = _widen(history_schema(engine.catalogue), wide and history_schema(wide))
    history = [
        ids if f.name == "entity_id"
        else pa.repeat(pa.scalar(YEAR, pa.int32()), n) if f.name == "year"
        else pa.array(c["revenue"]) if f.name == "revenue"
        else pa.nulls(n, f.type)
        for f in history_fields
    ]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_arrays(columns, schema=schema), folder / "entities.parquet", row_group_size=250_000)
    pq.write_table(pa.Table.from_arrays(history, schema=history_fields), folder / "history.parquet",
                   row_group_size=250_000)  # fmt: skip
    pq.write_table(LEDGER_SCHEMA.empty_table(), folder / "ledger.parquet")


def _widen(schema: pa.Schema, other: pa.Schema | None) -> pa.Schema:
    """``schema`` followed by the fields of ``other`` it does not have."""
    if other is None:
        return schema
    return pa.schema([*schema, *(f for f in other if f.name not in schema.names)])


# -- numpy: the exact floor -----------------------------------------------------------------------


def _tiers(x: np.ndarray, table: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(threshold, amount) of the highest tier reached, 0 where none."""
    threshold = np.zeros(x.shape, dtype=np.int64)
    amount = np.zeros(x.shape, dtype=np.int64)
    for t, a in table:
        reached = x >= t
        threshold = np.where(reached, t, threshold)
        amount = np.where(reached, a, amount)
    return threshold, amount


def numpy_rules(c: Columns) -> Columns:
    """The nine amounts in exact int64 fen."""
    revenue, prior, staff = c["revenue"], c["max_prior_revenue"], c["ss_staff"]
    zero = np.int64(0)
    r: Columns = {}
    ok = c["is_new_industrial_software_firm"] & (c["paid_in_capital"] >= 1000 * WAN) & (staff >= 50)
    r["sz1"] = np.where(ok, np.minimum(c["registered_capital"] * 5 // 100, 100 * WAN), zero)
    high = (staff >= 50) & (revenue >= 5000 * WAN)
    low = (staff >= 20) & (revenue >= 2000 * WAN)
    r["sz2"] = np.where(
        c["is_new_software_firm"] & high, 100 * WAN, np.where(c["is_new_software_firm"] & low, 50 * WAN, zero)
    )
    threshold, amount = _tiers(revenue, SZ3_TIERS)
    r["sz3"] = np.where((amount > 0) & (prior < threshold), np.maximum(amount - c["prior_award_sz3"], 0), zero)
    increment = np.maximum(c["park_sw_revenue_increment"], 0)
    level = c["park_level"]
    r["sz5"] = np.where(level == 1, np.minimum(increment * 2 // 1000, 100 * WAN),
                        np.where(level == 2, np.minimum(increment // 1000, 300 * WAN), zero))  # fmt: skip
    threshold, amount = _tiers(revenue, GZ5_TIERS)
    r["gz5"] = np.where((amount > 0) & (prior < threshold), amount, zero)
    r["gz6"] = np.where((c["csmm_level"] >= 4) | (c["dcmm_level"] >= 3), 50 * WAN, zero)
    r["gz3"] = np.minimum(c["oss_platform_investment"] * 30 // 100, 1000 * WAN)
    year, share = c["talent_year"], c["talent_local_share"]
    talent = c["is_talent"] & (c["months_in_region"] > 12) & (c["talent_iit"] >= 3 * WAN)
    r["xj8"] = np.where(talent & (year >= 1) & (year <= 5), share * 90 // 100,
                        np.where(talent & (year >= 6) & (year <= 10), share * 60 // 100, zero))  # fmt: skip
    settled = (c["years_since_settling"] <= 3) & (c["cum_revenue_3y_since_settling"] >= 2 * YI)
    r["sz1b"] = np.where(settled, 200 * WAN, zero)
    return {k: v.astype(np.int64, copy=False) for k, v in r.items()}


# -- OpenFisca ------------------------------------------------------------------------------------

OPENFISCA_MODES = ("float32", "int64")
INSTALL = "pip install -e '.[bench]'   (or: pip install openfisca-core numba)"


def _scalar(value: float | int) -> dict[str, Any]:
    return {"values": {"2020-01-01": value}}


def _scale(tiers: list[tuple[int, int]]) -> dict[str, Any]:
    return {"metadata": {"type": "single_amount"},
            "brackets": [{"threshold": {"2020-01-01": {"value": t}}, "amount": {"2020-01-01": {"value": a}}}
                         for t, a in tiers]}  # fmt: skip


PARAMETERS = {
    "sz1": {"paid_in_capital_min": _scalar(1000 * WAN), "staff_min": _scalar(50), "rate": _scalar(0.05),
            "cap": _scalar(100 * WAN)},
    "sz2": {"high": {"staff_min": _scalar(50), "revenue_min": _scalar(5000 * WAN), "amount": _scalar(100 * WAN)},
            "low": {"staff_min": _scalar(20), "revenue_min": _scalar(2000 * WAN), "amount": _scalar(50 * WAN)}},
    "sz3": {"tiers": _scale(SZ3_TIERS)},
    "sz5": {"city": {"rate": _scalar(0.002), "cap": _scalar(100 * WAN)},
            "provincial": {"rate": _scalar(0.001), "cap": _scalar(300 * WAN)}},
    "gz5": {"tiers": _scale(GZ5_TIERS)},
    "gz6": {"csmm_min": _scalar(4), "dcmm_min": _scalar(3), "amount": _scalar(50 * WAN)},
    "gz3": {"rate": _scalar(0.30), "cap": _scalar(1000 * WAN)},
    "xj8": {"months_min": _scalar(12), "iit_min": _scalar(3 * WAN),
            "early": {"last_year": _scalar(5), "rate": _scalar(0.90)},
            "late": {"last_year": _scalar(10), "rate": _scalar(0.60)}},
    "sz1b": {"max_years": _scalar(3), "cum_revenue_min": _scalar(2 * YI), "amount": _scalar(200 * WAN)},
}  # fmt: skip


def openfisca_available() -> bool:
    try:
        import openfisca_core  # noqa: F401
    except ImportError:
        return False
    return True


def openfisca_system(mode: str) -> Any:
    """The nine rules as an OpenFisca tax-benefit system; money as float32 (its default) or int64."""
    from openfisca_core.entities import build_entity
    from openfisca_core.model_api import max_, min_, where
    from openfisca_core.parameters import ParameterNode
    from openfisca_core.periods import DateUnit
    from openfisca_core.taxbenefitsystems import TaxBenefitSystem
    from openfisca_core.variables import Variable

    company = build_entity(key="company", plural="companies", label="Company", is_person=True)
    exact = mode == "int64"

    class Money(Variable):
        def __init__(self, baseline_variable: Any = None) -> None:
            super().__init__(baseline_variable)
            if exact:
                self.dtype = np.int64  # OpenFisca's int is int32: fen above 2³¹ would wrap

    def times(base: np.ndarray, rate: float) -> np.ndarray:
        """rate × base: floored in integers (basis points) for int64, in the array's precision for float."""
        if np.issubdtype(base.dtype, np.integer):
            return base * round(rate * 10_000) // 10_000
        return base * rate

    def highest(scale: Any, x: np.ndarray) -> np.ndarray:
        """The threshold of the highest bracket reached (0 when none), as ``scale.calc`` compares."""
        thresholds = np.asarray(scale.thresholds, dtype=np.float64)
        return np.concatenate([[0.0], thresholds])[np.searchsorted(thresholds, x, side="right")]

    def sz1(co: Any, period: Any, parameters: Any) -> Any:
        p = parameters(period).sz1
        ok = (co("is_new_industrial_software_firm", period) * (co("paid_in_capital", period) >= p.paid_in_capital_min)
              * (co("ss_staff", period) >= p.staff_min))  # fmt: skip
        return where(ok, min_(times(co("registered_capital", period), p.rate), p.cap), 0)

    def sz2(co: Any, period: Any, parameters: Any) -> Any:
        p = parameters(period).sz2
        staff, revenue = co("ss_staff", period), co("revenue", period)
        high = (staff >= p.high.staff_min) * (revenue >= p.high.revenue_min)
        low = (staff >= p.low.staff_min) * (revenue >= p.low.revenue_min)
        return where(co("is_new_software_firm", period), where(high, p.high.amount, where(low, p.low.amount, 0)), 0)

    def first_time(co: Any, period: Any, scale: Any) -> tuple[Any, Any]:
        revenue = co("revenue", period)
        amount = scale.calc(revenue)
        return amount, (amount > 0) * (co("max_prior_revenue", period) < highest(scale, revenue))

    def sz3(co: Any, period: Any, parameters: Any) -> Any:
        amount, first = first_time(co, period, parameters(period).sz3.tiers)
        return where(first, max_(amount - co("prior_award_sz3", period), 0), 0)

    def sz5(co: Any, period: Any, parameters: Any) -> Any:
        p = parameters(period).sz5
        increment = max_(co("park_sw_revenue_increment", period), 0)
        level = co("park_level", period)
        city = min_(times(increment, p.city.rate), p.city.cap)
        provincial = min_(times(increment, p.provincial.rate), p.provincial.cap)
        return where(level == 1, city, where(level == 2, provincial, 0))

    def gz5(co: Any, period: Any, parameters: Any) -> Any:
        amount, first = first_time(co, period, parameters(period).gz5.tiers)
        return where(first, amount, 0)

    def gz6(co: Any, period: Any, parameters: Any) -> Any:
        p = parameters(period).gz6
        return where((co("csmm_level", period) >= p.csmm_min) + (co("dcmm_level", period) >= p.dcmm_min), p.amount, 0)

    def gz3(co: Any, period: Any, parameters: Any) -> Any:
        p = parameters(period).gz3
        return min_(times(co("oss_platform_investment", period), p.rate), p.cap)

    def xj8(co: Any, period: Any, parameters: Any) -> Any:
        p = parameters(period).xj8
        ok = (co("is_talent", period) * (co("months_in_region", period) > p.months_min)
              * (co("talent_iit", period) >= p.iit_min))  # fmt: skip
        year, share = co("talent_year", period), co("talent_local_share", period)
        early = ok * (year >= 1) * (year <= p.early.last_year)
        late = ok * (year > p.early.last_year) * (year <= p.late.last_year)
        return where(early, times(share, p.early.rate), where(late, times(share, p.late.rate), 0))

    def sz1b(co: Any, period: Any, parameters: Any) -> Any:
        p = parameters(period).sz1b
        ok = (co("years_since_settling", period) <= p.max_years) * (
            co("cum_revenue_3y_since_settling", period) >= p.cum_revenue_min
        )
        return where(ok, p.amount, 0)

    formulas = {"sz1": sz1, "sz2": sz2, "sz3": sz3, "sz5": sz5, "gz5": gz5, "gz6": gz6, "gz3": gz3, "xj8": xj8,
                "sz1b": sz1b}  # fmt: skip

    def variable(name: str, value_type: type, base: type = Variable, formula: Callable[..., Any] | None = None) -> type:
        attributes: dict[str, Any] = {"value_type": value_type, "entity": company, "definition_period": DateUnit.YEAR,
                                      "label": name}  # fmt: skip
        if formula is not None:
            attributes["formula"] = formula
        return type(name, (base,), attributes)

    money_type = int if exact else float

    class System(TaxBenefitSystem):
        def __init__(self) -> None:
            super().__init__([company])
            self.parameters = ParameterNode("", data=PARAMETERS)
            for name in MONEY:
                self.add_variable(variable(name, money_type, Money))
            for name in COUNTS:
                self.add_variable(variable(name, int))
            for name in FLAGS:
                self.add_variable(variable(name, bool))
            for name, formula in formulas.items():
                self.add_variable(variable(name, money_type, Money, formula))

    return System()


def openfisca_simulation(system: Any, c: Columns) -> Any:
    """A simulation with every input set (OpenFisca's load)."""
    from openfisca_core.simulations import SimulationBuilder

    simulation = SimulationBuilder().build_default_simulation(system, count=len(c["revenue"]))
    for name, values in c.items():
        simulation.set_input(name, str(YEAR), values)
    return simulation


def openfisca_calculate(simulation: Any) -> Columns:
    return {rule: simulation.calculate(rule, str(YEAR)) for rule in RULES}


# -- hand-written DuckDB SQL ----------------------------------------------------------------------


def _sql_tiers(tiers: list[tuple[int, int]], amount: Callable[[int], str]) -> str:
    """The highest tier reached, paid when the largest earlier revenue is below its threshold."""
    branches = " ".join(
        f"WHEN revenue >= {t} THEN CASE WHEN max_prior_revenue < {t} THEN {amount(a)} ELSE 0 END"
        for t, a in reversed(tiers)
    )
    return f"CASE {branches} ELSE 0 END"


HAND_SQL = f"""
CREATE OR REPLACE TEMP TABLE peer_sql AS
SELECT e.entity_id,
  CASE WHEN is_new_industrial_software_firm AND paid_in_capital >= {1000 * WAN} AND social_insurance_staff >= 50
       THEN LEAST(registered_capital * 5 // 100, {100 * WAN}) ELSE 0 END AS sz1,
  CASE WHEN NOT is_new_software_firm THEN 0
       WHEN social_insurance_staff >= 50 AND revenue >= {5000 * WAN} THEN {100 * WAN}
       WHEN social_insurance_staff >= 20 AND revenue >= {2000 * WAN} THEN {50 * WAN} ELSE 0 END AS sz2,
  {_sql_tiers(SZ3_TIERS, lambda a: f"GREATEST({a} - prior_award_sz3, 0)")} AS sz3,
  CASE WHEN park_level = 1 THEN LEAST(GREATEST(park_sw_revenue_increment, 0) * 2 // 1000, {100 * WAN})
       WHEN park_level = 2 THEN LEAST(GREATEST(park_sw_revenue_increment, 0) // 1000, {300 * WAN}) ELSE 0 END AS sz5,
  {_sql_tiers(GZ5_TIERS, str)} AS gz5,
  CASE WHEN csmm_level >= 4 OR dcmm_level >= 3 THEN {50 * WAN} ELSE 0 END AS gz6,
  LEAST(oss_platform_investment * 30 // 100, {1000 * WAN}) AS gz3,
  CASE WHEN NOT (is_talent AND months_in_region > 12 AND talent_iit >= {3 * WAN}) THEN 0
       WHEN talent_year BETWEEN 1 AND 5 THEN talent_local_share * 90 // 100
       WHEN talent_year BETWEEN 6 AND 10 THEN talent_local_share * 60 // 100 ELSE 0 END AS xj8,
  CASE WHEN years_since_settling <= 3 AND cum_revenue_3y_since_settling >= {2 * YI} THEN {200 * WAN} ELSE 0 END
    AS sz1b
FROM entities e LEFT JOIN (SELECT _k, revenue FROM history WHERE year = {YEAR}) h USING (_k)
"""


# -- checks ---------------------------------------------------------------------------------------


def wrong_rows(amounts: Columns, exact: Columns) -> tuple[int, dict[str, int], int]:
    """(rows where any rule differs by ≥ 1 fen, rows per rule, the largest difference in fen)."""
    any_row = np.zeros(len(exact["sz1"]), dtype=bool)
    per_rule, largest = {}, 0
    for rule in RULES:
        got = np.asarray(amounts[rule])
        if np.issubdtype(got.dtype, np.floating):
            difference = np.abs(got.astype(np.float64) - exact[rule].astype(np.float64))
            bad = difference >= 1.0
            largest = max(largest, int(difference.max(initial=0)))
        else:
            bad = got.astype(np.int64) != exact[rule]
            if bad.any():
                largest = max(largest, int(np.abs(got.astype(np.int64) - exact[rule]).max()))
        per_rule[rule] = int(bad.sum())
        any_row |= bad
    return int(any_row.sum()), per_rule, largest


def huiqi_amounts(con: duckdb.DuckDBPyConnection, runner: DuckDBRunner, table: str, n: int) -> tuple[Columns, int]:
    """Per rule, the amount paid (the amount where the status is eligible, else 0), and the number of rows
    whose status is not the one the amount implies (eligible where paid, not eligible where not)."""
    query = runner.query(DOCUMENT, period=YEAR, as_of=AS_OF)
    columns = {c.ref.split(":", 1)[1]: c for c in query.rules}
    select = ", ".join(
        f"{columns[HUIQI_RULE[r]].status} AS {r}_s, COALESCE({columns[HUIQI_RULE[r]].amount_sql()}, 0) AS {r}_m"
        for r in RULES
    )
    result = con.execute(f"SELECT {select} FROM {table} ORDER BY entity_id").fetchnumpy()
    if len(result["sz1_s"]) != n:
        raise SystemExit(f"huiqi 的结果有 {len(result['sz1_s'])} 行，人口有 {n} 行")
    amounts, bad_status = {}, np.zeros(n, dtype=bool)
    for rule in RULES:
        status = np.asarray(result[f"{rule}_s"], dtype=np.int64)
        amount = np.asarray(result[f"{rule}_m"], dtype=np.int64)
        amounts[rule] = np.where(status == 0, amount, 0)
        bad_status |= np.where(amounts[rule] > 0, status != 0, status != 4)  # 0 eligible, 4 not eligible
    return amounts, int(bad_status.sum())


def kernel_amounts(status: np.ndarray, amount: np.ndarray) -> tuple[Columns, int]:
    """The numba kernel's amounts paid (where eligible, else 0) and its rows whose status is not the one the
    amount implies, as for huiqi."""
    amounts, bad_status = {}, np.zeros(len(status), dtype=bool)
    for j, rule in enumerate(RULES):
        amounts[rule] = np.where(status[:, j] == 0, amount[:, j], 0)
        bad_status |= np.where(amounts[rule] > 0, status[:, j] != 0, status[:, j] != 4)
    return amounts, int(bad_status.sum())


def kernel_load(engine: Engine, folder: Path, facts: set[str]) -> Any:
    """The peer document's kernel over the population's files: the Parquet columns the rules read, as
    aligned arrays (every input read here, so that the evaluation times the kernel alone)."""
    from huiqi.compile.facts import annual_over_years
    from huiqi.kernel.inputs import Inputs, read_population
    from huiqi.kernel.runner import KernelRun

    # as huiqi simulate reads them: of the history, the assessed year's rows of the facts read at that year only
    over_years = annual_over_years([engine.documents[DOCUMENT]], engine.catalogue)
    tables = read_population(folder, facts, period=YEAR, over_years=over_years)
    inputs = Inputs(tables.entities, tables.history, engine.catalogue, YEAR, AS_OF, tables.ledger,
                    current=tables.current)  # fmt: skip
    run = KernelRun(engine, DOCUMENT, inputs, readings={}, any_jurisdiction=False)
    run.arguments()
    run.region_ok()
    return run


def kernel_result_amounts(run: Any, table: pa.Table, n: int) -> tuple[Columns, int]:
    """The kernel's amounts paid and its rows whose status is not the one the amount implies, in id order."""
    columns = {c.ref.split(":", 1)[1]: c for c in run.query.rules}
    order = pc.sort_indices(table["entity_id"])
    if table.num_rows != n:
        raise SystemExit(f"编译内核的结果有 {table.num_rows} 行，人口有 {n} 行")
    status = np.stack([table[columns[HUIQI_RULE[r]].status].take(order).to_numpy() for r in RULES], axis=1)
    amount = np.stack([pc.fill_null(table[columns[HUIQI_RULE[r]].amount].take(order), 0).to_numpy() for r in RULES],
                      axis=1)  # fmt: skip
    return kernel_amounts(status, amount)


def load_floor(folder: Path) -> Columns:
    """The least an engine pays to start from the registry's files, hand-written: the entity columns the nine
    rules read and the assessed year's revenue (aligned to the entities by id) read with pyarrow into int64 and
    bool numpy arrays, each with its validity (what OpenFisca's load and the exact numpy start from, already in
    memory)."""
    names = [FACT.get(n, n) for n in MONEY + COUNTS + FLAGS if n != "revenue"]
    entities = pq.read_table(folder / "entities.parquet", columns=["entity_id", *names])
    history = pq.read_table(folder / "history.parquet", columns=["entity_id", "revenue"], filters=[("year", "=", YEAR)])
    revenue = history["revenue"].take(pc.index_in(entities["entity_id"], value_set=history["entity_id"]))
    arrays: Columns = {}
    for name, column in [*((n, entities[n]) for n in names), ("revenue", revenue)]:
        if pa.types.is_decimal(column.type):  # counts stored as DECIMAL(38, 9): whole, cast exactly
            column = column.cast(pa.int64())
        arrays[name] = pc.fill_null(column, False if pa.types.is_boolean(column.type) else 0).to_numpy()
        arrays[f"{name} known"] = column.is_valid().to_numpy(zero_copy_only=False)
    return arrays


def sql_amounts(con: duckdb.DuckDBPyConnection) -> Columns:
    result = con.execute(f"SELECT {', '.join(RULES)} FROM peer_sql ORDER BY entity_id").fetchnumpy()
    return {rule: np.asarray(result[rule], dtype=np.int64) for rule in RULES}


# -- the run --------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each engine runs once per round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-openfisca", action="store_true")
    args = parser.parse_args()

    from importlib.metadata import version

    import peer_kernel  # the hand-written numba kernel beside this script (run as a script: its folder is on the path)

    engine = Engine(PolicyBase.load(POLICIES))
    c, seconds = timed(lambda: generate(args.n, args.seed))
    scratch = tempfile.TemporaryDirectory(prefix="huiqi-peer-")  # the population's Parquet files, removed at exit
    folder = Path(scratch.name)
    write_population(c, engine, folder, wide=PolicyBase.load().catalogue)
    facts = facts_read([engine.documents[DOCUMENT]], engine.catalogue)
    width = len(pq.read_schema(folder / "entities.parquet"))
    print(f"population: {args.n:,} companies, seed {args.seed}, generated in {seconds:.1f} s; duckdb "
          f"{duckdb.__version__}, {args.threads} threads, medians of {args.repeat}")  # fmt: skip

    systems: dict[str, Any] = {}
    if args.skip_openfisca:
        print("OpenFisca: skipped (--skip-openfisca)")
    elif not openfisca_available():
        print(f"OpenFisca: not installed, its columns are skipped — install it with: {INSTALL}")
    else:
        print(f"OpenFisca: openfisca-core {version('openfisca-core')}")
        systems = {mode: openfisca_system(mode) for mode in OPENFISCA_MODES}

    kernel = peer_kernel.available()
    valid = {name: np.ones(args.n, dtype=np.bool_) for name in c}  # every input known (the kernel reads the masks)
    if kernel:
        _, seconds = timed(lambda: peer_kernel.evaluate(c, valid))
        print(f"numba: {version('numba')}, kernel compiled in {seconds:.1f} s (first call, not in the medians)")
    else:
        print(f"numba: not installed, its row is skipped — install it with: {INSTALL}")
    compiled_kernel = kernel
    if compiled_kernel:  # huiqi's own kernel, generated from the policy: compiled (or loaded from its cache) once
        run, seconds = timed(lambda: kernel_load(engine, folder, facts))
        _, compile_seconds = timed(run.run)
        print(f"huiqi kernel: generated in {seconds:.1f} s, compiled or loaded from its cache in {compile_seconds:.1f} s "
              "(first call, not in the medians)")  # fmt: skip

    times: dict[str, list[float]] = {}
    results: dict[str, Columns] = {}
    statuses_wrong = 0

    def record(name: str, seconds: float) -> None:
        times.setdefault(name, []).append(seconds)

    exact: Columns = {}
    for _ in range(args.repeat):
        exact, seconds = timed(lambda: numpy_rules(c))
        record("numpy", seconds)
        if kernel:
            (status, amount), seconds = timed(lambda: peer_kernel.evaluate(c, valid))
            record("numba", seconds)
            results["numba"], kernel_wrong = kernel_amounts(status, amount)
            statuses_wrong += kernel_wrong
        for mode, system in systems.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                simulation, seconds = timed(lambda system=system: openfisca_simulation(system, c))
                record(f"openfisca {mode} load", seconds)
                results[f"openfisca {mode}"], seconds = timed(
                    lambda simulation=simulation: openfisca_calculate(simulation)
                )
                record(f"openfisca {mode}", seconds)
            del simulation
        con = duckdb.connect(config={"threads": args.threads})
        _, seconds = timed(lambda con=con: DuckDBRunner(engine, con).load_parquet(folder))
        record("huiqi load all", seconds)  # every column: the reference for loading only those the rules read
        con.close()
        con = duckdb.connect(config={"threads": args.threads})
        runner = DuckDBRunner(engine, con)
        _, seconds = timed(lambda runner=runner: runner.load_parquet(folder, facts=facts))
        record("huiqi load", seconds)
        _, seconds = timed(lambda con=con: con.execute(HAND_SQL))
        record("sql", seconds)
        outcome, seconds = timed(lambda runner=runner: runner.evaluate_all([DOCUMENT], period=YEAR, as_of=AS_OF))
        record("huiqi", seconds)
        results["sql"] = sql_amounts(con)
        results["huiqi"], statuses_wrong = huiqi_amounts(con, runner, outcome[DOCUMENT][1], args.n)
        con.close()
        # as huiqi simulate loads: the entities left in their file, decoded by the query that reads them
        con = duckdb.connect(config={"threads": args.threads})
        runner = DuckDBRunner(engine, con)
        _, seconds = timed(lambda runner=runner: runner.load_parquet(folder, facts=facts, copy_entities=False))
        record("huiqi load in file", seconds)
        outcome, seconds = timed(lambda runner=runner: runner.evaluate_all([DOCUMENT], period=YEAR, as_of=AS_OF))
        record("huiqi in file", seconds)
        in_file, wrong_in_file = huiqi_amounts(con, runner, outcome[DOCUMENT][1], args.n)
        statuses_wrong += wrong_in_file + wrong_rows(in_file, exact)[0]
        con.close()
        if compiled_kernel:
            # the compiled kernel (huiqi.kernel): its own load from the Parquet files into aligned arrays
            _, seconds = timed(lambda: load_floor(folder))
            record("load floor", seconds)
            run, seconds = timed(lambda: kernel_load(engine, folder, facts))
            record("huiqi kernel load", seconds)
            table, seconds = timed(run.run)
            record("huiqi kernel", seconds)
            results["huiqi kernel"], wrong_kernel = kernel_result_amounts(run, table, args.n)
            statuses_wrong += wrong_kernel
    results["numpy"] = exact

    median = {name: statistics.median(values) for name, values in times.items()}
    reference = median.get("openfisca int64")
    runs_width = 2 + 7 * args.repeat  # the runs column: "0.123, " per run
    print(f"\n{'engine':<36}{'median s':>10}{'runs':>{runs_width}}{'÷ OF int64':>12}{'÷ SQL':>8}{'wrong rows':>12}"
          f"{'max diff (元)':>16}")  # fmt: skip
    rows = [("numpy (exact int64)", "numpy")]
    rows += [("numba kernel (statuses too)", "numba")] if kernel else []
    rows += [(f"OpenFisca {mode}: calculate", f"openfisca {mode}") for mode in systems]
    rows += [("hand-written DuckDB SQL", "sql"), ("huiqi: evaluate (compiled query)", "huiqi")]
    rows += [("huiqi: compiled kernel", "huiqi kernel")] if compiled_kernel else []
    for label, name in rows:
        wrong, _, largest = wrong_rows(results[name], exact)
        of_ratio = f"{median[name] / reference:11.2f}×" if reference else f"{'—':>12}"
        print(f"{label:<36}{median[name]:10.3f}{', '.join(f'{t:.3f}' for t in times[name]):>{runs_width}}{of_ratio}"
              f"{median[name] / median['sql']:7.2f}×{wrong:12,}{largest / YUAN:16,.2f}")  # fmt: skip
    kernel_loads = [("huiqi kernel: load (Parquet → arrays)", "huiqi kernel load"),
                    ("load floor: pyarrow → numpy by hand", "load floor")] if compiled_kernel else []  # fmt: skip
    for label, name in (
        [(f"OpenFisca {mode}: load (set inputs)", f"openfisca {mode} load") for mode in systems]
        + [
            (f"huiqi: load, the {len(facts)} facts read", "huiqi load"),
            (f"huiqi: load, all {width} entity columns", "huiqi load all"),
            ("huiqi: load, entities left in file", "huiqi load in file"),
            ("huiqi: evaluate over the file", "huiqi in file"),
        ]
        + kernel_loads
    ):
        print(f"{label:<36}{median[name]:10.3f}{', '.join(f'{t:.3f}' for t in times[name]):>{runs_width}}")
    print(f"huiqi or numba statuses not the ones the amounts imply, or rows wrong over the file: {statuses_wrong:,}")
    print("\nper rule: rows wrong (OpenFisca float32 flips at boundaries; the exact engines must show 0)")
    names = [name for _, name in rows if name != "numpy"]
    print(f"{'rule':<6}{'total paid (元, exact)':>28}" + "".join(f"{n:>20}" for n in names))
    per = {name: wrong_rows(results[name], exact)[1] for name in names}
    for rule in RULES:
        total = int(exact[rule].sum())
        print(f"{rule:<6}{total // YUAN:>25,}.{total % YUAN:02d}" + "".join(f"{per[n][rule]:>20,}" for n in names))
    huiqi_time, load_time = median["huiqi"], median["huiqi load"]
    if compiled_kernel:
        k_time, k_load = median["huiqi kernel"], median["huiqi kernel load"]
        print(
            f"\nhuiqi kernel / OpenFisca int64 calculate: {k_time / reference:.2f}× (target ≤ 1)" if reference else ""
        )
        print(f"huiqi kernel / hand-written SQL: {k_time / median['sql']:.2f}× (target ≤ 1.5); load + evaluate "
              f"{k_load:.3f} + {k_time:.3f} = {k_load + k_time:.3f} s; its load ÷ the load floor (the same columns "
              f"read into numpy by hand) {k_load / median['load floor']:.2f}×, the load floor ÷ its evaluation "
              f"{median['load floor'] / k_time:.2f}×")  # fmt: skip
    print(f"\nhuiqi / OpenFisca int64 calculate: {huiqi_time / reference:.2f}× (target ≤ 1)" if reference else "")
    print(f"huiqi / hand-written SQL: {huiqi_time / median['sql']:.2f}× (target ≤ 1.5); "
          f"load / evaluate: {load_time / huiqi_time:.2f}× (target ≤ 1); peak RSS {peak_rss_mb():,.0f} MB")  # fmt: skip
    file_load, file_time = median["huiqi load in file"], median["huiqi in file"]
    print(f"load + evaluate: copied {load_time:.3f} + {huiqi_time:.3f} = {load_time + huiqi_time:.3f} s; entities "
          f"left in their file (as huiqi simulate loads) {file_load:.3f} + {file_time:.3f} = {file_load + file_time:.3f} s "
          f"(load / evaluate {file_load / file_time:.2f}×)"
          + (f"; OpenFisca int64 set inputs + calculate {median['openfisca int64 load']:.3f} + {reference:.3f} = "
             f"{median['openfisca int64 load'] + reference:.3f} s" if reference else ""))  # fmt: skip


if __name__ == "__main__":
    main()
