"""Static type checking of expressions against a scope (facts, definitions, readings).

A type error is found when the policy is loaded, not when an entity is evaluated: comparing money with
a bare number (``revenue >= 2000``), adding a date to money, calling ``at()`` on a fact that is not
annual, or naming a fact that is not in the catalogue.
"""

from __future__ import annotations

from typing import Protocol

from huiqi.errors import ExpressionError
from huiqi.expr import ast
from huiqi.expr.ast import Type
from huiqi.suggest import did_you_mean, nearest

_NUMERIC = {Type.MONEY, Type.NUMBER}


class Scope(Protocol):
    """What a type checker needs to know about names."""

    def type_of(self, name: str) -> Type | None:
        """The type of a name, or None when the name is unknown."""

    def is_annual(self, name: str) -> bool:
        """Whether a name is an annual fact (usable in ``at``, ``max_before`` …)."""


#: Functions whose first argument must be an annual fact.
HISTORY_FUNCTIONS = {"at", "max_before", "sum_years", "first_reached", "first_exceeded", "consecutive_years"}
#: Functions that read the award ledger.
LEDGER_FUNCTIONS = {"paid", "paid_years", "paid_provision", "paid_each_year", "paid_last", "paid_in_year"}
FUNCTIONS = {
    "min", "max", "abs", "floor", "ceil", "round", "if", "year", "years_since", "days_between", "date",
    "has", "count", "in_region", "add_years", *HISTORY_FUNCTIONS, *LEDGER_FUNCTIONS,
}  # fmt: skip


def infer(node: ast.Node, scope: Scope) -> Type:
    """The type of an expression; raises ``ExpressionError`` with a Chinese explanation."""
    if isinstance(node, ast.Money):
        return Type.MONEY
    if isinstance(node, ast.Number):
        return Type.NUMBER
    if isinstance(node, ast.Text):
        return Type.TEXT
    if isinstance(node, ast.Boolean):
        return Type.BOOL
    if isinstance(node, ast.ListOf):
        for item in node.items:
            infer(item, scope)
        return Type.LIST
    if isinstance(node, ast.Name):
        found = scope.type_of(node.id)
        if found is None:
            known = getattr(scope, "names", None)
            hint = did_you_mean(node.id, known()) if callable(known) else ""
            raise ExpressionError(
                f"未知的名称 {node.id!r}：既不是事实目录中的事实，也不是本文件的定义或口径名称{hint}"
                "（事实见 huiqi facts 或 docs/facts.md）"
            )
        return found
    if isinstance(node, ast.Negate):
        return _numeric(infer(node.operand, scope), "取负")
    if isinstance(node, ast.BinOp):
        return _binop(node, infer(node.left, scope), infer(node.right, scope))
    if isinstance(node, ast.Compare):
        return _compare(node, infer(node.left, scope), infer(node.right, scope))
    if isinstance(node, ast.Contains):
        container = infer(node.container, scope)
        infer(node.item, scope)
        if container not in (Type.SET, Type.LIST, Type.TEXT):
            raise ExpressionError("“in” 的右边应为集合类事实或列表，如 'CMMI3' in certifications")
        return Type.BOOL
    if isinstance(node, ast.And | ast.Or):
        for item in node.items:
            _boolean(infer(item, scope), "and/or")
        return Type.BOOL
    if isinstance(node, ast.Not):
        return _boolean(infer(node.operand, scope), "not")
    if isinstance(node, ast.Call):
        return _call(node, scope)
    raise ExpressionError(f"无法识别的表达式节点 {type(node).__name__}")  # pragma: no cover


def _numeric(found: Type, what: str) -> Type:
    if found not in _NUMERIC:
        raise ExpressionError(f"{what}需要数值或金额，得到 {found.value}")
    return found


def _boolean(found: Type, what: str) -> Type:
    if found is not Type.BOOL:
        raise ExpressionError(f"{what} 的操作数应为条件（真/假），得到 {found.value}")
    return Type.BOOL


def _binop(node: ast.BinOp, left: Type, right: Type) -> Type:
    _numeric(left, f"“{node.op}”")
    _numeric(right, f"“{node.op}”")
    if node.op in "+-":
        if left is not right:
            raise ExpressionError(f"“{node.op}” 两边类型不同（{left.value} 与 {right.value}）：金额只能与金额相加减")
        return left
    if node.op == "*":
        if left is Type.MONEY and right is Type.MONEY:
            raise ExpressionError("金额不能与金额相乘")
        return Type.MONEY if Type.MONEY in (left, right) else Type.NUMBER
    # / and //
    if right is Type.MONEY:
        if left is not Type.MONEY:
            raise ExpressionError("数值不能除以金额")
        return Type.NUMBER
    return left


def _compare(node: ast.Compare, left: Type, right: Type) -> Type:
    if left is not right:
        hint = ""
        if Type.MONEY in (left, right) and Type.NUMBER in (left, right):
            hint = "：金额请写单位，如 2000万元"
        raise ExpressionError(f"比较 “{node.op}” 两边类型不同（{left.value} 与 {right.value}）{hint}")
    if node.op not in ("==", "!=") and left not in (Type.MONEY, Type.NUMBER, Type.DATE):
        raise ExpressionError(f"“{node.op}” 只能比较数值、金额或日期")
    return Type.BOOL


def _call(node: ast.Call, scope: Scope) -> Type:
    name, args = node.func, node.args
    if name not in FUNCTIONS:
        near = nearest(name, FUNCTIONS)
        hint = f"是否应为 {near}()？" if near else ""
        raise ExpressionError(f"未知的函数 {name}()：{hint}可用 {', '.join(sorted(FUNCTIONS))}")
    types = [infer(arg, scope) for arg in args]

    def arity(*allowed: int) -> None:
        if len(args) not in allowed:
            wanted = "或".join(str(n) for n in allowed)
            raise ExpressionError(f"{name}() 需要 {wanted} 个参数，得到 {len(args)} 个")

    if name in HISTORY_FUNCTIONS:
        first = args[0] if args else None
        quarterly = (
            name == "at"
            and isinstance(first, ast.Name)
            and getattr(scope, "is_quarterly", lambda _name: False)(first.id)
        )
        if not isinstance(first, ast.Name) or not (scope.is_annual(first.id) or quarterly):
            raise ExpressionError(f"{name}() 的第一个参数应为按年度的事实（如 revenue）")
    if name in ("min", "max"):
        if len(args) < 2:
            raise ExpressionError(f"{name}() 至少需要 2 个参数")
        for found in types:
            _numeric(found, f"{name}()")
        if len(set(types)) != 1:
            raise ExpressionError(f"{name}() 的参数类型应一致（金额与金额、数值与数值）")
        return types[0]
    if name in ("abs", "floor", "ceil", "round"):
        arity(1)
        return _numeric(types[0], f"{name}()")
    if name == "if":
        arity(3)
        _boolean(types[0], "if() 的第一个参数")
        if types[1] is not types[2]:
            raise ExpressionError(f"if() 两个分支类型不同（{types[1].value} 与 {types[2].value}）")
        return types[1]
    if name == "year":
        arity(1)
        _expect(types[0], Type.DATE, name)
        return Type.NUMBER
    if name == "years_since":
        arity(1)
        _expect(types[0], Type.DATE, name)
        return Type.NUMBER
    if name == "days_between":
        arity(2)
        _expect(types[0], Type.DATE, name)
        _expect(types[1], Type.DATE, name)
        return Type.NUMBER
    if name == "date":
        arity(1)
        if not isinstance(args[0], ast.Text):
            raise ExpressionError("date() 需要一个日期字符串，如 date('2023-01-01')")
        return Type.DATE
    if name == "has":
        arity(1)
        if not isinstance(args[0], ast.Name):
            raise ExpressionError("has() 的参数应为一个事实名称")
        return Type.BOOL
    if name == "add_years":
        arity(2)
        _expect(types[0], Type.DATE, name)
        _expect(types[1], Type.NUMBER, name)
        return Type.DATE
    if name == "in_region":
        arity(1)
        _expect(types[0], Type.TEXT, name)
        if isinstance(args[0], ast.Text):  # profiles hold official names: in_region('宁波') could never hold
            from huiqi.regions import check_region_name

            problem = check_region_name(args[0].value)
            if problem:
                raise ExpressionError(f"in_region 的{problem}")
        return Type.BOOL
    if name == "count":
        arity(1)
        _expect(types[0], Type.SET, name)
        return Type.NUMBER
    if name == "at":
        arity(2)
        _expect(types[1], Type.NUMBER, name)
        return types[0]
    if name == "max_before":
        arity(1)
        return _numeric(types[0], name)
    if name == "sum_years":
        arity(3)
        _expect(types[1], Type.NUMBER, name)
        _expect(types[2], Type.NUMBER, name)
        return _numeric(types[0], name)
    if name in ("first_reached", "first_exceeded"):
        arity(2)
        if types[0] is not types[1]:
            raise ExpressionError(f"{name}() 的门槛应与事实同类型（金额请写单位）")
        return Type.BOOL
    if name == "consecutive_years":
        arity(3)
        if types[0] is not types[1]:
            raise ExpressionError("consecutive_years() 的门槛应与事实同类型（金额请写单位）")
        _numeric(types[0], name)
        count = args[2]
        if not isinstance(count, ast.Number) or count.value.denominator != 1 or not 1 <= count.value <= 50:
            raise ExpressionError("consecutive_years() 的年数应为 1 至 50 的整数常量（如 3 或 3年）")
        return Type.BOOL
    if name in ("paid", "paid_provision", "paid_last", "paid_in_year"):
        arity(0)
        return Type.MONEY
    if name == "paid_each_year":
        arity(1)
        years = args[0]
        if not isinstance(years, ast.Number) or years.value.denominator != 1 or not 1 <= years.value <= 50:
            raise ExpressionError("paid_each_year() 的年数应为 1 至 50 的整数常量（如 2 或 2年）")
        return Type.BOOL
    if name == "paid_years":
        arity(0)
        return Type.NUMBER
    raise ExpressionError(f"未知的函数 {name}()")  # pragma: no cover


def _expect(found: Type, wanted: Type, name: str) -> None:
    if found is not wanted:
        raise ExpressionError(f"{name}() 的参数应为 {wanted.value}，得到 {found.value}")
