"""Compile expression trees into fast closures for the scalar engine.

Each node becomes a Python closure ``fn(env) -> value`` once, when the policy base is loaded; evaluating
an entity then runs closures, never re-walks text. Values are exact (``Fraction``); a missing fact gives
``Unknown`` and three-valued logic carries it.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from huiqi.errors import EvaluationError, ExpressionError
from huiqi.expr import ast
from huiqi.expr.check import LEDGER_FUNCTIONS
from huiqi.facts.catalogue import Catalogue, Fact, Period
from huiqi.money import round_half_up
from huiqi.policy.scope import ITEM_PREFIX, DocumentScope, ItemDocumentScope

from .env import Env
from .values import Unknown, is_unknown, merge_unknown

Fn = Callable[[Env], Any]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne,
}  # fmt: skip


@dataclass
class CompileScope(DocumentScope):
    """A document's scope that can also compile names into closures."""

    _compiled: dict[str, Fn] = field(default_factory=dict)

    def compile_name(self, name: str) -> Fn:
        """The evaluator of a name (memoised per entity for definitions)."""
        if name in self._compiled:
            return self._compiled[name]
        fn: Fn
        if name == "period":

            def fn(env: Env) -> Any:
                return env.period

        elif name == "as_of":

            def fn(env: Env) -> Any:
                return env.as_of

        elif name == "quarter":

            def fn(env: Env) -> Any:
                return NO_QUARTER if env.quarter is None else env.quarter

        elif name in self.catalogue:
            fn = _fact_reader(self.catalogue, name)
        elif name in self.definitions or name in self.reading_names:
            if name in self.definitions:
                fn = compile_node(self.definitions[name], self)
            else:
                key, options = self.reading_names[name]
                compiled = {value: compile_node(node, self) for value, node in options.items()}
                reading_key = f"{self.document}:{key}"

                def fn(env: Env) -> Any:
                    return compiled[env.readings[reading_key]](env)

            # A defined name has one value for an entity (the readings are the same for its whole evaluation):
            # computed once, where it reads neither what the rule being decided was paid nor a paid item.
            depends = self._depends_on(name, set())
            if not depends & {"rule", "item"}:
                fn = _memoised(f"{self.document}:{name}", fn, defaults="default" in depends)

        else:
            raise ExpressionError(f"未知的名称 {name!r}")
        self._compiled[name] = fn
        return fn

    def _depends_on(self, name: str, seen: set[str]) -> set[str]:
        """What a defined name (a definition, or a name a reading defines) reads, directly or through other
        defined names, that decides whether its value can be kept for the entity: "rule" (a ledger function,
        which reads what the rule being decided was paid), "item" (a field of a paid item), "default" (a fact
        the engine may take at its default)."""
        seen.add(name)
        found: set[str] = set()
        definition = self.definitions.get(name)
        stack = [definition] if definition is not None else list(self.reading_names[name][1].values())
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Call) and node.func in LEDGER_FUNCTIONS:
                found.add("rule")
            elif isinstance(node, ast.Name):
                fact = self.catalogue.get(node.id)
                if node.id.startswith(ITEM_PREFIX):
                    found.add("item")
                elif fact is not None and fact.default is not None:
                    found.add("default")
                elif (node.id in self.definitions or node.id in self.reading_names) and node.id not in seen:
                    found |= self._depends_on(node.id, seen)
            stack.extend(ast.children(node))
        return found


@dataclass
class ItemCompileScope(CompileScope, ItemDocumentScope):
    """A compile scope inside a ``per_item`` benefit: ``item_<field>`` reads the item being paid (``env.item``)."""

    def compile_name(self, name: str) -> Fn:
        if self.item_type(name) is None or self.item_fact is None:
            return super().compile_name(name)
        key = name.removeprefix(ITEM_PREFIX)
        missing = Unknown(frozenset({(self.item_fact.key, None)}))

        def read(env: Env) -> Any:
            item = env.item
            return missing if item is None or key not in item else item[key]

        return read


def compile_item_scope(scope: CompileScope, fact: Fact) -> ItemCompileScope:
    """The compile scope of a ``per_item`` benefit over ``fact``'s items."""
    return ItemCompileScope(catalogue=scope.catalogue, document=scope.document, definitions=scope.definitions,
                            reading_names=scope.reading_names, labels=scope.labels, item_fact=fact)  # fmt: skip


def _memoised(key: str, inner: Fn, *, defaults: bool) -> Fn:
    """``inner`` computed once per entity (``env.memo``); where it may take a fact at its default
    (``defaults``), with the facts it took so, which every rule that reads the value again is told of too
    (``env.defaults_used``)."""

    def plain(env: Env) -> Any:
        memo = env.memo
        if key in memo:
            return memo[key]
        value = memo[key] = inner(env)
        return value

    if not defaults:
        return plain

    def fn(env: Env) -> Any:
        found = env.memo.get(key)
        if found is not None:
            value, taken = found
            if taken:
                env.defaults_used.update(taken)
            return value
        outer, env.defaults_used = env.defaults_used, set()
        try:
            value = inner(env)
            taken = frozenset(env.defaults_used)
        finally:
            outer.update(env.defaults_used)
            env.defaults_used = outer
        env.memo[key] = (value, taken)
        return value

    return fn


def _fact_reader(catalogue: Catalogue, key: str) -> Fn:
    fact = catalogue[key]
    annual = fact.period is Period.ANNUAL
    default = fact.default
    missing = Unknown(frozenset({(key, None)}))
    if fact.period is Period.QUARTERLY:

        def read_quarter(env: Env) -> Any:
            if env.quarter is None:
                return NO_QUARTER
            value = (env.facts.get(key) or {}).get((env.period, env.quarter), _ABSENT)
            return Unknown(frozenset({(key, env.period)})) if value is _ABSENT else value

        return read_quarter

    def read(env: Env) -> Any:
        value = env.facts.get(key, _ABSENT)
        if annual and value is not _ABSENT:
            value = value.get(env.period, _ABSENT)
            if value is _ABSENT:
                return Unknown(frozenset({(key, env.period)}))
        if value is _ABSENT:
            if default is not None:
                env.defaults_used.add(key)
                return default
            return missing
        return value

    return read


_ABSENT = object()
#: a quarterly fact or ``quarter`` read in an evaluation that names no quarter
NO_QUARTER = Unknown(frozenset({("quarter", None)}))


def compile_node(node: ast.Node, scope: CompileScope) -> Fn:
    """Compile one node (recursively) into a closure."""
    literal, constant = _literal(node)  # whole numbers stay Python ints: exact, and far faster than Fractions
    if literal:
        return lambda env: constant
    if isinstance(node, ast.ListOf):
        items = [compile_node(i, scope) for i in node.items]
        return lambda env: tuple(i(env) for i in items)
    if isinstance(node, ast.Name):
        return scope.compile_name(node.id)
    if isinstance(node, ast.Negate):
        operand = compile_node(node.operand, scope)
        return lambda env: _neg(operand(env))
    if isinstance(node, ast.BinOp):
        return _compile_binop(node, scope)
    if isinstance(node, ast.Compare):
        return _compile_compare(node, scope)
    if isinstance(node, ast.Contains):
        return _compile_contains(node, scope)
    if isinstance(node, ast.And):
        return _compile_and([compile_node(i, scope) for i in node.items])
    if isinstance(node, ast.Or):
        return _compile_or([compile_node(i, scope) for i in node.items])
    if isinstance(node, ast.Not):
        operand = compile_node(node.operand, scope)

        def not_(env: Env) -> Any:
            value = operand(env)
            return value if (type(value) is Unknown) else not value

        return not_
    if isinstance(node, ast.Call):
        return _compile_call(node, scope)
    raise ExpressionError(f"无法编译的表达式节点 {type(node).__name__}")  # pragma: no cover


def _exact(value: Fraction) -> int | Fraction:
    """An exact number as an ``int`` when whole, else the ``Fraction``."""
    return value.numerator if value.denominator == 1 else value


def _neg(value: Any) -> Any:
    return value if (type(value) is Unknown) else -value


def _compile_binop(node: ast.BinOp, scope: CompileScope) -> Fn:
    left, right, op = compile_node(node.left, scope), compile_node(node.right, scope), node.op
    literal, factor = _literal(node.right)
    if literal and op == "*":  # "revenue × 150%", "new_hires × 3万元"

        def times_literal(env: Env) -> Any:
            a = left(env)
            return a if type(a) is Unknown else a * factor

        return times_literal

    def binop(env: Env) -> Any:
        a, b = left(env), right(env)
        if (type(a) is Unknown) or (type(b) is Unknown):
            return merge_unknown(a, b)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            raise EvaluationError(f"除数为零：{op} 右边的值为 0")
        if op == "/":
            return Fraction(a) / Fraction(b)
        return Fraction(math.floor(Fraction(a) / Fraction(b)))

    return binop


def _literal(node: ast.Node) -> tuple[bool, Any]:
    """Whether a node is a literal (an amount, a number, a text, true/false), and its value as compiled."""
    if isinstance(node, ast.Money | ast.Number):
        return True, _exact(node.fen if isinstance(node, ast.Money) else node.value)
    if isinstance(node, ast.Text | ast.Boolean):
        return True, node.value
    return False, None


def _compile_compare(node: ast.Compare, scope: CompileScope) -> Fn:
    left, right, compare = compile_node(node.left, scope), compile_node(node.right, scope), _COMPARE[node.op]
    literal, bound = _literal(node.right)
    if literal:  # the usual leaf, "fact >= 2亿元": the bound read once, at compile time

        def against_literal(env: Env) -> Any:
            a = left(env)
            return a if type(a) is Unknown else compare(a, bound)

        return against_literal

    def comparison(env: Env) -> Any:
        a, b = left(env), right(env)
        if (type(a) is Unknown) or (type(b) is Unknown):
            return merge_unknown(a, b)
        return compare(a, b)

    return comparison


def _compile_contains(node: ast.Contains, scope: CompileScope) -> Fn:
    item, container, negated = compile_node(node.item, scope), compile_node(node.container, scope), node.negated

    def contains(env: Env) -> Any:
        a, b = item(env), container(env)
        if (type(a) is Unknown) or (type(b) is Unknown):
            return merge_unknown(a, b)
        found = a in b
        return not found if negated else found

    return contains


def _compile_and(items: list[Fn]) -> Fn:
    def and_(env: Env) -> Any:
        unknown: list[Any] = []
        for item in items:
            value = item(env)
            if value is False:
                return False
            if type(value) is Unknown:
                unknown.append(value)
        return merge_unknown(*unknown) if unknown else True

    return and_


def _compile_or(items: list[Fn]) -> Fn:
    def or_(env: Env) -> Any:
        unknown: list[Any] = []
        for item in items:
            value = item(env)
            if value is True:
                return True
            if type(value) is Unknown:
                unknown.append(value)
        return merge_unknown(*unknown) if unknown else False

    return or_


def years_between(start: dt.date, end: dt.date) -> int:
    """Whole years from ``start`` to ``end`` (an anniversary counts on its day).

    >>> years_between(dt.date(2021, 3, 1), dt.date(2024, 2, 29))
    2
    >>> years_between(dt.date(2021, 3, 1), dt.date(2024, 3, 1))
    3
    """
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later; 29 February becomes 28 February in common years.

    >>> add_years(dt.date(2024, 2, 29), 1)
    datetime.date(2025, 2, 28)
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _compile_call(node: ast.Call, scope: CompileScope) -> Fn:
    name = node.func
    args = [compile_node(a, scope) for a in node.args]

    def strict(fn: Callable[..., Any]) -> Fn:
        def call(env: Env) -> Any:
            values = [a(env) for a in args]
            if any((type(v) is Unknown) for v in values):
                return merge_unknown(*values)
            return fn(*values)

        return call

    if name == "min":
        return strict(lambda *v: min(v))
    if name == "max":
        return strict(lambda *v: max(v))
    if name == "abs":
        return strict(abs)
    if name == "floor":
        return strict(lambda v: Fraction(math.floor(v)))
    if name == "ceil":
        return strict(lambda v: Fraction(math.ceil(v)))
    if name == "round":
        return strict(lambda v: Fraction(round_half_up(Fraction(v))))
    if name == "year":
        return strict(lambda d: d.year)
    if name == "days_between":
        return strict(lambda a, b: (b - a).days)
    if name == "date":
        text = node.args[0].value if isinstance(node.args[0], ast.Text) else ""
        try:
            constant = dt.date.fromisoformat(text)
        except ValueError:
            raise ExpressionError(f"date() 的日期格式应为 YYYY-MM-DD，得到 {text!r}") from None
        return lambda env: constant
    if name == "count":
        return strict(lambda s: len(s))
    if name == "if":
        cond, then, other = args

        def if_(env: Env) -> Any:
            value = cond(env)
            if type(value) is Unknown:
                return value
            return then(env) if value else other(env)

        return if_
    if name == "years_since":
        start = args[0]

        def years_since(env: Env) -> Any:
            value = start(env)
            return value if (type(value) is Unknown) else years_between(value, env.as_of)

        return years_since
    if name == "add_years":
        return strict(lambda d, n: add_years(d, int(n)))
    if name == "in_region":
        wanted = args[0]
        no_region = Unknown(frozenset({("region", None)}))

        def in_region(env: Env) -> Any:
            if not env.region:
                return no_region
            return wanted(env) in env.region

        return in_region
    if name == "has":
        reader = args[0]
        return lambda env: not is_unknown(reader(env))
    if name in ("paid", "paid_provision", "paid_years", "paid_in_year"):
        return _ledger_function(name)
    if name == "paid_each_year":
        years = node.args[0]
        return _paid_each_year(int(years.value) if isinstance(years, ast.Number) else 1)
    if name == "paid_last":
        return _paid_last
    first = node.args[0]
    key = first.id if isinstance(first, ast.Name) else ""
    if name == "at":
        return _at(key, args[1], quarterly=scope.catalogue[key].period is Period.QUARTERLY)
    if name == "max_before":
        return _max_before(key)
    if name == "sum_years":
        return _sum_years(key, args[1], args[2])
    if name == "consecutive_years":
        return _consecutive_years(key, args[1], node.args[2])
    if name in ("first_reached", "first_exceeded"):
        before = _max_before(key)
        threshold = args[1]
        current = scope.compile_name(key)
        exceeded = name == "first_exceeded"  # 首次超过: above the threshold, and never above it before

        def first_reached(env: Env) -> Any:
            now, limit = current(env), threshold(env)
            if (type(now) is Unknown) or (type(limit) is Unknown):
                return merge_unknown(now, limit)
            if now < limit or (exceeded and now == limit):
                return False
            earlier = before(env)
            if type(earlier) is Unknown:
                return earlier
            return earlier <= limit if exceeded else earlier < limit

        return first_reached
    raise ExpressionError(f"未知的函数 {name}()")  # pragma: no cover


def _ledger_function(name: str) -> Fn:
    if name == "paid":
        return lambda env: env.paid(rule=env.rule_key)
    if name == "paid_provision":
        return lambda env: env.paid(provision=env.provision_key)
    if name == "paid_in_year":  # this rule in the assessed year (before the assessed quarter, when quarterly)
        return lambda env: env.paid(rule=env.rule_key, period=env.period, before_quarter=env.quarter)
    return lambda env: env.paid_years(env.rule_key)


def _paid_each_year(years: int) -> Fn:
    """连续N年获得支持: this rule paid in each of the N years before the assessed year (the ledger is complete)."""

    def paid_each_year(env: Env) -> bool:
        paid = {entry.period for entry in env.ledger if entry.rule == env.rule_key}
        return all(year in paid for year in range(env.period - years, env.period))

    return paid_each_year


def _paid_last(env: Env) -> int:
    """The previous award under this rule: what it paid in the latest year before the assessed one (0 if never)."""
    earlier = [entry for entry in env.ledger if entry.rule == env.rule_key and entry.period < env.period]
    if not earlier:
        return 0
    latest = max(entry.period for entry in earlier)
    return sum(entry.amount_fen for entry in earlier if entry.period == latest)


def _at(key: str, year_fn: Fn, *, quarterly: bool = False) -> Fn:
    """A yearly fact in a year; a quarterly one in the assessed quarter of that year (同期)."""

    def at(env: Env) -> Any:
        year = year_fn(env)
        if type(year) is Unknown:
            return year
        if quarterly and env.quarter is None:
            return NO_QUARTER
        series = env.facts.get(key)
        wanted: Any = (int(year), env.quarter) if quarterly else int(year)
        if series is None or wanted not in series:
            return Unknown(frozenset({(key, int(year))}))
        return series[wanted]

    return at


def _max_before(key: str) -> Fn:
    def max_before(env: Env) -> Any:
        series = env.facts.get(key)
        earlier = [v for y, v in series.items() if y < env.period] if series else []
        if earlier:
            return max(earlier)
        established = env.facts.get("established_on")
        if isinstance(established, dt.date) and established.year >= env.period:
            return 0  # founded in the assessed year: there is no earlier year
        return Unknown(frozenset({(key, env.period - 1)}))

    return max_before


def _consecutive_years(key: str, threshold: Fn, count: ast.Node) -> Fn:
    """连续N年达到: the fact at or above the threshold in each of the N years up to the assessed year.

    False as soon as one known year is below it (whatever the missing years hold); otherwise unknown while
    a year is missing, naming every missing year."""
    years = int(count.value) if isinstance(count, ast.Number) else 1

    def consecutive_years(env: Env) -> Any:
        limit = threshold(env)
        if type(limit) is Unknown:
            return limit
        series = env.facts.get(key) or {}
        missing = set()
        for year in range(env.period - years + 1, env.period + 1):
            if year not in series:
                missing.add((key, year))
            elif series[year] < limit:
                return False
        if missing:
            return Unknown(frozenset(missing))
        return True

    return consecutive_years


def _sum_years(key: str, first_fn: Fn, last_fn: Fn) -> Fn:
    def sum_years(env: Env) -> Any:
        first, last = first_fn(env), last_fn(env)
        if (type(first) is Unknown) or (type(last) is Unknown):
            return merge_unknown(first, last)
        series = env.facts.get(key) or {}
        total: int | Fraction = 0
        missing = set()
        # Years after the assessed year cannot be known yet: the sum runs to min(last, period).
        for year in range(int(first), min(int(last), env.period) + 1):
            if year in series:
                total += series[year]
            else:
                missing.add((key, year))
        if missing:
            return Unknown(frozenset(missing))
        return total

    return sum_years
