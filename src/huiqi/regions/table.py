"""The division table: codes, names, levels and parents, with the short forms people write."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Literal

Level = Literal["province", "city", "county"]
LEVEL_LABELS: dict[str, str] = {"province": "省级", "city": "地级", "county": "县级"}

# Endings dropped to make the short form of a name; ethnic names are dropped before 自治州/县/旗.
_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")
_OTHER_SUFFIXES = ("自治州", "自治县", "自治旗", "新区", "地区", "林区", "特区", "市", "盟", "区", "县", "旗")
_ETHNIC = sorted(
    [
        "哈萨克族",
        "哈萨克",
        "柯尔克孜",
        "蒙古族",
        "蒙古",
        "锡伯",
        "塔吉克",
        "达斡尔族",
        "鄂伦春",
        "鄂温克族",
        "朝鲜族",
        "满族",
        "回族",
        "藏族",
        "羌族",
        "彝族",
        "白族",
        "哈尼族",
        "傣族",
        "傈僳族",
        "佤族",
        "拉祜族",
        "纳西族",
        "景颇族",
        "布朗族",
        "普米族",
        "怒族",
        "独龙族",
        "苗族",
        "瑶族",
        "侗族",
        "土家族",
        "布依族",
        "水族",
        "仡佬族",
        "壮族",
        "毛南族",
        "仫佬族",
        "土族",
        "撒拉族",
        "保安族",
        "东乡族",
        "裕固族",
        "各族",
        "维吾尔",
    ],
    key=len,
    reverse=True,
)


@dataclass(frozen=True)
class Division:
    """One administrative division: its six-digit code and official name."""

    code: str
    name: str

    @property
    def level(self) -> Level:
        if self.code.endswith("0000"):
            return "province"
        if self.code.endswith("00"):
            return "city"
        return "county"


@dataclass
class Divisions:
    """Every division, by code and by official name and short form."""

    by_code: dict[str, Division]
    by_name: dict[str, list[Division]] = field(default_factory=dict)
    by_short: dict[str, list[Division]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for division in self.by_code.values():
            self.by_name.setdefault(division.name, []).append(division)
            short = short_form(division)
            if short and short != division.name:
                self.by_short.setdefault(short, []).append(division)

    def parent(self, division: Division) -> Division | None:
        if division.level == "province":
            return None
        if division.level == "county":
            city = self.by_code.get(division.code[:4] + "00")
            if city is not None:
                return city
        return self.by_code.get(division.code[:2] + "0000")

    def path(self, division: Division) -> tuple[Division, ...]:
        """The division and its ancestors, from the province down."""
        chain = [division]
        while (up := self.parent(chain[-1])) is not None:
            chain.append(up)
        return tuple(reversed(chain))

    def within(self, division: Division, ancestor: Division) -> bool:
        return ancestor in self.path(division)[:-1]

    def full_name(self, division: Division) -> str:
        """``江苏省苏州市昆山市``: the path written as one name (for lists of ambiguous places)."""
        return "".join(d.name for d in self.path(division))

    def children(self, division: Division | None) -> list[Division]:
        """The divisions directly under ``division`` (the provinces for None)."""
        return [d for d in self.by_code.values() if self.parent(d) == division]


def short_form(division: Division) -> str | None:
    """The short form people write (江苏 for 江苏省, 伊犁 for 伊犁哈萨克自治州), or None if too short.

    >>> short_form(Division("650000", "新疆维吾尔自治区")), short_form(Division("654000", "伊犁哈萨克自治州"))
    ('新疆', '伊犁')
    >>> short_form(Division("320583", "昆山市")), short_form(Division("110105", "朝阳区"))
    ('昆山', '朝阳')
    """
    name = division.name
    suffixes = _PROVINCE_SUFFIXES if division.level == "province" else _OTHER_SUFFIXES
    for suffix in suffixes:
        if name.endswith(suffix):
            name = name.removesuffix(suffix)
            break
    stripped = division.name.endswith(("自治州", "自治县", "自治旗"))  # 内蒙古 keeps its 蒙古
    while stripped:
        stripped = False
        for ethnic in _ETHNIC:
            if name.endswith(ethnic) and len(name) > len(ethnic):
                name, stripped = name.removesuffix(ethnic), True
                break
    return name if len(name) >= 2 else None


_LINE = re.compile(r"^(\d{6})\t(\S+)$")


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    """The table shipped with huiqi (``divisions.tsv``), read once."""
    text = files("huiqi.regions").joinpath("divisions.tsv").read_text(encoding="utf-8")
    table: dict[str, Division] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            table[match[1]] = Division(match[1], match[2])
    return Divisions(table)
