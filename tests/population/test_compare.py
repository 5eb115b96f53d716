"""Comparison: one population under several documents, jurisdiction ignored, and who gains most where."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from huiqi.engine.evaluate import Engine
from huiqi.engine.profile import Profile
from huiqi.engine.results import Status
from huiqi.population.compare import compare_report
from huiqi.population.outputs import write_report
from huiqi.population.session import PopulationSession, Scenario

from .populations import AS_OF, PERIOD, scalar

DOCUMENTS = ["suzhou-software-cluster", "guangzhou-software", "xinjiang-2017-software"]


def test_compare_puts_documents_side_by_side(
    seed_engine: Engine, case_profiles: list[tuple[str, Profile]], case_population: Path, tmp_path: Path
) -> None:
    scenario = Scenario(AS_OF, PERIOD, any_jurisdiction=True)
    with PopulationSession(case_population, seed_engine) as session:
        _, report = compare_report(session, seed_engine, DOCUMENTS, scenario)
        write_report(report, tmp_path / "out", session.connection)
    evaluations = scalar(seed_engine, case_profiles, DOCUMENTS, any_jurisdiction=True)
    expected: dict[str, dict[str, int]] = {}
    for entity_id, evaluation in evaluations.items():
        for document in evaluation.documents:
            amount = sum(r.amount_fen or 0 for p in document.provisions for r in p.rules if r.status is Status.ELIGIBLE)
            expected.setdefault(entity_id, {})[document.document] = amount
    rows = pq.read_table(tmp_path / "out" / "compare_entities.parquet").to_pylist()
    winners = {e: amounts for e, amounts in expected.items() if max(amounts.values()) > 0}
    assert {r["entity_id"] for r in rows} == set(winners)
    for row in rows:
        amounts = winners[row["entity_id"]]
        assert {d: row[f"{d}_fen"] for d in DOCUMENTS} == amounts
        best = max(DOCUMENTS, key=lambda d: (amounts[d], -DOCUMENTS.index(d)))
        assert (row["best_document"], row["best_fen"]) == (best, amounts[best])
    summary = {r["document"]: r for r in report.table("compare_by_document").to_pylist()}
    assert list(summary) == DOCUMENTS
    assert sum(r["best_for"] for r in summary.values()) == len(winners)
    for document in DOCUMENTS:
        assert summary[document]["total_fen"] == sum(amounts[document] for amounts in expected.values())
    assert sum(1 for r in summary.values() if r["beneficiaries"] > 0) >= 2
    top = report.table("compare_top").to_pylist()
    assert [r["best_fen"] for r in top] == sorted((r["best_fen"] for r in top), reverse=True)
