"""``huiqi simulate``: every (or one) document over a population, summed the way an analyst asks.

From Python::

    engine = Engine(PolicyBase.load())
    with PopulationSession(Path("population"), engine) as session:
        scenario = resolve_scenario(session, engine, as_of=None, period=None, readings={})
        run, report = simulate(session, engine, select_documents(engine, []), scenario)
        write_report(report, Path("simulation"), session.connection)
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from huiqi.compile.duckdb_runner import PopulationError
from huiqi.engine.evaluate import Engine
from huiqi.errors import EvaluationError
from huiqi.policy.status import evaluated_by_default, include_option, status_reason

from .charts import Series, bar_chart, charts_or_note, document_names, provision_names
from .dimensions import band_order, build_dimensions
from .report import Chart, Export, Report, Table
from .session import PopulationSession, Progress, Run, Scenario
from .summary import by_budget_year, by_document, by_provision, by_rule, distribution

COST_NOTE = (
    "确定金额：符合条件、金额由条文确定的规则之和；上限金额：符合条件、金额仅为上限（最高/不超过，或文件声明"
    "金额均为上限）的规则之和；最高可达合计 = 确定金额 + 上限金额，是可申请的最高额，不是将获得的金额。"
    "待审核定额的上限另列，不计入任何合计。"
)
DOCUMENT_COLUMNS = ("document", "document_status", "beneficiaries", "cost_fen", "ceiling_fen", "total_fen",
                    "review_count", "review_ceiling_fen", "information_count")  # fmt: skip
PROVISION_COLUMNS = ("document", "provision", "provision_label", "beneficiaries", "cost_fen", "ceiling_fen", "total_fen",
                     "review_count", "information_count")  # fmt: skip
COUNT_NOTE = "主体数按该层级的状态计（条款取其规则中最好的状态，文件取其条款中最好的状态），每个主体只计一次。"


def resolve_scenario(
    session: PopulationSession,
    engine: Engine,
    *,
    as_of: dt.date | None,
    period: int | None,
    readings: dict[str, str],
    any_jurisdiction: bool = False,
    quarter: int | None = None,
) -> Scenario:
    """The assessed year and date: as given; else the year before ``as_of``; else the latest year of the
    history with 30 June of the next year as the evaluation date. Readings are checked here."""
    if period is None and as_of is not None:
        period = as_of.year - 1
    if period is None:
        period = session.latest_year()
        if period is None:
            raise PopulationError(
                "history.parquet 没有任何年度数据，无法确定评价年度：请用 --period 指定", where="--period"
            )
    if as_of is None:
        as_of = dt.date(period + 1, 6, 30)
    engine.resolve_readings(readings)
    return Scenario(as_of=as_of, period=period, readings=tuple(sorted(readings.items())),
                    any_jurisdiction=any_jurisdiction, quarter=quarter)  # fmt: skip


def select_documents(
    engine: Engine, wanted: list[str], *, on: dt.date | None = None, include_drafts: bool = False,
    include_expired: bool = False,
) -> list[str]:  # fmt: skip
    """The documents to evaluate: those asked for (each must exist and have rules), else every document
    with rules, in the policy base's order — with ``on`` (the scenario's evaluation day), only those in force
    that day (``huiqi.policy.status``, the rule ``evaluate`` follows: drafts with ``include_drafts``; expired,
    repealed and not-yet-effective documents with ``include_expired``; any of them when named)."""
    for document in wanted:
        if document not in engine.documents:
            known = "、".join(engine.documents)
            raise EvaluationError(f"没有编号为 {document!r} 的文件；现有：{known}", where="--document")
        if not engine.documents[document].rules:
            raise EvaluationError(f"文件 {document} 没有可计算的规则，无法模拟", where="--document")
    if wanted:
        return list(dict.fromkeys(wanted))
    found = [d for d, compiled in engine.documents.items() if compiled.rules]
    if on is None:
        return found
    taken = [
        d for d in found
        if evaluated_by_default(engine.documents[d].loaded.policy.document, on, include_drafts=include_drafts,
                                include_expired=include_expired)
    ]  # fmt: skip
    if not taken and found:
        raise EvaluationError(
            f"评价日 {on.isoformat()} 没有现行有效的文件可模拟（或用 -d 指定文件）：{'；'.join(left_out(engine, [], on))}",
            where="--document",
        )
    return taken


def left_out(engine: Engine, documents: list[str], on: dt.date) -> list[str]:
    """Each document with rules that is not in ``documents`` because of its status on ``on``: why, and the
    option that brings it in (e.g. "suzhou-software-cluster：征求意见稿，尚未正式施行，加 --include-drafts 纳入")."""
    found = []
    for doc_id, compiled in engine.documents.items():
        meta = compiled.loaded.policy.document
        option = include_option(meta, on)
        if compiled.rules and doc_id not in documents and option is not None:
            found.append(f"{doc_id}：{status_reason(meta, on)}，加 {option} 纳入")
    return found


def document_meta(engine: Engine) -> dict[str, tuple[str, str]]:
    """(short title, status) of every document."""
    meta = {}
    for doc_id, compiled in engine.documents.items():
        document = compiled.loaded.policy.document
        meta[doc_id] = (document.short_title or document.title, document.status.value)
    return meta


def document_titles(engine: Engine) -> dict[str, str]:
    """The short title of every document (its full title where it has none): how charts name documents."""
    return {doc_id: title for doc_id, (title, _) in document_meta(engine).items()}


def population_notes(session: PopulationSession, scenario: Scenario, documents: list[str]) -> list[str]:
    return [
        f"人口数据：{session.folder}（{session.entity_count():,} 个主体）",
        f"情景：{scenario.describe()}",
        f"文件：{'、'.join(documents)}",
        f"规则计算引擎：{session.engine_name}",
        *(f"{document} 由 DuckDB（SQL）计算：{reason}" for document, reason in session.kernel_fallbacks.items()),
    ]


def simulate(
    session: PopulationSession, engine: Engine, documents: list[str], scenario: Scenario, *,
    progress: Progress | None = None, name: str = "baseline",
) -> tuple[Run, Report]:  # fmt: skip
    """Evaluate ``documents`` over the population and build the report (tables, per-entity results, charts)."""
    run = session.run(engine, documents, scenario, name=name, progress=progress)
    connection = session.connection
    build_dimensions(connection, period=scenario.period)
    report = Report(title="政策模拟：受益主体与资金需求", notes=[*population_notes(session, scenario, documents), COST_NOTE,
                                                            COUNT_NOTE])  # fmt: skip
    report.tables = [
        Table("by_document", "按文件汇总", by_document(connection, run, document_meta(engine)), DOCUMENT_COLUMNS),
        Table("by_provision", "按条款汇总", by_provision(connection, run), PROVISION_COLUMNS),
        Table("by_rule", "按规则汇总", by_rule(connection, run)),
        Table("distribution", "分布：规模、区县、行业", distribution(connection, run)),
        Table("by_budget_year", "按预算年度（分年拨付）", by_budget_year(connection, run, engine)),
    ]
    report.exports = [Export("results", "逐主体逐规则结果（不含不适用）", session.long_sql(run))]
    report.titles = document_titles(engine)
    report.charts = charts_or_note(report, lambda: simulation_charts(report))
    return run, report


def _top(table: pa.Table, column: str, count: int) -> pa.Table:
    if table.num_rows == 0:
        return table
    order = pc.sort_indices(table, sort_keys=[(column, "descending")])
    return table.take(order).slice(0, count)


def simulation_charts(report: Report) -> list[Chart]:
    """Money by document, the 15 provisions costing most, and money by size band, district and industry
    (documents by their short titles)."""
    charts: list[Chart] = []
    documents = report.table("by_document").to_pylist()
    titles = {d["document"]: d["title"] for d in documents}
    if documents:
        charts.append(
            Chart(
                "by_document",
                "各文件金额",
                bar_chart(
                    "各文件金额（确定 / 上限）",
                    document_names([d["document"] for d in documents], titles),
                    [
                        Series("确定金额", [d["cost_fen"] for d in documents]),
                        Series("上限金额", [d["ceiling_fen"] for d in documents]),
                    ],
                ),
            )
        )
    provisions = _top(report.table("by_provision"), "total_fen", 15).to_pylist()
    if provisions:
        names = provision_names(provisions, titles)
        charts.append(
            Chart(
                "top_provisions",
                "金额最高的条款",
                bar_chart(
                    "最高可达合计最多的条款（确定＋上限）",
                    names,
                    [Series("最高可达合计", [p["total_fen"] for p in provisions])],
                ),
            )
        )
    charts += _distribution_charts(report.table("distribution"), [d["document"] for d in documents], titles)
    return charts


def _distribution_charts(table: pa.Table, documents: list[str], titles: dict[str, str]) -> list[Chart]:
    rows = [r for r in table.to_pylist() if r["provision"] is None]
    charts: list[Chart] = []
    dimensions = [("size_band", "规模"), ("district", "区县"), ("industry", "行业")]
    for dimension, chinese in dimensions:
        subset = [r for r in rows if r["dimension"] == dimension]
        if not subset:
            continue
        if dimension == "size_band":
            values = [b for b in band_order() if any(r["value"] == b for r in subset)]
        else:
            totals: dict[str, int] = {}
            for r in subset:
                totals[r["value"]] = totals.get(r["value"], 0) + r["total_fen"]
            values = sorted(totals, key=lambda v: (-totals[v], v))[:15]
        series = []
        for document in documents:
            amounts = {r["value"]: r["total_fen"] for r in subset if r["document"] == document}
            if amounts:
                series.append(Series(titles.get(document) or document, [amounts.get(v, 0) for v in values]))
        charts.append(
            Chart(
                f"by_{dimension}",
                f"按{chinese}的金额",
                bar_chart(f"按{chinese}的最高可达合计（确定＋上限）", values, series, legend=True),
            )
        )
    return charts
