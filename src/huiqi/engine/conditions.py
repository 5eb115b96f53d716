"""Condition trees (all / any / not / leaf): compiled once, evaluated with a trace per leaf."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from huiqi.expr import ast
from huiqi.expr.ast import Type
from huiqi.expr.parser import parse
from huiqi.expr.render import render
from huiqi.policy.models import Condition

from .compiler import CompileScope, Fn, compile_node
from .env import Env
from .results import Trace
from .values import Unknown


@dataclass(frozen=True, slots=True)
class Threshold:
    """A comparison of a fact with a constant inside a leaf: what "nearest way to qualify" can move."""

    fact: str
    op: str  # normalised so that the fact is on the left
    target: Fn
    kind: Type
    first_reached: bool = False
    #: the unit the policy writes the bound in (亿元, 万元, 元, %, ‰, 人 …; "" when not a plain literal),
    #: so that hints speak it: "达到50亿元（现为5.3亿元）"
    unit: str = ""


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    """A node of a compiled condition tree."""

    kind: str  # leaf | all | any | not
    label: str
    expr: str = ""
    fn: Fn | None = None
    #: (name, Chinese label, reader, type, unit) of each name a leaf reads
    inputs: tuple[tuple[str, str, Fn, Type | None, str | None], ...] = ()
    children: tuple[CompiledCondition, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    #: ``value(env)``: the three-valued result alone, without building the trace — ``all`` stops at a false
    #: member and ``any`` at a true one (the result is then decided whatever the others are). A closure made
    #: once from the tree (``_value_of``): a method walking the tree took 10–20 % longer for a document's
    #: conditions, which are read for every entity.
    value: Fn = field(init=False, repr=False, compare=False)
    #: ``evaluate(env)``: the three-valued result and its trace, every member evaluated (the explanation shows
    #: them all). A closure made once from the tree (``_traced_of``), as ``value`` is: the method that walked
    #: the tree and asked each node its kind took about a third longer for the seed base's conditions.
    evaluate: Callable[[Env], tuple[Any, Trace]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _value_of(self))
        object.__setattr__(self, "evaluate", _traced_of(self))

    def failing_thresholds(self, env: Env) -> list[Threshold] | None:
        """The thresholds to move to make this condition true, or None when no numeric move can.

        Conservative: an ``all`` needs every failing member fixed; an ``any`` uses its first member
        that can be fixed; a failing leaf without a movable threshold makes the whole thing unfixable.
        """
        if self.kind == "leaf":
            assert self.fn is not None
            value = self.fn(env)
            if value is True or (type(value) is Unknown):
                return []
            failing = [t for t in self.thresholds if _threshold_fails(t, env)]
            return failing or None
        if self.kind == "not":
            value = self.value(env)
            return [] if value is True or (type(value) is Unknown) else None
        if self.kind == "all":
            found: list[Threshold] = []
            for member in self.children:
                part = member.failing_thresholds(env)
                if part is None:
                    return None
                found.extend(part)
            return found
        best: list[Threshold] | None = None
        for member in self.children:
            part = member.failing_thresholds(env)
            if part == []:
                return []
            if part is not None and (best is None or len(part) < len(best)):
                best = part
        return best


def _value_of(condition: CompiledCondition) -> Fn:
    """The closure behind ``CompiledCondition.value``: a value is True, False or ``Unknown``."""
    if condition.kind == "leaf":
        fn = condition.fn
        assert fn is not None

        def leaf(env: Env) -> Any:
            value = fn(env)
            return value if value is True or value is False or type(value) is Unknown else bool(value)

        return leaf
    members = tuple(child.value for child in condition.children)
    if condition.kind == "not":
        child = members[0]

        def not_(env: Env) -> Any:
            value = child(env)
            return value if type(value) is Unknown else not value

        return not_
    stop = condition.kind == "any"  # the value that decides: True for any, False for all

    def group(env: Env) -> Any:
        unknown: Unknown | None = None
        for member in members:
            value = member(env)
            if value is stop:
                return stop
            if type(value) is Unknown:
                unknown = value if unknown is None else unknown | value
        return not stop if unknown is None else unknown

    return group


def _traced_of(condition: CompiledCondition) -> Callable[[Env], tuple[Any, Trace]]:
    """The closure behind ``CompiledCondition.evaluate``: a value (True, False or ``Unknown``) and its trace,
    the inputs a leaf reads given as they are (formatted only when shown)."""
    label = condition.label
    if condition.kind == "leaf":
        fn, expr, inputs = condition.fn, condition.expr, condition.inputs
        assert fn is not None

        if len(inputs) == 1:  # most leaves read one name
            name, text, reader, kind, unit = inputs[0]

            def leaf_of_one(env: Env) -> tuple[Any, Trace]:
                value = fn(env)
                read = [(name, text, reader(env), kind, unit)]
                return value, Trace("leaf", label, None if type(value) is Unknown else bool(value), expr, read)

            return leaf_of_one

        def leaf(env: Env) -> tuple[Any, Trace]:
            value = fn(env)
            read = [(name, text, reader(env), kind, unit) for name, text, reader, kind, unit in inputs]
            return value, Trace("leaf", label, None if type(value) is Unknown else bool(value), expr, read)

        return leaf
    members = tuple(child.evaluate for child in condition.children)
    if condition.kind == "not":
        child = members[0]

        def not_(env: Env) -> tuple[Any, Trace]:
            value, trace = child(env)
            if type(value) is Unknown:
                return value, Trace("not", label, None, "", (), [trace])
            return not value, Trace("not", label, not value, "", (), [trace])

        return not_
    node = condition.kind
    stop = node == "any"  # the value that decides: True for any, False for all

    def group(env: Env) -> tuple[Any, Trace]:
        traces: list[Trace] = []
        unknown: Unknown | None = None
        decided = False
        for member in members:
            value, trace = member(env)
            traces.append(trace)
            if value is stop:
                decided = True
            elif type(value) is Unknown:
                unknown = value if unknown is None else unknown | value
        if decided:
            return stop, Trace(node, label, stop, "", (), traces)
        if unknown is None:
            return not stop, Trace(node, label, not stop, "", (), traces)
        return unknown, Trace(node, label, None, "", (), traces)

    return group


def _threshold_fails(threshold: Threshold, env: Env) -> bool:
    from .nearest import current_value

    current = current_value(threshold, env)
    target = threshold.target(env)
    if (type(current) is Unknown) or (type(target) is Unknown):
        return False
    return not _holds(threshold.op, current, target)


def _holds(op: str, current: Any, target: Any) -> bool:
    return bool(
        {">=": current >= target, ">": current > target, "<=": current <= target, "<": current < target}.get(
            op, current == target
        )
    )


#: the labels of an unlabelled all / any (an unmet any is explained as "以下条件均不满足")
ALL_LABEL = "以下条件全部满足"
ANY_LABEL = "以下条件之一满足"

_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


def compile_condition(raw: Condition, scope: CompileScope, label_of: Any = None) -> CompiledCondition:
    """Compile a condition as written in policy.yaml (string, {expr,label}, {all}, {any}, {not})."""
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    if isinstance(raw, str | int):
        return _leaf(str(raw), None, scope)
    label = raw.get("label")
    if "expr" in raw:
        return _leaf(str(raw["expr"]), label, scope)
    for kind in ("all", "any"):
        if kind in raw:
            children = tuple(compile_condition(member, scope) for member in raw[kind])
            joiner = "且" if kind == "all" else "或"
            return CompiledCondition(kind, label or (ALL_LABEL if kind == "all" else ANY_LABEL), children=children,
                                     expr=joiner)  # fmt: skip
    child = compile_condition(raw["not"], scope)
    return CompiledCondition("not", label or f"非：{child.label}", children=(child,))


def _leaf(text: str, label: str | None, scope: CompileScope) -> CompiledCondition:
    node = parse(text)
    readable = render(node, scope.label)
    inputs = []
    for name in ast.names(node):
        if name in ("period", "as_of"):
            continue
        fact = scope.catalogue.get(name)
        unit = fact.unit if fact is not None else None
        inputs.append((name, scope.label(name), scope.compile_name(name), scope.type_of(name), unit))
    return CompiledCondition(
        "leaf",
        label or readable,
        expr=readable if label else text,
        fn=compile_node(node, scope),
        inputs=tuple(inputs),
        thresholds=tuple(_thresholds(node, scope)),
    )


def _thresholds(node: ast.Node, scope: CompileScope) -> list[Threshold]:
    found: list[Threshold] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Compare):
            for fact_side, other, op in (
                (current.left, current.right, current.op),
                (current.right, current.left, _FLIP[current.op]),
            ):
                if isinstance(fact_side, ast.Name) and fact_side.id in scope.catalogue and not ast.names(other):
                    kind = scope.type_of(fact_side.id)
                    if kind in (Type.MONEY, Type.NUMBER) and op in (">=", ">", "<=", "<"):
                        found.append(Threshold(fact_side.id, op, compile_node(other, scope), kind, False,
                                               _unit(other)))  # fmt: skip
        elif isinstance(current, ast.Call) and current.func in ("first_reached", "first_exceeded"):
            fact, limit = current.args
            if isinstance(fact, ast.Name) and not ast.names(limit):
                kind = scope.type_of(fact.id) or Type.MONEY
                op = ">" if current.func == "first_exceeded" else ">="
                found.append(Threshold(fact.id, op, compile_node(limit, scope), kind, True, _unit(limit)))
        elif isinstance(current, ast.And):
            stack.extend(current.items)
    return found


_MONEY_SUFFIXES = (("亿元", "亿元"), ("万元", "万元"), ("亿", "亿元"), ("万", "万元"), ("元", "元"))


def _unit(node: ast.Node) -> str:
    """The unit of a bound written as a literal (``50亿元`` → 亿元, ``5%`` → %); "" otherwise."""
    if isinstance(node, ast.Money):
        text = node.text.strip()
        return next((unit for suffix, unit in _MONEY_SUFFIXES if text.endswith(suffix)), "元")
    if isinstance(node, ast.Number):
        return node.unit
    return ""


def needed_value(threshold: Threshold, env: Env) -> Fraction | Unknown:
    """The smallest change of the fact that meets the threshold (one fen / one unit past a strict bound)."""
    target = threshold.target(env)
    if type(target) is Unknown:
        return target
    step = Fraction(1)
    if threshold.op == ">":
        return Fraction(target) + step
    if threshold.op == "<":
        return Fraction(target) - step
    return Fraction(target)
