"""Checking region paths (profiles, imports) and jurisdictions (policy files) against the division table."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from huiqi.errors import HuiqiError
from huiqi.regions.table import LEVEL_LABELS, Division, Divisions, divisions

NATION = ("全国", "中华人民共和国", "中国")
_NOTE = re.compile(r"[（(][^（）()]*[）)]$")
_RANK = {"province": 0, "city": 1, "county": 2}
# Parks, zones and sub-county places: not in GB/T 2260, accepted as written under a city or county.
_ZONE = re.compile(
    r"(园区|开发区|高新区|经开区|新区|保税区|综合保税区|试验区|示范区|自贸区|自由贸易区|合作区|片区|"
    r"科技城|科学城|产业园|软件园|工业园|街道|镇|乡|基地)$"
)


def canonical_region(names: Sequence[str], *, where: str, error: type[HuiqiError]) -> tuple[str, ...]:
    """The official path for ``names`` (short forms resolved, ancestors filled in); an unknown name is an ``error``.

    >>> canonical_region(["江苏", "苏州", "苏州工业园区"], where="region", error=HuiqiError)
    ('江苏省', '苏州市', '苏州工业园区')
    >>> canonical_region(["昆山"], where="region", error=HuiqiError)
    ('江苏省', '苏州市', '昆山市')
    """
    table = divisions()
    deepest: Division | None = None
    tail: list[str] = []
    for index, raw in enumerate(names):
        name = raw.strip()
        at = f"{where}[{index}]"
        if not name:
            raise error("地区名称为空", where=at)
        if tail or (deepest is not None and deepest.level == "county"):
            tail.append(name)  # below a county: towns, streets, parks — kept as written
            continue
        if deepest is None and name in NATION:
            continue
        try:
            found = _lookup(table, name, under=deepest)
        except _Ambiguous as exc:
            raise error(exc.message, where=at) from None
        if found is None and deepest is not None and _is_zone(name) and _holds_zones(deepest):
            tail.append(name)  # a park or zone under a city
            continue
        if found is None:
            raise error(_unknown(table, name, deepest, names), where=at)
        if found != deepest:
            deepest = found
    path = [d.name for d in table.path(deepest)] if deepest is not None else []
    return (*path, *tail)


def _is_zone(name: str) -> bool:
    """A park, zone or sub-county place, also with a note in brackets: 高新区（新市区）."""
    return bool(_ZONE.search(_NOTE.sub("", name)))


def _holds_zones(division: Division) -> bool:
    """Cities and municipalities (北京市) hold parks and zones of their own; a province names its cities first."""
    return division.level != "province" or division.name.endswith("市")


def _lookup(table: Divisions, name: str, *, under: Division | None) -> Division | None:
    """The one division ``name`` means (under ``under``); several is an error listing them; none is None."""
    for index in (table.by_name, table.by_short):
        candidates = [d for d in index.get(name, []) if under is None or table.within(d, under)]
        if len(candidates) > 1:  # the higher level wins: 吉林 is the province, 乌鲁木齐 the city
            top = min(_RANK[d.level] for d in candidates)
            highest = [d for d in candidates if _RANK[d.level] == top]
            candidates = highest if len(highest) == 1 else candidates
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            places = "、".join(table.full_name(d) for d in candidates[:6])
            more = f" 等{len(candidates)}处" if len(candidates) > 6 else ""
            raise _Ambiguous(f"地区 {name!r} 有多处：{places}{more}；请在前面写上所属的省、市，如 [北京市, 朝阳区]")
    if under is not None and name in (under.name, *_short(table, under)):
        return under  # the same place written twice ([北京市, 北京市, 海淀区])
    return None


def _short(table: Divisions, division: Division) -> list[str]:
    return [short for short, found in table.by_short.items() if division in found]


class _Ambiguous(HuiqiError):
    pass


def _unknown(table: Divisions, name: str, under: Division | None, names: Sequence[str]) -> str:
    written = "、".join(names)
    elsewhere = table.by_name.get(name, []) + table.by_short.get(name, [])
    if under is not None and elsewhere:
        places = "、".join(table.full_name(d) for d in elsewhere[:3])
        return f"地区 {name!r} 不在{under.name}之下（{places}）：请检查地区列表 [{written}] 的顺序和上级"
    everything = list(table.by_code.values())
    pool = [d for d in everything if table.within(d, under)] if under is not None else everything
    close = nearest(table, name, pool)
    if not close and under is not None:
        close = nearest(table, name, everything, cutoff=0.6)
    hint = f"是否应为 {'、'.join(close)}？" if close else "请使用民政部公布的规范名称（如 江苏省、苏州市、姑苏区）"
    scope = f"{under.name}之下的" if under is not None else ""
    return f"地区 {name!r} 不是{scope}行政区划名称：{hint}（地区应从省级写起，如 [江苏省, 苏州市]）"


def nearest(table: Divisions, name: str, pool: list[Division], *, cutoff: float = 0.5) -> list[str]:
    """Up to three official names nearest ``name`` among ``pool``, by name or short form; higher levels first."""
    members = set(pool)
    texts: dict[str, Division] = {d.name: d for d in pool}
    for short, found in table.by_short.items():  # 苏洲 is near 苏州
        if len(found) == 1 and found[0] in members:
            texts.setdefault(short, found[0])
    scored = []
    for text, division in texts.items():
        matcher = difflib.SequenceMatcher(None, name, text)
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            ratio = matcher.ratio()
            if ratio >= cutoff:
                prefix = next((i for i, (a, b) in enumerate(zip(name, text, strict=False)) if a != b), len(name))
                # the shared beginning breaks ties: 苏洲市 is 苏州市 before 株洲市
                scored.append((-ratio, -prefix, _RANK[division.level], division.name))
    return list(dict.fromkeys(official for *_, official in sorted(scored)))[:3]


def check_region_name(name: str) -> str | None:
    """None if ``in_region(name)`` can ever hold: an official name, or a park or zone kept as written.

    >>> check_region_name("宁波")
    "地区 '宁波' 应写规范全称 宁波市（与档案中的地区逐字比较）"
    """
    table = divisions()
    if name in table.by_name or _is_zone(name):
        return None
    short = table.by_short.get(name, [])
    if short:
        full = "、".join(dict.fromkeys(d.name for d in short))
        return f"地区 {name!r} 应写规范全称 {full}（与档案中的地区逐字比较）"
    close = nearest(table, name, list(table.by_code.values()))
    hint = f"是否应为 {'、'.join(close)}？" if close else "请使用民政部公布的规范名称"
    return f"地区 {name!r} 不是行政区划名称：{hint}"


def check_jurisdiction(region: str, level: str) -> str | None:
    """None if ``region`` is the official name of a division of ``level``; else what is wrong, in Chinese.

    >>> check_jurisdiction("苏州市", "city") is None
    True
    >>> check_jurisdiction("苏州", "city")
    "属地 '苏州' 应写规范全称 苏州市（与档案中的地区逐字比较）"
    """
    if level == "nation":
        return None if region in NATION else f"level 为 nation 时 region 应为 全国，得到 {region!r}"
    table = divisions()
    found = table.by_name.get(region, [])
    if not found:
        short = table.by_short.get(region, [])
        if short:
            full = "、".join(dict.fromkeys(d.name for d in short))
            return f"属地 {region!r} 应写规范全称 {full}（与档案中的地区逐字比较）"
        close = nearest(table, region, list(table.by_code.values()))
        hint = f"是否应为 {'、'.join(close)}？" if close else "请使用民政部公布的规范名称"
        return f"属地 {region!r} 不是行政区划名称：{hint}"
    # A municipality (北京市) is province-level but a city too.
    fits = [
        d for d in found if d.level == level or (level == "city" and d.level == "province" and d.name.endswith("市"))
    ]
    if not fits:
        levels = "、".join(dict.fromkeys(LEVEL_LABELS[d.level] for d in found))
        return f"属地 {region!r} 是{levels}行政区划，与 level: {level} 不符"
    return None
