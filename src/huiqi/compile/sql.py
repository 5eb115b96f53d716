"""One expression → SQL text over the ``base`` relation (DuckDB dialect; sqlglot transpiles it).

NULL is the SQL form of the scalar engine's ``Unknown``: SQL's three-valued AND/OR/NOT are Kleene logic,
the same as the engine's. Where SQL would silently skip NULLs (GREATEST, CASE WHEN NULL) the generated
text tests for NULL explicitly, so both paths agree. Money is BIGINT fen; rates are exact DECIMAL
literals; an expression without an exact SQL form raises ``NoTranslation`` rather than approximating.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from huiqi.errors import HuiqiError
from huiqi.expr import ast
from huiqi.facts.catalogue import Catalogue, Period
from huiqi.policy.scope import DocumentScope


class NoTranslation(HuiqiError):
    """An expression has no exact SQL translation (say which, and where)."""


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_number(value: Fraction | int) -> str:
    """An exact numeric literal: an integer, or a DECIMAL when the fraction terminates."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    scale = 0
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        raise NoTranslation(f"数值 {value} 不是有限小数，SQL 无法精确表示")
    while (value * 10**scale).denominator != 1:
        scale += 1
    text = str(Decimal(value.numerator) / Decimal(value.denominator))
    return f"CAST('{text}' AS DECIMAL(38, {max(scale, 1)}))"


@dataclass
class HistoryNeeds:
    """Columns the base relation must provide for history functions (filled while compiling)."""

    current: set[str] = field(default_factory=set)  # annual facts at the assessed year
    offsets: dict[int, set[str]] = field(default_factory=dict)  # year offset → annual facts (at(f, period - k))
    max_before: set[str] = field(default_factory=set)
    sums: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # alias → (fact, first sql, last sql)
    #: year offset → quarterly facts read at the assessed quarter of that year (0: the assessed year)
    quarterly: dict[int, set[str]] = field(default_factory=dict)
    #: aggregate ("maxb:<fact>" or a sum alias) → the guards of its uses; None is a use without a guard.
    #: An aggregate whose every use is guarded is computed only for the entities some guard lets through.
    guards: dict[str, set[str | None]] = field(default_factory=dict)

    def guard(self, aggregate: str) -> str | None:
        """The condition on ``ent`` outside which the aggregate is never needed (None: needed everywhere)."""
        uses = self.guards.get(aggregate, {None})
        if None in uses:
            return None
        return "(" + " OR ".join(sorted(u for u in uses if u is not None)) + ")"


@dataclass
class SqlContext:
    """What an expression may refer to while compiling for one document, one period, one date."""

    scope: DocumentScope
    catalogue: Catalogue
    period: int
    as_of: dt.date
    readings: dict[str, str]  # "<document>:<key>" → option
    #: "paid" | "paid_years" | "paid_provision" | "paid_last" | "paid_each_year:<n>" → column for the current rule
    ledger_column: Callable[[str], str]
    needs: HistoryNeeds = field(default_factory=HistoryNeeds)
    #: columns the base relation computes from the joined row (name → SQL), e.g. the largest value before
    derived: dict[str, str] = field(default_factory=dict)
    _definitions: dict[str, str] = field(default_factory=dict)
    #: when set, top-level references to definitions become columns ``def__<name>`` listed here
    definition_columns: dict[str, str] | None = None
    #: the guard of the rule being translated (see ``HistoryNeeds.guards``); None outside a guarded rule
    guard: str | None = None
    #: when set, a compound value the SQL needs more than once (the operand of a floored product, of a
    #: min/max with its null test, the condition of an if) becomes a column ``_h<n>`` listed here (name → SQL),
    #: computed once per row in a stage before the rules; else it is repeated inline
    shared: dict[str, str] | None = None
    #: the rule whose benefit inputs are being translated (None: anything else); each shared column records
    #: its users here, so that one used by a single rule's inputs is computed only where that rule's
    #: condition is not false
    owner: int | None = None
    owners: dict[str, set[int | None]] = field(default_factory=dict)
    _depth: int = 0
    #: inside a per_item benefit: ``item_<field>`` → the SQL of that field of the item (``huiqi.compile.items``)
    item_fields: dict[str, str] | None = None
    #: the assessed quarter (1–4) of a quarterly evaluation, None otherwise
    quarter: int | None = None

    def share(self, sql: str) -> str:
        """``sql`` as something cheap to repeat: itself when a column or a literal, else a shared column."""
        if self.shared is None or _SIMPLE.fullmatch(sql):
            return sql
        name = next((n for n, existing in self.shared.items() if existing == sql), f"_h{len(self.shared)}")
        self.shared[name] = sql
        # inside a definition the SQL is kept and reused anywhere: no owner
        self.owners.setdefault(name, set()).add(self.owner if self._depth == 0 else None)
        return quote_ident(name)

    def use_aggregate(self, aggregate: str) -> None:
        """Record a use of a history aggregate under the current guard (none inside a shared definition)."""
        self.needs.guards.setdefault(aggregate, set()).add(self.guard if self._depth == 0 else None)

    def fact_column(self, key: str) -> str:
        fact = self.catalogue[key]
        if fact.period is Period.QUARTERLY:
            return self.quarter_column(key, 0)
        if fact.period is Period.ANNUAL:
            self.needs.current.add(key)
            return quote_ident(f"{key}__p0")
        column = quote_ident(key)
        if fact.default is not None:
            return f"COALESCE({column}, {literal(fact.default)})"
        return column

    def quarter_column(self, key: str, offset: int) -> str:
        """A quarterly fact at the assessed quarter of the year ``period + offset`` (NULL without a quarter)."""
        if self.quarter is None:
            return "NULL"
        self.needs.quarterly.setdefault(offset, set()).add(key)
        return quote_ident(quarter_column_name(key, offset))


def quarter_column_name(key: str, offset: int) -> str:
    """The column of a quarterly fact read ``offset`` years from the assessed one."""
    return f"{key}__q{offset}" if offset >= 0 else f"{key}__qm{-offset}"


#: SQL that is a column or a literal: repeating it costs nothing
_SIMPLE = re.compile(r'"[^"]*"|[A-Za-z_][A-Za-z0-9_]*|-?[0-9]+|CAST\(\'[0-9.-]+\' AS DECIMAL\([0-9, ]+\)\)')


def literal(value: object) -> str:
    """A Python constant as SQL."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Fraction):
        return sql_number(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return sql_string(str(value))


def translate(node: ast.Node, ctx: SqlContext) -> str:
    """SQL text of an expression (DuckDB dialect)."""
    if isinstance(node, ast.Money):
        return sql_number(node.fen)
    if isinstance(node, ast.Number):
        return sql_number(node.value)
    if isinstance(node, ast.Text):
        return sql_string(node.value)
    if isinstance(node, ast.Boolean):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, ast.ListOf):
        return "[" + ", ".join(translate(i, ctx) for i in node.items) + "]"
    if isinstance(node, ast.Name):
        return _name(node.id, ctx)
    if isinstance(node, ast.Negate):
        return f"(-{translate(node.operand, ctx)})"
    if isinstance(node, ast.BinOp):
        left, right = translate(node.left, ctx), translate(node.right, ctx)
        if node.op in "+-*":
            return f"({left} {node.op} {right})"
        if node.op == "/":
            return f"(CAST({left} AS DECIMAL(38, 10)) / NULLIF({right}, 0))"
        return f"FLOOR(CAST({left} AS DECIMAL(38, 10)) / NULLIF({right}, 0))"
    if isinstance(node, ast.Compare):
        op = "=" if node.op == "==" else "<>" if node.op == "!=" else node.op
        return f"({translate(node.left, ctx)} {op} {translate(node.right, ctx)})"
    if isinstance(node, ast.Contains):
        item, container = translate(node.item, ctx), node.container
        if isinstance(container, ast.ListOf):
            text = f"({item} IN ({', '.join(translate(i, ctx) for i in container.items)}))"
        else:
            text = f"list_contains({translate(container, ctx)}, {item})"
            # list_contains(NULL-list, x) is NULL and x NULL must be unknown too
            text = f"(CASE WHEN {item} IS NULL THEN NULL ELSE {text} END)"
        return f"(NOT {text})" if node.negated else text
    if isinstance(node, ast.And):
        return "(" + " AND ".join(translate(i, ctx) for i in node.items) + ")"
    if isinstance(node, ast.Or):
        return "(" + " OR ".join(translate(i, ctx) for i in node.items) + ")"
    if isinstance(node, ast.Not):
        return f"(NOT {translate(node.operand, ctx)})"
    if isinstance(node, ast.Call):
        return _call(node, ctx)
    raise NoTranslation(f"没有 SQL 翻译规则：{type(node).__name__}")  # pragma: no cover


def _name(name: str, ctx: SqlContext) -> str:
    if ctx.item_fields is not None and name in ctx.item_fields:
        return ctx.item_fields[name]
    if name == "period":
        return str(ctx.period)
    if name == "as_of":
        return literal(ctx.as_of)
    if name == "quarter":
        return "CAST(NULL AS INTEGER)" if ctx.quarter is None else str(ctx.quarter)
    if name in ctx.catalogue:
        return ctx.fact_column(name)
    scope = ctx.scope
    if name in scope.definitions:
        if name not in ctx._definitions:
            ctx._depth += 1
            try:
                ctx._definitions[name] = translate(scope.definitions[name], ctx)
            finally:
                ctx._depth -= 1
        if ctx.definition_columns is not None and ctx._depth == 0:
            # computed once per row in an earlier stage, then read by every rule that names it
            ctx.definition_columns[name] = ctx._definitions[name]
            return quote_ident(f"def__{name}")
        return ctx._definitions[name]
    if name in scope.reading_names:
        key, options = scope.reading_names[name]
        chosen = ctx.readings[f"{scope.document}:{key}"]
        return translate(options[chosen], ctx)
    raise NoTranslation(f"未知的名称 {name!r}")


def _all_known(parts: list[str]) -> str:
    return " OR ".join(f"{p} IS NULL" for p in parts)


def _call(node: ast.Call, ctx: SqlContext) -> str:
    name, args = node.func, node.args
    if name in ("min", "max"):
        parts = [translate(a, ctx) for a in args]
        op = "LEAST" if name == "min" else "GREATEST"
        # a literal is never null: only the other arguments need the test (LEAST/GREATEST skip NULLs)
        parts = [part if _literal(arg) else ctx.share(part) for part, arg in zip(parts, args, strict=True)]
        nullable = [part for part, arg in zip(parts, args, strict=True) if not _literal(arg)]
        if not nullable:
            return f"{op}({', '.join(parts)})"
        return f"(CASE WHEN {_all_known(nullable)} THEN NULL ELSE {op}({', '.join(parts)}) END)"
    if name == "abs":
        return f"ABS({translate(args[0], ctx)})"
    if name == "floor":
        whole = _whole_product(args[0], ctx)
        if whole is not None:
            return whole
        return f"FLOOR({translate(args[0], ctx)})"
    if name == "ceil":
        return f"CEIL({translate(args[0], ctx)})"
    if name == "round":
        value = ctx.share(translate(args[0], ctx))
        return f"(CASE WHEN {value} >= 0 THEN FLOOR({value} + 0.5) ELSE -FLOOR(-({value}) + 0.5) END)"
    if name == "if":
        cond, then, other = (translate(a, ctx) for a in args)
        cond = ctx.share(cond)
        return f"(CASE WHEN {cond} IS NULL THEN NULL WHEN {cond} THEN {then} ELSE {other} END)"
    if name == "year":
        return f"EXTRACT(YEAR FROM {translate(args[0], ctx)})"
    if name == "years_since":
        day = translate(args[0], ctx)
        as_of = ctx.as_of
        return (
            f"({as_of.year} - EXTRACT(YEAR FROM {day}) - CASE WHEN ({as_of.month} < EXTRACT(MONTH FROM {day}) OR "
            f"({as_of.month} = EXTRACT(MONTH FROM {day}) AND {as_of.day} < EXTRACT(DAY FROM {day}))) THEN 1 ELSE 0 END)"
        )
    if name == "days_between":
        return f"DATE_DIFF('day', {translate(args[0], ctx)}, {translate(args[1], ctx)})"
    if name == "date":
        text = args[0].value if isinstance(args[0], ast.Text) else ""
        return f"DATE '{dt.date.fromisoformat(text).isoformat()}'"
    if name == "add_years":
        years = args[1]
        if not isinstance(years, ast.Number) or years.value.denominator != 1:
            raise NoTranslation("add_years() 的年数须为整数常量才能翻译为 SQL")
        return f"CAST({translate(args[0], ctx)} + INTERVAL {years.value.numerator} YEAR AS DATE)"
    if name == "count":
        return f"array_length({translate(args[0], ctx)})"
    if name == "in_region":
        wanted = translate(args[0], ctx)
        return f"(CASE WHEN array_length(region) > 0 THEN list_contains(region, {wanted}) END)"  # NULL: no region known
    if name == "has":
        return f"({translate(args[0], ctx)} IS NOT NULL)"
    if name in ("paid", "paid_years", "paid_provision", "paid_last", "paid_in_year"):
        return f"COALESCE({ctx.ledger_column(name)}, 0)"
    if name == "paid_each_year":
        years = args[0]
        if not isinstance(years, ast.Number) or years.value.denominator != 1:  # pragma: no cover (checked)
            raise NoTranslation("paid_each_year() 的年数须为整数常量才能翻译为 SQL")
        n = years.value.numerator
        return f"(COALESCE({ctx.ledger_column(f'paid_each_year:{n}')}, 0) = {n})"
    key = args[0].id if isinstance(args[0], ast.Name) else ""
    if name == "at":
        offset = _constant_offset(args[1], ctx)
        if ctx.catalogue[key].period is Period.QUARTERLY:
            return ctx.quarter_column(key, offset)
        ctx.needs.offsets.setdefault(offset, set()).add(key)
        return quote_ident(f"{key}__p{offset}" if offset >= 0 else f"{key}__m{-offset}")
    if name == "max_before":
        return _max_before(key, ctx)
    if name == "sum_years":
        shared, ctx.shared = ctx.shared, None  # the bounds are read by the history aggregate, before any stage
        try:
            first, last = translate(args[1], ctx), translate(args[2], ctx)
        finally:
            ctx.shared = shared
        for bound in args[1:]:
            if any(
                ctx.catalogue.get(n) is not None and ctx.catalogue[n].period is Period.ANNUAL for n in ast.names(bound)
            ):
                raise NoTranslation("sum_years() 的年份界限不能依赖按年度的事实")
        digest = hashlib.sha1(f"{key}|{first}|{last}".encode(), usedforsecurity=False).hexdigest()[:12]
        alias = f"sum__{key}__{digest}"
        ctx.needs.sums.setdefault(alias, (key, first, last))
        ctx.use_aggregate(alias)
        needed = f"GREATEST(LEAST({last}, {ctx.period}) - ({first}) + 1, 0)"
        total, count = quote_ident(f"{alias}__sum"), quote_ident(f"{alias}__count")
        return (
            f"(CASE WHEN ({first}) IS NULL OR ({last}) IS NULL THEN NULL "
            f"WHEN COALESCE({count}, 0) < {needed} THEN NULL ELSE COALESCE({total}, 0) END)"
        )
    if name == "consecutive_years":
        years = args[2]
        if not isinstance(years, ast.Number) or years.value.denominator != 1:  # pragma: no cover (checked)
            raise NoTranslation("consecutive_years() 的年数须为整数常量才能翻译为 SQL")
        limit = translate(args[1], ctx)
        columns = []
        for back in range(years.value.numerator):
            ctx.needs.offsets.setdefault(-back, set()).add(key)
            columns.append(quote_ident(f"{key}__p0" if back == 0 else f"{key}__m{back}"))
        below = " OR ".join(f"{column} < ({limit})" for column in columns)
        gaps = " OR ".join(f"{column} IS NULL" for column in columns)
        return f"(CASE WHEN ({limit}) IS NULL THEN NULL WHEN {below} THEN FALSE WHEN {gaps} THEN NULL ELSE TRUE END)"
    if name in ("first_reached", "first_exceeded"):
        now = ctx.fact_column(key)
        limit = translate(args[1], ctx)
        before = _max_before(key, ctx)
        below = "<=" if name == "first_exceeded" else "<"  # 首次超过 is strict: at the threshold is not above it
        return (
            f"(CASE WHEN {now} IS NULL OR ({limit}) IS NULL THEN NULL WHEN {now} {below} ({limit}) THEN FALSE "
            f"WHEN {before} IS NULL THEN NULL ELSE {before} {below} ({limit}) END)"
        )
    raise NoTranslation(f"没有 SQL 翻译规则：函数 {name}()")


def _literal(node: ast.Node) -> bool:
    """A money or number literal (possibly negated): never null."""
    if isinstance(node, ast.Negate):
        return _literal(node.operand)
    return isinstance(node, ast.Money | ast.Number)


def _whole_product(node: ast.Node, ctx: SqlContext) -> str | None:
    """``floor(x × P/Q)`` in BIGINT when ``x`` is a whole number of fen and ``P/Q`` a constant positive rate.

    With x = q·Q + r: floor(x·P/Q) = q·P + floor(r·P/Q), exact in 64-bit integers without the 128-bit
    DECIMAL product. ``//`` and ``%`` truncate toward zero in DuckDB and Spark alike, so a negative x is
    computed as −ceil(|x|·P/Q). None when the expression is not of that form.
    """
    if not isinstance(node, ast.BinOp) or node.op != "*":
        return None
    for value, rate in ((node.left, node.right), (node.right, node.left)):
        if (
            isinstance(rate, ast.Number)
            and rate.value > 0
            and rate.value.numerator * rate.value.denominator < 2**31
            and integral(value, ctx)
        ):
            p, q = rate.value.numerator, rate.value.denominator
            operand = translate(value, ctx)
            x = f"CAST({operand} AS BIGINT)"
            x = x if _SIMPLE.fullmatch(operand) else ctx.share(x)  # read up to six times below
            if q == 1:
                return f"({x} * {p})"
            if p == 1:  # the remainder's share r·1 // q is always 0
                return f"(CASE WHEN {x} >= 0 THEN {x} // {q} ELSE -(((-{x}) + {q - 1}) // {q}) END)"
            return (
                f"(CASE WHEN {x} >= 0 THEN ({x} // {q}) * {p} + (({x} % {q}) * {p}) // {q} "
                f"ELSE -(((-{x}) // {q}) * {p} + (((-{x}) % {q}) * {p} + {q - 1}) // {q}) END)"
            )
    return None


def _max_before(key: str, ctx: SqlContext) -> str:
    """The largest value before the assessed year: a column of the base relation, computed once per row."""
    ctx.needs.max_before.add(key)
    ctx.use_aggregate(f"maxb:{key}")
    column = quote_ident(f"{key}__maxb")
    established = quote_ident("established_on") if "established_on" in ctx.catalogue else "NULL"
    # Founded in the assessed year: there is no earlier year, the maximum before it is 0.
    ctx.derived[f"{key}__before"] = (
        f"(CASE WHEN {column} IS NOT NULL THEN {column} "
        f"WHEN EXTRACT(YEAR FROM {established}) >= {ctx.period} THEN 0 ELSE NULL END)"
    )
    return quote_ident(f"{key}__before")


def _constant_offset(node: ast.Node, ctx: SqlContext) -> int:
    """``period - 1`` → −1: ``at()`` is translated for years a constant distance from the assessed year."""
    if isinstance(node, ast.Name) and node.id == "period":
        return 0
    if (
        isinstance(node, ast.BinOp)
        and node.op in "+-"
        and isinstance(node.left, ast.Name)
        and node.left.id == "period"
        and isinstance(node.right, ast.Number)
        and node.right.value.denominator == 1
    ):
        step = node.right.value.numerator
        return step if node.op == "+" else -step
    if isinstance(node, ast.Number) and node.value.denominator == 1:
        return node.value.numerator - ctx.period
    raise NoTranslation("at() 的年份须为 period ± 常数 或 年份常量才能翻译为 SQL")


_INTEGRAL_CALLS = {"floor", "ceil", "round", "count", "paid", "paid_years", "paid_provision", "paid_last",
                   "paid_in_year"}  # fmt: skip
_SAME_AS_ARGUMENTS = {"min", "max", "abs"}


def integral(node: ast.Node, ctx: SqlContext) -> bool:
    """Whether an expression's SQL value is always a whole number (BIGINT fen, an integer): its amount then
    needs no rounding to the fen, and DuckDB keeps it in 64-bit integers instead of 128-bit decimals."""
    if isinstance(node, ast.Money):
        return node.fen.denominator == 1
    if isinstance(node, ast.Number):
        return node.value.denominator == 1
    if isinstance(node, ast.Negate):
        return integral(node.operand, ctx)
    if isinstance(node, ast.BinOp):
        if node.op == "//":
            return True
        return node.op in "+-*" and integral(node.left, ctx) and integral(node.right, ctx)
    if isinstance(node, ast.Name):
        if node.id == "period":
            return True
        if node.id in ctx.catalogue:
            return ctx.catalogue[node.id].type is ast.Type.MONEY
        if node.id in ctx.scope.definitions:
            return integral(ctx.scope.definitions[node.id], ctx)
        if node.id in ctx.scope.reading_names:
            key, options = ctx.scope.reading_names[node.id]
            return integral(options[ctx.readings[f"{ctx.scope.document}:{key}"]], ctx)
        return False
    if isinstance(node, ast.Call):
        if node.func in _INTEGRAL_CALLS:
            return True
        if node.func in _SAME_AS_ARGUMENTS:
            return all(integral(a, ctx) for a in node.args)
        if node.func == "if":
            return integral(node.args[1], ctx) and integral(node.args[2], ctx)
        if node.func in ("at", "max_before", "sum_years"):
            return integral(node.args[0], ctx)
    return False


#: functions that read nothing but the entity's own row
_ROW_CALLS = {"min", "max", "abs", "floor", "ceil", "round", "if", "year", "years_since", "days_between", "date",
              "add_years", "count", "in_region", "has"}  # fmt: skip


def entity_only(node: ast.Node, ctx: SqlContext) -> bool:
    """Whether an expression reads only the entity table: no annual fact, history function or ledger."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call) and current.func not in _ROW_CALLS:
            return False
        if isinstance(current, ast.Name) and current.id not in ("period", "as_of"):
            name = current.id
            if name in ctx.catalogue:
                if ctx.catalogue[name].period is Period.ANNUAL:
                    return False
            elif name in ctx.scope.definitions:
                if not entity_only(ctx.scope.definitions[name], ctx):
                    return False
            elif name in ctx.scope.reading_names:
                key, options = ctx.scope.reading_names[name]
                if not entity_only(options[ctx.readings[f"{ctx.scope.document}:{key}"]], ctx):
                    return False
            else:
                return False
        stack.extend(ast.children(current))
    return True
