from __future__ import annotations

from pathlib import Path

import pytest

from huiqi.errors import ExpressionError
from huiqi.expr.ast import Type
from huiqi.expr.check import infer
from huiqi.expr.parser import parse
from huiqi.facts.catalogue import Catalogue
from huiqi.policy.base import default_policies_dir
from huiqi.policy.scope import DocumentScope


@pytest.fixture(scope="module")
def scope() -> DocumentScope:
    catalogue = Catalogue.load(Path(default_policies_dir()) / "_facts")
    return DocumentScope(catalogue=catalogue, document="t", definitions={"big": parse("revenue >= 1亿元")})


def test_money_compared_with_a_bare_number_is_refused(scope: DocumentScope) -> None:
    with pytest.raises(ExpressionError, match="金额请写单位"):
        infer(parse("revenue >= 2000"), scope)


def test_money_times_rate_is_money(scope: DocumentScope) -> None:
    assert infer(parse("min(registered_capital * 5%, 100万元)"), scope) is Type.MONEY


def test_money_divided_by_money_is_a_number(scope: DocumentScope) -> None:
    assert infer(parse("revenue / at(revenue, period - 1)"), scope) is Type.NUMBER


def test_definitions_have_types(scope: DocumentScope) -> None:
    assert infer(parse("big and social_insurance_staff >= 50"), scope) is Type.BOOL


def test_unknown_name_is_refused(scope: DocumentScope) -> None:
    with pytest.raises(ExpressionError, match="未知的名称"):
        infer(parse("revenu >= 1元"), scope)


def test_history_functions_need_an_annual_fact(scope: DocumentScope) -> None:
    with pytest.raises(ExpressionError, match="按年度"):
        infer(parse("first_reached(paid_in_capital, 1亿元)"), scope)


def test_if_branches_must_agree(scope: DocumentScope) -> None:
    with pytest.raises(ExpressionError, match="两个分支"):
        infer(parse("if(revenue > 1元, 1万元, 3)"), scope)
