"""Applications, their materials, and objections raised during 公示."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from huiqi.store.base import Base, utcnow


class Application(Base):
    """One entity's application to one call, with the evaluation frozen at submission.

    ``version`` is SQLAlchemy's version counter: two officials acting on the same application at once
    cannot both succeed (the second UPDATE matches no row and is refused).
    """

    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("call_id", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(32), index=True)
    requested_fen: Mapped[int | None] = mapped_column(BigInteger)
    approved_fen: Mapped[int | None] = mapped_column(BigInteger)  # proposed, then approved amount
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{ref, amount_fen, tier, status}]
    # huiqi.evaluation/2 (older rows /1), frozen at submission
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    policy_version: Mapped[str | None] = mapped_column(String(64))
    facts_used: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: the award ledger the frozen evaluation read ([{rule, period, amount_fen, tier}]); None before migration 0004
    ledger_used: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    pledge: Mapped[str | None] = mapped_column(Text)  # 信用承诺 as pledged
    pledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    returned_count: Mapped[int] = mapped_column(Integer, default=0)
    corrections: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # 一次性告知 items
    score: Mapped[str | None] = mapped_column(String(64))  # exact Fraction "n/d"
    rank: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)  # why rejected, withdrawn or clawed back
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once, at mapping


class Material(Base):
    """One uploaded file (申报材料), checked for type and size and kept with its SHA-256."""

    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))  # which required material this is
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Objection(Base):
    """An objection (异议) raised during 公示: real name, content, evidence, and its recorded outcome."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    publicity_id: Mapped[int] = mapped_column(ForeignKey("publicities.id"))
    objector_name: Mapped[str] = mapped_column(String(100))
    objector_id_number: Mapped[str] = mapped_column(String(18))
    contact: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str | None] = mapped_column(String(16))  # upheld | dismissed
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
