"""Profiles: the facts of one entity, read from YAML/JSON, checked against the catalogue.

Every problem is a ``ProfileError`` naming the field (``facts.revenue.2023``) and saying what to do.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from huiqi.errors import ProfileError
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import ENTITY_LABELS, Catalogue, EntityType, Fact, ItemField, Period
from huiqi.money import MONEY_UNITS, parse_money
from huiqi.regions import canonical_region
from huiqi.userfiles import load_structured_file

from .env import LedgerEntry


@dataclass
class Profile:
    """One entity's facts, typed: money in integer fen, numbers exact (int or Fraction), dates, frozensets."""

    entity_type: EntityType
    facts: dict[str, Any]
    region: tuple[str, ...] = ()
    name: str | None = None
    uscc: str | None = None
    id_number: str | None = None
    ledger: tuple[LedgerEntry, ...] = ()
    notes: list[str] = field(default_factory=list)


def load_profile_file(path: Path, catalogue: Catalogue) -> Profile:
    """Read a profile from a ``.yaml``/``.yml``/``.json`` file in UTF-8 (±BOM), GBK or GB18030.

    Every problem with the file itself (missing, a directory, binary, syntax) is a ``ProfileError`` in
    Chinese naming the file, and the line and column of a syntax error.
    """
    raw = load_structured_file(path, what="档案文件", error=ProfileError)
    return parse_profile(raw, catalogue, where=str(path))


def parse_profile(raw: Any, catalogue: Catalogue, *, where: str = "profile", document: str | None = None) -> Profile:
    """Check and type a raw profile mapping; ``document`` lets ledger entries say just ``provision/rule``."""
    if not isinstance(raw, dict):
        raise ProfileError("档案应为映射，含 entity_type、facts 等字段", where=where)
    unknown_keys = set(raw) - {
        "entity_type",
        "facts",
        "region",
        "name",
        "uscc",
        "id_number",
        "ledger",
        "money_unit",
        "id",
    }
    if unknown_keys:
        raise ProfileError(
            f"档案含未知字段 {sorted(unknown_keys)}：可用 entity_type、name、uscc、id_number、region、facts、ledger、money_unit",
            where=where,
        )
    try:
        entity_type = EntityType(raw.get("entity_type", "enterprise"))
    except ValueError:
        allowed = "、".join(f"{e.value}（{ENTITY_LABELS[e.value]}）" for e in EntityType)
        raise ProfileError(
            f"entity_type {raw.get('entity_type')!r} 无效：可用 {allowed}", where=f"{where}.entity_type"
        ) from None
    money_unit = raw.get("money_unit")
    if money_unit is not None and money_unit not in MONEY_UNITS:
        raise ProfileError(f"money_unit {money_unit!r} 无效：可用 元、万元、亿元", where=f"{where}.money_unit")
    region = raw.get("region") or []
    if isinstance(region, str):
        region = [region]
    if not isinstance(region, list) or not all(isinstance(r, str) for r in region):
        raise ProfileError("region 应为地区名称列表，如 [江苏省, 苏州市]", where=f"{where}.region")
    region = canonical_region(region, where=f"{where}.region", error=ProfileError)  # GB/T 2260 names
    code = raw.get("uscc")
    if code is not None:
        code = check_uscc(str(code), where=f"{where}.uscc")
    id_number = raw.get("id_number")
    if id_number is not None:
        id_number = check_id_number(str(id_number), where=f"{where}.id_number")
    facts_raw = raw.get("facts") or {}
    if not isinstance(facts_raw, dict):
        raise ProfileError("facts 应为 事实键: 值 的映射", where=f"{where}.facts")
    facts: dict[str, Any] = {}
    for key, value in facts_raw.items():
        fact = catalogue.get(str(key))
        path = f"{where}.facts.{key}"
        if fact is None:
            close = difflib.get_close_matches(str(key), list(catalogue.facts), n=3)
            hint = f"；是否指 {'、'.join(close)}？" if close else "；`huiqi facts` 列出全部事实"
            raise ProfileError(f"未知的事实 {key!r}{hint}", where=path)
        if entity_type not in fact.entity:
            owners = "、".join(ENTITY_LABELS[e.value] for e in fact.entity)
            raise ProfileError(
                f"事实 {key}（{fact.name}）属于{owners}，不适用于{ENTITY_LABELS[entity_type.value]}", where=path
            )
        facts[fact.key] = _fact_value(fact, value, money_unit, path)
    ledger = tuple(_ledger(raw.get("ledger") or [], money_unit, f"{where}.ledger", document))
    return Profile(
        entity_type=entity_type,
        facts=facts,
        region=tuple(region),
        name=raw.get("name"),
        uscc=code,
        id_number=id_number,
        ledger=ledger,
    )


def check_uscc(code: str, *, where: str = "uscc") -> str:
    """Validate a 统一社会信用代码 (GB 32100-2015 check character); all zeros is a placeholder, not a code."""
    if code.strip("0") == "" and code:
        raise ProfileError(
            f"统一社会信用代码 {code!r} 全为0：这是占位符，不是登记过的代码（虽能通过校验码），请填写营业执照上的18位代码",
            where=where,
        )
    try:
        return str(uscc.validate(code))
    except StdnumError as exc:
        raise ProfileError(
            f"统一社会信用代码 {code!r} 无效（{_reason(exc)}）：请核对18位代码，特别是最后一位校验码", where=where
        ) from None


def check_id_number(number: str, *, where: str = "id_number") -> str:
    """Validate a 居民身份证号码 (GB 11643 check digit and birth date); all zeros is refused whatever its check digit."""
    if number and number[:17].strip("0") == "":
        raise ProfileError("身份证号码全为0：这是占位符，不是有效号码，请核对18位号码", where=where)
    try:
        return str(ric.validate(number))
    except StdnumError as exc:
        raise ProfileError(f"身份证号码无效（{_reason(exc)}）：请核对18位号码及最后一位校验码", where=where) from None


def _reason(exc: StdnumError) -> str:
    name = type(exc).__name__
    return {
        "InvalidChecksum": "校验码不符",
        "InvalidLength": "长度不符",
        "InvalidFormat": "格式不符",
        "InvalidComponent": "某一组成部分不符",
    }.get(name, name)


_QUARTER = re.compile(r"^\s*(\d{4})\s*(?:年\s*第?\s*|-\s*)?[Qq第]?\s*([1-4一二三四])\s*(?:季度?)?\s*$")
_QUARTER_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}


def parse_quarter(text: Any, *, where: str = "quarter") -> tuple[int, int]:
    """``2024Q1``, ``2024-Q1``, ``2024年第一季度`` → (2024, 1); a Chinese message otherwise."""
    found = _QUARTER.match(str(text))
    if found is None:
        raise ProfileError(f"季度 {text!r} 应写成 2024Q1（或 2024年第一季度）", where=where)
    year, quarter = int(found.group(1)), found.group(2)
    if not 1900 <= year <= 2200:
        raise ProfileError(f"季度 {text!r} 的年份超出范围", where=where)
    return year, _QUARTER_DIGITS.get(quarter) or int(quarter)


def _fact_value(fact: Fact, value: Any, money_unit: str | None, path: str) -> Any:
    if fact.period is Period.QUARTERLY:
        if not isinstance(value, dict):
            raise ProfileError(f"{fact.name}按季度填写，如 {{2024Q1: 3000万元, 2024Q2: 6500万元}}", where=path)
        return {
            parse_quarter(key, where=f"{path}.{key}"): _scalar(fact, item, money_unit, f"{path}.{key}")
            for key, item in value.items()
        }
    if fact.period is Period.ANNUAL:
        if isinstance(value, dict):
            series: dict[int, Any] = {}
            for year, item in value.items():
                try:
                    year_int = int(year)
                except (TypeError, ValueError):
                    raise ProfileError(f"年度 {year!r} 应为四位年份，如 2023", where=f"{path}.{year}") from None
                if not 1900 <= year_int <= 2200:
                    raise ProfileError(f"年度 {year!r} 超出范围", where=f"{path}.{year}")
                series[year_int] = _scalar(fact, item, money_unit, f"{path}.{year}")
            return series
        return {None: _scalar(fact, value, money_unit, path)}  # resolved to the assessed year by the engine
    return _scalar(fact, value, money_unit, path)


def _items(fact: Fact, value: Any, money_unit: str | None, path: str) -> tuple[dict[str, Any], ...]:
    """A list fact: each item a mapping of the fact's fields, each field typed as a fact of its type is."""
    if not isinstance(value, list):
        fields = "、".join(f"{f.key}（{f.name}）" for f in fact.fields or [])
        raise ProfileError(f"{fact.name}应为列表，每一项写成 {{字段: 值}}，字段：{fields}", where=path)
    items = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise ProfileError(f"{fact.name}的第{index + 1}项应为 {{字段: 值}} 的映射，得到 {item!r}", where=where)
        typed: dict[str, Any] = {}
        for key, field_value in item.items():
            item_field = fact.item_field(str(key))
            if item_field is None:
                known = "、".join(f"{f.key}（{f.name}）" for f in fact.fields or [])
                raise ProfileError(f"{fact.name}的项目没有字段 {key!r}；可用：{known}", where=f"{where}.{key}")
            if field_value is None:  # unknown: leave it out
                continue
            typed[item_field.key] = _scalar(item_field, field_value, money_unit, f"{where}.{key}")
        items.append(typed)
    return tuple(items)


def _scalar(fact: Fact | ItemField, value: Any, money_unit: str | None, path: str) -> Any:
    kind = fact.type
    if kind is Type.ITEMS and isinstance(fact, Fact):
        return _items(fact, value, money_unit, path)
    if value is None:
        raise ProfileError(f"{fact.name}（{fact.key}）的值为空：未知的事实请不要填写", where=path)
    if kind is Type.MONEY:
        fen = parse_money(value, default_unit=money_unit, where=path)
        if fen < 0:
            raise ProfileError(f"{fact.name}不能为负数（{value}）", where=path)
        return fen
    if kind is Type.NUMBER:
        if isinstance(value, bool):
            raise ProfileError(f"{fact.name}应为数值，得到 {value!r}", where=path)
        number = _number(value, fact, path)
        if number < 0:
            raise ProfileError(f"{fact.name}不能为负数（{value}）", where=path)
        if fact.unit in ("人", "家", "个", "项") and number.denominator != 1:
            raise ProfileError(f"{fact.name}应为整数（{fact.unit}）", where=path)
        return number.numerator if number.denominator == 1 else number
    if kind is Type.BOOL:
        if isinstance(value, bool):
            return value
        if value in ("是", "否"):
            return value == "是"
        raise ProfileError(f"{fact.name}应为 true/false（是/否），得到 {value!r}", where=path)
    if kind is Type.DATE:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ProfileError(
                f"{fact.name}的日期格式应为 YYYY-MM-DD（如 2023-03-01），得到 {value!r}", where=path
            ) from None
    if kind is Type.SET:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            raise ProfileError(f"{fact.name}应为列表，如 [CMMI3, ITSS]", where=path)
        result = frozenset(str(v) for v in items)
        _check_values(fact, result, path)
        return result
    if kind is Type.TEXT:
        text = str(value)
        _check_values(fact, frozenset({text}), path)
        return text
    raise ProfileError(f"{fact.name}的类型 {kind.value} 不能直接填写", where=path)  # pragma: no cover


def _number(value: Any, fact: Fact | ItemField, path: str) -> Fraction:
    text = str(value).strip()
    for unit in ("人", "家", "个", "项", "年", "天", "月"):
        text = text.removesuffix(unit)
    if text.endswith("%"):
        try:
            return Fraction(Decimal(text[:-1])) / 100
        except InvalidOperation:
            pass
    try:
        return Fraction(Decimal(text))
    except InvalidOperation:
        raise ProfileError(f"{fact.name}应为数值，得到 {value!r}", where=path) from None


def _check_values(fact: Fact | ItemField, values: frozenset[str], path: str) -> None:
    if fact.values is None:
        return
    wrong = sorted(values - set(fact.values))
    if wrong:
        raise ProfileError(f"{fact.name}含无效取值 {wrong}：可用 {'、'.join(fact.values)}", where=path)


def _ledger(items: Any, money_unit: str | None, where: str, document: str | None) -> list[LedgerEntry]:
    if not isinstance(items, list):
        raise ProfileError("ledger 应为列表", where=where)
    entries = []
    for index, item in enumerate(items):
        path = f"{where}[{index}]"
        if not isinstance(item, dict) or "rule" not in item or "period" not in item or "amount" not in item:
            raise ProfileError("台账条目应含 rule（文件:条款/规则）、period（年度）、amount（金额）", where=path)
        rule = str(item["rule"])
        if document is not None and ":" not in rule:
            rule = f"{document}:{rule}"
        if ":" not in rule or "/" not in rule:
            raise ProfileError(f"台账条目的 rule 应写成 文件编号:条款编号/规则编号，得到 {rule!r}", where=path)
        fen = parse_money(item["amount"], default_unit=money_unit, where=f"{path}.amount")
        if fen < 0:
            raise ProfileError("台账金额不能为负数", where=f"{path}.amount")
        try:
            period = int(item["period"])
        except (TypeError, ValueError):
            raise ProfileError("台账条目的 period 应为年份", where=f"{path}.period") from None
        tier = item.get("tier")
        quarter = item.get("quarter")
        if quarter is not None and (not isinstance(quarter, int) or isinstance(quarter, bool) or not 1 <= quarter <= 4):
            raise ProfileError("台账条目的 quarter 应为 1 至 4 的季度", where=f"{path}.quarter")
        entries.append(LedgerEntry(rule=rule, period=period, amount_fen=fen, tier=None if tier is None else str(tier),
                                   quarter=quarter))  # fmt: skip
    return entries
