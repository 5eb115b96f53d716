"""One SQL query per document: every rule's status and amount for the entities a document can reach.

The query mirrors ``huiqi.engine.evaluate`` step by step (applicability, conditions, 一次性, duration,
benefit form, caps, rounding, review, non-duplication) so that both give the same status and the same
amount to the fen; ``tests/compile`` proves it on every policy case and on random populations.

Tables it reads (see docs/population.md); each carries the row key ``_k`` (``ROW_KEY``) that the runners
add when they load a population, so that every join is on one integer column:

- ``entities``: ``_k``, ``entity_id``, ``entity_type``, ``region`` (list of names), one column per
  non-annual fact;
- ``history``: ``_k``, ``year``, one column per annual fact;
- ``ledger``: ``_k``, ``rule`` (``document:provision/rule``), ``period``, ``amount_fen``, ``tier``.

The result has one row per entity the document can reach: those whose region is in its jurisdiction or
unknown (every entity with ``any_jurisdiction``). An entity without a row gets *not applicable* for
every rule of the document, for the reason that its region lies outside the jurisdiction; nothing is
computed, joined or written for it (a city's measures touch only its own firms).

Every value the SQL needs more than once is a column of an earlier stage (a tier's condition, a rate's
product, the largest amount reached), never repeated text, and a constant's null test is folded away:
DuckDB then evaluates each piece once per row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from dataclasses import dataclass, field
from fractions import Fraction

from huiqi.engine.results import Status
from huiqi.engine.ruleset import CompiledDocument, CompiledRule
from huiqi.expr import ast
from huiqi.expr.parser import parse
from huiqi.facts.catalogue import Catalogue
from huiqi.policy.models import Condition

from .items import per_item_benefit, per_item_ctes
from .shape import PopulationShape
from .sql import (
    HistoryNeeds,
    NoTranslation,
    SqlContext,
    entity_only,
    integral,
    quarter_column_name,
    quote_ident,
    sql_string,
    translate,
)
from .tables import ROW_KEY

#: Status codes in the SQL result (INTEGER: DuckDB writes nine TINYINT columns slower than nine INTEGER ones),
#: in the engine's order of preference.
STATUS_CODES: dict[Status, int] = {status: index for index, status in enumerate(Status)}
CODE_STATUS: dict[int, Status] = {code: status for status, code in STATUS_CODES.items()}

_OK, _UNKNOWN, _NOT_REACHED, _NONE = 0, 1, 2, 3
#: the amount of a rule that never has one
NO_AMOUNT = "CAST(NULL AS BIGINT)"
#: a ledger aggregate where the ledger holds nothing under the rule: what the LEFT JOIN gives an entity
#: without awards, NULL (every use reads it through COALESCE(…, 0) or a NULL test). Sums and counts are
#: BIGINT NULL (DuckDB's SUM would be HUGEINT, which Spark has not; the value is NULL either way), the tiers
#: paid a list of text
_NO_LEDGER = {kind: "CAST(NULL AS BIGINT)" for kind in ("paid", "paidp", "paidy", "paidq", "last", "years")}
_NO_LEDGER["tiers"] = "CAST(NULL AS VARCHAR[])"


@dataclass(frozen=True)
class RuleColumns:
    """Where one rule's result lands in the document query's output."""

    ref: str
    provision: str
    rule: str
    label: str
    is_ceiling: bool
    status: str  # column name (INTEGER status code)
    #: column name (BIGINT fen, NULL when none); None when the rule never has an amount (a benefit that pays
    #: none, such as a review whose amount officials decide): the result then has no column for it, as a
    #: column of a million NULLs costs as much to write as one of amounts
    amount: str | None

    def amount_sql(self, table: str | None = None) -> str:
        """SQL reading the amount from a result (``table``: its alias): its column, or a NULL of its type."""
        if self.amount is None:
            return NO_AMOUNT
        return f"{table}.{quote_ident(self.amount)}" if table else quote_ident(self.amount)


def ledger_column(kind: str, ref: str) -> str:
    """A stable column name for a ledger aggregate, the same in every document's query."""
    return f"led_{kind}__{hashlib.sha1(ref.encode(), usedforsecurity=False).hexdigest()[:12]}"


@dataclass
class BaseNeeds:
    """What the base relation must provide: history columns and ledger aggregates."""

    history: HistoryNeeds = field(default_factory=HistoryNeeds)
    ledger: set[tuple[str, str]] = field(default_factory=set)  # (paid | years | paidp | tiers | each<n> | last, ref)
    #: rule reference → (ledger reference, any year) of the awards under other documents that rule it out
    conflicts: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    provisions: set[str] = field(default_factory=set)
    #: the assessed quarter of a quarterly evaluation (ledger aggregates per quarter, quarterly facts)
    quarter: int | None = None


@dataclass
class DocumentQuery:
    """The SQL (DuckDB dialect) of one document and the map of its output columns."""

    document: str
    sql: str
    rules: list[RuleColumns] = field(default_factory=list)


def _status(status: Status) -> str:
    return str(STATUS_CODES[status])


def _positive_literal(sql: str) -> bool:
    """Whether a SQL text is a whole number literal above zero: a constant amount that stays above zero
    however it is rounded, so its "amount ≤ 0" test can never hold."""
    text = sql.strip("()")
    return re.fullmatch("[0-9]+", text) is not None and int(text) > 0


def _fixed_rate(text: str | int) -> tuple[int, int] | None:
    """A constant positive rate as (numerator, denominator) in lowest terms (``5%`` → (1, 20)), else None."""
    node = parse(str(text))
    if isinstance(node, ast.Number) and node.value > 0:
        return node.value.numerator, node.value.denominator
    return None


def _money_constant(text: str | int) -> Fraction | None:
    """The value of a literal amount (``50万元``, a number), None for anything that reads a fact."""
    node = parse(str(text))
    negative = False
    while isinstance(node, ast.Negate):
        node, negative = node.operand, not negative
    if isinstance(node, ast.Money):
        return -node.fen if negative else node.fen
    if isinstance(node, ast.Number):
        return -node.value if negative else node.value
    return None


def _where(condition: str, column: str) -> str:
    """``<sql> AS <name>`` computed only where ``condition`` is not false (NULL elsewhere)."""
    sql, _, name = column.rpartition(" AS ")
    if _SIMPLE_SQL.fullmatch(sql):
        return column  # a column or a literal: nothing to save
    return f"(CASE WHEN {condition} IS NOT FALSE THEN {sql} END) AS {name}"


_SIMPLE_SQL = re.compile(r'"[^"]*"|[A-Za-z_][A-Za-z0-9_]*|-?[0-9]+')


def _constant(node: ast.Node) -> bool:
    """A literal amount or number: never null, so its null tests fold away."""
    if isinstance(node, ast.Negate):
        return _constant(node.operand)
    return isinstance(node, ast.Money | ast.Number)


class _Builder:
    def __init__(
        self, document: CompiledDocument, catalogue: Catalogue, *, period: int, as_of: dt.date, readings: dict[str, str],
        any_jurisdiction: bool, quarter: int | None = None, shape: PopulationShape | None = None,
    ) -> None:  # fmt: skip
        self.document = document
        #: the loaded population's entity types and regions (``huiqi.compile.shape``), when the runner knows them
        self.shape = shape
        region = document.loaded.policy.document.jurisdiction.region
        _, unknown, outside = shape.region_counts(region) if shape and not any_jurisdiction else (1, 1, 1)
        #: whether some reached entity may have an unknown region, and whether some lies outside the jurisdiction
        self.region_unknown = unknown > 0
        self.region_outside = outside > 0
        self.catalogue = catalogue
        self.period = period
        self.as_of = as_of
        self.readings = readings
        self.any_jurisdiction = any_jurisdiction
        self.needs = BaseNeeds(quarter=quarter)
        self.current_rule: CompiledRule | None = None
        #: per rule index: the benefit state when the compiler already knows it (a form without money, a
        #: constant amount), and the constant amount
        self.known_state: dict[int, int] = {}
        self.known_amount: dict[int, str] = {}
        #: per rule index: whether the amount is always a whole number of fen (no rounding needed)
        self.whole: dict[int, bool] = {}
        #: rule indexes without a condition (always met)
        self.unconditional: set[int] = set()
        #: each distinct set of entity types rules apply to → the column testing it once per row
        self.applies: dict[tuple[str, ...], str] = {}
        #: per rule prefix: the CTE summing a per_item rule's items (``huiqi.compile.items``)
        self.per_item: dict[str, str] = {}
        self.ctx = SqlContext(
            scope=document.loaded.scope,
            catalogue=catalogue,
            period=period,
            as_of=as_of,
            readings=readings,
            ledger_column=self._ledger_column,
            definition_columns={},
            shared={},
            quarter=quarter,
        )

    # -- ledger columns ------------------------------------------------------------------------
    def ledger(self, kind: str, ref: str) -> str:
        """The column of one ledger aggregate (paid | years | paidp | tiers | each<n> | last) of a rule, registered;
        NULL of the aggregate's type where the loaded ledger names no award under the rule (``shape``)."""
        if self.shape is not None and not self.shape.paid_under(ref):
            return _NO_LEDGER["years" if kind.startswith("each") else kind]
        self.needs.ledger.add((kind, ref))
        return quote_ident(ledger_column(kind, ref))

    def provision_paid(self, provision_ref: str) -> str:
        if self.shape is not None and not self.shape.paid_under(provision_ref + "/"):
            return _NO_LEDGER["paid"]
        self.needs.provisions.add(provision_ref)
        return quote_ident(ledger_column("prov", provision_ref))

    def _ledger_column(self, name: str) -> str:
        assert self.current_rule is not None
        rule = self.current_rule
        if name == "paid":
            return self.ledger("paid", rule.ledger_ref)
        if name == "paid_years":
            return self.ledger("years", rule.ledger_ref)
        if name == "paid_last":
            return self.ledger("last", rule.ledger_ref)
        if name.startswith("paid_each_year:"):
            return self.ledger(f"each{int(name.partition(':')[2])}", rule.ledger_ref)
        if name == "paid_in_year":
            return self.ledger("paidy", rule.ledger_ref)
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
    def value(self, text: str | int, column: str, into: list[str]) -> tuple[str, bool]:
        """An expression used more than once: (its SQL, whether it is a constant that is never null).

        A constant stays inline; anything else becomes the column ``column`` of the stage ``into``.
        """
        node = parse(str(text))
        sql = translate(node, self.ctx)
        if _constant(node):
            return sql, True
        into.append(f"{sql} AS {column}")
        return column, False

    def rule_guard(self, rule: CompiledRule) -> str | None:
        """The conjuncts of the rule's condition that read the entity row alone, as SQL over ``ent``.

        Where they are false the rule is not eligible whatever its history says (the status stage tests the
        condition first), so a history aggregate that only this rule uses is computed only where they are
        not false (``HistoryNeeds.guards``). None when the condition has no such conjunct.
        """
        raw = rule.rule.conditions
        members = raw["all"] if isinstance(raw, dict) and "all" in raw else [] if raw is None else [raw]
        guard_ctx = SqlContext(
            scope=self.ctx.scope, catalogue=self.catalogue, period=self.period, as_of=self.as_of,
            readings=self.readings, ledger_column=self._ledger_column,
        )  # fmt: skip
        parts = []
        for member in members:
            text = member.get("expr") if isinstance(member, dict) else member
            if not isinstance(text, str | int) or isinstance(text, bool):
                continue  # a nested any/not group: left out of the guard (it only has to be necessary)
            node = parse(str(text))
            if entity_only(node, guard_ctx):
                parts.append(translate(node, guard_ctx))
        return "(" + " AND ".join(parts) + ") IS NOT FALSE" if parts else None

    def stage_one(self, index: int, rule: CompiledRule) -> list[list[str]]:
        """Five sub-stages: the condition ``_c``; (a) every input of the benefit, (b) what is derived from them
        (tiers: the largest amount reached, whether any tier is undecided), (c) the benefit state ``_k``
        (ok / unknown / not reached / none) and amount ``_a`` before the ceiling, (d) the ceiling.

        Inputs (a) and what is derived from them (b) are computed only where the condition is not false: the
        status is then "not eligible" whatever they are, and DuckDB evaluates a CASE branch only for the
        rows that reach it (a rule for new firms computes its tiers for a tenth of the registry).
        """
        self.current_rule = rule
        p = f"r{index}"
        condition = self.condition(rule.rule.conditions)
        if condition == "TRUE":
            self.unconditional.add(index)  # no condition: its tests fold away in the status stage
            self.ctx.owner = None
            return [[], *self._inputs(index, rule)]
        self.ctx.owner = index  # shared values of the inputs: computed only where the condition is not false
        try:
            a, b, c, d = self._inputs(index, rule)
        finally:
            self.ctx.owner = None
        return [[f"{condition} AS {p}_c"], [_where(f"{p}_c", x) for x in a], [_where(f"{p}_c", x) for x in b], c, d]

    def _inputs(self, index: int, rule: CompiledRule) -> list[list[str]]:
        """Sub-stages (a) to (d) of ``stage_one``."""
        benefit = rule.rule.benefit
        p = f"r{index}"
        a: list[str] = []
        b: list[str] = []
        c: list[str] = []
        d: list[str] = []
        has_ceiling = benefit.ceiling is not None and benefit.form != "none"
        k_name, a_name = (f"{p}_k0", f"{p}_a0") if has_ceiling else (f"{p}_k", f"{p}_a")
        self.whole[index] = self._whole(rule)
        state, amount = self._benefit(rule, p, a, b, whole=self.whole[index])
        if benefit.form == "none":
            self.known_state[index] = _NONE  # no amount: nothing to compute, round or cap
            return [a, b, c, d]
        if state == str(_OK) and not has_ceiling:
            self.known_state[index] = _OK  # a constant amount: inlined where it is read
            self.known_amount[index] = amount
            return [a, b, c, d]
        c += [f"{state} AS {k_name}", f"{amount} AS {a_name}"]
        if has_ceiling:
            assert benefit.ceiling is not None
            ceiling, constant = self.value(benefit.ceiling, f"{p}_ce", a)
            unknown = "FALSE" if constant else f"{ceiling} IS NULL"
            d.append(f"(CASE WHEN {k_name} = {_OK} AND {unknown} THEN {_UNKNOWN} ELSE {k_name} END) AS {p}_k")
            d.append(f"(CASE WHEN {k_name} = {_OK} AND {a_name} > {ceiling} THEN {ceiling} ELSE {a_name} END) AS {p}_a")
        return [a, b, c, d]

    def _whole(self, rule: CompiledRule) -> bool:
        """Whether the benefit's amount, ceiling and caps are whole numbers of fen."""
        benefit = rule.rule.benefit
        figures: list[str | int] = [cap.amount for cap in rule.rule.caps]
        if benefit.ceiling is not None:
            figures.append(benefit.ceiling)
        if benefit.form in ("fixed", "formula") and benefit.amount is not None:
            figures.append(benefit.amount)
        elif benefit.form == "rate" and benefit.base is not None and benefit.rate is not None:
            figures.append(benefit.base)
            if _fixed_rate(benefit.rate) is None:  # a constant rate is applied in whole fen (see _benefit)
                figures.append(benefit.rate)
        elif benefit.form == "tiers":
            figures += [tier.amount for tier in benefit.tiers or []]
        elif benefit.form == "schedule" and benefit.base is not None:
            figures.append(benefit.base)  # constant rates are applied in whole fen, as for a rate (see _benefit)
            figures += [step.rate for step in benefit.steps or [] if _fixed_rate(step.rate) is None]
        elif benefit.form != "none":
            return False
        return all(integral(parse(str(figure)), self.ctx) for figure in figures)

    def _benefit(self, rule: CompiledRule, p: str, a: list[str], b: list[str], *, whole: bool) -> tuple[str, str]:
        """(state, amount) of the benefit form before the ceiling; inputs go to stages ``a`` and ``b``.

        ``whole``: the amount, ceiling and caps are whole fen, but for a constant rate, whose product is
        then rounded (half up) right away — the same as rounding once at the end, because the ceiling and
        caps that may replace it are whole numbers (rounding commutes with taking the smaller).
        """
        benefit = rule.rule.benefit
        if benefit.form == "none":
            return str(_NONE), "CAST(NULL AS DECIMAL(38, 10))"
        if benefit.form == "per_item":
            return per_item_benefit(self.ctx, self.catalogue, rule, p, self.per_item)
        if benefit.form in ("fixed", "formula"):
            assert benefit.amount is not None
            amount, constant = self.value(benefit.amount, f"{p}_v", a)
            return (str(_OK) if constant else f"(CASE WHEN {amount} IS NULL THEN {_UNKNOWN} ELSE {_OK} END)"), amount
        if benefit.form == "rate":
            assert benefit.base is not None and benefit.rate is not None
            fixed = _fixed_rate(benefit.rate)
            if whole and fixed is not None:
                # base = q·Q + r (0 ≤ r < Q): base·P/Q rounded half up = q·P + (2rP + Q) // 2Q, all in BIGINT;
                # a negative base gives a result ≤ 0, which the form then makes 0, as the exact product would
                num, den = fixed
                a.append(f"CAST({self.expr(benefit.base)} AS BIGINT) AS {p}_b")  # whole: exact
                b.append(f"(({p}_b // {den}) * {num} + ((({p}_b % {den}) * {2 * num} + {den}) // {2 * den})) AS {p}_v")
            else:
                a.append(f"(({self.expr(benefit.base)}) * ({self.expr(benefit.rate)})) AS {p}_v")
            return (
                f"(CASE WHEN {p}_v IS NULL THEN {_UNKNOWN} ELSE {_OK} END)",
                f"(CASE WHEN {p}_v < 0 THEN 0 ELSE {p}_v END)",
            )
        if benefit.form == "schedule":
            assert benefit.index is not None and benefit.base is not None
            a.append(f"({self.expr(benefit.index)}) AS {p}_ix")
            base = self.expr(benefit.base)
            if whole:  # every rate constant, the base whole fen: each product rounded half up in BIGINT
                a.append(f"CAST({base} AS BIGINT) AS {p}_b")
            products, matched = ["CASE"], []
            for step in benefit.steps or []:
                low, high = step.years
                fixed = _fixed_rate(step.rate) if whole else None
                if fixed is not None:
                    num, den = fixed
                    product = f"(({p}_b // {den}) * {num} + ((({p}_b % {den}) * {2 * num} + {den}) // {2 * den}))"
                else:
                    product = f"(({base}) * ({self.expr(step.rate)}))"
                products.append(f"WHEN {p}_ix BETWEEN {low} AND {high} THEN {product}")
                matched.append(f"{p}_ix BETWEEN {low} AND {high}")
            products.append("END")
            b.append("(" + " ".join(products) + f") AS {p}_v")
            within = " OR ".join(matched) or "FALSE"
            # the index unknown → unknown; a step matched → its product (unknown when null); none → not reached
            return (
                f"(CASE WHEN {p}_ix IS NULL THEN {_UNKNOWN} WHEN {p}_v IS NOT NULL THEN {_OK} "
                f"WHEN {within} THEN {_UNKNOWN} ELSE {_NOT_REACHED} END)",
                f"{p}_v",
            )
        return self._tiers(rule, p, a, b)

    def _tiers(self, rule: CompiledRule, p: str, a: list[str], b: list[str]) -> tuple[str, str]:
        benefit = rule.rule.benefit
        tiers = benefit.tiers or []
        reached, pending, amounts, ids = [], [], [], []
        for j, tier in enumerate(tiers):
            a.append(f"{self.condition(tier.when)} AS {p}_t{j}")
            amount, constant = self.value(tier.amount, f"{p}_v{j}", a)
            amounts.append(amount)
            reached.append(f"{p}_t{j} IS TRUE" + ("" if constant else f" AND {amount} IS NOT NULL"))
            pending.append(f"{p}_t{j} IS NULL" + ("" if constant else f" OR {amount} IS NULL"))
            ids.append(tier.id)
        b.append("(" + " OR ".join(f"({x})" for x in pending) + f") AS {p}_pend")
        paid_tiers = self.ledger("tiers", rule.ledger_ref)
        mode = benefit.mode or "highest"
        if mode == "each":
            for j, (r, i) in enumerate(zip(reached, ids, strict=True)):
                b.append(f"({r} AND NOT COALESCE(list_contains({paid_tiers}, {sql_string(i)}), FALSE)) AS {p}_d{j}")
            dues = [f"{p}_d{j}" for j in range(len(tiers))]
            any_due = "(" + " OR ".join(dues) + ")"
            total = " + ".join(f"(CASE WHEN {d} THEN {x} ELSE 0 END)" for d, x in zip(dues, amounts, strict=True))
            state = f"(CASE WHEN NOT {any_due} AND {p}_pend THEN {_UNKNOWN} WHEN NOT {any_due} THEN {_NOT_REACHED} ELSE {_OK} END)"
            return state, f"({total})"
        fixed = [_money_constant(tier.amount) for tier in tiers]
        if all(value is not None for value in fixed):
            # constant amounts: the largest reached is the first reached in descending order of amount, one CASE
            # (measured: a third of the time of GREATEST over one CASE per tier)
            order = sorted(range(len(tiers)), key=lambda j: -(fixed[j] or 0))
            best = "(CASE " + " ".join(f"WHEN {p}_t{j} THEN {amounts[j]}" for j in order) + " END)"
        else:
            # GREATEST skips NULLs in DuckDB and Spark: the largest amount among the tiers reached.
            best = (
                "GREATEST("
                + ", ".join(f"(CASE WHEN {r} THEN {x} END)" for r, x in zip(reached, amounts, strict=True))
                + ")"
            )
        b.append(f"{best} AS {p}_best")
        undecided = f"(CASE WHEN {p}_pend THEN {_UNKNOWN} ELSE {_NOT_REACHED} END)"
        if mode == "top_up":
            already = f"COALESCE({self.ledger('paid', rule.ledger_ref)}, 0)"
            state = (
                f"(CASE WHEN {p}_best IS NULL THEN {undecided} "
                f"WHEN {p}_best - {already} <= 0 THEN {_NOT_REACHED} ELSE {_OK} END)"
            )
            return state, f"({p}_best - {already})"
        # the tier paid: the first (in the document's order) whose amount is the largest reached
        best_id = "CASE " + " ".join(
            f"WHEN {p}_t{j} IS TRUE AND {x} = {p}_best THEN {sql_string(i)}"
            for j, (x, i) in enumerate(zip(amounts, ids, strict=True))
        ) + " END"  # fmt: skip
        # without a ledger row for the rule (most entities) the tier is not paid yet: no tier name to look up
        state = (
            f"(CASE WHEN {p}_best IS NULL THEN {undecided} WHEN {paid_tiers} IS NULL THEN {_OK} "
            f"WHEN COALESCE(list_contains({paid_tiers}, {best_id}), FALSE) THEN {_NOT_REACHED} ELSE {_OK} END)"
        )
        return state, f"{p}_best"

    # -- one rule, stage 2: caps and rounding; stage 3: the final status and amount ----------------------
    def stage_two(self, index: int, rule: CompiledRule) -> list[str]:
        """The capped, rounded amount (``_f``) and, for a rule with caps, whether one is used up (``_x``).

        ``LEAST`` skips a null remainder (a cap that depends on an unknown fact does not bind, as in the
        engine); the amount itself is only read where the state is ok, and there it is never null.
        """
        self.current_rule = rule
        prefix = f"r{index}"
        if self.known_state.get(index) == _NONE:
            return []
        remaining: list[str] = []
        for cap_rule in rule.rule.caps:
            cap = self.expr(cap_rule.amount)
            if cap_rule.scope == "cumulative":
                if cap_rule.over == "provision":
                    already = f"COALESCE({self.provision_paid(rule.provision_ref)}, 0)"
                else:
                    already = f"COALESCE({self.ledger('paid', rule.ledger_ref)}, 0)"
            elif cap_rule.scope == "per_quarter":
                already = f"COALESCE({self.ledger('paidq', rule.ledger_ref)}, 0)"
            else:
                already = f"COALESCE({self.ledger('paidp', rule.ledger_ref)}, 0)"
            remaining.append(f"(({cap}) - {already})")
        amount = self.known_amount.get(index, f"{prefix}_a")
        capped = f"LEAST({amount}, {', '.join(remaining)})" if remaining else amount
        rounded = f"CAST({capped} AS BIGINT)" if self.whole[index] else f"CAST(FLOOR({capped} + 0.5) AS BIGINT)"
        columns = [f"{rounded} AS {prefix}_f"]
        if remaining:  # whether a cap is used up: read by the status stage only for rules with caps
            columns.append(f"({' OR '.join(f'{r} <= 0' for r in remaining)}) AS {prefix}_x")
        return columns

    def stage_three(self, index: int, rule: CompiledRule) -> tuple[str, str]:
        """The final status and amount of one rule.

        The status as the scalar engine decides it: applicability first, then the condition, 一次性,
        duration, the benefit state, caps, a zero amount, review; checks on the benefit state are left out
        where the compiler knows the state already. For an entity whose region is unknown, a result that
        would need the region (eligible, needs review) becomes "needs information".
        """
        self.current_rule = rule
        prefix = f"r{index}"
        c, k = f"{prefix}_c", f"{prefix}_k"
        known = self.known_state.get(index)
        not_eligible, info = _status(Status.NOT_ELIGIBLE), _status(Status.NEEDS_INFORMATION)
        unconditional = index in self.unconditional
        checks = []
        if self.shape is None or not self.shape.all_of_types(rule.applies_to):
            applies = self.applies.setdefault(tuple(sorted(rule.applies_to)), f"_applies{len(self.applies)}")
            checks.append(f"WHEN NOT {applies} THEN {_status(Status.NOT_APPLICABLE)}")
        if not unconditional:
            checks.append(f"WHEN {c} = FALSE THEN {not_eligible}")
        if rule.rule.once:
            paid = f"COALESCE({self.ledger('paid', rule.ledger_ref)}, 0)"
            checks.append(f"WHEN {paid} > 0 THEN {not_eligible}")
        conflicts = [c for c in self.document.conflicts.get(rule.ref, []) if c.holds(self.readings)]
        if self.shape is not None:  # awards the ledger does not name cannot rule the rule out
            conflicts = [c for c in conflicts if self.shape.paid_under(c.ledger_ref)]
        if conflicts:  # 不得重复享受 across documents (huiqi.engine.crossdup), after 一次性 as in the scalar engine
            self.needs.conflicts[rule.ref] = tuple(sorted({(c.ledger_ref, c.any_year) for c in conflicts}))
            checks.append(f"WHEN COALESCE({quote_ident(ledger_column('xdup', rule.ref))}, 0) > 0 THEN "
                          f"{_status(Status.EXCLUDED)}")  # fmt: skip
        if rule.rule.duration is not None:
            years = f"COALESCE({self.ledger('years', rule.ledger_ref)}, 0)"
            this_year = f"COALESCE({self.ledger('paidp', rule.ledger_ref)}, 0)"
            checks.append(f"WHEN {years} >= {rule.rule.duration.max_years} AND {this_year} = 0 THEN {not_eligible}")
        if known is None:
            checks.append(
                f"WHEN {k} = {_UNKNOWN} THEN {info}"
                if unconditional
                else f"WHEN {c} IS NULL OR {k} = {_UNKNOWN} THEN {info}"
            )
            checks.append(f"WHEN {k} = {_NOT_REACHED} THEN {not_eligible}")
            if rule.rule.caps:
                checks.append(f"WHEN {k} = {_OK} AND {prefix}_x THEN {not_eligible}")
            checks.append(f"WHEN {k} = {_OK} AND {prefix}_f <= 0 THEN {not_eligible}")
        else:
            if not unconditional:
                checks.append(f"WHEN {c} IS NULL THEN {info}")
            if known == _OK:
                if rule.rule.caps:
                    checks.append(f"WHEN {prefix}_x THEN {not_eligible}")
                if rule.rule.caps or not _positive_literal(self.known_amount.get(index, "")):
                    checks.append(f"WHEN {prefix}_f <= 0 THEN {not_eligible}")
        final = _status(Status.NEEDS_REVIEW) if rule.benefit.review else _status(Status.ELIGIBLE)
        if not self.any_jurisdiction and self.region_unknown:
            # the query reaches entities whose region is in the jurisdiction (true) or unknown (null)
            checks.append(f"WHEN _region_ok IS NULL THEN {info}")
        status = "(CASE " + " ".join(checks) + f" ELSE {final} END)"
        if known == _NONE:
            amount = NO_AMOUNT
        elif known == _OK:
            amount = f"{prefix}_f"
        else:
            amount = f"(CASE WHEN {prefix}_k = {_OK} THEN {prefix}_f END)"
        return status, amount

    def applies_columns(self) -> list[str]:
        """One column per distinct set of entity types: whether the row's entity type is in it."""
        return [
            f"(entity_type IN ({', '.join(sql_string(t) for t in types)})) AS {column}"
            for types, column in self.applies.items()
        ]


def build_document_query(
    document: CompiledDocument,
    catalogue: Catalogue,
    *,
    period: int,
    as_of: dt.date,
    readings: dict[str, str],
    any_jurisdiction: bool = False,
    quarter: int | None = None,
    shape: PopulationShape | None = None,
    row_key: bool = False,
) -> DocumentQuery:
    """The SQL of one document for one assessed year (and quarter), evaluation date and set of readings.

    ``shape``: the entity types and regions of the tables the query will run on (``huiqi.compile.shape``),
    to leave out tests whose outcome it decides for every row; None tests everything. ``row_key``: each result
    carries its entity's row key ``_k`` beside ``entity_id`` (``huiqi simulate`` keys its tables of results by
    it: an integer, where the text id made every insert and grouping of millions of rows slower).
    """
    doc_id = document.loaded.id
    builder = _Builder(
        document, catalogue, period=period, as_of=as_of, readings=readings, any_jurisdiction=any_jurisdiction,
        quarter=quarter, shape=shape,
    )  # fmt: skip
    rules = [r for r in document.rules if all(readings.get(k) == v for k, v in r.when_reading)]
    stage_one: list[list[str]] = [[], [], [], [], []]
    stage_two: list[str] = []
    stage_three: list[str] = []
    outputs: list[RuleColumns] = []
    for index, rule in enumerate(rules):
        builder.ctx.guard = builder.rule_guard(rule)
        for sub, columns in zip(stage_one, builder.stage_one(index, rule), strict=True):
            sub.extend(columns)
        stage_two.extend(builder.stage_two(index, rule))
        status, amount = builder.stage_three(index, rule)
        stage_three.append(f"{status} AS r{index}_s0")
        stage_three.append(f"{amount} AS r{index}_m0")
        builder.ctx.guard = None
        outputs.append(
            RuleColumns(
                ref=rule.ref, provision=rule.provision.id, rule=rule.rule.id, label=rule.rule.label,
                is_ceiling=rule.is_ceiling, status=f"r{index}_s",
                amount=None if builder.known_state.get(index) == _NONE else f"r{index}_m",
            )
        )  # fmt: skip
    conflict, subset_columns, best_column, final = _exclusions(
        document, rules, builder, readings, amounts={i for i, o in enumerate(outputs) if o.amount is not None}
    )
    builder.needs.history = builder.ctx.needs
    region = builder.document.loaded.policy.document.jurisdiction.region
    # unknown (NULL) for a missing or empty region list: array_length is NULL for NULL, and not above 0 for []
    region_ok = f"(CASE WHEN array_length(region) > 0 THEN list_contains(region, {sql_string(region)}) END)"
    # Only the entities the document can reach go through the joins and the rule stages (DuckDB keeps them
    # once: measured faster than filtering the entity table again for each history aggregate).
    # (Not when no entity lies outside it: the filter would keep every row, and slice them for nothing.)
    reach = "" if any_jurisdiction or not builder.region_outside else f" WHERE {region_ok} IS NOT FALSE"
    entities = f"ent AS (SELECT *, {region_ok} AS _region_ok FROM entities{reach})"
    base = base_relation(builder.needs, period, derived=builder.ctx.derived)
    definitions = builder.ctx.definition_columns or {}
    shared = builder.ctx.shared or {}
    # a shared value used by one conditional rule's inputs alone: computed after the conditions, only where
    # that rule's is not false; any other (and every definition): before, for every row
    owned = {
        name: owners.copy().pop()
        for name, owners in builder.ctx.owners.items()
        if len(owners) == 1 and None not in owners
    }
    before = {f"def__{name}": sql for name, sql in definitions.items()}
    before |= {name: sql for name, sql in shared.items() if name not in owned}
    after = {
        name: f"(CASE WHEN r{owned[name]}_c IS NOT FALSE THEN {sql} END)"
        for name, sql in shared.items()
        if name in owned
    }
    key = f"entity_id, {ROW_KEY}" if row_key else "entity_id"
    chain: list[tuple[str, list[str]]] = [
        *(("*", stage) for stage in _levels(before, first=builder.applies_columns())),
        ("*", stage_one[0]),
        *(("*", stage) for stage in _levels(after, first=[])),
        *(("*", sub) for sub in stage_one[1:]),
        ("*", stage_two),
        (f"{key}{_ledger_passthrough(builder)}", stage_three),  # from here on only results are carried
        ("*", conflict),
        ("*", subset_columns),
        ("*", [best_column] if best_column else []),
    ]
    item_ctes, previous = per_item_ctes(builder.per_item)
    ctes = [entities, base, *item_ctes]
    for number, (kept, columns) in enumerate(chain):
        if not columns and kept == "*":
            continue
        name = f"s{number}"
        ctes.append(f"{name} AS (SELECT {kept}{', ' if columns else ''}{', '.join(columns)} FROM {previous})")
        previous = name
    sql = "WITH " + ",\n".join(ctes) + f"\nSELECT {key}{''.join(', ' + f for f in final)} FROM {previous}"
    return DocumentQuery(document=doc_id, sql=sql, rules=outputs)


_COLUMN = re.compile(r'"(_h[0-9]+|def__[a-z0-9_]+)"')


def _levels(columns: dict[str, str], *, first: list[str]) -> list[list[str]]:
    """Definitions and shared values (name → SQL) as stages: each after the stages of the columns it reads.

    ``first``: columns that read only the entity row, put in the first stage.
    """
    level: dict[str, int] = {}

    def depth(name: str) -> int:
        if name not in level:
            level[name] = 0  # a definition never reads itself (the checker refuses cycles)
            level[name] = 1 + max((depth(m) for m in _COLUMN.findall(columns[name]) if m in columns), default=-1)
        return level[name]

    stages: list[list[str]] = [list(first)]
    for name, sql in columns.items():
        at = depth(name)
        while len(stages) <= at:
            stages.append([])
        stages[at].append(f"{sql} AS {quote_ident(name)}")
    return stages


def _ledger_passthrough(builder: _Builder) -> str:
    """The ledger columns the exclusion stage reads, carried past the status stage (which keeps only results)."""
    columns = [ledger_column("paid", ref) for kind, ref in sorted(builder.needs.ledger) if kind == "paid"]
    return "".join(f", {quote_ident(c)}" for c in columns)


def _exclusions(
    document: CompiledDocument,
    rules: list[CompiledRule],
    builder: _Builder,
    readings: dict[str, str],
    *,
    amounts: set[int],
) -> tuple[list[str], list[str], str, list[str]]:
    """不重复享受 as the scalar engine applies it: the allowed combination with the highest total, the first
    in (size descending, lexicographic) order on ties.

    Returns the conflict column, the per-subset columns (validity, total), the best-total column and the
    final status/amount columns (an amount column for the rules in ``amounts`` only); each is its own query
    stage so the SQL grows linearly with the number of subsets. The subsets are computed only for the rows in conflict (``_xc``): where all the eligible
    members together are allowed, that combination is the best (eligible amounts are above 0, and no
    other allowed combination is larger) and nothing is excluded.
    """
    doc_id = document.loaded.id
    local = {f"{r.provision.id}/{r.rule.id}": i for i, r in enumerate(rules)}
    active = [
        e for e in document.exclusions if all(readings.get(f"{doc_id}:{k}") == v for k, v in e.when_reading.items())
    ]
    members = sorted({ref for e in active for ref in e.rules if ref in local})
    finals: list[str] = []
    subset_columns: list[str] = []
    conflict: list[str] = []
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
        # all the eligible members together, checked against each group as a combination is below
        together = []
        for exclusion in active:
            counted = " + ".join(
                (f"(CASE WHEN {eligible[ref]} OR {paid_before[ref]} THEN 1 ELSE 0 END)" if ref in eligible
                 else f"(CASE WHEN {paid_before[ref]} THEN 1 ELSE 0 END)")
                for ref in exclusion.rules
                if ref in paid_before
            )  # fmt: skip
            together.append(f"(({counted or '0'}) > {exclusion.max})")
        conflict.append("(" + (" OR ".join(together) or "FALSE") + ") AS _xc")
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
            subset_columns.append("(CASE WHEN _xc THEN (" + (" AND ".join(parts) or "TRUE") + f") END) AS x{i}_v")
            total = " + ".join(amount[ref] for ref in combo) or "0"
            subset_columns.append(f"(CASE WHEN _xc THEN ({total}) END) AS x{i}_t")
        # GREATEST skips NULLs (invalid subsets) in DuckDB and Spark
        best_column = (
            "(CASE WHEN _xc THEN GREATEST("
            + ", ".join(f"(CASE WHEN x{i}_v THEN x{i}_t END)" for i in range(len(subsets)))
            + ") END) AS x_best"
        )
        pick = "(CASE " + " ".join(f"WHEN x{i}_v AND x{i}_t = x_best THEN {i}" for i in range(len(subsets))) + " END)"
        for ref in members:
            kept = [str(i) for i, combo in enumerate(subsets) if ref in combo]
            kept_sql = f"{pick} IN ({', '.join(kept)})" if kept else "FALSE"
            excluded_expr[local[ref]] = f"(_xc AND {eligible[ref]} AND NOT COALESCE({kept_sql}, FALSE))"
    for index in range(len(rules)):
        status = f"r{index}_s0"
        if index in excluded_expr:
            excluded = _status(Status.EXCLUDED)
            status = f"(CASE WHEN {excluded_expr[index]} THEN {excluded} ELSE {status} END)"
        finals.append(f"{status} AS r{index}_s")
        if index in amounts:
            finals.append(f"r{index}_m0 AS r{index}_m")
    return conflict, subset_columns, best_column, finals


def base_relation(needs: BaseNeeds, period: int, *, derived: dict[str, str] | None = None) -> str:
    """CTEs joining the reachable entities (``ent``) with the history and ledger columns the rules need,
    ending in ``base``; ``derived`` are columns computed from the joined row (name → SQL)."""
    key = quote_ident(ROW_KEY)
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
        ctes.append(f"{name} AS (SELECT {key}, {cols} FROM history WHERE year = {period + offset})")
        joins.append(f"LEFT JOIN {name} USING ({key})")

    # The largest value before the assessed year needs a grouping, over the reachable entities only.
    # Aggregates used only under rule guards are computed only where a guard is not false.
    def rows(guard: str | None) -> str:
        return "ent" if guard is None else f"(SELECT * FROM ent WHERE {guard})"

    if history.max_before:
        cols = ", ".join(f"MAX({quote_ident(f)}) AS {quote_ident(f + '__maxb')}" for f in sorted(history.max_before))
        guards = [history.guard(f"maxb:{f}") for f in sorted(history.max_before)]
        guard = None if None in guards else " OR ".join(g for g in guards if g)
        ctes.append(
            f"hb AS (SELECT {key}, {cols} FROM history WHERE year < {period} "
            f"AND {key} IN (SELECT {key} FROM {rows(guard)}) GROUP BY {key})"
        )
        joins.append(f"LEFT JOIN hb USING ({key})")
    # A quarterly fact is a list of (year, quarter, value) on the entity: the value at the assessed quarter.
    for offset, facts in sorted(history.quarterly.items()):
        for fact in sorted(facts):
            column = quarter_column_name(fact, offset)
            ctes.append(
                f"hq_{column} AS (SELECT {key}, MAX(CASE WHEN _x.y = {period + offset} AND _x.q = {needs.quarter} "
                f"THEN _x.v END) AS {quote_ident(column)} FROM (SELECT {key}, UNNEST({quote_ident(fact)}) AS _x "
                f"FROM ent) GROUP BY {key})"
            )
            joins.append(f"LEFT JOIN hq_{column} USING ({key})")
    for alias, (fact, first, last) in sorted(history.sums.items()):
        ctes.append(
            f"{alias} AS (SELECT e.{key}, SUM(h.{quote_ident(fact)}) AS {quote_ident(alias + '__sum')}, "
            f"COUNT(h.{quote_ident(fact)}) AS {quote_ident(alias + '__count')} FROM {rows(history.guard(alias))} e "
            f"JOIN history h "
            f"ON h.{key} = e.{key} AND h.year BETWEEN ({first}) AND LEAST(({last}), {period}) GROUP BY e.{key})"
        )
        joins.append(f"LEFT JOIN {alias} USING ({key})")
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
        elif kind in ("paidy", "paidq"):  # earlier quarters of the assessed year / the assessed quarter
            q = needs.quarter
            if q is None:
                within = ""
            elif kind == "paidy":
                within = f" AND (quarter IS NULL OR quarter < {q})"
            else:
                within = f" AND quarter = {q}"
            ledger_cols.append(f"SUM(CASE WHEN {match} AND period = {period}{within} THEN amount_fen END) AS {name}")
        elif kind.startswith("each"):  # the distinct years paid among the n before the assessed one
            since = period - int(kind.removeprefix("each"))
            ledger_cols.append(
                f"COUNT(DISTINCT CASE WHEN {match} AND period BETWEEN {since} AND {period - 1} THEN period END) AS {name}"
            )
        elif kind == "last":  # the previous award: the total of the latest year paid before the assessed one
            cte = f"ll_{ledger_column(kind, ref)}"
            ctes.append(
                f"{cte} AS (SELECT l.{key}, SUM(l.amount_fen) AS {name} FROM ledger l JOIN (SELECT {key}, "
                f"MAX(period) AS latest FROM ledger WHERE {match} AND period < {period} GROUP BY {key}) m "
                f"ON l.{key} = m.{key} AND l.period = m.latest WHERE l.{match} GROUP BY l.{key})"
            )
            joins.append(f"LEFT JOIN {cte} USING ({key})")
        else:
            ledger_cols.append(f"list(DISTINCT tier) FILTER (WHERE {match} AND tier IS NOT NULL) AS {name}")
    for ref, conflicts in sorted(needs.conflicts.items()):
        any_year = [sql_string(r) for r, anytime in conflicts if anytime]
        this_year = [sql_string(r) for r, anytime in conflicts if not anytime]
        tests = ([f"rule IN ({', '.join(any_year)})"] if any_year else []) + (
            [f"(rule IN ({', '.join(this_year)}) AND period = {period})"] if this_year else []
        )
        name = quote_ident(ledger_column("xdup", ref))
        ledger_cols.append(f"COUNT(CASE WHEN amount_fen > 0 AND ({' OR '.join(tests)}) THEN 1 END) AS {name}")
    for ref in sorted(needs.provisions):
        match = f"starts_with(rule, {sql_string(ref + '/')})"
        ledger_cols.append(f"SUM(CASE WHEN {match} THEN amount_fen END) AS {quote_ident(ledger_column('prov', ref))}")
    if ledger_cols:
        ctes.append(f"led AS (SELECT {key}, {', '.join(ledger_cols)} FROM ledger GROUP BY {key})")
        joins.append(f"LEFT JOIN led USING ({key})")
    extra = "".join(f", {sql} AS {quote_ident(name)}" for name, sql in (derived or {}).items())
    ctes.append(f"base AS (SELECT *{extra} FROM ent {' '.join(joins)})")
    return ",\n".join(ctes)
