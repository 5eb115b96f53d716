"""Small populations for the population tests: a synthetic policy, firms drawn from a seed, Parquet files."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from huiqi.compile.tables import profiles_to_tables
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import Profile, parse_profile
from huiqi.engine.results import Evaluation

MiniFactory = Callable[..., Engine]
AS_OF = dt.date(2024, 6, 30)
PERIOD = 2023

#: A synthetic document: a tiered grant, a capped rate (a ceiling), and a reviewed amount.
PROVISIONS: list[dict[str, Any]] = [
    {
        "id": "1",
        "heading": "规模奖励",
        "text": "对社保员工20人以上、营业收入达到2000万元、5000万元的企业，分别给予50万元、100万元奖励。",
        "rules": [
            {
                "id": "scale",
                "conditions": {"all": [{"expr": "social_insurance_staff >= 20", "label": "社保员工20人以上"}]},
                "benefit": {"form": "tiers", "mode": "highest", "tiers": [
                    {"id": "t1", "when": "revenue >= 2000万元", "amount": "50万元"},
                    {"id": "t2", "when": "revenue >= 5000万元", "amount": "100万元"},
                ]},
            }
        ],
    },
    {
        "id": "2",
        "heading": "资本奖励",
        "text": "对实缴注册资本不低于1000万元的企业，按实缴注册资本的5%，给予最高100万元奖励。",
        "rules": [
            {
                "id": "capital",
                "conditions": {"all": [{"expr": "paid_in_capital >= 1000万元", "label": "实缴注册资本不低于1000万元"}]},
                "benefit": {"form": "rate", "base": "paid_in_capital", "rate": "5%", "ceiling": "100万元",
                            "is_ceiling": True},
            }
        ],
    },
    {
        "id": "3",
        "heading": "认证支持",
        "text": "对通过CMMI5认证的企业给予最高200万元支持，具体金额由主管部门核定。",
        "rules": [
            {
                "id": "support",
                "conditions": {"all": [{"expr": "'CMMI5' in certifications", "label": "通过CMMI5认证"}]},
                "benefit": {"form": "fixed", "amount": "200万元", "review": True},
            }
        ],
    },
]  # fmt: skip

DISTRICTS = [["江苏省", "苏州市", "姑苏区"], ["江苏省", "苏州市", "吴中区"], ["江苏省", "无锡市", "梁溪区"]]
INDUSTRIES = ["软件开发", "信息技术服务", "集成电路设计"]


def firms(count: int, seed: int) -> list[dict[str, Any]]:
    """Raw profiles: mostly enterprises of 苏州市, some elsewhere, some talents, some facts blank."""
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    raws = []
    for index in range(count):
        if index % 17 == 16:
            raws.append({"id": f"T{index:05d}", "entity_type": "talent", "region": DISTRICTS[0], "facts": {}})
            continue
        facts: dict[str, Any] = {
            "social_insurance_staff": rng.choice([5, 19, 20, 35, 80, 300]),
            "paid_in_capital": f"{rng.randint(100, 4_000)}.{rng.randint(0, 99):02d}万元",
            "industry": rng.choice(INDUSTRIES),
            "certifications": rng.choice([[], ["CMMI3"], ["CMMI5"], ["CMMI5", "ISO27001"]]),
        }
        revenue = rng.choice([None, 500, 1999, 2000, 3000, 4999, 5000, 20_000, 150_000])
        if revenue is not None:
            facts["revenue"] = {PERIOD: f"{revenue}万元", PERIOD - 1: f"{revenue // 2}万元"}
        if rng.random() < 0.1:
            facts.pop("paid_in_capital")
        region = DISTRICTS[2] if index % 11 == 10 else rng.choice(DISTRICTS[:2])
        raws.append({"id": f"E{index:05d}", "entity_type": "enterprise", "region": region, "facts": facts})
    return raws


def parse_all(engine: Engine, raws: list[dict[str, Any]], document: str | None = None) -> list[tuple[str, Profile]]:
    return [
        (
            str(raw["id"]),
            parse_profile({k: v for k, v in raw.items() if k != "id"}, engine.catalogue, document=document),
        )
        for raw in raws
    ]


def write_population(
    folder: Path, engine: Engine, profiles: list[tuple[str, Profile]], *, period: int = PERIOD
) -> Path:
    """entities/history/ledger.parquet for the profiles."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = profiles_to_tables(profiles, engine.catalogue, period=period, ledger_alias=engine._ledger_alias)
    for name, table in zip(("entities", "history", "ledger"), tables, strict=True):
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


def scalar(
    engine: Engine, profiles: list[tuple[str, Profile]], documents: list[str], *, any_jurisdiction: bool = False
) -> dict[str, Evaluation]:
    """The scalar engine's evaluation of every profile (the reference the population must add up to)."""
    options = Options(as_of=AS_OF, period=PERIOD, documents=tuple(documents), any_jurisdiction=any_jurisdiction,
                      suggestions=False)  # fmt: skip
    return {entity_id: engine.evaluate(profile, options) for entity_id, profile in profiles}
