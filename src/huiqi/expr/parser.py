"""Parse expression text into ``huiqi.expr.ast`` nodes with Lark; errors say where and what is wrong."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from importlib.resources import files
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from huiqi.errors import ExpressionError
from huiqi.expr import ast
from huiqi.money import MONEY_UNITS

_RATE_UNITS = {"%": Fraction(1, 100), "‰": Fraction(1, 1000)}
_COUNT_UNITS = ("人", "家", "年", "个", "项", "天", "月")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = files("huiqi.expr").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", maybe_placeholders=False)


def quantity(text: str) -> ast.Number | ast.Money:
    """Turn a written quantity into a literal node.

    >>> quantity("50万元")
    Money(fen=Fraction(500000000, 1), text='50万元')
    >>> quantity("2‰").value
    Fraction(1, 500)
    """
    for unit in ("亿元", "万元", "元"):
        if text.endswith(unit):
            number = Fraction(Decimal(text.removesuffix(unit)))
            return ast.Money(number * MONEY_UNITS[unit], text)
    for unit, scale in _RATE_UNITS.items():
        if text.endswith(unit):
            return ast.Number(Fraction(Decimal(text.removesuffix(unit))) * scale, unit, text)
    for unit in _COUNT_UNITS:
        if text.endswith(unit):
            return ast.Number(Fraction(Decimal(text.removesuffix(unit))), unit, text)
    return ast.Number(Fraction(Decimal(text)), "", text)


class _ToAst(Transformer[Token, ast.Node]):
    def quantity(self, items: list[Token]) -> ast.Node:
        return quantity(str(items[0]))

    def string(self, items: list[Token]) -> ast.Node:
        return ast.Text(str(items[0])[1:-1])

    def true(self, _: list[Any]) -> ast.Node:
        return ast.Boolean(True)

    def false(self, _: list[Any]) -> ast.Node:
        return ast.Boolean(False)

    def name(self, items: list[Token]) -> ast.Node:
        return ast.Name(str(items[0]))

    def args(self, items: list[ast.Node]) -> tuple[ast.Node, ...]:
        return tuple(items)

    def call(self, items: list[Any]) -> ast.Node:
        args = items[1] if len(items) > 1 and items[1] is not None else ()
        return ast.Call(str(items[0]), tuple(args))

    def list_(self, items: list[Any]) -> ast.Node:
        args = items[0] if items and items[0] is not None else ()
        return ast.ListOf(tuple(args))

    def neg(self, items: list[ast.Node]) -> ast.Node:
        return ast.Negate(items[0])

    def binop(self, items: list[Any]) -> ast.Node:
        left, op, right = items
        return ast.BinOp(str(op), left, right)

    def compare(self, items: list[Any]) -> ast.Node:
        left, op, right = items
        return ast.Compare(str(op), left, right)

    def contains(self, items: list[ast.Node]) -> ast.Node:
        return ast.Contains(items[0], items[1], negated=False)

    def not_contains(self, items: list[ast.Node]) -> ast.Node:
        return ast.Contains(items[0], items[1], negated=True)

    def and_op(self, items: list[ast.Node]) -> ast.Node:
        left, right = items
        flat = (*left.items, right) if isinstance(left, ast.And) else (left, right)
        return ast.And(flat)

    def or_op(self, items: list[ast.Node]) -> ast.Node:
        left, right = items
        flat = (*left.items, right) if isinstance(left, ast.Or) else (left, right)
        return ast.Or(flat)

    def not_op(self, items: list[ast.Node]) -> ast.Node:
        return ast.Not(items[0])


@lru_cache(maxsize=4096)
def parse(text: str) -> ast.Node:
    """Parse one expression.

    >>> parse("paid_in_capital >= 1000万元")
    Compare(op='>=', left=Name(id='paid_in_capital'), right=Money(fen=Fraction(1000000000, 1), text='1000万元'))
    """
    source = str(text)
    try:
        tree = _parser().parse(source)
        node = _ToAst().transform(tree)
    except UnexpectedCharacters as exc:
        position = exc.pos_in_stream or 0
        raise ExpressionError(
            f"表达式第{exc.column}个字符处无法识别 {source[position : position + 1]!r}："
            f"{source!r}（金额请写成 1000万元，比较用 >= 等，字符串用引号）"
        ) from None
    except UnexpectedEOF:
        raise ExpressionError(f"表达式不完整：{source!r}（是否缺少右括号或操作数？）") from None
    except UnexpectedInput as exc:
        column = getattr(exc, "column", "?")
        raise ExpressionError(f"表达式第{column}个字符处语法错误：{source!r}") from None
    except LarkError as exc:  # pragma: no cover - defensive
        raise ExpressionError(f"表达式无法解析：{source!r}（{exc}）") from None
    if not isinstance(node, ast.Node):  # pragma: no cover - the grammar always yields a node
        raise ExpressionError(f"表达式无法解析：{source!r}")
    return node
