"""The registry's repository: entities with checked identifiers, facts with provenance, profiles.

Identifiers are checked by the engine's own validators (``check_uscc``, ``check_id_number``) and fact
values by the engine's profile parser, so the registry never holds what an evaluation would refuse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huiqi.engine.profile import check_id_number, check_uscc, parse_profile
from huiqi.errors import ProfileError
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import ENTITY_LABELS, Catalogue, EntityType, Period
from huiqi.regions import canonical_region
from huiqi.store.errors import Conflict, InvalidInput, NotFound
from huiqi.store.models import PROVENANCES, Entity, Fact

#: Which fact wins for one key and year: a verified figure stands until an official verifies another;
#: an import beats a declaration; among equals the latest row.
PROVENANCE_RANK = {"declared": 1, "imported": 2, "verified": 3}

#: Entity types that are legal persons and so must carry a 统一社会信用代码.
NEEDS_USCC = {"enterprise", "park_operator", "institution"}

#: Limits of one fact value (the API's schema applies the same): characters of a text, items of a list,
#: nesting, the whole value as JSON, and the size of a number (money in fen, after units are applied).
MAX_FACT_TEXT = 2000
MAX_FACT_ITEMS = 200
MAX_FACT_DEPTH = 3
MAX_FACT_JSON_BYTES = 16 * 1024
MAX_FACT_NUMBER = 10**16  # fen: 100万亿元, far beyond any figure of one entity
#: An exponent in a written number ("1e9999999" would take the engine seconds to expand exactly).
_EXPONENT = re.compile(r"[0-9.]\s*[eE]\s*[+-]?\s*([0-9]+)")


def fact_value_problem(value: Any, *, where: str = "value") -> tuple[str, str] | None:
    """Why ``value`` is too large to be a fact value, with the path of the offending part; or None.

    >>> fact_value_problem(["CMMI3", "ITSS"]) is None
    True
    >>> fact_value_problem("x" * 2001)[0]
    '事实取值过长：2001个字符，上限2000个字符；请只填写取值本身，说明请写在来源（source）中'
    """
    problem = _walk(value, where, 0)
    if problem:
        return problem
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
    if size > MAX_FACT_JSON_BYTES:
        return f"事实取值过大：{size}字节（JSON），上限{MAX_FACT_JSON_BYTES // 1024}KiB", where
    return None


def _walk(value: Any, where: str, depth: int) -> tuple[str, str] | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if abs(value) >= MAX_FACT_NUMBER:
            return f"数值过大：须小于10^16（金额即100万亿元），得到{len(str(abs(value)))}位数；请核对单位", where
        return None
    if isinstance(value, float):
        if value != value or abs(value) >= MAX_FACT_NUMBER:  # NaN or too large (inf included)
            return f"数值无效或过大：须为小于10^16的有限数，得到 {value!r}", where
        return None
    if isinstance(value, str):
        if len(value) > MAX_FACT_TEXT:
            return (
                f"事实取值过长：{len(value)}个字符，上限{MAX_FACT_TEXT}个字符；请只填写取值本身，说明请写在来源（source）中",
                where,
            )
        exponent = _EXPONENT.search(value)
        if exponent and (len(exponent.group(1)) > 2 or int(exponent.group(1)) > 16):
            return f"数值过大：科学计数法的指数不能超过16，得到 {value[:40]!r}", where
        return None
    if isinstance(value, list | tuple | dict):
        if depth >= MAX_FACT_DEPTH:
            return f"事实取值嵌套过深：最多{MAX_FACT_DEPTH}层", where
        if len(value) > MAX_FACT_ITEMS:
            return f"列表过长：{len(value)}项，上限{MAX_FACT_ITEMS}项", where
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and len(key) > 100:
                return f"键过长：{len(key)}个字符，上限100个字符", where
            problem = _walk(item, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}", depth + 1)
            if problem:
                return problem
        return None
    return None  # dates and other scalars: the profile parser decides


def _numbers(value: Any) -> list[Fraction]:
    """The numbers in a parsed fact value (a series by year, a scalar)."""
    if isinstance(value, dict):
        return [n for item in value.values() for n in _numbers(item)]
    if isinstance(value, int | Fraction) and not isinstance(value, bool):
        return [Fraction(value)]
    return []


def create_entity(
    session: Session,
    *,
    entity_type: str,
    name: str,
    uscc: str | None = None,
    id_number: str | None = None,
    region: list[str] | None = None,
) -> Entity:
    """Register an entity; its code is checked and must not be registered already."""
    if entity_type not in {e.value for e in EntityType}:
        allowed = "、".join(f"{e.value}（{ENTITY_LABELS[e.value]}）" for e in EntityType)
        raise InvalidInput(f"主体类型 {entity_type!r} 无效：可用 {allowed}", where="entity_type")
    if not name.strip():
        raise InvalidInput("主体名称不能为空", where="name")
    if entity_type in NEEDS_USCC and not uscc:
        raise InvalidInput(f"{ENTITY_LABELS[entity_type]}须填写18位统一社会信用代码", where="uscc")
    if entity_type == "talent" and not id_number:
        raise InvalidInput("人才须填写18位居民身份证号码", where="id_number")
    try:
        checked_uscc = check_uscc(uscc.strip().upper(), where="uscc") if uscc else None
        checked_id = check_id_number(id_number.strip().upper(), where="id_number") if id_number else None
    except ProfileError as exc:
        raise InvalidInput(exc.message, where=exc.where) from None
    if checked_uscc and session.scalar(select(Entity.id).where(Entity.uscc == checked_uscc)) is not None:
        raise Conflict(f"统一社会信用代码 {checked_uscc} 已登记，请勿重复登记", where="uscc")
    if checked_id and session.scalar(select(Entity.id).where(Entity.id_number == checked_id)) is not None:
        raise Conflict("该身份证号码已登记，请勿重复登记", where="id_number")
    checked_region = list(canonical_region(region or [], where="region", error=InvalidInput))  # GB/T 2260 names
    entity = Entity(
        entity_type=entity_type, name=name.strip(), uscc=checked_uscc, id_number=checked_id, region=checked_region
    )
    session.add(entity)
    session.flush()
    return entity


def get_entity(session: Session, entity_id: int) -> Entity:
    """An entity by id, or ``NotFound``."""
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise NotFound(f"没有编号为 {entity_id} 的主体", where="entity_id")
    return entity


def record_fact(
    session: Session,
    *,
    entity: Entity,
    key: str,
    value: Any,
    year: int | None,
    provenance: str,
    recorded_by: str,
    catalogue: Catalogue,
    source: str | None = None,
    quarter: int | None = None,
) -> Fact:
    """Record one value of a fact, checked exactly as a profile would be (units, type, allowed values); a
    quarterly fact (按季度) takes its year and ``quarter`` (1–4)."""
    if provenance not in PROVENANCES:
        raise InvalidInput(f"来源 {provenance!r} 无效：可用 {'、'.join(PROVENANCES)}", where="provenance")
    fact = catalogue.get(key)
    if fact is None:
        raise InvalidInput(f"未知的事实 {key!r}：`huiqi facts` 列出全部事实", where="key")
    if fact.period is Period.QUARTERLY:
        if year is None or quarter not in (1, 2, 3, 4):
            raise InvalidInput(f"{fact.name}（{key}）按季度填写，须填写年度和季度（1至4）", where="quarter")
    elif quarter is not None:
        raise InvalidInput(f"{fact.name}（{key}）不按季度填写，请不要填写季度", where="quarter")
    elif fact.period is Period.ANNUAL and year is None:
        raise InvalidInput(f"{fact.name}（{key}）是年度事实，须填写年度", where="year")
    elif fact.period is not Period.ANNUAL and year is not None:
        raise InvalidInput(f"{fact.name}（{key}）不分年度，请不要填写年度", where="year")
    problem = fact_value_problem(value)
    if problem:
        raise InvalidInput(f"{fact.name}（{key}）：{problem[0]}", where=problem[1])
    raw_value = {(f"{year}Q{quarter}" if quarter else str(year)): value} if year is not None else value
    try:
        profile = parse_profile({"entity_type": entity.entity_type, "facts": {key: raw_value}}, catalogue, where="fact")
    except ProfileError as exc:
        where = (exc.where or "").replace("fact.facts.", "value.").replace(f"value.{key}", "value")
        raise InvalidInput(exc.message, where=where or "value") from None
    if any(abs(n) >= MAX_FACT_NUMBER for n in _numbers(profile.facts[fact.key])):
        bound = "金额须小于100万亿元（10^16分）" if fact.type is Type.MONEY else "数值须小于10^16"
        raise InvalidInput(f"{fact.name}（{key}）过大：{bound}，请核对单位", where="value")
    row = Fact(
        entity_id=entity.id,
        key=key,
        year=year,
        quarter=quarter,
        value=value,
        provenance=provenance,
        recorded_by=recorded_by,
        source=source,
    )
    session.add(row)
    session.flush()
    return row


def current_facts(session: Session, entity_id: int) -> list[Fact]:
    """The fact row in force for each key and year (see ``PROVENANCE_RANK``), in key order."""
    rows = session.scalars(select(Fact).where(Fact.entity_id == entity_id).order_by(Fact.id)).all()
    return sorted(in_force(rows), key=lambda f: (f.key, f.year or 0, f.quarter or 0))


def in_force(rows: Iterable[Fact]) -> list[Fact]:
    """The row in force for each entity, key and year among ``rows`` given in id order (see
    ``PROVENANCE_RANK``): one rule for an entity's facts and for statistics over many entities."""
    chosen: dict[tuple[int, str, int | None, int | None], Fact] = {}
    for row in rows:
        slot = (row.entity_id, row.key, row.year, row.quarter)
        held = chosen.get(slot)
        if held is None or PROVENANCE_RANK[row.provenance] >= PROVENANCE_RANK[held.provenance]:
            chosen[slot] = row
    return list(chosen.values())


def raw_profile(entity: Entity, facts: list[Fact]) -> dict[str, Any]:
    """The profile mapping ``parse_profile`` reads, built from the facts in force."""
    values: dict[str, Any] = {}
    for fact in facts:
        if fact.year is None:
            values[fact.key] = fact.value
        else:
            slot = f"{fact.year}Q{fact.quarter}" if fact.quarter else str(fact.year)
            values.setdefault(fact.key, {})[slot] = fact.value
    raw: dict[str, Any] = {"entity_type": entity.entity_type, "name": entity.name, "region": list(entity.region)}
    if entity.uscc:
        raw["uscc"] = entity.uscc
    if entity.id_number:
        raw["id_number"] = entity.id_number
    raw["facts"] = values
    return raw


def facts_used(facts: list[Fact]) -> list[dict[str, Any]]:
    """The facts in force with their provenance: what an application freezes beside its evaluation."""
    return [
        {
            "fact_id": f.id,
            "key": f.key,
            "year": f.year,
            **({"quarter": f.quarter} if f.quarter else {}),
            "value": f.value,
            "provenance": f.provenance,
            "recorded_by": f.recorded_by,
            "recorded_at": f.recorded_at.isoformat(),
        }
        for f in facts
    ]


def count_entities(session: Session) -> int:
    return session.scalar(select(func.count(Entity.id))) or 0
