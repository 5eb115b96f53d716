"""Entities and their facts."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from huiqi.store.entities import MAX_FACT_TEXT, fact_value_problem
from huiqi.store.models import Entity, Fact

EntityTypeName = Literal["enterprise", "park_operator", "talent", "institution", "project", "local_government"]
FactValue = str | int | bool | list[str]


class EntityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity_type: EntityTypeName
    name: str = Field(min_length=1, max_length=200)
    uscc: str | None = Field(
        default=None, max_length=18, description="统一社会信用代码（企业、园区运营主体、高校院所必填）"
    )
    id_number: str | None = Field(default=None, max_length=18, description="居民身份证号码（人才必填）")
    region: list[str] = Field(default_factory=list, max_length=5, examples=[["江苏省", "苏州市"]])


class EntityPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entity_type: str
    name: str
    uscc: str | None
    region: list[str]
    created_at: dt.datetime

    @classmethod
    def of(cls, entity: Entity) -> EntityPublic:
        return cls.model_validate(entity)


class FactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=64, examples=["revenue"])
    value: FactValue = Field(
        examples=["1.35亿元"],
        description=f"文本不超过{MAX_FACT_TEXT}字，列表不超过200项，整体（JSON）不超过16KiB，数值小于10^16",
    )
    year: int | None = Field(default=None, ge=1900, le=2200, description="年度事实（或季度事实）的年份")
    quarter: int | None = Field(default=None, ge=1, le=4, description="季度事实的季度（1至4）")
    source: str | None = Field(default=None, max_length=200)

    @field_validator("value")
    @classmethod
    def _size(cls, value: FactValue) -> FactValue:
        problem = fact_value_problem(value)
        if problem:
            raise ValueError(problem[0])
        return value


class FactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entity_id: int
    key: str
    year: int | None
    quarter: int | None = None
    value: Any
    provenance: Literal["declared", "verified", "imported"]
    recorded_by: str
    recorded_at: dt.datetime
    source: str | None

    @classmethod
    def of(cls, fact: Fact) -> FactPublic:
        return cls.model_validate(fact)
