"""Numbers as Chinese policy texts write them: Arabic or Chinese numerals, money units, rates.

Everything is exact: money in integer fen (``huiqi.money``), rates as ``Fraction``.
"""

from __future__ import annotations

import re
from fractions import Fraction

from huiqi.money import MONEY_UNITS

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_LARGE = {"万": 10_000, "亿": 100_000_000}

#: A number as written: Arabic (with thousands separators, decimals, fullwidth digits) or Chinese numerals.
CN_NUMERAL = r"[零〇一二两三四五六七八九十百千万亿]+"
ARABIC = r"[0-9０-９]+(?:[,，][0-9]{3})*(?:[.．][0-9]+)?"
NUMBER = rf"(?:{ARABIC}|{CN_NUMERAL})"

_FULLWIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")


def cn_to_int(text: str) -> int:
    """Value of a Chinese numeral.

    >>> [cn_to_int(t) for t in ["五", "十", "十五", "二十", "一百零五", "三千", "两万", "一亿五千万"]]
    [5, 10, 15, 20, 105, 3000, 20000, 150000000]
    """
    if text and all(ch in _DIGITS for ch in text) and len(text) > 1:  # 二〇二三 written digit by digit
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total = 0
    section = 0
    digit = 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _SMALL:
            section += (digit or 1) * _SMALL[ch]
            digit = 0
        elif ch in _LARGE:
            section += digit
            total = (total + section) * _LARGE[ch] if ch == "亿" else total + section * _LARGE[ch]
            section = 0
            digit = 0
        else:
            raise ValueError(f"不是中文数字：{text!r}")
    return total + section + digit


def to_number(text: str) -> Fraction:
    """An Arabic or Chinese numeral as an exact number.

    >>> to_number("1,000"), to_number("2.5"), to_number("三十"), to_number("１２")
    (Fraction(1000, 1), Fraction(5, 2), Fraction(30, 1), Fraction(12, 1))
    """
    plain = text.translate(_FULLWIDTH).replace(",", "")
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", plain):
        return Fraction(plain)
    return Fraction(cn_to_int(text))


def money_fen(number: str, unit: str) -> int:
    """Fen of ``number`` in ``unit`` (元, 万元, 亿元, 万, 亿)."""
    fen = to_number(number) * MONEY_UNITS[unit]
    return int(fen) if fen.denominator == 1 else round(fen)


def format_money(fen: int) -> str:
    """The canonical label: the largest of 亿元/万元/元 that keeps the figure exact (``100万元``)."""
    if 0 < fen < MONEY_UNITS["万元"] and fen % 100 == 0:
        return f"{fen // 100}元"  # 1000元, not 0.1万元
    for unit in ("亿元", "万元"):
        if fen % MONEY_UNITS[unit] == 0 and fen:
            return f"{fen // MONEY_UNITS[unit]}{unit}"
    wan = Fraction(fen, MONEY_UNITS["万元"])
    if fen % 100 == 0 and wan.denominator in (1, 2, 4, 5, 10, 20, 25, 50, 100):
        return f"{_decimal(wan)}万元"
    return f"{_decimal(Fraction(fen, 100))}元"


def format_rate(value: Fraction) -> str:
    """A rate as a percentage label (``5%``, ``0.5%``)."""
    return f"{_decimal(value * 100)}%"


def format_count(value: Fraction, unit: str) -> str:
    return f"{_decimal(value)}{unit}"


def _decimal(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return text
