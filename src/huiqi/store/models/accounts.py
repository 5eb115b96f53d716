"""Users, their roles, and the bearer tokens they log in with (only a hash of each token is kept)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huiqi.store.base import Base, utcnow

ROLES = ("applicant", "official", "expert", "finance", "analyst", "administrator")
ROLE_LABELS = {
    "applicant": "申报主体",
    "official": "主管部门经办人",
    "expert": "评审专家",
    "finance": "财政（资金拨付）",
    "analyst": "政策分析人员",
    "administrator": "系统管理员",
}


class User(Base):
    """A person who logs in, with exactly one role; an applicant acts for one entity, an expert is one."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Token(Base):
    """A bearer token: the SHA-256 of the secret, so a leaked database does not leak sessions."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginFailure(Base):
    """Failed logins of one username or one client address (``kind``): the counter behind the lock-out.

    Kept in the database, not in memory, so every worker process of the service sees the same counts.
    Unknown usernames get a row too, so probing for names is limited like guessing passwords.
    """

    __tablename__ = "login_failures"
    __table_args__ = (UniqueConstraint("kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(100))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
