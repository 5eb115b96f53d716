"""The peer benchmark's policy (bench/peer9) is exact: its cases pass, DuckDB agrees with the scalar engine,
and on a population rich in boundary rows huiqi, the hand-written SQL and exact numpy pay the same fen."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from huiqi.cases import load_cases, run_case
from huiqi.compile.duckdb_runner import DuckDBRunner
from huiqi.compile.parity import Batch, differences, duckdb_run
from huiqi.engine.evaluate import Engine
from huiqi.policy.base import PolicyBase
from huiqi.population.profiles import tables_to_profiles

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("peer_bench", ROOT / "bench" / "peer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["peer_bench"] = module
    spec.loader.exec_module(module)
    return module


peer = _bench()
ENGINE = Engine(PolicyBase.load(peer.POLICIES))


def test_the_hand_computed_cases_pass() -> None:
    cases = load_cases(ENGINE, peer.DOCUMENT)
    assert len(cases) == 6
    failures = [f for case in cases for f in run_case(ENGINE, case).failures]
    assert failures == []


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, np.ndarray], Path]:
    columns = peer.generate(3000, seed=5, edge=0.3)
    folder = tmp_path_factory.mktemp("peer")
    peer.write_population(columns, ENGINE, folder)
    return columns, folder


def test_huiqi_sql_and_numpy_pay_the_same_fen(population: tuple[dict[str, np.ndarray], Path]) -> None:
    columns, folder = population
    exact = peer.numpy_rules(columns)
    assert sum(int((exact[rule] > 0).sum()) for rule in peer.RULES) > 3000  # every rule pays somewhere
    con = duckdb.connect()
    runner = DuckDBRunner(ENGINE, con)
    runner.load_parquet(folder)
    con.execute(peer.HAND_SQL)
    assert peer.wrong_rows(peer.sql_amounts(con), exact)[0] == 0
    outcome = runner.evaluate_all([peer.DOCUMENT], period=peer.YEAR, as_of=peer.AS_OF)
    amounts, statuses_wrong = peer.huiqi_amounts(con, runner, outcome[peer.DOCUMENT][1], 3000)
    assert peer.wrong_rows(amounts, exact) == (0, dict.fromkeys(peer.RULES, 0), 0)
    assert statuses_wrong == 0
    # the check can fail: one fen more on one row is one wrong row
    amounts["gz3"] = amounts["gz3"].copy()
    amounts["gz3"][7] += 1
    assert peer.wrong_rows(amounts, exact)[0] == 1


def test_duckdb_equals_the_scalar_engine_on_the_boundary_rows(population: tuple[dict[str, np.ndarray], Path]) -> None:
    _, folder = population
    tables = [pq.read_table(folder / f"{name}.parquet").slice(0, 400) for name in ("entities", "history", "ledger")]
    profiles = [profile for _, profile in tables_to_profiles(*tables, ENGINE.catalogue)]
    batch = Batch(peer.DOCUMENT, dt.date(peer.YEAR + 1, 6, 30), peer.YEAR, (), False)
    compared, diffs = differences(ENGINE, batch, profiles, duckdb_run(ENGINE))
    assert compared == 400 * 9
    assert diffs[:5] == []
