"""Render an expression as Chinese text a clerk can read against the article."""

from __future__ import annotations

from collections.abc import Callable

from huiqi.expr import ast

_OPS = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠", ">": ">", "<": "<", "*": "×", "/": "÷", "//": "整除",
        "+": "+", "-": "−"}  # fmt: skip
_FUNCS = {
    "first_reached": "首次达到",
    "first_exceeded": "首次超过",
    "max_before": "此前各年度最高",
    "sum_years": "年度累计",
    "years_since": "距今整年数",
    "paid": "本规则已领取",
    "paid_years": "本规则已支持年数",
    "paid_provision": "本条已领取",
    "paid_last": "本规则上一次支持金额",
    "paid_in_year": "本年度本规则已兑现",
    "at": "年度值",
    "has": "已提供",
}


def render(node: ast.Node, label: Callable[[str], str | None]) -> str:
    """Chinese text of an expression; ``label`` maps a name to its Chinese name.

    >>> from huiqi.expr.parser import parse
    >>> render(parse("paid_in_capital >= 1000万元"), {"paid_in_capital": "实缴注册资本"}.get)
    '实缴注册资本 ≥ 1000万元'
    >>> render(parse("(a + b) * 3万元"), {"a": "甲", "b": "乙"}.get)
    '（甲 + 乙） × 3万元'
    """

    def go(n: ast.Node) -> str:
        if isinstance(n, ast.Money | ast.Number):
            return n.text
        if isinstance(n, ast.Text):
            return f"“{n.value}”"
        if isinstance(n, ast.Boolean):
            return "是" if n.value else "否"
        if isinstance(n, ast.Name):
            return label(n.id) or n.id
        if isinstance(n, ast.ListOf):
            return "［" + "、".join(go(i) for i in n.items) + "］"
        if isinstance(n, ast.Negate):
            return f"−{go(n.operand)}"
        if isinstance(n, ast.BinOp):
            return f"{_operand(n.left, n.op, go, right=False)} {_OPS[n.op]} {_operand(n.right, n.op, go, right=True)}"
        if isinstance(n, ast.Compare):
            return f"{go(n.left)} {_OPS[n.op]} {go(n.right)}"
        if isinstance(n, ast.Contains):
            word = "不属于" if n.negated else "属于"
            return f"{go(n.item)} {word} {go(n.container)}"
        if isinstance(n, ast.And):
            return "且".join(_paren(i, go) for i in n.items)
        if isinstance(n, ast.Or):
            return "或".join(_paren(i, go) for i in n.items)
        if isinstance(n, ast.Not):
            return f"非（{go(n.operand)}）"
        if isinstance(n, ast.Call) and n.func == "paid_each_year" and len(n.args) == 1:
            return f"本规则此前连续{go(n.args[0]).removesuffix('年')}年均已支持"
        if isinstance(n, ast.Call) and n.func == "consecutive_years" and len(n.args) == 3:
            years = go(n.args[2]).removesuffix("年")
            return f"{go(n.args[0])}连续{years}年达到{go(n.args[1])}"
        if isinstance(n, ast.Call) and not n.args:  # a ledger value: its name, or its value when substituted
            key = f"{n.func}()"
            given = label(key)
            return given if given and given != key else _FUNCS.get(n.func, n.func)
        if isinstance(n, ast.Call):
            args = "，".join(go(a) for a in n.args)
            return f"{_FUNCS.get(n.func, n.func)}（{args}）"
        return "?"  # pragma: no cover

    return go(node)


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "//": 2}


def _operand(node: ast.Node, op: str, go: Callable[[ast.Node], str], *, right: bool) -> str:
    """An operand of an arithmetic operator, in brackets where the text would otherwise read differently:
    ``(a + b) * 3万元`` → （a + b） × 3万元; ``a - (b - c)`` keeps its brackets."""
    text = go(node)
    if not isinstance(node, ast.BinOp):
        return text
    inner, outer = _PRECEDENCE.get(node.op, 2), _PRECEDENCE.get(op, 2)
    if inner < outer or (right and inner == outer and op in ("-", "/", "//")):
        return f"（{text}）"
    return text


def _paren(node: ast.Node, go: Callable[[ast.Node], str]) -> str:
    text = go(node)
    return f"（{text}）" if isinstance(node, ast.And | ast.Or) else text
