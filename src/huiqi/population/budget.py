"""Budgets: demand against money available, per provision or per document, and who gets what.

A budget file (YAML)::

    allocation: pro_rata            # default rule: pro_rata (按比例) or ranking (排序择优)
    rank_by: amount                 # ranking order: amount (claim, highest first) or a fact key (highest first)
    budgets:
      - target: suzhou-software-cluster:2      # document:provision, or a whole document
        amount: 3000万元                        # with a unit: 元, 万元 or 亿元
      - target: guangzhou-software
        amount: 1.5亿元
        allocation: ranking
        rank_by: revenue

``budgets`` may also be a mapping ``target: amount``. An entity's claim on a target is the amount of its
eligible rules there (fixed amounts and ceilings). The two rules, exact to the fen (整数分):

- ``pro_rata``: when demand exceeds the budget each claimant gets claim × budget ÷ demand rounded down to
  the fen, and the fen left over go one each to the largest remainders (ties: entity id) — the
  largest-remainder method; the allocations add up to the budget exactly. Otherwise every claim is met.
- ``ranking``: claims in order (the key highest first, then the claim highest first, then entity id) are
  met in full while the budget lasts; the first claim that does not fit and every claim after it get
  nothing, and what remains of the budget is left unallocated.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from huiqi.compile.sql import quote_ident, sql_string
from huiqi.errors import HuiqiError, PolicyError
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import Catalogue, Period
from huiqi.money import parse_money, round_half_up
from huiqi.policy.yamlio import line_of, load_yaml, strip_lines

from .charts import Series, bar_chart, charts_or_note, wrap_label
from .report import Chart, Export, Report, Table
from .session import PopulationSession, Run

METHODS = {"pro_rata": "按比例", "ranking": "排序择优"}
RANKABLE = (Type.MONEY, Type.NUMBER, Type.DATE, Type.BOOL)


class BudgetError(PolicyError):
    """A budget file is malformed or names something that was not simulated."""


@dataclass(frozen=True)
class Budget:
    """Money available for one target, and how it is shared out."""

    target: str  # document, or document:provision
    amount_fen: int
    allocation: str = "pro_rata"
    rank_by: str = "amount"
    where: str = ""

    @property
    def document(self) -> str:
        return self.target.split(":", 1)[0]

    @property
    def provision(self) -> str | None:
        return self.target.split(":", 1)[1] if ":" in self.target else None

    def describe(self, fact_label: str | None = None) -> str:
        """The allocation rule in words (stated in every output)."""
        if self.allocation == "pro_rata":
            return (
                "按比例：需求超过预算时，各主体分得 申请额×预算÷需求，先向下取整到分，余下的分按舍去部分从大到小"
                "（相同按主体编号）逐一补1分（最大余数法），分配合计恰等于预算；需求不超过预算时全额安排"
            )
        key = "申请额" if self.rank_by == "amount" else (fact_label or self.rank_by)
        return (
            f"排序择优：按{key}从高到低（相同按申请额从高到低、再按主体编号）依次全额安排，直到预算不足以全额安排下一个主体为止；"
            "其后主体不再安排，余额不分配"
        )


def load_budgets(path: Path) -> list[Budget]:
    """Read a budget file; amounts need a unit (元/万元/亿元)."""
    if not path.exists():
        raise BudgetError(f"找不到预算文件 {path}", where="--budget")
    raw = load_yaml(path)
    if not isinstance(raw, dict) or "budgets" not in raw:
        raise BudgetError("预算文件应有 budgets:（列表，或 对象: 金额 的映射）", where=f"{path}:1")
    allocation = str(raw.get("allocation", "pro_rata"))
    rank_by = str(raw.get("rank_by", "amount"))
    items = raw["budgets"]
    entries: list[tuple[dict[str, Any], str]] = []
    if isinstance(items, dict):
        for key, value in strip_lines(items).items():
            entries.append(({"target": key, "amount": value}, f"{path}:{line_of(raw, ('budgets', key)) or 1}"))
    elif isinstance(items, list):
        for index, item in enumerate(items):
            where = f"{path}:{line_of(raw, ('budgets', index)) or 1}"
            if not isinstance(item, dict):
                raise BudgetError(f"第{index + 1}项应为映射（target、amount）", where=where)
            entries.append((strip_lines(item), where))
    else:
        raise BudgetError("budgets 应为列表或映射", where=f"{path}:1")
    if not entries:
        raise BudgetError("budgets 为空", where=f"{path}:1")
    budgets = []
    for item, where in entries:
        unknown = set(item) - {"target", "amount", "allocation", "rank_by", "note"}
        if unknown or "target" not in item or "amount" not in item:
            raise BudgetError("每项预算应有 target 与 amount（可选 allocation、rank_by、note）", where=where)
        try:
            amount = parse_money(item["amount"], where=where)
        except HuiqiError as exc:
            raise BudgetError(f"预算金额：{exc.message}", where=where) from None
        if amount <= 0:
            raise BudgetError(f"预算金额应大于0，得到 {item['amount']!r}", where=where)
        method = str(item.get("allocation", allocation))
        if method not in METHODS:
            raise BudgetError(f"分配规则 {method!r} 无效：可用 pro_rata（按比例）、ranking（排序择优）", where=where)
        budgets.append(Budget(str(item["target"]), amount, method, str(item.get("rank_by", rank_by)), where))
    return budgets


def check_budget(budget: Budget, run: Run, catalogue: Catalogue, session: PopulationSession) -> str | None:
    """Refuse a budget naming a document or provision not simulated, or an unusable ranking fact;
    returns the fact's Chinese name when ranking by a fact."""
    if budget.document not in run.documents:
        raise BudgetError(
            f"预算对象 {budget.target!r} 的文件不在本次模拟中：{'、'.join(run.documents)}", where=budget.where
        )
    if budget.provision is not None:
        provisions = list(dict.fromkeys(r.provision for r in run.rules if r.document == budget.document))
        if budget.provision not in provisions:
            raise BudgetError(
                f"文件 {budget.document} 没有可计算的条款 {budget.provision!r}；现有：{'、'.join(provisions)}",
                where=budget.where,
            )
    if budget.allocation != "ranking" or budget.rank_by == "amount":
        return None
    fact = catalogue.get(budget.rank_by)
    if fact is None or fact.type not in RANKABLE:
        raise BudgetError(
            f"rank_by {budget.rank_by!r} 应为 amount 或可排序的事实（金额、数值、日期、是否）", where=budget.where
        )
    table = "history" if fact.period is Period.ANNUAL else "entities"
    if budget.rank_by not in session.columns(table):
        raise BudgetError(f"人口数据的 {table}.parquet 没有列 {budget.rank_by}", where=budget.where)
    return fact.name


def claims_sql(budget: Budget, run: Run, catalogue: Catalogue) -> str:
    """Each claimant's claim on the target, and its ranking key (``rank_key``)."""
    test = f"document = {sql_string(budget.document)}"
    if budget.provision is not None:
        test += f" AND provision = {sql_string(budget.provision)}"
    # claims by the entity's row key (as the results are kept), each then named by its id once
    claims = (
        f"SELECT c._k, e.entity_id, c.claim_fen FROM (SELECT _k, "
        f"CAST(SUM(COALESCE(cost_fen, 0) + COALESCE(ceiling_fen, 0)) AS BIGINT) AS claim_fen "
        f"FROM {quote_ident(run.prov)} WHERE {test} GROUP BY _k HAVING claim_fen > 0) c "
        f"JOIN (SELECT _k, entity_id FROM entities) e USING (_k)"
    )
    if budget.allocation != "ranking" or budget.rank_by == "amount":
        return f"SELECT entity_id, claim_fen, claim_fen AS rank_key FROM ({claims})"
    fact = catalogue[budget.rank_by]
    column = quote_ident(budget.rank_by)
    keys = (
        f"SELECT _k, {column} AS rank_key FROM history WHERE year = {int(run.scenario.period)}"
        if fact.period is Period.ANNUAL
        else f"SELECT _k, {column} AS rank_key FROM entities"
    )
    return f"SELECT c.entity_id, c.claim_fen, k.rank_key FROM ({claims}) c LEFT JOIN ({keys}) k USING (_k)"


def allocation_sql(claims: str, budget_fen: int, method: str) -> str:
    """Rows (entity_id, rank, claim_fen, allocated_fen) from a relation (entity_id, claim_fen, rank_key)."""
    budget = int(budget_fen)
    if method == "ranking":
        order = "rank_key DESC NULLS LAST, claim_fen DESC, entity_id"
        return (
            f"SELECT entity_id, rank, claim_fen, CAST(CASE WHEN running <= {budget} THEN claim_fen ELSE 0 END AS BIGINT) "
            f"AS allocated_fen FROM (SELECT entity_id, claim_fen, ROW_NUMBER() OVER (ORDER BY {order}) AS rank, "
            f"SUM(claim_fen) OVER (ORDER BY {order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running "
            f"FROM ({claims})) ORDER BY rank"
        )
    # HUGEINT (128 bits): claim × budget cannot overflow for any int64 pair
    return (
        f"WITH c AS ({claims}), t AS (SELECT CAST(COALESCE(SUM(claim_fen), 0) AS HUGEINT) AS demand FROM c), "
        f"s AS (SELECT c.entity_id, c.claim_fen, t.demand, "
        f"CASE WHEN t.demand <= {budget} THEN CAST(c.claim_fen AS HUGEINT) "
        f"ELSE (CAST(c.claim_fen AS HUGEINT) * {budget}) // t.demand END AS share, "
        f"CASE WHEN t.demand <= {budget} THEN 0 ELSE (CAST(c.claim_fen AS HUGEINT) * {budget}) % t.demand END AS remainder "
        f"FROM c CROSS JOIN t), "
        f"l AS (SELECT CASE WHEN MAX(demand) <= {budget} THEN 0 ELSE {budget} - SUM(share) END AS leftover FROM s), "
        f"r AS (SELECT s.*, ROW_NUMBER() OVER (ORDER BY remainder DESC, entity_id) AS position FROM s) "
        f"SELECT entity_id, ROW_NUMBER() OVER (ORDER BY claim_fen DESC, entity_id) AS rank, claim_fen, "
        f"CAST(share + CASE WHEN position <= leftover THEN 1 ELSE 0 END AS BIGINT) AS allocated_fen "
        f"FROM r CROSS JOIN l ORDER BY rank"
    )


def oversubscription(demand_fen: int, budget_fen: int) -> str:
    """Demand ÷ budget with two places, half-up (exact integers in, text out).

    >>> oversubscription(300, 200)
    '1.50'
    """
    hundredths = round_half_up(Fraction(demand_fen * 100, budget_fen))
    return f"{hundredths // 100}.{hundredths % 100:02d}"


SUMMARY_SCHEMA = pa.schema(
    [("target", pa.string()), ("allocation", pa.string()), ("budget_fen", pa.int64()), ("demand_fen", pa.int64()),
     ("claimants", pa.int64()), ("oversubscription", pa.string()), ("funded", pa.int64()),
     ("fully_funded", pa.int64()), ("allocated_fen", pa.int64()), ("unallocated_fen", pa.int64())]
)  # fmt: skip


def budget_report(
    session: PopulationSession, run: Run, budgets: list[Budget], catalogue: Catalogue, *,
    titles: dict[str, str] | None = None,
) -> Report:  # fmt: skip
    """Allocate every budget over the run's results; ``titles`` (document → short title) name the targets
    in the chart (ids where absent)."""
    connection = session.connection
    labels = [check_budget(b, run, catalogue, session) for b in budgets]
    connection.execute(
        "CREATE OR REPLACE TABLE budget_allocation (target VARCHAR, entity_id VARCHAR, rank BIGINT, "
        "claim_fen BIGINT, allocated_fen BIGINT)"
    )
    rows = []
    for budget, label in zip(budgets, labels, strict=True):
        sql = allocation_sql(claims_sql(budget, run, catalogue), budget.amount_fen, budget.allocation)
        connection.execute(
            f"INSERT INTO budget_allocation SELECT {sql_string(budget.target)}, entity_id, rank, claim_fen, "
            f"allocated_fen FROM ({sql})"
        )
        rows.append(_summary_row(connection, budget, label))
    basis = "改革后的" if run.name == "reform" else ""
    notes = [f"预算分配基于{basis}模拟结果；申请额 = 该对象下符合条件规则的最高可达合计（确定金额＋上限金额）。"]
    notes += [f"预算 {b.target}：{b.describe(label)}" for b, label in zip(budgets, labels, strict=True)]
    report = Report(title="预算分配", notes=notes)
    summary = pa.Table.from_pylist(rows, schema=SUMMARY_SCHEMA)
    shown = ("target", "budget_fen", "demand_fen", "claimants", "oversubscription", "funded", "allocated_fen",
             "unallocated_fen")  # fmt: skip
    report.tables = [Table("budget", "预算：需求、超额与分配", summary, shown)]
    order = " ".join(f"WHEN {sql_string(b.target)} THEN {i}" for i, b in enumerate(budgets))
    listing = f"SELECT * FROM budget_allocation ORDER BY CASE target {order} END, rank"
    report.exports = [Export("budget_allocation", "逐主体预算分配", listing)]
    report.titles = titles or {}
    report.charts = charts_or_note(report, lambda: _charts(rows, run, report.titles))
    return report


def _summary_row(connection: duckdb.DuckDBPyConnection, budget: Budget, label: str | None) -> dict[str, Any]:
    figures = connection.execute(
        "SELECT CAST(COALESCE(SUM(claim_fen), 0) AS BIGINT), COUNT(*), COUNT(*) FILTER (WHERE allocated_fen > 0), "
        "COUNT(*) FILTER (WHERE allocated_fen = claim_fen), CAST(COALESCE(SUM(allocated_fen), 0) AS BIGINT) "
        "FROM budget_allocation WHERE target = ?",
        [budget.target],
    ).fetchall()[0]
    demand, claimants, funded, full, allocated = (int(v) for v in figures)
    return {
        "target": budget.target, "allocation": budget.describe(label), "budget_fen": budget.amount_fen,
        "demand_fen": demand, "claimants": claimants, "oversubscription": oversubscription(demand, budget.amount_fen),
        "funded": funded, "fully_funded": full, "allocated_fen": allocated,
        "unallocated_fen": budget.amount_fen - allocated,
    }  # fmt: skip


def _target_name(target: str, run: Run, titles: dict[str, str]) -> str:
    """A budget target as a chart names it: the provision's label over the document's short title."""
    document, _, provision = target.partition(":")
    title = wrap_label(titles.get(document) or document)
    labels = {r.provision: r.provision_label for r in run.rules if r.document == document}
    return f"{wrap_label(labels.get(provision, provision))}\n{title}" if provision else title


def _charts(rows: list[dict[str, Any]], run: Run, titles: dict[str, str]) -> list[Chart]:
    if not rows:
        return []
    return [
        Chart("budget", "预算与需求", bar_chart(
            "预算、需求与已分配", [_target_name(r["target"], run, titles) for r in rows],
            [Series("需求", [r["demand_fen"] for r in rows]),
             Series("预算", [r["budget_fen"] for r in rows]),
             Series("已分配", [r["allocated_fen"] for r in rows])],
        ))
    ]  # fmt: skip
