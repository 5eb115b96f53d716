"""Column headers of an imported registry: fact keys or the catalogue's Chinese names, with a unit if wanted.

Officials' spreadsheets say ``实缴注册资本（万元）`` or ``营业收入(元)``, not ``paid_in_capital``. A header is
matched, ignoring spaces and full- or half-width brackets (NFKC), against:

- the fact keys and the catalogue's 中文名 (``实缴注册资本``, ``登记注册地（地级市）``);
- the structural columns by key or Chinese label (``entity_id`` 主体编号, ``entity_type`` 主体类型,
  ``region`` 所在地区, ``name`` 名称, ``year`` 年度, ``rule`` 规则, ``period`` 期间, ``amount`` 金额,
  ``tier`` 档次);
- either of those followed by a unit in brackets: a money unit (元、万元、亿元) becomes the unit of the
  column's bare numbers; any other unit must be the fact's own (``缴纳社保员工数（人）``).

An unknown header is refused with the nearest names; a fact kept in the other table (an annual fact in
the entity table) is said to belong there.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from huiqi.errors import HuiqiError
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import Fact
from huiqi.money import MONEY_UNITS

STRUCTURAL_LABELS: dict[str, tuple[str, ...]] = {
    "entity_id": ("主体编号", "编号", "主体ID"),
    "entity_type": ("主体类型", "类型"),
    "region": ("所在地区", "地区", "所在地"),
    "name": ("名称", "主体名称", "企业名称"),
    "year": ("年度", "年份"),
    "rule": ("规则",),
    "period": ("期间", "年度", "年份"),
    "amount": ("金额", "奖励金额"),
    "tier": ("档次", "档位"),
}
_UNIT = re.compile(r"^(?P<name>.+?)\((?P<unit>[^()]+)\)$")


@dataclass(frozen=True)
class Column:
    """One header resolved: its key and, for money, the unit of its bare numbers (None: the default)."""

    header: str
    key: str
    money_unit: str | None = None


def normal(text: str) -> str:
    """Header text compared without spaces, full-width forms folded (``（万元）`` → ``(万元)``).

    >>> normal(" 营业收入（万元） ")
    '营业收入(万元)'
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def resolve_columns(
    header: list[str],
    *,
    structural: tuple[str, ...],
    facts: dict[str, Fact],
    elsewhere: dict[str, tuple[Fact, str]],
    where: Path,
    error: type[HuiqiError],
) -> list[Column | None]:
    """Each header's column (None for a blank header); ``elsewhere`` maps facts kept in another table to its name."""
    names: dict[str, str] = {}
    labels: dict[str, str] = {}  # key → how to show it in hints
    for key in structural:
        labels[key] = f"{key}（{STRUCTURAL_LABELS[key][0]}）"
        for alias in (key, *STRUCTURAL_LABELS[key]):
            names.setdefault(normal(alias), key)
    for key, fact in facts.items():
        labels[key] = f"{fact.name}（{key}）"
        names.setdefault(normal(key), key)
        names.setdefault(normal(fact.name), key)
    others = {normal(alias): key for key, (fact, _) in elsewhere.items() for alias in (key, fact.name)}
    columns: list[Column | None] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(header, start=1):
        text = raw.strip()
        if not text:
            columns.append(None)
            continue
        column = _resolve(text, names, facts, where=f"{where}:1 第{index}列", error=error)
        if column is None:
            _refuse(text, names, labels, others, elsewhere, where=f"{where}:1 第{index}列", error=error)
        if column.key in seen:
            raise error(
                f"列 {seen[column.key]!r} 和 {text!r} 都是 {labels[column.key]}：请删去其中一列", where=f"{where}:1"
            )
        seen[column.key] = text
        columns.append(column)
    missing = [labels[k] for k in structural if k in _REQUIRED and k not in seen]
    if missing:
        raise error(f"缺少必需的列 {'、'.join(missing)}", where=f"{where}:1")
    return columns


_REQUIRED = {"entity_id", "entity_type", "year", "rule", "period", "amount"}


def _resolve(
    text: str, names: dict[str, str], facts: dict[str, Fact], *, where: str, error: type[HuiqiError]
) -> Column | None:
    key = names.get(normal(text))
    if key is not None:
        return Column(text, key)
    match = _UNIT.match(normal(text))
    if match is None or match["name"] not in names:
        return None
    key, unit = names[match["name"]], match["unit"]
    fact = facts.get(key)
    if (fact is not None and fact.type is Type.MONEY) or key == "amount":
        if unit not in MONEY_UNITS:
            raise error(f"列 {text!r} 的单位 {unit!r} 无效：金额列可用 元、万元、亿元", where=where)
        return Column(text, key, unit)
    if fact is not None and fact.unit == unit:
        return Column(text, key)
    expected = f"应为 {fact.unit}" if fact is not None and fact.unit else "此列不带单位"
    raise error(f"列 {text!r} 的单位 {unit!r} 不符：{expected}", where=where)


def _refuse(
    text: str,
    names: dict[str, str],
    labels: dict[str, str],
    others: dict[str, str],
    elsewhere: dict[str, tuple[Fact, str]],
    *,
    where: str,
    error: type[HuiqiError],
) -> NoReturn:
    bare = _UNIT.match(normal(text))
    probe = bare["name"] if bare else normal(text)
    if probe in others:
        fact, table = elsewhere[others[probe]]
        raise error(f"列 {text!r}：{fact.name}（{fact.key}）应放在{table}中，不在此表", where=where)
    close = difflib.get_close_matches(probe, [*names, *others], n=3, cutoff=0.5)
    shown = []
    for candidate in close:
        if candidate in names:
            shown.append(labels[names[candidate]])
        else:
            fact, table = elsewhere[others[candidate]]
            shown.append(f"{fact.name}（{fact.key}，属于{table}）")
    hint = "、".join(dict.fromkeys(shown))
    suggestion = f"是否应为 {hint}？" if hint else "列名应为事实的中文名或键（见 huiqi facts）"
    raise error(f"未知的列 {text!r}：{suggestion}", where=where)
