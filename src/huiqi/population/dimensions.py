"""The dimensions analysts cut results by: size band, district and industry of each entity.

- size band (规模): operating revenue (营业收入) of the assessed year — under 1000万元, 1000万元–1亿元,
  1亿元–10亿元, 10亿元 and more, unknown (no revenue recorded that year, or not an enterprise);
- district (区县): the last two names of the entity's region (``苏州市 工业园区``), so that districts of the
  same name in different cities stay apart; unknown when no region is recorded;
- industry (行业): the ``industry`` fact; unknown when blank or absent from the files.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from huiqi.compile.sql import sql_string

UNKNOWN = "未知"
#: the facts the dimensions read (a population load keeps them whatever the documents read)
DIMENSION_FACTS = ("revenue", "industry")


@dataclass(frozen=True)
class Band:
    """One revenue band: [low, high) in fen."""

    label: str
    english: str
    low: int | None
    high: int | None


WAN = 1_000_000  # fen per 万元
SIZE_BANDS = (
    Band("1000万元以下", "< 10M yuan", None, 1000 * WAN),
    Band("1000万元–1亿元", "10M–100M", 1000 * WAN, 10_000 * WAN),
    Band("1亿元–10亿元", "100M–1B", 10_000 * WAN, 100_000 * WAN),
    Band("10亿元及以上", ">= 1B", 100_000 * WAN, None),
)

DIMENSIONS = {"size_band": "规模（评价年度营业收入）", "district": "区县", "industry": "行业"}
DIMENSION_ENGLISH = {"size_band": "size band (revenue)", "district": "district", "industry": "industry"}


def band_order() -> list[str]:
    """Band labels in display order, unknown last."""
    return [b.label for b in SIZE_BANDS] + [UNKNOWN]


def _band_sql(column: str) -> str:
    cases = []
    for band in SIZE_BANDS:
        tests = [f"{column} >= {band.low}" if band.low is not None else "",
                 f"{column} < {band.high}" if band.high is not None else ""]  # fmt: skip
        cases.append(f"WHEN {' AND '.join(t for t in tests if t)} THEN {sql_string(band.label)}")
    return f"CASE WHEN {column} IS NULL THEN {sql_string(UNKNOWN)} {' '.join(cases)} END"


def build_dimensions(connection: duckdb.DuckDBPyConnection, *, period: int) -> None:
    """Create the table ``dims`` (_k, size_band, district, industry) for one assessed year: each entity by its
    row key, as the tables of results name it."""
    history = {row[0] for row in connection.execute("DESCRIBE history").fetchall()}
    entities = {row[0] for row in connection.execute("DESCRIBE entities").fetchall()}
    revenue = "h.revenue" if "revenue" in history else "CAST(NULL AS BIGINT)"
    join = (
        f"LEFT JOIN (SELECT _k, revenue FROM history WHERE year = {int(period)}) h USING (_k)"
        if "revenue" in history
        else ""
    )
    industry = (
        f"COALESCE(NULLIF(e.industry, ''), {sql_string(UNKNOWN)})" if "industry" in entities else sql_string(UNKNOWN)
    )
    district = (
        f"CASE WHEN e.region IS NULL OR len(e.region) = 0 THEN {sql_string(UNKNOWN)} "
        f"ELSE array_to_string(e.region[-2:], ' ') END"
    )
    connection.execute(
        f"CREATE OR REPLACE TABLE dims AS SELECT e._k, {_band_sql(revenue)} AS size_band, "
        f"{district} AS district, {industry} AS industry FROM entities e {join}"
    )
