"""Every policy case gives the same status and amount, to the fen, on the scalar engine, DuckDB and Spark."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest

from huiqi.cases import load_cases
from huiqi.compile.parity import Batch, differences, duckdb_run, spark_run
from huiqi.engine.evaluate import Engine
from huiqi.engine.profile import Profile, parse_profile
from huiqi.policy.base import PolicyBase, default_policies_dir
from huiqi.policy.yamlio import strip_lines

ENGINE = Engine(PolicyBase.load(default_policies_dir()))


def _batches() -> dict[Batch, list[Profile]]:
    grouped: dict[Batch, list[Profile]] = defaultdict(list)
    for case in load_cases(ENGINE):
        if not ENGINE.documents[case.document].rules:
            continue  # a reply letter: nothing to compute
        if "years" in case.raw:
            continue  # a case over years: each year's ledger depends on the last, run by huiqi cases
        raw = strip_lines(case.raw)
        as_of = raw["as_of"] if isinstance(raw["as_of"], dt.date) else dt.date.fromisoformat(str(raw["as_of"]))
        batch = Batch(
            document=case.document,
            as_of=as_of,
            period=int(raw.get("period") or as_of.year - 1),
            readings=tuple(sorted((f"{case.document}:{k}", str(v)) for k, v in (raw.get("readings") or {}).items())),
            any_jurisdiction=bool(raw.get("any_jurisdiction", False)),
        )
        grouped[batch].append(parse_profile(raw["profile"], ENGINE.catalogue, document=case.document))
    return grouped


BATCHES = _batches()
IDS = [f"{b.document}:{b.as_of}:{'+'.join(v for _, v in b.readings) or 'default'}:{i}" for i, b in enumerate(BATCHES)]


def test_cases_are_grouped_into_batches() -> None:
    with_rules = [c for c in load_cases(ENGINE) if ENGINE.documents[c.document].rules and "years" not in c.raw]
    assert sum(len(p) for p in BATCHES.values()) == len(with_rules)


@pytest.mark.parametrize("batch", list(BATCHES), ids=IDS)
def test_duckdb_matches_the_scalar_engine_on_every_case(batch: Batch) -> None:
    compared, diffs = differences(ENGINE, batch, BATCHES[batch], duckdb_run(ENGINE))
    assert compared > 0
    assert diffs == []


def test_spark_matches_the_scalar_engine_on_every_case(spark: Any) -> None:
    run = spark_run(ENGINE, spark)
    total, all_diffs = 0, []
    for batch, profiles in BATCHES.items():
        compared, diffs = differences(ENGINE, batch, profiles, run)
        total += compared
        all_diffs.extend(diffs)
    assert total > 1000
    assert all_diffs == []
