"""Write a document's rules as the source of one numba kernel.

The kernel loops over a slice of the rows (the runner gives each core a slice, in threads: numba releases the
GIL) and runs, for each row in the document's jurisdiction, straight-line code that mirrors
``huiqi.engine.evaluate`` step by step: applicability, the condition, 一次性, 不得重复享受 across documents,
连续支持, the benefit (fixed, formula, rate, tiers, schedule), the benefit's ceiling, the caps, rounding half
up to the fen, review, an unknown region, and 不重复享受 within the document. Every value is a pair of locals,
its value and whether it is known, so the three-valued logic of the scalar engine is kept exactly: ``and`` is
false as soon as one member is known false, unknown while one is unknown.

Numbers are exact without fractions: a value is an int64 numerator over a denominator the generator knows
(1 for money in fen and for counts; ``5%`` is 1 over 20; a product of two values has the product of their
denominators), so a sum brings both sides to a common denominator and only the final rounding divides. Every
product and sum is checked against the int64 range: a row that could overflow is flagged, and the runner then
evaluates the whole document with SQL instead (its DECIMAL(38) arithmetic holds it).

The code is branch-free where it can be (``&``, ``|``, arithmetic instead of ``if``): numba's compile time
grows with the number of blocks. Everything is computed for every row, both sides of an ``if`` included;
nothing can fail on a row (a division is only by a constant that is not zero). The assessed year, the
evaluation date and the history's first year are arguments, so one compiled kernel serves every scenario.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from huiqi.engine.results import Status
from huiqi.engine.ruleset import CompiledDocument, CompiledRule
from huiqi.expr import ast
from huiqi.expr.ast import Type
from huiqi.expr.parser import parse
from huiqi.facts.catalogue import Catalogue, Period
from huiqi.policy.models import Condition

from .inputs import Inputs, NoKernel, Spec

#: the amount written where a rule has none (its state is not an amount): null in the result
NO_AMOUNT = -(2**63)
#: a product beyond this magnitude flags the row (int64 holds 9.22e18; the margin covers the sums after it)
LIMIT = 2.0**61

_STATUS = {status: index for index, status in enumerate(Status)}


#: the ledger functions of the language and the aggregate each reads (``huiqi.kernel.inputs``)
_LEDGER_KINDS = {"paid": "paid", "paid_provision": "prov", "paid_years": "years", "paid_in_year": "paidp",
                 "paid_last": "last"}  # fmt: skip


def _period_offset(node: ast.Node) -> int | None:
    """``k`` where a year is written ``period + k`` or ``period - k`` (``period`` alone: 0), else None."""
    if isinstance(node, ast.Name) and node.id == "period":
        return 0
    if isinstance(node, ast.BinOp) and node.op in "+-" and isinstance(node.left, ast.Name) and node.left.id == "period":
        right = node.right
        if isinstance(right, ast.Number) and right.value.denominator == 1:
            return int(right.value) if node.op == "+" else -int(right.value)
    return None


def _reads_ledger(node: ast.Node) -> bool:
    """Whether an expression calls a ledger function (its value then depends on the rule that reads it)."""
    if isinstance(node, ast.Call) and (node.func in _LEDGER_KINDS or node.func == "paid_each_year"):
        return True
    return any(_reads_ledger(child) for child in ast.children(node))


def _and(*parts: str) -> str:
    """Conjunction of bool expressions without branches (``&``): numba compiles one block instead of one per
    operand (a document of 30 rules compiled in minutes with ``and``)."""
    return "(" + " & ".join(f"({p})" for p in parts) + ")" if len(parts) > 1 else f"({parts[0]})"


def _or(*parts: str) -> str:
    return "(" + " | ".join(f"({p})" for p in parts) + ")" if len(parts) > 1 else f"({parts[0]})"


def _not(part: str) -> str:
    return f"(({part}) ^ True)"


def _set(name: str, value: int, condition: str) -> str:
    """``name = value`` where ``condition`` holds, without a branch."""
    return f"{name} += ({value} - {name}) * ({condition})"


@dataclass
class Val:
    """One value in the generated code: its value and known expressions, kind and denominator."""

    v: str
    k: str
    kind: str  # num | bool | date
    den: int = 1
    #: the value, when it is a constant the generator can fold (a Fraction or a bool)
    const: Any = None


@dataclass
class KernelSource:
    """The generated kernel of one document: its source, its inputs in argument order, its rules."""

    name: str
    source: str
    inputs: list[Spec]
    rules: list[CompiledRule]
    region: str | None  # the jurisdiction tested per row (None: any jurisdiction)
    #: per rule: whether it has an amount output (a benefit that pays none has not)
    amounts: list[bool] = field(default_factory=list)


class _Gen:
    def __init__(
        self, document: CompiledDocument, catalogue: Catalogue, inputs: Inputs, readings: dict[str, str]
    ) -> None:
        self.document = document
        self.catalogue = catalogue
        self.inputs = inputs
        self.readings = readings
        self.scope = document.loaded.scope
        self.lines: list[str] = []
        self.specs: dict[Spec, int] = {}
        self.definitions: dict[tuple[str, str], Val] = {}
        self.counter = 0
        #: the rule being written: what ``paid()`` and its kin read
        self.rule: CompiledRule | None = None

    # -- plumbing ----------------------------------------------------------------------------
    def tmp(self, expr: str) -> str:
        self.counter += 1
        name = f"t{self.counter}"
        self.lines.append(f"{name} = {expr}")
        return name

    def input(self, spec: Spec) -> tuple[str, str]:
        if spec not in self.specs:
            self.inputs.get(spec)  # read now: a value the kernel cannot hold refuses the document here
            self.specs[spec] = len(self.specs)
        index = self.specs[spec]
        return f"a{index}[i]", f"k{index}[i]"

    def guard(self, a: str, b: str) -> None:
        """Flag the row when ``a * b`` could leave the int64 range."""
        self.lines.append(f"if abs(float({a})) * abs(float({b})) > {LIMIT!r}: ovf = True")

    def const(self, value: Fraction | bool) -> Val:
        if isinstance(value, bool):
            return Val(repr(value), "True", "bool", const=value)
        value = Fraction(value)
        return Val(str(value.numerator), "True", "num", value.denominator, const=value)

    def scaled(self, x: Val, den: int) -> str:
        """``x``'s numerator over ``den`` (a multiple of its own denominator)."""
        factor = den // x.den
        if factor == 1:
            return x.v
        if x.const is not None:
            return str(Fraction(x.const).numerator * factor)
        self.guard(x.v, str(factor))
        return self.tmp(f"{x.v} * {factor}")

    def common(self, *values: Val) -> tuple[int, list[str]]:
        den = math.lcm(*(v.den for v in values))
        return den, [self.scaled(v, den) for v in values]

    @staticmethod
    def known(*values: Val) -> str:
        parts = [v.k for v in values if v.k != "True"]
        return _and(*parts) if parts else "True"

    # -- expressions ---------------------------------------------------------------------------
    def text(self, text: str | int) -> Val:
        return self.expr(parse(str(text)))

    def expr(self, node: ast.Node) -> Val:
        if isinstance(node, ast.Money):
            return self.const(node.fen)
        if isinstance(node, ast.Number):
            return self.const(node.value)
        if isinstance(node, ast.Boolean):
            return self.const(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Negate):
            x = self.number(node.operand)
            if x.const is not None:
                return self.const(-x.const)
            return Val(self.tmp(f"-{x.v}"), x.k, "num", x.den)
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Contains):
            return self.contains(node)
        if isinstance(node, ast.And | ast.Or):
            return self.logic([self.boolean(i) for i in node.items], conjunction=isinstance(node, ast.And))
        if isinstance(node, ast.Not):
            x = self.boolean(node.operand)
            if x.const is not None:
                return self.const(not x.const)
            return Val(self.tmp(_not(x.v)), x.k, "bool")
        if isinstance(node, ast.Call):
            return self.call(node)
        raise NoKernel(f"编译内核不支持 {type(node).__name__}")

    def number(self, node: ast.Node) -> Val:
        x = self.expr(node)
        if x.kind != "num":
            raise NoKernel("编译内核只对数值做算术")
        return x

    def boolean(self, node: ast.Node) -> Val:
        x = self.expr(node)
        if x.kind != "bool":
            raise NoKernel("编译内核的条件须为是/否")
        return x

    def name(self, name: str) -> Val:
        if name == "period":
            return Val("period", "True", "num")  # an argument: one kernel serves every assessed year
        if name == "as_of":
            return Val("as_of", "True", "date")
        if name in self.catalogue:
            return self.fact(name)
        if name in self.scope.definitions:
            node = self.scope.definitions[name]
            # a definition reading the ledger reads the rule's own awards: one per rule
            memo = (name, self.rule.ref if self.rule is not None and _reads_ledger(node) else "")
            if memo not in self.definitions:
                self.definitions[memo] = self.expr(node)
            return self.definitions[memo]
        if name in self.scope.reading_names:
            key, options = self.scope.reading_names[name]
            return self.expr(options[self.readings[f"{self.scope.document}:{key}"]])
        raise NoKernel(f"编译内核不认识名称 {name!r}")

    def fact(self, key: str, spec: Spec | None = None) -> Val:
        """A fact's value (``spec``: at another year, or its largest value before the assessed year)."""
        fact = self.catalogue[key]
        if fact.period is Period.QUARTERLY:
            raise NoKernel(f"编译内核不支持按季度记录的事实 {key}")
        if fact.type in (Type.TEXT, Type.SET, Type.LIST, Type.ITEMS):
            raise NoKernel(f"编译内核只在与常量比较时读取文字事实 {key}")
        spec = spec or ("fact", key)
        v, k = self.input(spec)
        kind = {Type.MONEY: "num", Type.NUMBER: "num", Type.BOOL: "bool", Type.DATE: "date"}[fact.type]
        den = self.inputs.den(spec) if fact.type is Type.NUMBER else 1
        value = Val(v, k, kind, den)
        if spec[0] != "fact":
            return value
        if fact.default is None:
            return value
        default = fact.default
        if kind == "num":
            d = Fraction(default)
            if den % d.denominator:
                raise NoKernel(f"事实 {key} 的默认值不能按其分母表示")
            return Val(self.tmp(f"{v} if {k} else {d.numerator * (den // d.denominator)}"), "True", "num", den)
        if kind == "bool":
            return Val(self.tmp(f"{v} if {k} else {bool(default)!r}"), "True", "bool")
        raise NoKernel(f"编译内核不支持日期事实的默认值（{key}）")

    def binop(self, node: ast.BinOp) -> Val:
        a, b = self.number(node.left), self.number(node.right)
        if a.const is not None and b.const is not None and node.op in "+-*":
            left, right = Fraction(a.const), Fraction(b.const)
            return self.const(left + right if node.op == "+" else left - right if node.op == "-" else left * right)
        k = self.known(a, b)
        if node.op in "+-":
            den, (x, y) = self.common(a, b)
            self.guard(f"abs({x}) + abs({y})", "1")
            return Val(self.tmp(f"{x} {node.op} {y}"), k, "num", den)
        if node.op == "*":
            self.guard(a.v, b.v)
            return Val(self.tmp(f"{a.v} * {b.v}"), k, "num", a.den * b.den)
        if b.const is None or b.const == 0:
            raise NoKernel("编译内核只支持除以非零常量")
        divisor = Fraction(b.const)
        p, q = abs(divisor.numerator), divisor.denominator
        sign = "-" if divisor < 0 else ""
        self.guard(a.v, str(q))
        numerator = self.tmp(f"{sign}({a.v} * {q})")
        if node.op == "/":
            return Val(numerator, k, "num", a.den * p)
        return Val(self.tmp(f"{numerator} // {a.den * p}"), k, "num", 1)

    def compare(self, node: ast.Compare) -> Val:
        op = node.op
        texts = self.text_compare(node.left, node.right) or self.text_compare(node.right, node.left)
        if texts is not None:
            key, literal = texts
            v, k = self.input(("text_in", key, (literal,)))
            if op == "==":
                return Val(v, k, "bool")
            if op == "!=":
                return Val(self.tmp(_not(v)), k, "bool")
            raise NoKernel("文字只能比较相等")
        a, b = self.expr(node.left), self.expr(node.right)
        if a.kind != b.kind:
            raise NoKernel("比较两边类型不同")
        if a.const is not None and b.const is not None:
            return self.const(bool(eval(f"a.const {op} b.const")))  # noqa: S307 — op is one of six comparisons
        if a.kind == "num":
            _, (x, y) = self.common(a, b)
        else:
            x, y = a.v, b.v
        return Val(self.tmp(f"{x} {op} {y}"), self.known(a, b), "bool")

    def text_compare(self, left: ast.Node, right: ast.Node) -> tuple[str, str] | None:
        if not (isinstance(left, ast.Name) and isinstance(right, ast.Text) and left.id in self.catalogue):
            return None
        fact = self.catalogue[left.id]
        return (left.id, right.value) if fact.type is Type.TEXT and fact.period is not Period.QUARTERLY else None

    def contains(self, node: ast.Contains) -> Val:
        item, container = node.item, node.container
        spec: Spec
        if (
            isinstance(item, ast.Name) and item.id in self.catalogue and self.catalogue[item.id].type is Type.TEXT
            and self.catalogue[item.id].period is not Period.QUARTERLY and isinstance(container, ast.ListOf)
            and all(isinstance(i, ast.Text) for i in container.items)
        ):  # fmt: skip
            spec = ("text_in", item.id, tuple(i.value for i in container.items if isinstance(i, ast.Text)))
        elif (
            isinstance(item, ast.Text) and isinstance(container, ast.Name) and container.id in self.catalogue
            and self.catalogue[container.id].type is Type.SET and self.catalogue[container.id].period is not Period.QUARTERLY
        ):  # fmt: skip
            spec = ("set_has", container.id, item.value)
        else:
            raise NoKernel("编译内核只支持文字事实属于常量列表、常量属于集合事实")
        v, k = self.input(spec)
        return Val(self.tmp(_not(v)) if node.negated else v, k, "bool")

    def logic(self, items: list[Val], *, conjunction: bool) -> Val:
        """Three-valued and/or: decided by any known member that decides it, else unknown while one is."""
        decisive = [x for x in items if x.const is not None and x.const is not conjunction]
        if decisive:
            return self.const(not conjunction)
        items = [x for x in items if x.const is None]
        if not items:
            return self.const(conjunction)
        if len(items) == 1:
            return items[0]
        decided = self.tmp(_or(*(_and(x.k, _not(x.v) if conjunction else x.v) for x in items)))
        unknowns = [_not(x.k) for x in items if x.k != "True"]
        known = self.tmp(_or(decided, _not(_or(*unknowns)))) if unknowns else "True"
        return Val(decided if not conjunction else self.tmp(_not(decided)), known, "bool")

    def call(self, node: ast.Call) -> Val:
        name, args = node.func, node.args
        if name in ("min", "max"):
            values = [self.number(a) for a in args]
            if all(v.const is not None for v in values):
                pick = min if name == "min" else max
                return self.const(pick(Fraction(v.const) for v in values))
            den, parts = self.common(*values)
            return Val(self.tmp(f"{name}({', '.join(parts)})"), self.known(*values), "num", den)
        if name == "abs":
            x = self.number(args[0])
            return Val(self.tmp(f"abs({x.v})"), x.k, "num", x.den)
        if name in ("floor", "ceil", "round"):
            x = self.number(args[0])
            if x.den == 1:
                return x
            if name == "floor":
                return Val(self.tmp(f"{x.v} // {x.den}"), x.k, "num")
            if name == "ceil":
                return Val(self.tmp(f"-((-{x.v}) // {x.den})"), x.k, "num")
            return Val(self.round_half_up(x.v, x.den), x.k, "num")
        if name == "if":
            condition = self.boolean(args[0])
            then, other = self.expr(args[1]), self.expr(args[2])
            if then.kind != other.kind:
                raise NoKernel("if() 两个分支类型不同")
            if then.kind == "num":
                den, (yes, no) = self.common(then, other)
            else:
                den, (yes, no) = 1, [then.v, other.v]
            c = condition.v
            value = self.tmp(f"{yes} if {c} else {no}")
            known = self.tmp(_and(condition.k, f"({then.k}) if {c} else ({other.k})"))
            return Val(value, known, then.kind, den)
        if name in _LEDGER_KINDS:
            kind = _LEDGER_KINDS[name]
            v, k = self.input(("ledger", kind, self.ledger_ref(kind)))
            return Val(v, k, "num")
        if name == "paid_each_year":
            years = int(args[0].value) if args and isinstance(args[0], ast.Number) else 1
            v, _ = self.input(("ledger", "each", self.ledger_ref("each"), years))
            return Val(self.tmp(f"{v} == {years}"), "True", "bool")
        if name == "has":
            x = self.expr(args[0])
            return Val(x.k, "True", "bool")
        if name == "in_region" and isinstance(args[0], ast.Text):
            v, k = self.input(("in_region", args[0].value))
            return Val(v, k, "bool")
        if name in ("years_since", "year") and self.plain_date(args[0]):
            v, k = self.input((name, args[0].id))  # type: ignore[attr-defined]
            return Val(v, k, "num")
        if name == "days_between":
            a, b = self.expr(args[0]), self.expr(args[1])
            if a.kind == b.kind == "date":
                return Val(self.tmp(f"{b.v} - {a.v}"), self.known(a, b), "num")
        if name == "at" and isinstance(args[0], ast.Name) and args[0].id in self.catalogue:
            offset = _period_offset(args[1])
            if offset is None:
                raise NoKernel("at() 的年份须为 period 加减常量")
            if self.catalogue[args[0].id].period is not Period.ANNUAL:
                raise NoKernel("at() 只读取年度事实")
            return self.fact(args[0].id, ("at", args[0].id, offset))
        if name in ("first_reached", "first_exceeded") and isinstance(args[0], ast.Name):
            return self.first_reached(args[0].id, args[1], exceeded=name == "first_exceeded")
        if name == "add_years" and isinstance(args[0], ast.Name) and args[0].id in self.catalogue:
            shift = self.number(args[1])
            fact = self.catalogue[args[0].id]
            if (
                fact.type is Type.DATE
                and fact.default is None
                and shift.const is not None
                and Fraction(shift.const).denominator == 1
            ):
                v, k = self.input(("add_years", args[0].id, int(shift.const)))
                return Val(v, k, "date")
        if name == "sum_years" and isinstance(args[0], ast.Name) and args[0].id in self.catalogue:
            return self.sum_years(args[0].id, self.number(args[1]), self.number(args[2]))
        if name == "max_before" and isinstance(args[0], ast.Name):
            return self.fact(args[0].id, ("max_before", args[0].id))
        if name == "date" and isinstance(args[0], ast.Text):
            import datetime as dt

            return Val(str(dt.date.fromisoformat(args[0].value).toordinal() - 719163), "True", "date")
        raise NoKernel(f"编译内核不支持函数 {name}()")

    def ledger_ref(self, kind: str) -> str:
        """What a ledger function reads: the rule's ledger reference, or its provision's."""
        if self.rule is None:
            raise NoKernel("台账函数只能在规则中使用")
        return self.rule.provision_ref if kind == "prov" else self.rule.ledger_ref

    def plain_date(self, node: ast.Node) -> bool:
        """A date fact without a default: read as a column the inputs derive from (its year, years since it)."""
        if not isinstance(node, ast.Name) or node.id not in self.catalogue:
            return False
        fact = self.catalogue[node.id]
        return fact.type is Type.DATE and fact.default is None

    def sum_years(self, key: str, first: Val, last: Val) -> Val:
        """The fact summed over the years ``first`` to ``last`` (at most the assessed year), unknown where one
        of them is missing (as ``huiqi.engine.compiler._sum_years``)."""
        if self.catalogue[key].period is not Period.ANNUAL or first.den != 1 or last.den != 1:
            raise NoKernel("sum_years() 须累加年度事实、年份为整数")
        values, known = self.input(("series", key))
        matrix, present = values.removesuffix("[i]"), known.removesuffix("[i]")
        start = "series_start"
        total, missing = self.tmp("0"), self.tmp("False")
        self.lines += [
            f"for year in range({first.v}, min({last.v}, period) + 1):",
            f"    if year < {start} or not {present}[i, year - {start}]:",  # a loop: branches as written
            f"        {missing} = True",
            "    else:",
            f"        {total} += {matrix}[i, year - {start}]",
        ]
        return Val(total, self.tmp(_and(self.known(first, last), _not(missing))), "num")

    def first_reached(self, key: str, threshold: ast.Node, *, exceeded: bool) -> Val:
        """首次达到 / 首次超过, as ``huiqi.engine.compiler``: false below the threshold whatever came before;
        else whether the largest earlier value was below it (at or below it, for 首次超过)."""
        if key not in self.catalogue or self.catalogue[key].period is not Period.ANNUAL:
            raise NoKernel("first_reached() 只读取年度事实")
        now, limit = self.fact(key), self.number(threshold)
        before = self.fact(key, ("max_before", key))
        _, (x, y, z) = self.common(now, limit, before)
        below = f"{x} <= {y}" if exceeded else f"{x} < {y}"
        known_now = self.known(now, limit)
        early_false = self.tmp(_and(known_now, below))
        value = self.tmp(_and(_not(early_false), f"{z} <= {y}" if exceeded else f"{z} < {y}"))
        known = self.tmp(_or(early_false, _and(known_now, before.k)))
        return Val(value, known, "bool")

    def round_half_up(self, numerator: str, den: int) -> str:
        """``round_half_up`` of ``numerator / den``: halves away from zero, as ``huiqi.money``."""
        self.guard(numerator, "2")
        return self.tmp(
            f"(2 * {numerator} + {den}) // {2 * den} if {numerator} >= 0 else -((2 * (-{numerator}) + {den}) // {2 * den})"
        )

    def condition(self, raw: Condition | None) -> Val:
        if raw is None:
            return self.const(True)
        if isinstance(raw, bool):
            return self.const(raw)
        if isinstance(raw, str | int):
            return self.boolean(parse(str(raw)))
        if "expr" in raw:
            return self.boolean(parse(str(raw["expr"])))
        if "all" in raw or "any" in raw:
            members = [self.condition(m) for m in (raw.get("all") or raw.get("any") or [])]
            return self.logic(members, conjunction="all" in raw)
        x = self.condition(raw["not"])
        return self.const(not x.const) if x.const is not None else Val(self.tmp(_not(x.v)), x.k, "bool")


#: benefit states (as the SQL compiler's): an amount, unknown, no tier or step reached, no amount at all
_OK, _UNKNOWN, _NOT_REACHED, _NONE = 0, 1, 2, 3


def _benefit(gen: _Gen, rule: CompiledRule) -> tuple[str, str, int]:
    """(state, amount numerator, denominator) of a rule's benefit before its caps, as ``Engine._benefit``."""
    benefit = rule.rule.benefit
    if benefit.form == "none":
        return str(_NONE), "0", 1
    if benefit.form in ("fixed", "formula"):
        assert benefit.amount is not None
        x = gen.number(parse(str(benefit.amount)))
        state, amount, den = gen.tmp(f"{_OK} if {x.k} else {_UNKNOWN}"), x.v, x.den
    elif benefit.form == "rate":
        base, rate = gen.number(parse(str(benefit.base))), gen.number(parse(str(benefit.rate)))
        gen.guard(base.v, rate.v)
        product = gen.tmp(f"{base.v} * {rate.v}")
        amount, den = gen.tmp(f"{product} if {product} > 0 else 0"), base.den * rate.den
        state = gen.tmp(f"{_OK} if {gen.known(base, rate)} else {_UNKNOWN}")
    elif benefit.form == "schedule":
        state, amount, den = _schedule(gen, rule)
    elif benefit.form == "tiers":
        state, amount, den = _tiers(gen, rule)
    else:
        raise NoKernel(f"编译内核不支持 {benefit.form} 形式的给付")
    if benefit.ceiling is None:
        return state, amount, den
    ceiling = gen.number(parse(str(benefit.ceiling)))
    top, (below, limit) = gen.common(Val(amount, "True", "num", den), ceiling)
    capped = gen.tmp(f"min({below}, {limit})")
    # an unknown ceiling makes an amount unknown (the engine returns it before comparing)
    state = gen.tmp(f"{state} if {_or(f'{state} != {_OK}', ceiling.k)} else {_UNKNOWN}")
    return state, capped, top


def _schedule(gen: _Gen, rule: CompiledRule) -> tuple[str, str, int]:
    benefit = rule.rule.benefit
    assert benefit.index is not None and benefit.base is not None and benefit.steps
    index = gen.number(parse(str(benefit.index)))
    base = gen.number(parse(str(benefit.base)))
    rates = [gen.number(parse(str(step.rate))) for step in benefit.steps]
    den = math.lcm(*(base.den * r.den for r in rates))
    state, amount = str(_NOT_REACHED), "0"
    # the first step whose years hold the index, as the engine's loop; written last to first so the first wins
    for step, rate in reversed(list(zip(benefit.steps, rates, strict=True))):
        first, last = step.years
        within = gen.tmp(_and(f"{first * index.den} <= {index.v}", f"{index.v} <= {last * index.den}"))
        gen.guard(base.v, rate.v)
        product = gen.scaled(Val(gen.tmp(f"{base.v} * {rate.v}"), "True", "num", base.den * rate.den), den)
        ok = gen.tmp(f"{_OK} if {gen.known(base, rate)} else {_UNKNOWN}")
        state = gen.tmp(f"{ok} if {within} else {state}")
        amount = gen.tmp(f"{product} if {within} else {amount}")
    state = gen.tmp(f"{state} if {index.k} else {_UNKNOWN}")
    return state, amount, den


def _tiers(gen: _Gen, rule: CompiledRule) -> tuple[str, str, int]:
    """Tiers as ``Engine._tiers``: highest pays the largest amount reached unless its tier was paid; top_up the
    largest less what the rule paid; each the sum of the tiers reached and not yet paid."""
    benefit = rule.rule.benefit
    assert benefit.tiers
    tiers = [(gen.condition(t.when), gen.number(parse(str(t.amount)))) for t in benefit.tiers]
    den = math.lcm(*(a.den for _, a in tiers))
    mode = benefit.mode or "highest"
    reached, pending, parts = [], [], []
    for when, paid in tiers:
        scaled = gen.scaled(paid, den)
        unknown = _or(_not(when.k), _not(paid.k)) if gen.known(when, paid) != "True" else "False"
        pending.append(unknown)
        hit = gen.tmp(_and(_not(unknown), when.v))
        reached.append(hit)
        parts.append(scaled)
    any_reached = gen.tmp(_or(*reached))
    any_pending = gen.tmp(_or(*pending))
    paid_tier = [gen.input(("ledger", "tier", rule.ledger_ref, t.id))[0] + " > 0" for t in benefit.tiers]
    if mode == "each":
        due = [gen.tmp(_and(r, _not(p))) for r, p in zip(reached, paid_tier, strict=True)]
        amount = gen.tmp(" + ".join(f"({p} if {d} else 0)" for p, d in zip(parts, due, strict=True)))
        any_due = gen.tmp(_or(*due))
        state = gen.tmp(f"{_OK} if {any_due} else ({_UNKNOWN} if {any_pending} else {_NOT_REACHED})")
        return state, amount, den
    best, best_paid = gen.tmp("-(2**62)"), gen.tmp("False")
    for p, r, t in zip(parts, reached, paid_tier, strict=True):  # the first largest, as max() in the engine
        gen.lines.append(f"if {r} and {p} > {best}:")
        gen.lines.append(f"    {best} = {p}")
        gen.lines.append(f"    {best_paid} = {t}")
    gen.lines.append(f"if not {any_reached}: {best} = 0")  # no tier reached: no amount (and no sentinel in sums)
    state = gen.tmp(f"{_OK} if {any_reached} else ({_UNKNOWN} if {any_pending} else {_NOT_REACHED})")
    if mode == "top_up":
        already = gen.input(("ledger", "paid", rule.ledger_ref))[0]
        gen.guard(f"abs({best}) + abs({already} * {den})", "1")
        amount = gen.tmp(f"{best} - {already} * {den}")
        state = gen.tmp(f"{_NOT_REACHED} if {_and(f'{state} == {_OK}', f'{amount} <= 0')} else {state}")
        return state, amount, den
    state = gen.tmp(f"{_NOT_REACHED} if {_and(f'{state} == {_OK}', best_paid)} else {state}")
    return state, best, den


def generate(
    document: CompiledDocument, catalogue: Catalogue, inputs: Inputs, *, readings: dict[str, str],
    any_jurisdiction: bool, quarter: int | None = None,
) -> KernelSource:  # fmt: skip
    """The kernel of one document over ``inputs``, or ``NoKernel`` with the reason it cannot be one."""
    doc_id = document.loaded.id
    if quarter is not None:
        raise NoKernel("编译内核不支持按季度评估")
    rules = [r for r in document.rules if all(readings.get(k) == v for k, v in r.when_reading)]
    gen = _Gen(document, catalogue, inputs, readings)
    amounts = []
    for index, rule in enumerate(rules):
        gen.rule = rule
        gen.lines.append(f"# {rule.ref}")
        _rule(gen, rule, index, any_jurisdiction=any_jurisdiction)
        amounts.append(rule.rule.benefit.form != "none")
    constants = _exclusions(gen, document, rules, readings)
    region = None if any_jurisdiction else document.loaded.policy.document.jurisdiction.region
    specs = list(gen.specs)
    args = ", ".join(
        [f"a{i}, k{i}" for i in range(len(specs))]
        + ["reached", "region_ok", "status", "amount", "ovf_rows", "start", "stop", "period", "as_of", "series_start"]
    )
    body = "\n".join("        " + line for line in gen.lines)
    name = "kernel_" + "".join(c if c.isalnum() else "_" for c in doc_id)
    source = (
        "import numba\nimport numpy as np\n\n"
        + "".join(f"{constant} = np.array({values!r}, dtype=np.int64)\n" for constant, values in constants.items())
        + "\n\n"
        f"@numba.njit(nogil=True, cache=True)\n"
        f"def {name}({args}):\n"
        # the rows in the jurisdiction (or not known to be outside it), each result written at its place
        # among them: the outputs hold only the rows the document reaches (None: every row; numba compiles
        # that case apart, without the indirection)
        f"    for j in range(start, stop):\n"
        f"        i = j if reached is None else reached[j]\n"
        f"        ovf = False\n"
        f"        region = region_ok[i]\n"
        f"{body}\n"
        f"        ovf_rows[j] = ovf\n"
    )
    return KernelSource(name=name, source=source, inputs=specs, rules=rules, region=region, amounts=amounts)


def _exclusions(
    gen: _Gen, document: CompiledDocument, rules: list[CompiledRule], readings: dict[str, str]
) -> dict[str, list[int]]:
    """不重复享受 within the document, as ``huiqi.engine.evaluate._apply_exclusions``: of the eligible members,
    the allowed combination with the highest total (the first in size-descending, lexicographic order on ties);
    the eligible members left out are excluded. A rule of a group paid before (in the ledger) uses up its
    group's allowance whether or not it is eligible now.

    The generator lists, per group, how many of its members each subset of the members holds (``COUNT<g>``,
    by bit mask) and every subset in the engine's order (``ORDER``); a row whose eligible members are allowed
    together, the usual case, loops over nothing."""
    doc_id = document.loaded.id
    active = [e for e in document.exclusions
              if all(readings.get(f"{doc_id}:{k}") == v for k, v in e.when_reading.items())]  # fmt: skip
    local = {f"{r.provision.id}/{r.rule.id}": i for i, r in enumerate(rules)}
    members = sorted({ref for e in active for ref in e.rules if ref in local})
    if not members:
        return {}
    if len(members) > 16:
        raise NoKernel("互斥组成员超过16条规则：由 SQL 计算")
    gen.rule = None
    constants: dict[str, list[int]] = {}
    eligible, excluded = _STATUS[Status.ELIGIBLE], _STATUS[Status.EXCLUDED]
    columns = [local[ref] for ref in members]
    lines = gen.lines

    def paid_before(ref: str) -> str:
        return f"({gen.input(('ledger', 'paid', document.ledger_refs.get(ref, '')))[0]} > 0)"

    lines.append("e = 0")
    lines.append("pm = 0")
    for b, (ref, c) in enumerate(zip(members, columns, strict=True)):
        lines.append(f"if status[{c}, j] == {eligible}: e |= {1 << b}")
        lines.append(f"if {paid_before(ref)}: pm |= {1 << b}")
    tests = []
    for g, exclusion in enumerate(active):
        mask = sum(1 << members.index(ref) for ref in exclusion.rules if ref in members)
        constants[f"COUNT{g}"] = [(subset & mask).bit_count() for subset in range(1 << len(members))]
        others = [paid_before(ref) for ref in exclusion.rules if ref not in members]
        lines.append(f"other{g} = " + (" + ".join(f"int{o}" for o in others) if others else "0"))
        tests.append(f"COUNT{g}[{{s}} | pm] + other{g} <= {exclusion.max}")
    allowed = " and ".join(tests)
    constants["ORDER"] = [sum(1 << b for b in combo) for size in range(len(members), -1, -1)
                          for combo in itertools.combinations(range(len(members)), size)]  # fmt: skip
    lines.append(f"if not ({allowed.format(s='e')}):")
    lines.append("    best = -1")
    lines.append("    keep = 0")
    lines.append("    for subset in ORDER:")
    lines.append(f"        if subset & e == subset and {allowed.format(s='subset')}:")
    lines.append("            total = 0")
    for b, c in enumerate(columns):
        lines.append(f"            if subset & {1 << b} and amount[{c}, j] != {NO_AMOUNT}: total += amount[{c}, j]")
    lines.append("            if total > best:")
    lines.append("                best = total")
    lines.append("                keep = subset")
    lines += [
        f"    if e & {1 << b} and not keep & {1 << b}: status[{c}, j] = {excluded}" for b, c in enumerate(columns)
    ]
    return constants


def _rule(gen: _Gen, rule: CompiledRule, index: int, *, any_jurisdiction: bool) -> None:
    """The status and amount of one rule, in the order ``Engine._run`` decides them."""
    s = _STATUS
    types = tuple(sorted(rule.applies_to))
    applies_v, applies_k = gen.input(("applies", types))
    condition = gen.condition(rule.rule.conditions)
    state, amount, den = _benefit(gen, rule)
    lines = gen.lines
    fen = "0"
    if rule.rule.benefit.form != "none":
        # caps (``_apply_caps``): each leaves what it allows less what was paid under it; one at or below 0 is
        # used up, and the amount is at most every remainder
        used_up = []
        capped = Val(amount, "True", "num", den)
        for cap_rule in rule.rule.caps:
            cap = gen.number(parse(str(cap_rule.amount)))
            if cap.k != "True":
                raise NoKernel(f"规则 {rule.ref} 的上限读取事实：由 SQL 计算")
            if cap_rule.scope == "per_quarter":
                raise NoKernel("编译内核不支持按季度的上限")
            kind = "paidp" if cap_rule.scope == "per_year" else "prov" if cap_rule.over == "provision" else "paid"
            already, _ = gen.input(("ledger", kind, gen.ledger_ref(kind)))
            paid = Val(already, "True", "num")
            remaining_den, (c, p) = gen.common(cap, paid)
            remaining = Val(gen.tmp(f"{c} - {p}"), "True", "num", remaining_den)
            top, (x, y) = gen.common(capped, remaining)
            capped = Val(gen.tmp(f"min({x}, {y})"), "True", "num", top)
            used_up.append(f"{remaining.v} <= 0")
        fen = gen.round_half_up(capped.v, capped.den) if capped.den != 1 else capped.v
        exhausted = _or(*used_up) if used_up else "False"
    else:
        exhausted = "False"
    final = s[Status.NEEDS_REVIEW] if rule.rule.benefit.review else s[Status.ELIGIBLE]
    info, not_eligible = s[Status.NEEDS_INFORMATION], s[Status.NOT_ELIGIBLE]
    c_known, c_value = condition.k, condition.v
    lines += [
        f"st = {final}",
        _set("st", not_eligible, _and(f"{state} == {_OK}", _or(f"{fen} <= 0", exhausted))),
        _set("st", not_eligible, f"{state} == {_NOT_REACHED}"),
        _set("st", info, _or(f"{state} == {_UNKNOWN}", _not(c_known))),
    ]
    if not any_jurisdiction:  # an unknown region: what would need it needs information; not eligible stays
        lines.append(_set("st", info, _and("region < 0", f"st == {final}")))
    # what the ledger decides before the benefit (``Engine._run``): 连续支持 years used up, an award that rules
    # the rule out (不得重复享受 across documents), 一次性 already paid; each written after what it overrides
    if rule.rule.duration is not None:
        years = gen.input(("ledger", "years", rule.ledger_ref))[0]
        this_year = gen.input(("ledger", "paidp", rule.ledger_ref))[0]
        lines.append(_set("st", not_eligible, _and(f"{years} >= {rule.rule.duration.max_years}", f"{this_year} == 0")))
    conflicts = [c for c in gen.document.conflicts.get(rule.ref, []) if c.holds(gen.readings)]
    if conflicts:
        any_year = tuple(sorted({c.ledger_ref for c in conflicts if c.any_year}))
        this_period = tuple(sorted({c.ledger_ref for c in conflicts if not c.any_year}))
        found = gen.input(("ledger", "xdup", any_year, this_period))[0]
        lines.append(_set("st", s[Status.EXCLUDED], f"{found} > 0"))
    if rule.rule.once:
        lines.append(_set("st", not_eligible, f"{gen.input(('ledger', 'paid', rule.ledger_ref))[0]} > 0"))
    lines += [
        _set("st", not_eligible, _and(c_known, _not(c_value))),
        _set("st", s[Status.NOT_APPLICABLE], _and(applies_k, _not(applies_v))),
        f"status[{index}, j] = st",
        f"amount[{index}, j] = {fen} if {state} == {_OK} else {NO_AMOUNT}",
    ]
