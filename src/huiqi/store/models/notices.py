"""政策找企业: what the registry's evaluation told each entity (a call it qualifies for, or nearly does), and
the topics and regions an entity follows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huiqi.store.base import Base, utcnow

#: How close an entity is to a provision: it qualifies, or it lacks only a few conditions or facts.
MATCHES = ("qualifies", "nearly")
MATCH_LABELS = {"qualifies": "符合条件", "nearly": "接近符合"}
#: What an entity may follow: a topic (a document's subject or the kind of support) or a region (GB/T 2260 name).
SUBSCRIPTION_KINDS = ("topic", "region")


class Notice(Base):
    """One provision an entity was told of: the amount (certain) or ceiling, the deadline, what it lacks.

    ``key`` names what was told (``call:<id>:<provision>`` or ``document:<id>:<provision>``), so telling
    the same thing twice changes nothing.
    """

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("entity_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    document_id: Mapped[str] = mapped_column(String(64))
    provision_id: Mapped[str] = mapped_column(String(64))
    match: Mapped[str] = mapped_column(String(16))  # one of MATCHES
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    amount_kind: Mapped[str] = mapped_column(String(16), default="")  # certain | ceiling | "" (no amount)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    lacking: Mapped[list[str]] = mapped_column(JSON, default=list)  # what it still lacks, in Chinese
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    delivery: Mapped[str] = mapped_column(String(16), default="in_app")  # in_app | sent | failed (webhook)
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)


class Subscription(Base):
    """A topic or region an entity follows (its notices are filtered by them when it has any)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("entity_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # one of SUBSCRIPTION_KINDS
    value: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
