"""A simulation for one quarter (issue 14.1): ``huiqi simulate --quarter 2024Q2`` evaluates the quarterly test
policy over a population whose quarter-to-date revenue and earlier quarters' awards are in its tables, and
reports the same total as the scalar engine for that quarter."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from huiqi.cli import app
from huiqi.compile.tables import profiles_to_tables
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile
from huiqi.engine.results import Status
from huiqi.policy.base import PolicyBase

sys.path.insert(0, str(Path(__file__).parent.parent / "engine"))
from test_quarterly import DOCUMENT, quarterly_base

RULE = f"{DOCUMENT}:1/growth"
REVENUES = [("6000万元", "9600万元"), ("3000万元", "4500万元"), ("1亿元", "3.2亿元"), ("8000万元", "7000万元")]


def test_simulate_one_quarter_matches_the_engine(tmp_path: Path) -> None:
    root = quarterly_base(tmp_path / "policies")
    engine = Engine(PolicyBase.load(root))
    profiles = []
    for index, (before, now) in enumerate(REVENUES):
        raw = {"entity_type": "enterprise", "region": ["江苏省", "苏州市"],
               "facts": {"registered_city": "苏州市", "revenue_ytd": {"2023Q2": before, "2024Q2": now}},
               "ledger": [{"rule": RULE, "period": 2024, "quarter": 1, "amount": f"{index + 1}万元"}]}  # fmt: skip
        profiles.append((f"e{index}", parse_profile(raw, engine.catalogue)))
    population = tmp_path / "population"
    population.mkdir()
    for name, table in zip(("entities", "history", "ledger"),
                           profiles_to_tables(profiles, engine.catalogue, period=2024), strict=True):  # fmt: skip
        pq.write_table(table, population / f"{name}.parquet")
    options = Options(as_of=dt.date(2024, 7, 28), period=2024, quarter=2, documents=(DOCUMENT,))
    results = [engine.evaluate(profile, options).rule(RULE) for _id, profile in profiles]
    expected = sum(r.amount_fen or 0 for r in results if r.status is Status.ELIGIBLE)
    assert expected > 0 and sum(r.status is Status.ELIGIBLE for r in results) == 3

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["simulate", "-p", str(population), "-d", DOCUMENT, "--quarter", "2024Q2",
                                      "--as-of", "2024-07-28", "--policies", str(root), "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    by_document = pq.read_table(out / "by_document.parquet").to_pylist()
    assert by_document[0]["cost_fen"] == expected
    assert by_document[0]["beneficiaries"] == 3
