"""Baseline against reform: what changes per document, provision and rule, and for whom.

An entity's benefit is what it can claim: the amounts of its eligible rules (fixed amounts and ceilings;
review ceilings are not counted). A *winner* is an entity whose benefit rises under the reform, a *loser*
one whose benefit falls — per provision in the provision table, over all documents in ``reform_entities``.
Rules are matched by (document, provision, rule): a reform changes parameters, never the rule set.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from huiqi.compile.sql import quote_ident
from huiqi.engine.evaluate import Engine

from .charts import Series, bar_chart, charts_or_note, provision_names
from .labels import wan_text
from .reform import Override, Reform
from .report import Chart, Export, Report, Table
from .session import ELIGIBLE, PopulationSession, Progress, Run, Scenario, status_name_sql
from .simulate import document_titles, population_notes
from .summary import document_order

DELTA_COLUMNS = ("baseline_beneficiaries", "reform_beneficiaries", "delta_fen", "winners", "losers")


def _benefit(alias: str) -> str:
    return f"COALESCE({alias}.cost_fen, 0) + COALESCE({alias}.ceiling_fen, 0)"


def by_provision(connection: duckdb.DuckDBPyConnection, baseline: Run, reform: Run) -> pa.Table:
    """Per provision: beneficiaries, amount (fixed + ceilings), winners and losers, before and after."""
    b, r = quote_ident(baseline.prov), quote_ident(reform.prov)
    return connection.sql(
        f"WITH pairs AS (SELECT COALESCE(b.document, r.document) AS document, "
        f"COALESCE(b.provision, r.provision) AS provision, "
        f"CASE WHEN b.status = {ELIGIBLE} THEN 1 ELSE 0 END AS before_count, "
        f"CASE WHEN r.status = {ELIGIBLE} THEN 1 ELSE 0 END AS after_count, "
        f"{_benefit('b')} AS before_fen, {_benefit('r')} AS after_fen "
        f"FROM {b} b FULL OUTER JOIN {r} r USING (_k, document, provision)), "
        f"provisions AS (SELECT document, provision, provision_label, MIN(rule_no) AS first_rule "
        f"FROM {quote_ident(baseline.rules_table)} GROUP BY document, provision, provision_label) "
        f"SELECT u.document, u.provision, u.provision_label, "
        f"CAST(COALESCE(SUM(before_count), 0) AS BIGINT) AS baseline_beneficiaries, "
        f"CAST(COALESCE(SUM(after_count), 0) AS BIGINT) AS reform_beneficiaries, "
        f"CAST(COALESCE(SUM(after_count - before_count), 0) AS BIGINT) AS beneficiaries_delta, "
        f"CAST(COALESCE(SUM(before_fen), 0) AS BIGINT) AS baseline_total_fen, "
        f"CAST(COALESCE(SUM(after_fen), 0) AS BIGINT) AS reform_total_fen, "
        f"CAST(COALESCE(SUM(after_fen - before_fen), 0) AS BIGINT) AS delta_fen, "
        f"COUNT(*) FILTER (WHERE after_fen > before_fen) AS winners, "
        f"COUNT(*) FILTER (WHERE after_fen < before_fen) AS losers "
        f"FROM provisions u LEFT JOIN pairs p USING (document, provision) "
        f"GROUP BY u.first_rule, u.document, u.provision, u.provision_label ORDER BY u.first_rule"
    ).to_arrow_table()


def by_document(connection: duckdb.DuckDBPyConnection, baseline: Run, reform: Run) -> pa.Table:
    """Per document, the same figures; an entity counts once per document."""
    b, r = quote_ident(baseline.prov), quote_ident(reform.prov)

    def per_document(table: str) -> str:
        return (
            f"SELECT _k, document, MIN(status) AS status, SUM(cost_fen) AS cost_fen, "
            f"SUM(ceiling_fen) AS ceiling_fen FROM {table} GROUP BY _k, document"
        )

    return connection.sql(
        f"WITH pairs AS (SELECT COALESCE(b.document, r.document) AS document, "
        f"CASE WHEN b.status = {ELIGIBLE} THEN 1 ELSE 0 END AS before_count, "
        f"CASE WHEN r.status = {ELIGIBLE} THEN 1 ELSE 0 END AS after_count, "
        f"{_benefit('b')} AS before_fen, {_benefit('r')} AS after_fen "
        f"FROM ({per_document(b)}) b FULL OUTER JOIN ({per_document(r)}) r USING (_k, document)) "
        f"SELECT document, "
        f"CAST(SUM(before_count) AS BIGINT) AS baseline_beneficiaries, "
        f"CAST(SUM(after_count) AS BIGINT) AS reform_beneficiaries, "
        f"CAST(SUM(after_count - before_count) AS BIGINT) AS beneficiaries_delta, "
        f"CAST(SUM(before_fen) AS BIGINT) AS baseline_total_fen, CAST(SUM(after_fen) AS BIGINT) AS reform_total_fen, "
        f"CAST(SUM(after_fen - before_fen) AS BIGINT) AS delta_fen, "
        f"COUNT(*) FILTER (WHERE after_fen > before_fen) AS winners, "
        f"COUNT(*) FILTER (WHERE after_fen < before_fen) AS losers "
        f"FROM pairs GROUP BY document ORDER BY {document_order(baseline)}"
    ).to_arrow_table()


def entities_sql(baseline: Run, reform: Run) -> str:
    """Per entity, over all documents evaluated: benefit before, after, and the change (changed only)."""
    b, r = quote_ident(baseline.prov), quote_ident(reform.prov)

    def per_entity(table: str) -> str:
        return f"SELECT _k, SUM({_benefit('t')}) AS fen FROM {table} t GROUP BY _k"

    # by the entity's row key, as the results are kept; each entity changed then named by its id
    return (
        f"SELECT e.entity_id, d.* EXCLUDE (_k) FROM (SELECT _k, CAST(COALESCE(b.fen, 0) AS BIGINT) AS baseline_fen, "
        f"CAST(COALESCE(r.fen, 0) AS BIGINT) AS reform_fen, "
        f"CAST(COALESCE(r.fen, 0) - COALESCE(b.fen, 0) AS BIGINT) AS delta_fen "
        f"FROM ({per_entity(b)}) b FULL OUTER JOIN ({per_entity(r)}) r USING (_k) "
        f"WHERE COALESCE(r.fen, 0) <> COALESCE(b.fen, 0)) d JOIN (SELECT _k, entity_id FROM entities) e USING (_k) "
        f"ORDER BY d.delta_fen DESC, e.entity_id"
    )


def changes_sql(baseline: Run, reform: Run) -> str:
    """Per entity and rule: every result whose status or amount the reform changes."""

    def named(run: Run) -> str:
        return (
            f"SELECT x._k, u.document, u.provision, u.rule, x.status, x.amount_fen, "
            f"CASE WHEN x.status = {ELIGIBLE} THEN x.amount_fen ELSE 0 END AS benefit_fen "
            f"FROM {quote_ident(run.name)} x JOIN {quote_ident(run.rules_table)} u USING (rule_no)"
        )

    return (
        f"SELECT e.entity_id, c.* EXCLUDE (_k) FROM (SELECT _k, document, provision, rule, "
        f"{status_name_sql('b.status')} AS baseline_status, {status_name_sql('r.status')} AS reform_status, "
        f"b.amount_fen AS baseline_amount_fen, r.amount_fen AS reform_amount_fen, "
        f"CAST(COALESCE(r.benefit_fen, 0) - COALESCE(b.benefit_fen, 0) AS BIGINT) AS delta_fen "
        f"FROM ({named(baseline)}) b FULL OUTER JOIN ({named(reform)}) r USING (_k, document, provision, rule) "
        f"WHERE b.status IS DISTINCT FROM r.status OR b.amount_fen IS DISTINCT FROM r.amount_fen) c "
        f"JOIN (SELECT _k, entity_id FROM entities) e USING (_k) "
        f"ORDER BY e.entity_id, c.document, c.provision, c.rule"
    )


def headline(connection: duckdb.DuckDBPyConnection, baseline: Run, reform: Run) -> dict[str, int]:
    """Totals over all documents: change in benefit, winners and losers."""
    rows = connection.execute(
        f"SELECT CAST(COALESCE(SUM(delta_fen), 0) AS BIGINT), COUNT(*) FILTER (WHERE delta_fen > 0), "
        f"COUNT(*) FILTER (WHERE delta_fen < 0) FROM ({entities_sql(baseline, reform)})"
    ).fetchall()
    delta, winners, losers = rows[0]
    return {"delta_fen": int(delta), "winners": int(winners), "losers": int(losers)}


def reform_report(
    session: PopulationSession, baseline_engine: Engine, reform_engine: Engine, reform: Reform,
    documents: list[str], scenario: Scenario, *, progress: Progress | None = None,
) -> tuple[Run, Run, Report]:  # fmt: skip
    """Run the baseline and the reform over the population and compare them."""
    baseline = session.run(baseline_engine, documents, scenario, name="baseline", progress=progress)
    reformed = session.run(reform_engine, documents, scenario, name="reform", progress=progress)
    connection = session.connection
    totals = headline(connection, baseline, reformed)
    notes = [*population_notes(session, scenario, documents)]
    notes += [f"改革项：{_describe(o)}" for o in reform.overrides]
    notes.append(
        f"最高可达合计变化 {wan_text(totals['delta_fen'])} 万元；受益增加 {totals['winners']:,} 个主体，"
        f"受益减少 {totals['losers']:,} 个主体（受益按最高可达计 = 确定金额＋上限金额，不含待审核上限；上限不是将获得的金额）。"
    )
    report = Report(title=f"改革模拟：{reform.name}", notes=notes)
    report.tables = [
        Table(
            "reform_by_document",
            "改革前后：按文件",
            by_document(connection, baseline, reformed),
            ("document", *DELTA_COLUMNS),
        ),
        Table(
            "reform_by_provision",
            "改革前后：按条款",
            by_provision(connection, baseline, reformed),
            ("document", "provision", "provision_label", *DELTA_COLUMNS),
        ),
    ]
    report.exports = [
        Export("reform_entities", "逐主体变化（受益有变化的主体）", entities_sql(baseline, reformed)),
        Export("reform_changes", "逐主体逐规则变化（状态或金额有变化）", changes_sql(baseline, reformed)),
    ]
    titles = document_titles(baseline_engine)
    report.titles = titles
    report.charts = charts_or_note(report, lambda: _charts(report.table("reform_by_provision"), titles))
    return baseline, reformed, report


def _describe(override: Override) -> str:
    parts = [f"替换 {old} → {new}" for old, new in override.replace]
    parts += [f"设置 {path} = {value}" for path, value in override.set]
    kind = "规则" if override.kind == "rule" else "定义"
    return f"{kind} {override.target}：{'；'.join(parts)}"


def _charts(table: pa.Table, titles: dict[str, str]) -> list[Chart]:
    """Money and beneficiaries before and after, for the 15 provisions whose money changes most."""
    rows = table.to_pylist()
    seen: dict[str, int] = {}
    for row in rows:
        seen[row["document"]] = row["position"] = seen.get(row["document"], 0) + 1
    rows = [r for r in rows if r["delta_fen"] != 0 or r["beneficiaries_delta"] != 0]
    rows.sort(key=lambda r: (-abs(r["delta_fen"]), r["document"], r["position"]))
    rows = rows[:15]
    if not rows:
        return []
    names = provision_names(rows, titles)
    return [
        Chart("reform_delta", "改革前后金额", bar_chart(
            "改革前后最高可达合计（确定＋上限，变化最大的条款）", names,
            [Series("现行", [r["baseline_total_fen"] for r in rows]),
             Series("改革后", [r["reform_total_fen"] for r in rows])],
        )),
        Chart("reform_beneficiaries", "改革前后受益主体数", bar_chart(
            "改革前后受益主体数", names,
            [Series("现行", [r["baseline_beneficiaries"] for r in rows]),
             Series("改革后", [r["reform_beneficiaries"] for r in rows])], money=False,
        )),
    ]  # fmt: skip
