"""The expert pool and the assignments (one expert, one application, one independent score sheet)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huiqi.store.base import Base, utcnow


class Expert(Base):
    """评审专家: fields of expertise, employer, and declared interests (USCCs or names of related parties)."""

    __tablename__ = "experts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    employer: Mapped[str] = mapped_column(String(200))
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Assignment(Base):
    """An expert drawn for an application, and the score sheet the expert hands in."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("application_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), index=True)
    draw_seed: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    scores: Mapped[dict[str, int] | None] = mapped_column(JSON)
    total: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    declined_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # the expert declared a conflict
    decline_reason: Mapped[str | None] = mapped_column(Text)
