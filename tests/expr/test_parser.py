from __future__ import annotations

from fractions import Fraction

import pytest

from huiqi.errors import ExpressionError
from huiqi.expr import ast
from huiqi.expr.parser import parse


def test_money_literals_are_exact_fen() -> None:
    node = parse("revenue >= 1.5亿元")
    assert isinstance(node, ast.Compare)
    assert node.right == ast.Money(Fraction(15_000_000_000), "1.5亿元")


def test_rates_are_exact_fractions() -> None:
    assert parse("2‰") == ast.Number(Fraction(1, 500), "‰", "2‰")
    assert parse("5%") == ast.Number(Fraction(1, 20), "%", "5%")


def test_and_binds_tighter_than_or_and_chains_flatten() -> None:
    node = parse("a or b and c and d")
    assert isinstance(node, ast.Or)
    assert isinstance(node.items[1], ast.And)
    assert len(node.items[1].items) == 3


def test_membership_and_negated_membership() -> None:
    assert parse("'ITSS' in certifications") == ast.Contains(
        ast.Text("ITSS"), ast.Name("certifications"), negated=False
    )
    node = parse("district not in ['天河区', '黄埔区']")
    assert isinstance(node, ast.Contains) and node.negated


def test_keywords_do_not_swallow_longer_names() -> None:
    assert parse("income > 1") == ast.Compare(">", ast.Name("income"), ast.Number(Fraction(1), "", "1"))
    assert parse("android") == ast.Name("android")


@pytest.mark.parametrize("text", ["revenue >= 2000 万", "min(1, 2", "a >=", "__import__('os')()", "1 +* 2"])
def test_bad_expressions_are_refused_with_a_chinese_message(text: str) -> None:
    with pytest.raises(ExpressionError, match="表达式"):
        parse(text)
