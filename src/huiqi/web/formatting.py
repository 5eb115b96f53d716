"""How the web pages write money, dates and statuses — as a Chinese official expects.

Money is integer fen inside (``huiqi.money``); on a page it is ``1,234.56万元`` when the amount is a whole
number of 百元 (the 万元 figure then needs at most two decimals and is exact), and exact 元 otherwise
(``12,345.67元``). No float touches an amount. A ceiling (最高/不超过) is written ``最高650万元`` by the
``ceiling`` filter and never summed with amounts someone will get.

>>> money(12_345_600_00)
'1,234.56万元'
>>> money(6_500_000_00)
'650万元'
>>> money(1_234_567)
'12,345.67元'
>>> money(100_000_000_00)
'10,000万元'
>>> date_cn(dt.date(2024, 6, 30))
'2024年6月30日'
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from huiqi.money import MONEY_UNITS, format_yuan, round_half_up

#: 百元 in fen: an amount that is a multiple of it is exact in 万元 with two decimals.
_HUNDRED_YUAN = 10_000


def money(fen: int | Fraction | None, *, empty: str = "—") -> str:
    """Integer fen as ``1,234.56万元`` (exact to the 百元) or ``12,345.67元`` (anything else)."""
    if fen is None:
        return empty
    approximate = ""
    if isinstance(fen, Fraction):
        if fen.denominator != 1:
            approximate = "（约）"
        fen = round_half_up(fen)
    if fen % _HUNDRED_YUAN == 0 and fen != 0:
        wan = Decimal(fen) / Decimal(MONEY_UNITS["万元"])
        text = f"{wan:,.2f}".removesuffix(".00")
        return f"{text}万元{approximate}"
    return f"{yuan(fen)}{approximate}"


def yuan(fen: int) -> str:
    """Integer fen as exact 元 with thousands separators: ``12,345.67元`` (``12,345元`` when whole)."""
    whole, cents = format_yuan(fen).split(".")
    sign = "-" if whole.startswith("-") else ""
    text = f"{sign}{int(whole.lstrip('-')):,}"
    return f"{text}.{cents}元" if cents != "00" else f"{text}元"


def ceiling(fen: int | None) -> str:
    """A ceiling, never to be read as money someone will get: ``最高650万元``."""
    return "—" if fen is None else f"最高{money(fen)}"


def date_cn(value: dt.date | str | None, *, empty: str = "—") -> str:
    """``2024年6月30日`` (an ISO string is accepted too)."""
    if value is None or value == "":
        return empty
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.year}年{value.month}月{value.day}日"


def date_range_cn(start: dt.date | None, end: dt.date | None) -> str:
    """A validity or a 公示 period: ``2024年6月30日至2024年12月31日``; an open end says so."""
    if start is None and end is None:
        return "未规定"
    if end is None:
        return f"{date_cn(start)}起"
    if start is None:
        return f"至{date_cn(end)}"
    return f"{date_cn(start)}至{date_cn(end)}"


FILTERS = {"money": money, "yuan": yuan, "ceiling": ceiling, "date_cn": date_cn, "date_range_cn": date_range_cn}
