"""Awards, payments, reports, 免申即享 batches."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from huiqi.api.schemas.common import yuan
from huiqi.store.models import Award, Batch, BatchItem, Payment, Report
from huiqi.workflow.reports import is_overdue


class AwardPublic(BaseModel):
    id: int
    call_id: int
    application_id: int | None
    batch_id: int | None
    entity_id: int
    rule_ref: str
    period: int
    quarter: int = 0  # 1–4 for an award of a quarterly rule, 0 for a yearly one
    tiers: list[str]
    amount: str
    paid: str
    state: str
    approved_by: str
    approved_at: dt.datetime

    @classmethod
    def of(cls, award: Award) -> AwardPublic:
        return cls(id=award.id, call_id=award.call_id, application_id=award.application_id, batch_id=award.batch_id,
                   entity_id=award.entity_id, rule_ref=award.rule_ref, period=award.period, quarter=award.quarter,
                   tiers=list(award.tiers),
                   amount=yuan(award.amount_fen) or "0.00", paid=yuan(award.paid_fen) or "0.00", state=award.state,
                   approved_by=award.approved_by, approved_at=award.approved_at)  # fmt: skip


class PaymentPublic(BaseModel):
    id: int
    award_id: int
    application_id: int | None
    instalment: int
    share: int
    amount: str
    status: str
    paid_at: dt.datetime | None
    paid_by: str | None
    reference: str | None
    due_year: int | None = None  # 分年拨付: the budget year it falls due in
    waits_on: str | None = None  # the conditions it waits on, in the policy's words

    @classmethod
    def of(cls, payment: Payment) -> PaymentPublic:
        return cls(id=payment.id, award_id=payment.award_id, application_id=payment.application_id,
                   instalment=payment.instalment, share=payment.share, amount=yuan(payment.amount_fen) or "0.00",
                   status=payment.status, paid_at=payment.paid_at, paid_by=payment.paid_by,
                   reference=payment.reference, due_year=payment.due_year, waits_on=payment.waits_on)  # fmt: skip


class PayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, max_length=100, description="拨付凭证号")


class ReportPublic(BaseModel):
    id: int
    application_id: int
    title: str
    due_on: dt.date
    submitted_at: dt.datetime | None
    overdue: bool

    @classmethod
    def of(cls, report: Report, today: dt.date) -> ReportPublic:
        return cls(id=report.id, application_id=report.application_id, title=report.title, due_on=report.due_on,
                   submitted_at=report.submitted_at, overdue=is_overdue(report, today))  # fmt: skip


class ReportSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=20000)


class BatchItemPublic(BaseModel):
    id: int
    entity_id: int
    rule_ref: str
    tiers: list[str]
    amount: str
    status: str
    note: str | None

    @classmethod
    def of(cls, item: BatchItem) -> BatchItemPublic:
        return cls(id=item.id, entity_id=item.entity_id, rule_ref=item.rule_ref, tiers=list(item.tiers),
                   amount=yuan(item.amount_fen) or "0.00", status=item.status, note=item.note)  # fmt: skip


class BatchPublic(BaseModel):
    id: int
    call_id: int
    status: str
    policy_version: str
    created_by: str
    published_at: dt.datetime | None
    items: list[BatchItemPublic]

    @classmethod
    def of(cls, batch: Batch, items: list[BatchItem]) -> BatchPublic:
        return cls(id=batch.id, call_id=batch.call_id, status=batch.status, policy_version=batch.policy_version,
                   created_by=batch.created_by, published_at=batch.published_at,
                   items=[BatchItemPublic.of(i) for i in items])  # fmt: skip


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    before: str
    after: str
    prev_hash: str
    hash: str


class VerificationPublic(BaseModel):
    ok: bool
    events: int
    problems: list[str]


class EvaluationRequest(BaseModel):
    """One profile, as in ``huiqi evaluate`` (YAML/JSON profile fields), and the options of the CLI."""

    model_config = ConfigDict(extra="forbid")

    profile: dict[str, Any] = Field(examples=[{"entity_type": "enterprise", "region": ["江苏省", "苏州市"],
                                               "facts": {"revenue": {"2023": "1.35亿元"}}}])  # fmt: skip
    as_of: dt.date | None = None
    period: int | None = Field(default=None, ge=1900, le=2200)
    documents: list[str] = Field(default_factory=list, max_length=20)
    readings: dict[str, str] = Field(default_factory=dict)
    include_drafts: bool = False
    include_expired: bool = False
    any_jurisdiction: bool = False
