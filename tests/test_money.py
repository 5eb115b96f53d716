from __future__ import annotations

from fractions import Fraction

import pytest

from huiqi.errors import ProfileError
from huiqi.money import format_cn, format_yuan, parse_money, round_half_up


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1200万元", 1_200_000_000),
        ("1.5亿元", 15_000_000_000),
        ("12,000,000元", 1_200_000_000),
        ("0.01元", 1),
        ("3万", 3_000_000),
    ],
)
def test_written_amounts_become_exact_fen(text: str, fen: int) -> None:
    assert parse_money(text) == fen


def test_bare_number_needs_a_unit() -> None:
    with pytest.raises(ProfileError, match="缺少单位"):
        parse_money("1200")
    assert parse_money(1200, default_unit="万元") == 1_200_000_000


def test_precision_below_a_fen_is_refused_not_rounded() -> None:
    with pytest.raises(ProfileError, match="精确到分以下"):
        parse_money("0.001元")


def test_rounding_is_half_up_to_the_fen() -> None:
    assert round_half_up(Fraction(1, 2)) == 1
    assert round_half_up(Fraction(49, 100)) == 0
    assert round_half_up(Fraction(-1, 2)) == -1
    assert round_half_up(Fraction(250, 1)) == 250


def test_formats() -> None:
    assert format_yuan(123456) == "1234.56"
    assert format_yuan(-5) == "-0.05"
    assert format_cn(500_000_000) == "500万元"
    assert format_cn(10_000_000_000) == "1亿元"
    assert format_cn(123) == "1.23元"
