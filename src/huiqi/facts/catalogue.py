"""The fact catalogue: what can be known about an entity, in which unit, for which period."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from huiqi.errors import PolicyError
from huiqi.expr.ast import Type
from huiqi.policy.messages import validation_errors
from huiqi.policy.yamlio import line_of, load_yaml, strip_lines
from huiqi.suggest import did_you_mean


class EntityType(StrEnum):
    """Who a profile describes (申报主体类型)."""

    ENTERPRISE = "enterprise"  # 企业
    PARK_OPERATOR = "park_operator"  # 园区运营主体
    TALENT = "talent"  # 人才
    INSTITUTION = "institution"  # 高校院所
    PROJECT = "project"  # 项目
    LOCAL_GOVERNMENT = "local_government"  # 地方政府


ENTITY_LABELS: dict[str, str] = {
    "enterprise": "企业",
    "park_operator": "园区运营主体",
    "talent": "人才",
    "institution": "高校院所",
    "project": "项目",
    "local_government": "地方政府",
    "core_team": "核心团队",
}


class Period(StrEnum):
    """How a fact varies in time."""

    INSTANT = "instant"  # one value as of the evaluation date
    ANNUAL = "annual"  # one value per year: {2023: …}
    QUARTERLY = "quarterly"  # one value per quarter: {2024Q1: …} (e.g. quarter-to-date cumulative revenue)
    NONE = "none"  # does not vary (a date of establishment)


#: Type names a fact file may use, and the type expressions check them as.
TYPE_ALIASES: dict[str, str] = {"count": "number", "rate": "number", "enum": "text"}


class ItemField(BaseModel):
    """One field of the items of a list fact (``type: items``): a certificate's level, its fee …"""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    type: Type
    type_name: str = ""
    unit: str | None = None
    values: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _type_aliases(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("type"), str):
            written = data["type"]
            allowed = ["money", "number", "bool", "date", "text", *TYPE_ALIASES]
            if written not in allowed:
                raise ValueError(f"列表项字段的 type 应为 {'、'.join(allowed)} 之一，得到 {written!r}")
            data = {**data, "type": TYPE_ALIASES.get(written, written), "type_name": data.get("type_name") or written}
        return data

    @model_validator(mode="after")
    def _values_act(self) -> ItemField:
        if self.values is not None and self.type is not Type.TEXT:
            raise ValueError("values 只用于 text 或 enum 类字段：请删除")
        if self.type_name == "enum" and not self.values:
            raise ValueError("type: enum 需要 values（可取的值的列表）")
        return self


class Fact(BaseModel):
    """One entry of the fact catalogue (the format is documented in docs/authoring.md §10)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    en: str | None = None
    type: Type
    #: the type as the fact file writes it (``count``, ``rate`` and ``enum`` kept), for the docs
    type_name: str = ""
    unit: str | None = None
    period: Period = Period.INSTANT
    entity: list[EntityType] = Field(min_length=1)
    definition: str
    values: list[str] | None = None
    #: the fields of each item of a list fact (``type: items``)
    fields: list[ItemField] | None = None
    default: Any = None
    source_file: str = ""
    #: fact files that extended this fact to more entity types (``extend:``)
    extended_in: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _type_aliases(cls, data: Any) -> Any:
        """``count`` and ``rate`` are numbers, ``enum`` is text with ``values``; the written name is kept."""
        if isinstance(data, dict) and isinstance(data.get("type"), str):
            written = data["type"]
            allowed = [*(t.value for t in Type), *TYPE_ALIASES]
            if written not in allowed:
                raise ValueError(
                    f"type 应为 {'、'.join(allowed)} 之一，得到 {written!r}{did_you_mean(written, allowed)}"
                )
            data = {**data, "type": TYPE_ALIASES.get(written, written), "type_name": data.get("type_name") or written}
        return data

    @model_validator(mode="after")
    def _values_act(self) -> Fact:
        """``values`` are checked only for text and set facts; an ``enum`` needs them."""
        if self.values is not None and self.type not in (Type.TEXT, Type.SET):
            raise ValueError(
                f"values 只用于 text、enum 或 set 类事实（{self.type_name} 类事实的取值不受它限制）：请删除"
            )
        if self.type_name == "enum" and not self.values:
            raise ValueError("type: enum 需要 values（可取的值的列表）")
        if (self.type is Type.ITEMS) != bool(self.fields):
            raise ValueError("type: items（列表类事实）须写 fields（每一项的字段）；fields 只用于 items 类事实")
        if self.type is Type.ITEMS and self.period is not Period.INSTANT:
            raise ValueError("items 类事实按评价日列出全部项目（period: instant）；各项的年度写成字段，如 year")
        if self.fields and len({f.key for f in self.fields}) != len(self.fields):
            raise ValueError("fields 的 key 不能重复")
        # The engine hands a default to expressions as written, so only true/false can be one.
        if self.default is not None and not (self.type is Type.BOOL and isinstance(self.default, bool)):
            raise ValueError("default 只能用于 bool 类事实，写 true 或 false（其他类型的默认值引擎无法按类型使用）")
        return self

    @property
    def label(self) -> str:
        """The Chinese name with the unit, for tables and traces."""
        return self.name

    def item_field(self, key: str) -> ItemField | None:
        """A field of a list fact's items, by key."""
        return next((f for f in self.fields or [] if f.key == key), None)


class Extension(BaseModel):
    """``extend:`` in a fact file: an existing fact made available to more entity types."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    entity: list[EntityType] = Field(min_length=1)
    #: what the fact means for the added entity types (appended to the definition)
    definition: str | None = None


class Catalogue:
    """All facts, by key."""

    def __init__(self, facts: dict[str, Fact]) -> None:
        self.facts = facts

    def __contains__(self, key: object) -> bool:
        return key in self.facts

    def __getitem__(self, key: str) -> Fact:
        return self.facts[key]

    def get(self, key: str) -> Fact | None:
        return self.facts.get(key)

    def __iter__(self) -> Any:
        return iter(self.facts.values())

    def __len__(self) -> int:
        return len(self.facts)

    @classmethod
    def load(cls, folder: Path, errors: list[PolicyError] | None = None) -> Catalogue:
        """Load every ``*.yaml`` of a folder: its ``facts`` first, then every file's ``extend`` entries.

        Without ``errors`` the first problem raises a ``PolicyError``; with it, every problem is appended
        there and the malformed entries are left out.
        """
        found: list[PolicyError] = []
        facts: dict[str, Fact] = {}
        extensions: list[tuple[Extension, Path, int]] = []
        for path in sorted(folder.glob("*.yaml")):
            try:
                data = load_yaml(path)
            except PolicyError as exc:
                found.append(exc)
                continue
            if (
                not isinstance(data, dict)
                or not isinstance(data.get("facts", []), list)
                or not ("facts" in data or "extend" in data)
            ):
                found.append(
                    PolicyError(
                        "事实文件应有顶层键 facts:（新事实的列表）和/或 extend:（扩展已有事实）", where=f"{path}:1"
                    )
                )
                continue
            unknown = sorted(set(data) - {"facts", "extend", "__lines__"})
            if unknown:
                found.append(PolicyError(f"事实文件的顶层键只能是 facts 和 extend，得到 {unknown}", where=f"{path}:1"))
            for index, raw in enumerate(data.get("facts") or []):
                line = line_of(data, ("facts", index)) or 1
                try:
                    fact = Fact(**strip_lines(raw), source_file=path.name) if isinstance(raw, dict) else None
                except ValidationError as exc:
                    found.extend(validation_errors(exc, raw, Fact, str(path), prefix=("facts", index)))
                    continue
                if fact is None:
                    found.append(PolicyError(f"facts[{index}]：应为映射（key、name、type …）", where=f"{path}:{line}"))
                elif fact.key in facts:
                    found.append(
                        PolicyError(
                            f"事实 {fact.key!r} 已在 {facts[fact.key].source_file} 中定义；同一事实只能定义一次"
                            "（要让它适用于更多主体类型，请用 extend:）",
                            where=f"{path}:{line}",
                        )
                    )
                else:
                    facts[fact.key] = fact
            extend = data.get("extend") or []
            if not isinstance(extend, list):
                found.append(PolicyError("extend: 应为列表", where=f"{path}:{line_of(data, ('extend',)) or 1}"))
                continue
            for index, raw in enumerate(extend):
                line = line_of(data, ("extend", index)) or 1
                try:
                    extensions.append((Extension(**strip_lines(raw)), path, line))
                except (ValidationError, TypeError) as exc:
                    if isinstance(exc, ValidationError):
                        found.extend(validation_errors(exc, raw, Extension, str(path), prefix=("extend", index)))
                    else:
                        found.append(PolicyError(f"extend[{index}]：应为映射（key、entity …）", where=f"{path}:{line}"))
        for extension, path, line in extensions:
            problem = _extend(facts, extension, path.name)
            if problem:
                found.append(PolicyError(problem, where=f"{path}:{line}"))
        if found and errors is None:
            raise found[0]
        if errors is not None:
            errors.extend(found)
        return cls(facts)


def _extend(facts: dict[str, Fact], extension: Extension, file: str) -> str | None:
    """Apply one ``extend`` entry; returns what is wrong with it, if anything."""
    fact = facts.get(extension.key)
    if fact is None:
        return f"extend 的事实 {extension.key!r} 不在事实目录中" + did_you_mean(extension.key, facts)
    already = [e for e in extension.entity if e in fact.entity]
    if already:
        names = "、".join(ENTITY_LABELS[e.value] for e in already)
        return f"事实 {extension.key}（{fact.name}）已适用于{names}，无需扩展"
    definition = fact.definition
    if extension.definition:
        names = "、".join(ENTITY_LABELS[e.value] for e in extension.entity)
        definition += f"对{names}：{extension.definition}"
    facts[extension.key] = fact.model_copy(
        update={
            "entity": [*fact.entity, *extension.entity],
            "definition": definition,
            "extended_in": [*fact.extended_in, file],
        }
    )
    return None
