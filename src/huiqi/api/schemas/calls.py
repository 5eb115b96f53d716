"""Calls (申报批次) and 公示."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from huiqi.api.schemas.common import yuan
from huiqi.store.models import Call, Publicity
from huiqi.workflow.calls import CallSpec

CallCreate = CallSpec


class CallPublic(BaseModel):
    id: int
    title: str
    document_id: str
    provisions: list[str]
    period: int
    quarter: int | None = None  # the assessed quarter of a quarterly call (按季度兑现)
    as_of: dt.date | None
    opens_on: dt.date
    closes_on: dt.date
    budget: str
    reserved: str
    paid: str
    remaining: str
    materials: list[str]
    review_mode: str
    quota: int | None
    experts_per_application: int
    criteria: list[dict[str, Any]]
    aggregation: str
    pass_score: int | None
    publicity_days: int
    publicity_day_kind: str
    oversubscription: str
    instalments: list[int]
    report_due: list[str]
    report_years: int
    payer: str | None = None
    procedure: dict[str, Any] | None = None  # the procedure the policy file states, as it was when opened
    deviations: list[dict[str, Any]] = []  # each field set otherwise than that procedure
    status: str
    created_by: str

    @classmethod
    def of(cls, call: Call) -> CallPublic:
        data = {name: getattr(call, name) for name in cls.model_fields if hasattr(call, name)}
        data.update(budget=yuan(call.budget_fen), reserved=yuan(call.reserved_fen), paid=yuan(call.paid_fen),
                    remaining=yuan(call.budget_fen - call.reserved_fen))  # fmt: skip
        return cls.model_validate(data)


class ProposedListPublic(BaseModel):
    proposed: list[int]
    declined: list[int]
    available: str
    rule: str


class PublicityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_on: dt.date | None = None
    channel: str = ""


class PublicityPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    call_id: int
    starts_on: dt.date
    ends_on: dt.date
    days: int
    day_kind: str
    channel: str
    published_by: str

    @classmethod
    def of(cls, publicity: Publicity) -> PublicityPublic:
        return cls.model_validate(publicity)
