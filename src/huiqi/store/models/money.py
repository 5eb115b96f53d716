"""Money: awards (the ledger), payments in instalments, follow-up reports, blacklist, 免申即享 batches."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from huiqi.store.base import Base, utcnow


class Award(Base):
    """An approved award: one entity, one rule, one period — the award ledger the engine reads.

    The unique constraint is what makes "paid twice for the same provision and period" impossible,
    whatever path (application or 免申即享 batch) the award came by.
    """

    __tablename__ = "awards"
    __table_args__ = (
        UniqueConstraint("entity_id", "rule_ref", "period", "quarter"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("paid_fen >= 0 AND paid_fen <= amount_fen", name="paid_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    rule_ref: Mapped[str] = mapped_column(String(200))
    period: Mapped[int] = mapped_column(Integer)
    #: the quarter (1–4) of an award under a quarterly rule (按季度兑现); 0 for a yearly award
    quarter: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(16), default="approved")  # approved | paid | clawed_back
    approved_by: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Payment(Base):
    """One instalment of an award; ``paid`` is set once, by a conditional UPDATE, so never twice."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("award_id", "instalment"), CheckConstraint("amount_fen > 0", name="positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    instalment: Mapped[int] = mapped_column(Integer)  # 1, 2, …
    share: Mapped[int] = mapped_column(Integer)  # percent of the award
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | paid | cancelled
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    paid_by: Mapped[str | None] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(100))  # 拨付凭证号
    due_year: Mapped[int | None] = mapped_column(Integer)  # the budget year it falls due in (分年拨付)
    waits_on: Mapped[str | None] = mapped_column(Text)  # the conditions it waits on, in the policy's words
    reports_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Report(Base):
    """A follow-up report (绩效报告) due on a date; overdue when not submitted by then."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    content: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class BlacklistEntry(Base):
    """失信名单: an entity barred from applying until ``expires_on`` (after a clawback)."""

    __tablename__ = "blacklist"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    reason: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Batch(Base):
    """免申即享: a call's provisions evaluated over the registry, listed, then awarded without applications."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    status: Mapped[str] = mapped_column(String(16), default="computed")  # computed | published | awarded
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    policy_version: Mapped[str] = mapped_column(String(64))


class BatchItem(Base):
    """One entity × rule found eligible by a batch, with the evaluation that found it."""

    __tablename__ = "batch_items"
    __table_args__ = (UniqueConstraint("batch_id", "entity_id", "rule_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    rule_ref: Mapped[str] = mapped_column(String(200))
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # the rule's evaluation (a huiqi.evaluation rule; /1 and /2 rules alike)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="listed")  # listed | awarded | skipped
    note: Mapped[str | None] = mapped_column(Text)
