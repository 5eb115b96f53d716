"""Runtime values of the scalar engine: exact numbers, three-valued truth, and what is missing.

Money is a ``Fraction`` of a fen while computing and an ``int`` of fen once rounded. A missing fact makes
a value ``Unknown``, which remembers which facts (and which years) would be needed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from huiqi.expr.ast import Type
from huiqi.money import decimal_text, format_cn


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value that cannot be computed because facts are missing: ``(fact key, year or None)`` pairs."""

    missing: frozenset[tuple[str, int | None]]

    def __or__(self, other: Unknown) -> Unknown:
        return Unknown(self.missing | other.missing)


_NOTHING_MISSING = Unknown(frozenset())


def is_unknown(value: object) -> bool:
    """Whether a value is ``Unknown``."""
    return type(value) is Unknown


def merge_unknown(*values: object) -> Unknown:
    """The union of the missing facts of the unknown values among ``values`` (one unknown value is returned as
    it is: an ``Unknown`` never changes)."""
    found: Unknown | None = None
    for value in values:
        if type(value) is Unknown:
            found = value if found is None else Unknown(found.missing | value.missing)
    return found if found is not None else _NOTHING_MISSING


def display(value: Any, kind: Type | None = None, unit: str | None = None) -> str:
    """A Chinese rendering of a value for traces (``money`` values are fen); a number with a ``unit`` is
    shown in it: a rate as a percentage (``4.5%``), a count with its unit (``30人``)."""
    if type(value) is Unknown:
        return "缺失"
    if isinstance(value, bool):
        return "是" if value else "否"
    if kind is Type.MONEY and isinstance(value, int | Fraction):
        return format_cn(value)
    if isinstance(value, int | Fraction) and unit:
        if unit in ("%", "‰"):
            return decimal_text(Fraction(value) * (100 if unit == "%" else 1000)) + unit
        return decimal_text(Fraction(value)) + unit
    if isinstance(value, Fraction):
        return decimal_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset | set | tuple | list):
        return "、".join(sorted(str(v) for v in value)) or "（无）"
    return str(value)


def as_json(value: Any, kind: Type | None = None) -> Any:
    """A JSON-friendly rendering (money as a yuan decimal string)."""
    from huiqi.money import format_yuan, round_half_up

    if type(value) is Unknown:
        return None
    if isinstance(value, bool):
        return value
    if kind is Type.MONEY and isinstance(value, int | Fraction):
        return format_yuan(value if isinstance(value, int) else round_half_up(value))
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset | set | tuple | list):
        return sorted(str(v) for v in value)
    return value
