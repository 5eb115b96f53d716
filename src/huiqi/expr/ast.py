"""Typed, immutable nodes of the rule expression language.

A parsed expression is a tree of these frozen dataclasses. Nothing here evaluates anything:
``huiqi.expr.check`` gives each node a type, ``huiqi.engine.compiler`` turns a tree into a scalar
evaluator and ``huiqi.compile`` (population engine) into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction


class Type(StrEnum):
    """The value types of the language (and of facts)."""

    MONEY = "money"  # 金额, exact fen
    NUMBER = "number"  # 数值 (counts, rates, years)
    BOOL = "bool"
    DATE = "date"
    TEXT = "text"
    SET = "set"  # a set of texts (certifications, list memberships)
    LIST = "list"  # a literal list of texts or numbers
    ITEMS = "items"  # a list of items with fields (certificates with level and fee …): read by per_item rules


class Node:
    """Base class of all expression nodes."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Number(Node):
    """A numeric literal; ``unit`` is the written unit (人, %, ‰ …) and ``value`` is already scaled."""

    value: Fraction
    unit: str
    text: str


@dataclass(frozen=True, slots=True)
class Money(Node):
    """A money literal in exact fen (``50万元`` → 500000000)."""

    fen: Fraction
    text: str


@dataclass(frozen=True, slots=True)
class Text(Node):
    """A quoted string literal."""

    value: str


@dataclass(frozen=True, slots=True)
class Boolean(Node):
    """``true`` or ``false``."""

    value: bool


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A fact, a definition of the document, or ``period`` / ``as_of``."""

    id: str


@dataclass(frozen=True, slots=True)
class ListOf(Node):
    """A literal list ``['a', 'b']``."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Negate(Node):
    """Arithmetic negation ``-x``."""

    operand: Node


@dataclass(frozen=True, slots=True)
class BinOp(Node):
    """Arithmetic: ``+ - * / //``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """A comparison ``>= > <= < == !=``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Contains(Node):
    """Membership ``item in container`` (negated for ``not in``)."""

    item: Node
    container: Node
    negated: bool


@dataclass(frozen=True, slots=True)
class And(Node):
    """Conjunction (three-valued)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or(Node):
    """Disjunction (three-valued)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not(Node):
    """Negation (three-valued)."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A call of one of the language's functions (see ``huiqi.expr.functions``)."""

    func: str
    args: tuple[Node, ...]


def names(node: Node) -> list[str]:
    """Every ``Name`` in a tree, in order of appearance, without repeats.

    >>> from huiqi.expr.parser import parse
    >>> names(parse("revenue >= 1亿元 and staff > 20 and revenue < 2亿元"))
    ['revenue', 'staff']
    """
    seen: dict[str, None] = {}
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Name):
            seen.setdefault(current.id, None)
        stack.extend(reversed(children(current)))
    return list(seen)


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of a node."""
    if isinstance(node, BinOp | Compare):
        return (node.left, node.right)
    if isinstance(node, Contains):
        return (node.item, node.container)
    if isinstance(node, And | Or | ListOf):
        return node.items
    if isinstance(node, Not | Negate):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    return ()
