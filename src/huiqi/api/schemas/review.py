"""Experts, assignments and score sheets."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from huiqi.store.models import Assignment, Expert


class ExpertCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    fields: list[str] = Field(default_factory=list, max_length=20)
    employer: str = Field(min_length=1, max_length=200)
    interests: list[str] = Field(
        default_factory=list, max_length=100, description="申报的利益关系：关联单位名称或统一社会信用代码"
    )


class ExpertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    fields: list[str]
    employer: str
    interests: list[str]
    active: bool

    @classmethod
    def of(cls, expert: Expert) -> ExpertPublic:
        return cls.model_validate(expert)


class DrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str | None = Field(default=None, max_length=100, description="只从该领域的专家中抽取")
    seed: str | None = Field(default=None, max_length=64, description="抽取种子（留空则随机生成并记录）")


class ScoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: dict[str, int] = Field(examples=[{"scale": 40, "plan": 45}])
    comment: str = Field(default="", max_length=5000)


class AssignmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    application_id: int
    expert_id: int
    draw_seed: str
    assigned_at: dt.datetime
    scores: dict[str, int] | None
    total: int | None
    comment: str | None
    submitted_at: dt.datetime | None
    declined_at: dt.datetime | None = Field(default=None, description="专家声明回避的时间（回避的评分表不计入得分）")
    decline_reason: str | None = None

    @classmethod
    def of(cls, assignment: Assignment) -> AssignmentPublic:
        return cls.model_validate(assignment)


class DeclineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="回避理由，如：曾在申报单位任职")


class DeclineResult(BaseModel):
    declined: AssignmentPublic
    replacement: AssignmentPublic | None = Field(description="补抽的专家（专家库中已无无冲突的同领域专家时为空）")
