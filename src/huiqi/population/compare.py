"""One population under several documents, side by side ("what would our firms get under Suzhou's,
Guangzhou's and Xinjiang's measures"), with jurisdiction ignored so every document sees every entity.

An entity's benefit under a document is the amounts of its eligible rules there (fixed amounts and
ceilings). The document that gives it most is its *best* document; ties go to the document named first.
"""

from __future__ import annotations

import pyarrow as pa

from huiqi.compile.sql import quote_ident, sql_string
from huiqi.engine.evaluate import Engine

from .charts import Series, bar_chart, charts_or_note, document_names
from .report import Chart, Export, Report, Table
from .session import PopulationSession, Progress, Run, Scenario
from .simulate import COST_NOTE, document_meta, document_titles, population_notes
from .summary import by_document, document_order

TOP = 50


def entities_sql(run: Run) -> str:
    """Per entity with a benefit anywhere: its benefit under each document, and the best document."""
    columns = ", ".join(
        f"CAST(COALESCE(SUM(fen) FILTER (WHERE document = {sql_string(d)}), 0) AS BIGINT) AS {quote_ident(d + '_fen')}"
        for d in run.documents
    )
    return (
        f"WITH t AS (SELECT _k, document, SUM(COALESCE(cost_fen, 0) + COALESCE(ceiling_fen, 0)) AS fen "
        f"FROM {quote_ident(run.prov)} GROUP BY _k, document), "
        f"best AS (SELECT _k, document AS best_document, fen AS best_fen, ROW_NUMBER() OVER "
        f"(PARTITION BY _k ORDER BY fen DESC, {document_order(run)}) AS position FROM t WHERE fen > 0), "
        f"x AS (SELECT t._k, {columns}, b.best_document, CAST(b.best_fen AS BIGINT) AS best_fen "
        f"FROM t JOIN best b ON b._k = t._k AND b.position = 1 GROUP BY t._k, b.best_document, b.best_fen) "
        f"SELECT e.entity_id, x.* EXCLUDE (_k) FROM x JOIN (SELECT _k, entity_id FROM entities) e USING (_k) "
        f"ORDER BY x.best_fen DESC, e.entity_id"
    )


def compare_report(
    session: PopulationSession, engine: Engine, documents: list[str], scenario: Scenario, *,
    progress: Progress | None = None,
) -> tuple[Run, Report]:  # fmt: skip
    """Evaluate every document for every entity (jurisdiction ignored) and put them side by side."""
    run = session.run(engine, documents, scenario, name="compare", progress=progress)
    connection = session.connection
    summary = by_document(connection, run, document_meta(engine))
    rows = connection.execute(
        f"SELECT best_document, COUNT(*) FROM ({entities_sql(run)}) GROUP BY best_document"
    ).fetchall()
    best = {str(document): int(count) for document, count in rows}
    summary = summary.append_column("best_for", pa.array([best.get(d, 0) for d in summary["document"].to_pylist()],
                                                         pa.int64()))  # fmt: skip
    top = connection.sql(f"SELECT * FROM ({entities_sql(run)}) LIMIT {TOP}").to_arrow_table()
    notes = [*population_notes(session, scenario, documents), "比较时忽略属地：每个文件都对全部主体评估。", COST_NOTE,
             "最有利文件：该主体最高可达合计（确定＋上限）最高的文件（相同时取先列出的文件）。"]  # fmt: skip
    report = Report(title="多文件比较：同一批主体在不同政策下的受益", notes=notes)
    report.tables = [
        Table(
            "compare_by_document",
            "各文件受益主体与金额",
            summary,
            ("document", "beneficiaries", "cost_fen", "ceiling_fen", "total_fen", "review_count", "best_for"),
        ),
        Table("compare_top", f"受益最多的 {TOP} 个主体", top),
    ]
    report.exports = [Export("compare_entities", "逐主体各文件金额", entities_sql(run))]
    report.titles = document_titles(engine)
    report.charts = charts_or_note(report, lambda: _charts(summary))
    return run, report


def _charts(summary: pa.Table) -> list[Chart]:
    rows = summary.to_pylist()
    if not rows:
        return []
    names = document_names([r["document"] for r in rows], {r["document"]: r["title"] for r in rows})
    return [
        Chart("compare_amount", "各文件金额", bar_chart(
            "各文件金额：确定 / 上限（忽略属地）", names,
            [Series("确定金额", [r["cost_fen"] for r in rows]),
             Series("上限金额", [r["ceiling_fen"] for r in rows])],
        )),
        Chart("compare_beneficiaries", "各文件受益主体数", bar_chart(
            "受益主体数与最有利主体数", names,
            [Series("受益主体数", [r["beneficiaries"] for r in rows]),
             Series("最有利主体数", [r["best_for"] for r in rows])], money=False,
        )),
    ]  # fmt: skip
