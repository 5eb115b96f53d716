"""The audit log: append-only, hash-chained events, and the head of the chain.

A transaction's events are chained when it commits (``huiqi.workflow.audit``): the head row is updated
then, as the last write of the transaction, so its lock (a row lock on PostgreSQL) is held only for the
commit itself and events are chained in commit order without gaps.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from huiqi.store.base import Base

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """Who did what to which object, when, with the state before and after, chained by SHA-256."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    occurred_at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, text so the hash input is exact
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[str] = mapped_column(Text)  # canonical JSON
    after: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The one row that holds the last sequence number and hash of the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
