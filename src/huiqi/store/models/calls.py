"""Calls (申报批次) and their 公示 periods."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from huiqi.store.base import Base, utcnow

REVIEW_MODES = ("none", "formal", "expert", "competitive")
REVIEW_MODE_LABELS = {
    "none": "免审（按评估结果）",
    "formal": "仅形式审查",
    "expert": "专家评审",
    "competitive": "竞争性评审（限额）",
}
DAY_KINDS = ("calendar", "working")
OVERSUBSCRIPTION_RULES = ("ranking", "pro_rata")


class Call(Base):
    """A call for applications under chosen provisions, with its window, budget and procedure.

    ``reserved_fen`` only grows through one conditional UPDATE (see ``huiqi.workflow.budget``), so two
    approvals at once can never push it past ``budget_fen``; the check constraint is the last line.
    """

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint("reserved_fen >= 0 AND reserved_fen <= budget_fen", name="budget_not_overspent"),
        CheckConstraint("paid_fen >= 0 AND paid_fen <= reserved_fen", name="paid_within_reserved"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    document_id: Mapped[str] = mapped_column(String(64))
    provisions: Mapped[list[str]] = mapped_column(JSON)  # provision ids of the document
    period: Mapped[int] = mapped_column(Integer)  # the assessed year (申报年度的上一年)
    quarter: Mapped[int | None] = mapped_column(Integer)  # the assessed quarter of a quarterly call (按季度兑现)
    as_of: Mapped[dt.date | None] = mapped_column(Date)  # evaluation date; None: the submission date
    readings: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    reserved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    materials: Mapped[list[str]] = mapped_column(JSON, default=list)  # required 申报材料 names
    review_mode: Mapped[str] = mapped_column(String(16))
    quota: Mapped[int | None] = mapped_column(Integer)
    experts_per_application: Mapped[int] = mapped_column(Integer, default=5)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{key, label, max}]
    aggregation: Mapped[str] = mapped_column(String(32), default="trimmed_mean")
    pass_score: Mapped[int | None] = mapped_column(Integer)
    publicity_days: Mapped[int] = mapped_column(Integer, default=7)
    publicity_day_kind: Mapped[str] = mapped_column(String(16), default="calendar")
    oversubscription: Mapped[str] = mapped_column(String(16), default="ranking")
    instalments: Mapped[list[int]] = mapped_column(JSON, default=list)  # percent shares, e.g. [60, 40]
    report_due: Mapped[list[str]] = mapped_column(JSON, default=list)  # "MM-DD" each year, e.g. ["06-30", "12-31"]
    report_years: Mapped[int] = mapped_column(Integer, default=0)
    transition_roles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # overrides of the state machine
    payer: Mapped[str | None] = mapped_column(String(100))
    #: the procedure the policy file states for these provisions (``procedures:``), as it was when opened
    procedure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: every field the official set otherwise than the stated procedure: [{field, label, stated, chosen, quote}]
    deviations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Publicity(Base):
    """A 公示: the proposed list of a call shown to the public from ``starts_on`` to ``ends_on``."""

    __tablename__ = "publicities"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)  # the last day of the 公示, inclusive
    days: Mapped[int] = mapped_column(Integer)
    day_kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(Text, default="")
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
