"""Exact money: integer fen inside, yuan strings at the edges, one rounding rule.

Amounts are computed as exact fractions of a fen and rounded once, half-up to the fen
(四舍五入到分). No float ever touches money.

>>> parse_money("1.5亿元")
15000000000
>>> format_yuan(15000000000)
'150000000.00'
>>> format_cn(1234567)
'12345.67元'
>>> round_half_up(Fraction(5, 2))
3
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from huiqi.errors import ProfileError

FEN_PER_YUAN = 100

#: Multipliers from a written money unit to fen.
MONEY_UNITS: dict[str, int] = {
    "元": 100,
    "万元": 1_000_000,
    "亿元": 10_000_000_000,
    "万": 1_000_000,
    "亿": 10_000_000_000,
}

_MONEY = re.compile(r"^\s*([+-]?[0-9][0-9,]*(?:\.[0-9]+)?)\s*(亿元|万元|元|亿|万)?\s*$")


def round_half_up(value: Fraction | int) -> int:
    """Round an exact fraction of a fen to whole fen, halves away from zero."""
    if isinstance(value, int):  # already whole (the engine keeps whole numbers as ints)
        return value
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole, remainder = divmod(magnitude.numerator, magnitude.denominator)
    if remainder * 2 >= magnitude.denominator:
        whole += 1
    return sign * whole


def parse_money(text: str | int | Decimal, *, default_unit: str | None = None, where: str = "") -> int:
    """Parse a written amount (``"1200万元"``, ``"12,000,000元"``) into integer fen.

    A bare number needs ``default_unit``; without one it is refused, because 1200 could mean 元 or 万元.
    Amounts with more precision than a fen are refused rather than rounded silently.
    """
    if isinstance(text, bool):
        raise ProfileError(f"金额应为数字加单位（如 1200万元），收到 {text!r}", where=where)
    if isinstance(text, int | Decimal):
        if default_unit is None:
            raise ProfileError(
                f"金额 {text} 缺少单位：请写成如 “{text}元” 或 “{text}万元”，或在档案中声明 money_unit",
                where=where,
            )
        number, unit = Decimal(text), default_unit
    else:
        match = _MONEY.match(str(text))
        if not match:
            raise ProfileError(f"无法识别的金额 {text!r}：应为数字加单位，如 1200万元、2.5亿元、300元", where=where)
        try:
            number = Decimal(match.group(1).replace(",", ""))
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
            raise ProfileError(f"无法识别的金额 {text!r}", where=where) from exc
        unit = match.group(2) or default_unit or ""
        if not unit:
            raise ProfileError(
                f"金额 {text!r} 缺少单位：请写成如 “{text}元” 或 “{text}万元”，或在档案中声明 money_unit",
                where=where,
            )
    if unit not in MONEY_UNITS:
        raise ProfileError(f"未知的金额单位 {unit!r}：可用 元、万元、亿元", where=where)
    fen = Fraction(number) * MONEY_UNITS[unit]
    if fen.denominator != 1:
        raise ProfileError(f"金额 {text!r} 精确到分以下，请保留到分（0.01元）", where=where)
    return int(fen)


def format_yuan(fen: int) -> str:
    """Integer fen as a decimal yuan string with two places (the API's money format)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


#: whole amounts already written by ``format_cn``: a policy's amounts recur in every explanation (at most
#: ``_CN_SIZE`` kept; when full it starts again)
_CN_TEXTS: dict[int, str] = {}
_CN_SIZE = 4096


def format_cn(fen: int | Fraction) -> str:
    """A human label in the largest unit that keeps the amount exact: 万元 when whole, else 元."""
    if type(fen) is int:
        text = _CN_TEXTS.get(fen)
        if text is None:
            if len(_CN_TEXTS) >= _CN_SIZE:
                _CN_TEXTS.clear()
            text = _CN_TEXTS[fen] = _format_cn(fen)
        return text
    if isinstance(fen, Fraction):
        if fen.denominator != 1:
            return f"{format_yuan(round_half_up(fen))}元（约）"
        fen = int(fen)
    return _format_cn(fen)


def _format_cn(fen: int) -> str:
    if fen != 0 and fen % MONEY_UNITS["亿元"] == 0:
        return f"{fen // MONEY_UNITS['亿元']}亿元"
    if fen != 0 and fen % 100_000 == 0:
        wan = Fraction(fen, MONEY_UNITS["万元"])
        return f"{_plain(wan)}万元"
    yuan = format_yuan(fen)
    return f"{yuan.removesuffix('.00')}元"


def format_in_unit(fen: int | Fraction, unit: str) -> str:
    """An amount in a chosen unit (元/万元/亿元), written as policy texts write figures in a sentence.

    Used to show a value in the unit of the figure it is compared with ("达到50亿元（现为5.3亿元）").

    >>> format_in_unit(53_000_000_000, "亿元")
    '5.3亿元'
    >>> format_in_unit(53_000_000_000, "万元")
    '53000万元'
    >>> format_in_unit(123_456_789, "万元")
    '约123.46万元'
    """
    return decimal_text(Fraction(fen) / MONEY_UNITS[unit]) + unit


def decimal_text(value: Fraction, places: int = 4) -> str:
    """An exact number as a decimal: exact when it has at most ``places`` decimals, else rounded half-up to
    two places and marked 约. No float.

    >>> decimal_text(Fraction(53, 10)), decimal_text(Fraction(1, 3)), decimal_text(Fraction(-3, 2))
    ('5.3', '约0.33', '-1.5')
    """
    scaled = value * 10**places
    if scaled.denominator == 1:
        text = f"{Decimal(scaled.numerator).scaleb(-places):f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"约{Decimal(round_half_up(value * 100)).scaleb(-2):f}"


def _plain(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return str(Decimal(value.numerator) / Decimal(value.denominator)).rstrip("0").rstrip(".")
