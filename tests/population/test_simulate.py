"""``simulate`` adds up exactly what the scalar engine gives each entity, per rule, provision and document."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from huiqi.engine.evaluate import Engine
from huiqi.engine.profile import Profile
from huiqi.engine.results import Status
from huiqi.kernel.inputs import slices
from huiqi.kernel.runner import available as kernel_available
from huiqi.population.session import PopulationSession, Scenario
from huiqi.population.simulate import select_documents, simulate

from .conftest import Synthetic
from .expected import COUNTS, by_level
from .populations import AS_OF, PERIOD, PROVISIONS, MiniFactory, firms, parse_all, scalar, write_population

FIGURES = ["assessed", *COUNTS.values(), "cost_fen", "ceiling_fen", "total_fen", "review_ceiling_fen"]
SCENARIO = Scenario(as_of=AS_OF, period=PERIOD)


def _check_levels(
    report_tables: dict[str, list[dict[str, object]]], expected: dict[str, dict[tuple[str, ...], Counter[str]]]
) -> int:
    checked = 0
    keys = {
        "rule": ("document", "provision", "rule"),
        "provision": ("document", "provision"),
        "document": ("document",),
    }
    for level, table in (("rule", "by_rule"), ("provision", "by_provision"), ("document", "by_document")):
        rows = {tuple(str(row[k]) for k in keys[level]): row for row in report_tables[table]}
        for key, figures in expected[level].items():
            row = rows[key]
            assert {f: row[f] for f in FIGURES} == {f: figures[f] for f in FIGURES}, (level, key)
            checked += 1
        assert all(rows[key]["assessed"] == 0 for key in set(rows) - set(expected[level])), level
    return checked


def test_synthetic_population_adds_up_to_the_scalar_results(synthetic: Synthetic) -> None:
    engine = synthetic.engine
    with PopulationSession(synthetic.folder, engine) as session:
        _, report = simulate(session, engine, ["test-doc"], SCENARIO)
        tables = {t.name: t.data.to_pylist() for t in report.tables}
    expected = by_level(engine, scalar(engine, synthetic.profiles, ["test-doc"]))
    assert _check_levels(tables, expected) == 3 + 3 + 1
    document = tables["by_document"][0]
    assert document["beneficiaries"] > 50 and document["review_count"] > 0 and document["information_count"] > 0
    assert document["cost_fen"] > 0 and document["ceiling_fen"] > 0 and document["review_ceiling_fen"] > 0


def test_every_policy_case_profile_adds_up_on_every_document(
    seed_engine: Engine, case_profiles: list[tuple[str, Profile]], case_population: Path
) -> None:
    documents = select_documents(seed_engine, [])
    with PopulationSession(case_population, seed_engine) as session:
        _, report = simulate(session, seed_engine, documents, SCENARIO)
        tables = {t.name: t.data.to_pylist() for t in report.tables}
    expected = by_level(seed_engine, scalar(seed_engine, case_profiles, documents))
    assert _check_levels(tables, expected) > 100
    assert sum(row["beneficiaries"] for row in tables["by_rule"]) > 50


def test_per_entity_results_are_every_applicable_rule_result(synthetic: Synthetic, tmp_path: Path) -> None:
    from huiqi.population.outputs import write_report

    engine = synthetic.engine
    with PopulationSession(synthetic.folder, engine) as session:
        _, report = simulate(session, engine, ["test-doc"], SCENARIO)
        write_report(report, tmp_path / "out", session.connection)
    results = pq.read_table(tmp_path / "out" / "results.parquet")
    assert results.column_names == ["entity_id", "document", "provision", "rule", "status", "amount_fen"]
    got = {(r["entity_id"], r["provision"], r["rule"]): (r["status"], r["amount_fen"]) for r in results.to_pylist()}
    expected = {}
    for entity_id, evaluation in scalar(engine, synthetic.profiles, ["test-doc"]).items():
        for result in evaluation.rules():
            if result.status is Status.NOT_APPLICABLE:
                continue
            money = result.status in (Status.ELIGIBLE, Status.NEEDS_REVIEW, Status.EXCLUDED)
            expected[(entity_id, result.provision, result.rule)] = (
                result.status.value,
                result.amount_fen if money else None,
            )
    assert got == expected
    assert "not_applicable" not in set(results["status"].to_pylist())


def test_distribution_splits_document_totals_by_band_district_and_industry(synthetic: Synthetic) -> None:
    engine = synthetic.engine
    with PopulationSession(synthetic.folder, engine) as session:
        _, report = simulate(session, engine, ["test-doc"], SCENARIO)
    document = report.table("by_document").to_pylist()[0]
    rows = [r for r in report.table("distribution").to_pylist() if r["provision"] is None]
    for dimension in ("size_band", "district", "industry"):
        part = [r for r in rows if r["dimension"] == dimension]
        assert sum(r["beneficiaries"] for r in part) == document["beneficiaries"], dimension
        assert sum(r["total_fen"] for r in part) == document["total_fen"], dimension
    bands = [r["value"] for r in rows if r["dimension"] == "size_band"]
    assert bands == sorted(bands, key=["1000万元以下", "1000万元–1亿元", "1亿元–10亿元", "10亿元及以上", "未知"].index)
    assert {r["value"] for r in rows if r["dimension"] == "district"} <= {
        "苏州市 姑苏区",
        "苏州市 吴中区",
        "无锡市 梁溪区",
    }
    assert {r["value"] for r in rows if r["dimension"] == "industry"} <= {
        "软件开发",
        "信息技术服务",
        "集成电路设计",
        "未知",
    }


def test_distribution_adds_up_each_provision_and_document_from_the_entities_results(
    seed_engine: Engine, case_population: Path
) -> None:
    """Every row of the distribution (grouped by the three dimensions at once) is the sum, over the entities
    of that band, district or industry, of their provision and document results — added up here in Python."""
    documents = select_documents(seed_engine, [])
    with PopulationSession(case_population, seed_engine) as session:
        run, report = simulate(session, seed_engine, documents, SCENARIO)
        con = session.connection
        dims = {  # each entity by its row key, as the tables of results name it
            row[0]: row[1:] for row in con.execute("SELECT _k, size_band, district, industry FROM dims").fetchall()
        }
        provisions = con.execute(
            f"SELECT _k, document, provision, status, cost_fen, ceiling_fen FROM {run.prov}"
        ).fetchall()
    expected: dict[tuple[str, str, str, str | None], list[int]] = {}
    per_document: dict[tuple[str, str], list[int]] = {}
    for entity, document, provision, status, cost, ceiling in provisions:
        best = per_document.setdefault((entity, document), [99, 0, 0, 0])
        best[0] = min(best[0], status)
        best[1] += cost or 0
        best[2] += ceiling or 0
        best[3] += cost is not None or ceiling is not None
        for dimension, value in zip(("size_band", "district", "industry"), dims[entity], strict=True):
            row = expected.setdefault((dimension, value, document, provision), [0, 0, 0])
            row[0] += status == 0
            row[1] += cost or 0
            row[2] += ceiling or 0
    for (entity, document), (status, cost, ceiling, _) in per_document.items():
        for dimension, value in zip(("size_band", "district", "industry"), dims[entity], strict=True):
            row = expected.setdefault((dimension, value, document, None), [0, 0, 0])
            row[0] += status == 0
            row[1] += cost
            row[2] += ceiling
    wanted = {key: figures for key, figures in expected.items() if figures[0] > 0 or figures[1] + figures[2] > 0}
    got = {
        (r["dimension"], r["value"], r["document"], r["provision"]): [
            r["beneficiaries"],
            r["cost_fen"],
            r["ceiling_fen"],
        ]
        for r in report.table("distribution").to_pylist()
    }
    assert got == wanted
    assert len(got) > 100 and {key[0] for key in got} == {"size_band", "district", "industry"}
    assert any(key[3] is None for key in got) and any(key[3] is not None for key in got)


def test_rules_run_on_spark_give_the_same_report(
    seed_engine: Engine, case_profiles: list[tuple[str, Profile]], case_population: Path
) -> None:
    """``--engine spark``: Spark evaluates the rules, DuckDB summarises; every summary table is identical."""
    documents = select_documents(seed_engine, [])
    reports = {}
    for master in (None, "local[2]"):
        with PopulationSession(case_population, seed_engine, spark_master=master) as session:
            assert session.engine_name == ("Spark" if master else "DuckDB")
            run, report = simulate(session, seed_engine, documents, SCENARIO)
            results = session.connection.sql(session.long_sql(run)).fetchall()
            reports[master] = ({t.name: t.data.to_pylist() for t in report.tables}, results)
    (duckdb_tables, duckdb_results), (spark_tables, spark_results) = reports[None], reports["local[2]"]
    assert spark_tables == duckdb_tables
    assert spark_results == duckdb_results and len(duckdb_results) > 1000
    assert "规则计算引擎：Spark" in report.notes


@pytest.mark.skipif(not kernel_available(), reason="numba is not installed")
def test_rules_run_by_the_compiled_kernel_give_the_same_report(
    seed_engine: Engine, case_profiles: list[tuple[str, Profile]], case_population: Path
) -> None:
    """``--engine kernel``: the compiled kernel evaluates every document (ledger included), DuckDB summarises;
    every summary table and every entity's result is identical to the SQL run's, whether the registry is read
    whole or a slice of entities at a time (slices of 97 and of 7: most of those then hold entities of one
    document only, with history and ledger rows or without)."""
    documents = select_documents(seed_engine, [])
    reports = {}
    for kernel, size in ((False, 0), (True, 1_000_000), (True, 97), (True, 7)):
        with PopulationSession(case_population, seed_engine, kernel=kernel, kernel_slice=size) as session:
            steps: list[str] = []
            run, report = simulate(session, seed_engine, documents, SCENARIO, progress=steps.append)
            assert sorted(steps) == sorted(documents)  # one step per document, as each is done
            results = session.connection.sql(session.long_sql(run)).fetchall()
            reports[size] = ({t.name: t.data.to_pylist() for t in report.tables}, results)
            if kernel:
                assert session.kernel_fallbacks == {}  # every document compiled, none left to SQL
                assert "规则计算引擎：编译内核（numba）" in report.notes
    assert len(reports[0][1]) > 1000
    for size in (1_000_000, 97, 7):
        assert reports[size][0] == reports[0][0], size
        assert reports[size][1] == reports[0][1], size


@pytest.mark.skipif(not kernel_available(), reason="numba is not installed")
def test_a_provisions_sum_beyond_64_bits_is_summed_in_sql_from_the_wide_result(
    seed_engine: Engine, case_population: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel's threads make a run's rows from its arrays; where a provision's sum would leave 64 bits they
    say so (``provision_rows`` gives False) and that document's provisions are summed by SQL over 128 bits from
    the kernel's wide result. Every sum is made to say so here: the run still equals the SQL run's."""
    import numpy as np

    from huiqi.kernel import encode

    status = np.array([[0, 0, 5], [0, 1, 5]], dtype=np.int8)
    amount = np.array([[2**62, 5, 0], [2**62, 7, 0]], dtype=np.int64)
    priced, ceiling = np.ones(2, np.bool_), np.zeros(2, np.bool_)
    members, starts = np.array([0, 1], np.int64), np.array([0, 2], np.int64)
    outputs = (np.empty(2, np.int32), np.empty(2, np.int32), np.empty(2, np.int8), np.empty((2, 3), np.int64),
               np.empty((2, 3), np.bool_))  # fmt: skip
    keys = np.arange(3, dtype=np.int32)
    assert encode.provisions_applicable(status, members, starts, 5) == 2
    assert not encode.provision_rows(
        status, amount, priced, ceiling, -(2**63), keys, members, starts, 5, 0, 1, *outputs
    )
    amount[0, 0] = 3
    assert encode.provision_rows(status, amount, priced, ceiling, -(2**63), keys, members, starts, 5, 0, 1, *outputs)
    assert outputs[3].tolist() == [[3 + 2**62, 0, 0], [5, 0, 7]]  # eligible 3 + 2^62; eligible 5, review 7
    assert outputs[4].tolist() == [[True, False, False], [True, False, True]]

    documents = select_documents(seed_engine, [])
    provisions = {}
    for kernel in (False, True):
        if kernel:
            monkeypatch.setattr(encode, "provision_rows", lambda *arguments: False)
        with PopulationSession(case_population, seed_engine, kernel=kernel, kernel_slice=50) as session:
            run, _ = simulate(session, seed_engine, documents, SCENARIO)
            provisions[kernel] = sorted(session.connection.execute(f"SELECT * FROM {run.prov}").fetchall(), key=repr)
    assert len(provisions[False]) > 500 and provisions[True] == provisions[False]


@pytest.mark.skipif(not kernel_available(), reason="numba is not installed")
def test_an_entities_file_with_its_own_file_row_number_column_runs_on_the_kernel(
    seed_engine: Engine, case_population: Path, tmp_path: Path
) -> None:
    """An entities file with a column of its own named ``file_row_number`` is keyed in an order of DuckDB's
    choosing: the kernel's results then take their row key from ``entities`` by id, and every result and
    summary is the SQL run's."""
    import shutil

    import pyarrow as pa

    folder = tmp_path / "population"
    shutil.copytree(case_population, folder)
    entities = pq.read_table(folder / "entities.parquet")
    rows = entities.num_rows
    entities = entities.append_column("file_row_number", pa.array([f"第{i}行" for i in range(rows)]))
    pq.write_table(entities, folder / "entities.parquet", row_group_size=max(1, rows // 5))
    documents = select_documents(seed_engine, [])
    reports = {}
    for kernel in (False, True):
        with PopulationSession(folder, seed_engine, kernel=kernel, kernel_slice=rows // 3) as session:
            run, report = simulate(session, seed_engine, documents, SCENARIO)
            results = session.connection.sql(session.long_sql(run)).fetchall()
            reports[kernel] = ({t.name: t.data.to_pylist() for t in report.tables}, results)
            if kernel:
                assert session.kernel_fallbacks == {}
    assert len(reports[False][1]) > 1000
    assert reports[True] == reports[False]


@pytest.mark.skipif(not kernel_available(), reason="numba is not installed")
def test_a_registrys_slices_are_kept_for_the_next_run_where_they_fit(
    seed_engine: Engine, case_population: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registry read a slice at a time: the slices one run read are kept for the session's next run of the
    same assessed year, which reads nothing and gives the same results; where they take more than
    ``kernel_keep`` bytes, every run reads them again. Another assessed year reads its own."""
    documents = select_documents(seed_engine, [])
    reads: list[tuple[int, int]] = []
    read = PopulationSession._kernel_read

    def counted(self: PopulationSession, rows: tuple[int, int], *args: object, **kwargs: object) -> object:
        reads.append(rows)
        return read(self, rows, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PopulationSession, "_kernel_read", counted)
    count = len(slices(case_population, 97))
    assert count > 2
    for keep, again in ((1 << 30, 0), (1, 1)):
        with PopulationSession(case_population, seed_engine, kernel=True, kernel_slice=97,
                               kernel_keep=keep) as session:  # fmt: skip
            results = []
            for number in range(2):
                reads.clear()
                run, _ = simulate(session, seed_engine, documents, SCENARIO, name=f"run{number}")
                results.append(session.connection.sql(session.long_sql(run)).fetchall())
                assert len(reads) == (count if number == 0 else again * count), (keep, number)
            assert results[0] == results[1] and len(results[0]) > 1000
            assert session.kernel_fallbacks == {}
            reads.clear()
            simulate(session, seed_engine, documents, Scenario(as_of=AS_OF, period=PERIOD - 1), name="earlier")
            assert len(reads) > 1  # another assessed year: its own slices, read


@pytest.mark.skipif(not kernel_available(), reason="numba is not installed")
def test_a_document_the_kernel_refuses_in_a_later_slice_is_evaluated_whole_by_sql(
    mini: MiniFactory, tmp_path: Path
) -> None:
    """One firm's staff count beyond what 64-bit integers hold, in the last slice: the slices before it are
    already in the long table when the kernel refuses the document; they are taken out and SQL evaluates the
    document for every entity, so the results are the SQL run's, row for row, none twice."""
    engine = mini(PROVISIONS)
    raws = firms(400, seed=3)
    raws[398]["facts"]["social_insurance_staff"] = 10**12  # 10^21 over the column's scale of 10^9
    folder = write_population(tmp_path / "population", engine, parse_all(engine, raws))
    results, provisions = {}, {}
    for kernel in (False, True):
        with PopulationSession(folder, engine, kernel=kernel, kernel_slice=100) as session:
            run, _ = simulate(session, engine, ["test-doc"], SCENARIO)
            results[kernel] = session.connection.sql(session.long_sql(run)).fetchall()
            provisions[kernel] = sorted(session.connection.execute(f"SELECT * FROM {run.prov}").fetchall())
            if kernel:
                assert set(session.kernel_fallbacks) == {"test-doc"}
                assert "64 位" in session.kernel_fallbacks["test-doc"]
    assert results[True] == results[False] and len(results[False]) > 300
    assert provisions[True] == provisions[False]  # the table of provisions too: nothing stored twice


def test_the_table_of_provisions_is_the_long_tables_results_grouped_by_entity_and_provision(
    seed_engine: Engine, case_population: Path
) -> None:
    """``<run>_prov`` is made from each document's wide results, row by row; it holds exactly what grouping the
    long table by entity and provision gives (the best status, and SUM's money: NULL where no rule has any),
    on DuckDB and on the kernel in slices, provisions of several rules, ceilings and review included."""
    documents = select_documents(seed_engine, [])
    for kernel, size in ((False, 0), (True, 7)):
        with PopulationSession(case_population, seed_engine, kernel=kernel, kernel_slice=size) as session:
            run, _ = simulate(session, seed_engine, documents, SCENARIO)
            con = session.connection
            grouped = (
                f"SELECT r._k, u.document, u.provision, MIN(r.status) AS status, "
                f"SUM(r.amount_fen) FILTER (WHERE r.status = 0 AND NOT u.is_ceiling) AS cost_fen, "
                f"SUM(r.amount_fen) FILTER (WHERE r.status = 0 AND u.is_ceiling) AS ceiling_fen, "
                f"SUM(r.amount_fen) FILTER (WHERE r.status = 1) AS review_ceiling_fen "
                f"FROM {run.name} r JOIN {run.rules_table} u USING (rule_no) GROUP BY r._k, u.document, u.provision"
            )
            made = sorted(con.execute(f"SELECT * FROM {run.prov}").fetchall(), key=repr)
            assert made == sorted(con.execute(grouped).fetchall(), key=repr), kernel
            several = con.execute(
                f"SELECT count(*) FROM (SELECT document, provision FROM {run.rules_table} "
                f"GROUP BY ALL HAVING count(*) > 1)"
            ).fetchone()
            assert several is not None and several[0] >= 5
            assert len(made) > 500 and {row[3] for row in made} >= {0, 1, 2, 4}
            assert any(row[5] is not None for row in made) and any(row[6] is not None for row in made)


@pytest.mark.skipif(not kernel_available(), reason="numba is not installed")
def test_a_registry_without_entities_runs_on_the_kernel(mini: MiniFactory, tmp_path: Path) -> None:
    """No entity: one empty slice, no result, and the document's step is still said."""
    engine = mini(PROVISIONS)
    folder = write_population(tmp_path / "population", engine, [])
    with PopulationSession(folder, engine, kernel=True) as session:
        steps: list[str] = []
        run, _ = simulate(session, engine, ["test-doc"], SCENARIO, progress=steps.append)
        assert session.connection.sql(session.long_sql(run)).fetchall() == []
        assert steps == ["test-doc"] and session.kernel_fallbacks == {}
