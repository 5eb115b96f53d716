"""One SQL query per document: every rule's status and amount for every entity of a population.

The query mirrors ``huiqi.engine.evaluate`` step by step (applicability, conditions, 一次性, duration,
benefit form, caps, rounding, review, non-duplication) so that both give the same status and the same
amount to the fen; ``tests/compile`` proves it on every policy case and on random populations.

Tables it reads (see docs/population.md):

- ``entities``: ``entity_id``, ``entity_type``, ``region`` (list of names), one column per non-annual fact;
- ``history``: ``entity_id``, ``year``, one column per annual fact;
- ``ledger``: ``entity_id``, ``rule`` (``document:provision/rule``), ``period``, ``amount_fen``, ``tier``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field

from huiqi.engine.results import Status
from huiqi.engine.ruleset import CompiledDocument, CompiledRule
from huiqi.expr.parser import parse
from huiqi.facts.catalogue import Catalogue
from huiqi.policy.models import Condition

from .sql import HistoryNeeds, NoTranslation, SqlContext, quote_ident, sql_string, translate

#: Status codes in the SQL result (TINYINT), in the engine's order of preference.
STATUS_CODES: dict[Status, int] = {status: index for index, status in enumerate(Status)}
CODE_STATUS: dict[int, Status] = {code: status for status, code in STATUS_CODES.items()}

_OK, _UNKNOWN, _NOT_REACHED, _NONE = 0, 1, 2, 3


@dataclass(frozen=True)
class RuleColumns:
    """Where one rule's result lands in the document query's output."""

    ref: str
    provision: str
    rule: str
    label: str
    is_ceiling: bool
    status: str  # column name (TINYINT status code)
    amount: str  # column name (BIGINT fen, NULL when none)


def ledger_column(kind: str, ref: str) -> str:
    """A stable column name for a ledger aggregate, the same in every document's query."""
    return f"led_{kind}__{hashlib.sha1(ref.encode(), usedforsecurity=False).hexdigest()[:12]}"


@dataclass
class BaseNeeds:
    """What the base relation must provide: history columns and ledger aggregates."""

    history: HistoryNeeds = field(default_factory=HistoryNeeds)
    ledger: set[tuple[str, str]] = field(default_factory=set)  # (paid | years | paidp | tiers, ledger ref)
    provisions: set[str] = field(default_factory=set)

    def merge(self, other: BaseNeeds) -> None:
        """Add another query's needs (to build one base relation for several documents)."""
        self.history.current |= other.history.current
        for offset, facts in other.history.offsets.items():
            self.history.offsets.setdefault(offset, set()).update(facts)
        self.history.max_before |= other.history.max_before
        self.history.sums.update(other.history.sums)
        self.ledger |= other.ledger
        self.provisions |= other.provisions


@dataclass
class DocumentQuery:
    """The SQL (DuckDB dialect) of one document and the map of its output columns."""

    document: str
    sql: str
    rules: list[RuleColumns] = field(default_factory=list)
    needs: BaseNeeds = field(default_factory=lambda: BaseNeeds())


def _status(status: Status) -> str:
    return str(STATUS_CODES[status])


class _Builder:
    def __init__(
        self, document: CompiledDocument, catalogue: Catalogue, *, period: int, as_of: dt.date, readings: dict[str, str],
        any_jurisdiction: bool,
    ) -> None:  # fmt: skip
        self.document = document
        self.catalogue = catalogue
        self.period = period
        self.as_of = as_of
        self.readings = readings
        self.any_jurisdiction = any_jurisdiction
        self.needs = BaseNeeds()
        self.current_rule: CompiledRule | None = None
        self.ctx = SqlContext(
            scope=document.loaded.scope,
            catalogue=catalogue,
            period=period,
            as_of=as_of,
            readings=readings,
            ledger_column=self._ledger_column,
            definition_columns={},
        )

    # -- ledger columns ------------------------------------------------------------------------
    def ledger(self, kind: str, ref: str) -> str:
        """The column of one ledger aggregate (paid | years | paidp | tiers) of a rule, registered as needed."""
        self.needs.ledger.add((kind, ref))
        return quote_ident(ledger_column(kind, ref))

    def provision_paid(self, provision_ref: str) -> str:
        self.needs.provisions.add(provision_ref)
        return quote_ident(ledger_column("prov", provision_ref))

    def _ledger_column(self, name: str) -> str:
        assert self.current_rule is not None
        rule = self.current_rule
        if name == "paid":
            return self.ledger("paid", rule.ledger_ref)
        if name == "paid_years":
            return self.ledger("years", rule.ledger_ref)
        return self.provision_paid(rule.provision_ref)

    # -- expressions ---------------------------------------------------------------------------
    def expr(self, text: str | int) -> str:
        return translate(parse(str(text)), self.ctx)

    def condition(self, raw: Condition | None) -> str:
        if raw is None:
            return "TRUE"
        if isinstance(raw, bool):
            return "TRUE" if raw else "FALSE"
        if isinstance(raw, str | int):
            return self.expr(raw)
        if "expr" in raw:
            return self.expr(raw["expr"])
        if "all" in raw:
            return "(" + " AND ".join(self.condition(m) for m in raw["all"]) + ")"
        if "any" in raw:
            return "(" + " OR ".join(self.condition(m) for m in raw["any"]) + ")"
        return f"(NOT {self.condition(raw['not'])})"

    # -- one rule, stage 1: condition, benefit state and amount -----------------------------------
    def stage_one(self, index: int, rule: CompiledRule) -> list[str]:
        self.current_rule = rule
        benefit = rule.rule.benefit
        prefix = f"r{index}"
        columns = [f"{self.condition(rule.rule.conditions)} AS {prefix}_c"]
        state, amount = self._benefit(rule)
        if benefit.ceiling is not None and benefit.form != "none":
            ceiling = self.expr(benefit.ceiling)
            state, amount = (
                f"(CASE WHEN {state} = {_OK} AND ({ceiling}) IS NULL THEN {_UNKNOWN} ELSE {state} END)",
                f"(CASE WHEN {state} = {_OK} AND {amount} > ({ceiling}) THEN ({ceiling}) ELSE {amount} END)",
            )
        columns.append(f"{state} AS {prefix}_k")
        columns.append(f"{amount} AS {prefix}_a")
        return columns

    def _benefit(self, rule: CompiledRule) -> tuple[str, str]:
        benefit = rule.rule.benefit
        if benefit.form == "none":
            return str(_NONE), "CAST(NULL AS DECIMAL(38, 10))"
        if benefit.form in ("fixed", "formula"):
            assert benefit.amount is not None
            amount = self.expr(benefit.amount)
            return f"(CASE WHEN ({amount}) IS NULL THEN {_UNKNOWN} ELSE {_OK} END)", f"({amount})"
        if benefit.form == "rate":
            assert benefit.base is not None and benefit.rate is not None
            product = f"(({self.expr(benefit.base)}) * ({self.expr(benefit.rate)}))"
            return (
                f"(CASE WHEN {product} IS NULL THEN {_UNKNOWN} ELSE {_OK} END)",
                f"(CASE WHEN {product} < 0 THEN 0 ELSE {product} END)",
            )
        if benefit.form == "schedule":
            assert benefit.index is not None and benefit.base is not None
            index = self.expr(benefit.index)
            base = self.expr(benefit.base)
            states = [f"CASE WHEN ({index}) IS NULL THEN {_UNKNOWN}"]
            amounts = ["CASE"]
            for step in benefit.steps or []:
                low, high = step.years
                step_product = f"(({base}) * ({self.expr(step.rate)}))"
                within = f"({index}) BETWEEN {low} AND {high}"
                states.append(f"WHEN {within} THEN (CASE WHEN {step_product} IS NULL THEN {_UNKNOWN} ELSE {_OK} END)")
                amounts.append(f"WHEN {within} THEN {step_product}")
            states.append(f"ELSE {_NOT_REACHED} END")
            amounts.append("END")
            return "(" + " ".join(states) + ")", "(" + " ".join(amounts) + ")"
        return self._tiers(rule)

    def _tiers(self, rule: CompiledRule) -> tuple[str, str]:
        benefit = rule.rule.benefit
        tiers = benefit.tiers or []
        reached, pending, amounts, ids = [], [], [], []
        for tier in tiers:
            cond, amount = self.condition(tier.when), self.expr(tier.amount)
            amounts.append(f"({amount})")
            reached.append(f"(({cond}) IS TRUE AND ({amount}) IS NOT NULL)")
            pending.append(f"(({cond}) IS NULL OR ({amount}) IS NULL)")
            ids.append(tier.id)
        any_pending = "(" + " OR ".join(pending) + ")"
        paid_tiers = self.ledger("tiers", rule.ledger_ref)
        mode = benefit.mode or "highest"
        if mode == "each":
            due = [
                f"({r} AND NOT COALESCE(list_contains({paid_tiers}, {sql_string(i)}), FALSE))"
                for r, i in zip(reached, ids, strict=True)
            ]
            any_due = "(" + " OR ".join(due) + ")"
            total = " + ".join(f"(CASE WHEN {d} THEN {a} ELSE 0 END)" for d, a in zip(due, amounts, strict=True))
            state = f"(CASE WHEN NOT {any_due} AND {any_pending} THEN {_UNKNOWN} WHEN NOT {any_due} THEN {_NOT_REACHED} ELSE {_OK} END)"
            return state, f"({total})"
        # GREATEST skips NULLs in DuckDB and Spark: the largest amount among the tiers reached.
        best = (
            "GREATEST("
            + ", ".join(f"(CASE WHEN {r} THEN {a} END)" for r, a in zip(reached, amounts, strict=True))
            + ")"
        )
        if mode == "top_up":
            already = f"COALESCE({self.ledger('paid', rule.ledger_ref)}, 0)"
            state = (
                f"(CASE WHEN {best} IS NULL THEN (CASE WHEN {any_pending} THEN {_UNKNOWN} ELSE {_NOT_REACHED} END) "
                f"WHEN {best} - {already} <= 0 THEN {_NOT_REACHED} ELSE {_OK} END)"
            )
            return state, f"({best} - {already})"
        best_id = "CASE " + " ".join(
            f"WHEN {r} AND {a} = {best} THEN {sql_string(i)}" for r, a, i in zip(reached, amounts, ids, strict=True)
        ) + " END"  # fmt: skip
        state = (
            f"(CASE WHEN {best} IS NULL THEN (CASE WHEN {any_pending} THEN {_UNKNOWN} ELSE {_NOT_REACHED} END) "
            f"WHEN COALESCE(list_contains({paid_tiers}, {best_id}), FALSE) THEN {_NOT_REACHED} ELSE {_OK} END)"
        )
        return state, best

    # -- one rule, stage 2: caps and rounding; stage 3: the status before applicability; stage 4: final --
    def stage_two(self, index: int, rule: CompiledRule) -> list[str]:
        """The capped, rounded amount (``_f``) and whether a cap is already used up (``_x``)."""
        self.current_rule = rule
        prefix = f"r{index}"
        capped = f"{prefix}_a"
        exhausted: list[str] = []
        for cap_rule in rule.rule.caps:
            cap = self.expr(cap_rule.amount)
            if cap_rule.scope == "cumulative":
                if cap_rule.over == "provision":
                    already = f"COALESCE({self.provision_paid(rule.provision_ref)}, 0)"
                else:
                    already = f"COALESCE({self.ledger('paid', rule.ledger_ref)}, 0)"
            else:
                already = f"COALESCE({self.ledger('paidp', rule.ledger_ref)}, 0)"
            remaining = f"(({cap}) - {already})"
            exhausted.append(f"{remaining} <= 0")
            capped = f"(CASE WHEN {capped} > {remaining} THEN {remaining} ELSE {capped} END)"
        return [
            f"CAST(FLOOR({capped} + 0.5) AS BIGINT) AS {prefix}_f",
            f"({' OR '.join(exhausted) or 'FALSE'}) AS {prefix}_x",
        ]

    def stage_three(self, index: int, rule: CompiledRule) -> str:
        """The status as the scalar engine's ``_run`` decides it, before applicability and jurisdiction."""
        self.current_rule = rule
        prefix = f"r{index}"
        c, k = f"{prefix}_c", f"{prefix}_k"
        checks = [f"WHEN {c} = FALSE THEN {_status(Status.NOT_ELIGIBLE)}"]
        if rule.rule.once:
            paid = f"COALESCE({self.ledger('paid', rule.ledger_ref)}, 0)"
            checks.append(f"WHEN {paid} > 0 THEN {_status(Status.NOT_ELIGIBLE)}")
        if rule.rule.duration is not None:
            years = f"COALESCE({self.ledger('years', rule.ledger_ref)}, 0)"
            this_year = f"COALESCE({self.ledger('paidp', rule.ledger_ref)}, 0)"
            checks.append(
                f"WHEN {years} >= {rule.rule.duration.max_years} AND {this_year} = 0 THEN {_status(Status.NOT_ELIGIBLE)}"
            )
        checks.append(f"WHEN {c} IS NULL OR {k} = {_UNKNOWN} THEN {_status(Status.NEEDS_INFORMATION)}")
        checks.append(f"WHEN {k} = {_NOT_REACHED} THEN {_status(Status.NOT_ELIGIBLE)}")
        if rule.rule.caps:
            checks.append(f"WHEN {k} = {_OK} AND {prefix}_x THEN {_status(Status.NOT_ELIGIBLE)}")
        checks.append(f"WHEN {k} = {_OK} AND {prefix}_f <= 0 THEN {_status(Status.NOT_ELIGIBLE)}")
        final = _status(Status.NEEDS_REVIEW) if rule.benefit.review else _status(Status.ELIGIBLE)
        return "(CASE " + " ".join(checks) + f" ELSE {final} END) AS {prefix}_i"

    def stage_four(self, index: int, rule: CompiledRule) -> tuple[str, str]:
        """The final status (applicability, jurisdiction) and amount of one rule."""
        prefix = f"r{index}"
        inner = f"{prefix}_i"
        applies = "entity_type IN (" + ", ".join(sql_string(e) for e in rule.applies_to) + ")"
        if self.any_jurisdiction:
            status = inner
        else:
            info = _status(Status.NEEDS_INFORMATION)
            keep = ", ".join(_status(s) for s in (Status.ELIGIBLE, Status.NEEDS_REVIEW, Status.NEEDS_INFORMATION))
            status = (
                f"(CASE WHEN _region_ok = FALSE THEN {_status(Status.NOT_APPLICABLE)} "
                f"WHEN _region_ok IS NULL AND {inner} IN ({keep}) THEN {info} ELSE {inner} END)"
            )
        status = f"CAST((CASE WHEN NOT ({applies}) THEN {_status(Status.NOT_APPLICABLE)} ELSE {status} END) AS TINYINT)"
        amount = f"(CASE WHEN {prefix}_k = {_OK} THEN {prefix}_f END)"
        return status, amount


def build_document_query(
    document: CompiledDocument,
    catalogue: Catalogue,
    *,
    period: int,
    as_of: dt.date,
    readings: dict[str, str],
    any_jurisdiction: bool = False,
    base_table: str | None = None,
) -> DocumentQuery:
    """The SQL of one document for one assessed year, evaluation date and set of readings.

    With ``base_table`` the query reads a base relation built once for several documents
    (``base_relation`` of their merged ``needs``) instead of building its own.
    """
    doc_id = document.loaded.id
    builder = _Builder(
        document, catalogue, period=period, as_of=as_of, readings=readings, any_jurisdiction=any_jurisdiction
    )
    rules = [r for r in document.rules if all(readings.get(k) == v for k, v in r.when_reading)]
    stage_one: list[str] = []
    stage_two: list[str] = []
    stage_three: list[str] = []
    stage_four: list[str] = []
    outputs: list[RuleColumns] = []
    for index, rule in enumerate(rules):
        stage_one.extend(builder.stage_one(index, rule))
        stage_two.extend(builder.stage_two(index, rule))
        stage_three.append(builder.stage_three(index, rule))
        status, amount = builder.stage_four(index, rule)
        stage_four.append(f"{status} AS r{index}_s0")
        stage_four.append(f"{amount} AS r{index}_m0")
        outputs.append(
            RuleColumns(
                ref=rule.ref, provision=rule.provision.id, rule=rule.rule.id, label=rule.rule.label,
                is_ceiling=rule.is_ceiling, status=f"r{index}_s", amount=f"r{index}_m",
            )
        )  # fmt: skip
    subset_columns, best_column, final = _exclusions(document, rules, builder, readings)
    builder.needs.history = builder.ctx.needs
    if base_table:  # history and ledger columns computed once for several documents
        base = f"base AS (SELECT * FROM entities LEFT JOIN {base_table} USING (entity_id))"
    else:
        base = base_relation(builder.needs, period)
    region = builder.document.loaded.policy.document.jurisdiction.region
    region_ok = f"(CASE WHEN region IS NULL OR array_length(region) = 0 THEN NULL ELSE list_contains(region, {sql_string(region)}) END)"
    definitions = builder.ctx.definition_columns or {}
    defs = "".join(f", {sql} AS {quote_ident('def__' + name)}" for name, sql in definitions.items())
    # Entities outside the document's jurisdiction get "not applicable" for every rule without computing
    # anything: only the rest go through the rule stages (a city's measures touch only its own firms).
    in_scope = "" if any_jurisdiction else " WHERE _region_ok IS NOT FALSE"
    stages = [
        f"s0 AS (SELECT base.*, {region_ok} AS _region_ok{defs} FROM base)",
        f"s1 AS (SELECT s0.*, {', '.join(stage_one) or 'TRUE AS _1'} FROM s0{in_scope})",
        f"s2 AS (SELECT s1.*, {', '.join(stage_two) or 'TRUE AS _2'} FROM s1)",
        f"s3 AS (SELECT s2.*, {', '.join(stage_three) or 'TRUE AS _3'} FROM s2)",
        f"s4 AS (SELECT entity_id, {', '.join(stage_four) or 'TRUE AS _4'}{_ledger_passthrough(builder)} FROM s3)",
        f"s5 AS (SELECT s4.*, {', '.join(subset_columns) or 'TRUE AS _5'} FROM s4)",
        f"s6 AS (SELECT s5.*, {best_column or 'TRUE AS _6'} FROM s5)",
    ]
    sql = f"WITH {base},\n" + ",\n".join(stages) + f"\nSELECT entity_id, {', '.join(final) or 'TRUE AS _7'} FROM s6"
    if not any_jurisdiction and outputs:
        outside = ", ".join(
            f"CAST({_status(Status.NOT_APPLICABLE)} AS TINYINT) AS {c.status}, CAST(NULL AS BIGINT) AS {c.amount}"
            for c in outputs
        )
        # read from the entities alone: no history or ledger joins for rows that only get "not applicable"
        sql += f"\nUNION ALL SELECT entity_id, {outside} FROM entities WHERE {region_ok} = FALSE"
    return DocumentQuery(document=doc_id, sql=sql, rules=outputs, needs=builder.needs)


def _ledger_passthrough(builder: _Builder) -> str:
    """The ledger columns the exclusion stage reads, carried past stage four (which keeps only results)."""
    columns = [ledger_column("paid", ref) for kind, ref in sorted(builder.needs.ledger) if kind == "paid"]
    return "".join(f", {quote_ident(c)}" for c in columns)


def _exclusions(
    document: CompiledDocument, rules: list[CompiledRule], builder: _Builder, readings: dict[str, str]
) -> tuple[list[str], str, list[str]]:
    """不重复享受 as the scalar engine applies it: the allowed combination with the highest total, the first
    in (size descending, lexicographic) order on ties.

    Returns the per-subset columns (validity, total), the best-total column and the final status/amount
    columns; each is its own query stage so the SQL grows linearly with the number of subsets.
    """
    doc_id = document.loaded.id
    local = {f"{r.provision.id}/{r.rule.id}": i for i, r in enumerate(rules)}
    active = [
        e for e in document.exclusions if all(readings.get(f"{doc_id}:{k}") == v for k, v in e.when_reading.items())
    ]
    members = sorted({ref for e in active for ref in e.rules if ref in local})
    finals: list[str] = []
    subset_columns: list[str] = []
    best_column = ""
    excluded_expr: dict[int, str] = {}
    if len(members) > 12:
        raise NoTranslation("互斥组成员超过12条规则，SQL 路径不支持（组合数过多）")
    if members:
        eligible = {ref: f"(r{local[ref]}_s0 = {_status(Status.ELIGIBLE)})" for ref in members}
        amount = {ref: f"COALESCE(r{local[ref]}_m0, 0)" for ref in members}
        all_rules = {f"{r.provision.id}/{r.rule.id}": r for r in document.rules}
        paid_before: dict[str, str] = {}
        for exclusion in active:
            for ref in exclusion.rules:
                if ref in all_rules and ref not in paid_before:
                    paid_before[ref] = f"(COALESCE({builder.ledger('paid', all_rules[ref].ledger_ref)}, 0) > 0)"
        subsets = [combo for size in range(len(members), -1, -1) for combo in itertools.combinations(members, size)]
        for i, combo in enumerate(subsets):
            parts = [eligible[ref] for ref in combo]
            for exclusion in active:
                counted = " + ".join(
                    "1" if ref in combo else f"(CASE WHEN {paid_before[ref]} THEN 1 ELSE 0 END)"
                    for ref in exclusion.rules
                    if ref in paid_before
                )
                parts.append(f"(({counted or '0'}) <= {exclusion.max})")
            subset_columns.append("(" + (" AND ".join(parts) or "TRUE") + f") AS x{i}_v")
            subset_columns.append("(" + (" + ".join(amount[ref] for ref in combo) or "0") + f") AS x{i}_t")
        # GREATEST skips NULLs (invalid subsets) in DuckDB and Spark
        best_column = (
            "GREATEST(" + ", ".join(f"(CASE WHEN x{i}_v THEN x{i}_t END)" for i in range(len(subsets))) + ") AS x_best"
        )
        pick = "(CASE " + " ".join(f"WHEN x{i}_v AND x{i}_t = x_best THEN {i}" for i in range(len(subsets))) + " END)"
        for ref in members:
            kept = [str(i) for i, combo in enumerate(subsets) if ref in combo]
            kept_sql = f"{pick} IN ({', '.join(kept)})" if kept else "FALSE"
            excluded_expr[local[ref]] = f"({eligible[ref]} AND NOT COALESCE({kept_sql}, FALSE))"
    for index in range(len(rules)):
        status = f"r{index}_s0"
        if index in excluded_expr:
            excluded = _status(Status.EXCLUDED)
            status = f"CAST((CASE WHEN {excluded_expr[index]} THEN {excluded} ELSE {status} END) AS TINYINT)"
        finals.append(f"{status} AS r{index}_s")
        finals.append(f"r{index}_m0 AS r{index}_m")
    return subset_columns, best_column, finals


def base_relation(needs: BaseNeeds, period: int, *, ids_only: bool = False) -> str:
    """CTEs joining entities with the history and ledger columns the rules need, ending in ``base``."""
    history = needs.history
    ctes: list[str] = []
    joins: list[str] = []
    # Exact years: a filtered scan gives one row per entity (entity and year are unique), no grouping.
    by_offset: dict[int, set[str]] = {0: set(history.current)}
    for offset, facts in history.offsets.items():
        by_offset.setdefault(offset, set()).update(facts)
    for offset, facts in sorted(by_offset.items()):
        if not facts:
            continue
        suffix = "__p0" if offset == 0 else (f"__m{-offset}" if offset < 0 else f"__p{offset}")
        name = f"hy{suffix}"
        cols = ", ".join(f"{quote_ident(f)} AS {quote_ident(f + suffix)}" for f in sorted(facts))
        ctes.append(f"{name} AS (SELECT entity_id, {cols} FROM history WHERE year = {period + offset})")
        joins.append(f"LEFT JOIN {name} USING (entity_id)")
    # The largest value before the assessed year needs a grouping, over the facts that use it only.
    if history.max_before:
        cols = ", ".join(f"MAX({quote_ident(f)}) AS {quote_ident(f + '__maxb')}" for f in sorted(history.max_before))
        ctes.append(f"hb AS (SELECT entity_id, {cols} FROM history WHERE year < {period} GROUP BY entity_id)")
        joins.append("LEFT JOIN hb USING (entity_id)")
    for alias, (fact, first, last) in sorted(history.sums.items()):
        ctes.append(
            f"{alias} AS (SELECT e.entity_id, SUM(h.{quote_ident(fact)}) AS {quote_ident(alias + '__sum')}, "
            f"COUNT(h.{quote_ident(fact)}) AS {quote_ident(alias + '__count')} FROM entities e JOIN history h "
            f"ON h.entity_id = e.entity_id AND h.year BETWEEN ({first}) AND LEAST(({last}), {period}) GROUP BY e.entity_id)"
        )
        joins.append(f"LEFT JOIN {alias} USING (entity_id)")
    ledger_cols = []
    for kind, ref in sorted(needs.ledger):
        match = f"rule = {sql_string(ref)}"
        name = quote_ident(ledger_column(kind, ref))
        if kind == "paid":
            ledger_cols.append(f"SUM(CASE WHEN {match} THEN amount_fen END) AS {name}")
        elif kind == "years":
            ledger_cols.append(f"COUNT(DISTINCT CASE WHEN {match} THEN period END) AS {name}")
        elif kind == "paidp":
            ledger_cols.append(f"SUM(CASE WHEN {match} AND period = {period} THEN amount_fen END) AS {name}")
        else:
            ledger_cols.append(f"list(DISTINCT tier) FILTER (WHERE {match} AND tier IS NOT NULL) AS {name}")
    for ref in sorted(needs.provisions):
        match = f"starts_with(rule, {sql_string(ref + '/')})"
        ledger_cols.append(f"SUM(CASE WHEN {match} THEN amount_fen END) AS {quote_ident(ledger_column('prov', ref))}")
    if ledger_cols:
        ctes.append(f"led AS (SELECT entity_id, {', '.join(ledger_cols)} FROM ledger GROUP BY entity_id)")
        joins.append("LEFT JOIN led USING (entity_id)")
    if ids_only:  # the shared columns alone, joined to each document's entities later
        ctes.append(f"base AS (SELECT * FROM (SELECT entity_id FROM entities) AS ids {' '.join(joins)})")
    else:
        ctes.append(f"base AS (SELECT * FROM entities {' '.join(joins)})")
    return ",\n".join(ctes)
