"""The fact catalogue: what can be known about an entity, in which unit, for which period."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from huiqi.errors import PolicyError
from huiqi.expr.ast import Type
from huiqi.policy.yamlio import line_of, load_yaml, strip_lines


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
    NONE = "none"  # does not vary (a date of establishment)


class Fact(BaseModel):
    """One entry of the fact catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    en: str | None = None
    type: Type
    unit: str | None = None
    period: Period = Period.INSTANT
    entity: list[EntityType]
    definition: str
    values: list[str] | None = None
    default: Any = None
    source_file: str = ""

    @field_validator("type", mode="before")
    @classmethod
    def _type_aliases(cls, value: object) -> object:
        """``count`` and ``rate`` are numbers, ``enum`` is text with ``values``."""
        return {"count": "number", "rate": "number", "enum": "text"}.get(str(value), value)

    @property
    def label(self) -> str:
        """The Chinese name with the unit, for tables and traces."""
        return self.name


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
    def load(cls, folder: Path) -> Catalogue:
        """Load every ``*.yaml`` of a folder; a duplicate key or a malformed entry is a ``PolicyError``."""
        facts: dict[str, Fact] = {}
        for path in sorted(folder.glob("*.yaml")):
            data = load_yaml(path)
            if not isinstance(data, dict) or not isinstance(data.get("facts"), list):
                raise PolicyError("事实目录文件应有顶层键 facts: 列表", where=f"{path}:1")
            for index, raw in enumerate(data["facts"]):
                line = line_of(data, ("facts", index)) or 1
                try:
                    fact = Fact(**strip_lines(raw), source_file=path.name)
                except ValidationError as exc:
                    raise PolicyError(_describe(exc), where=f"{path}:{line}") from None
                if fact.key in facts:
                    raise PolicyError(
                        f"事实 {fact.key!r} 已在 {facts[fact.key].source_file} 中定义；同一事实只能定义一次",
                        where=f"{path}:{line}",
                    )
                facts[fact.key] = fact
        return cls(facts)


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        parts.append(f"字段 {field}: {error['msg']}")
    return "；".join(parts)
