"""Accounts: scrypt password hashes and bearer tokens (stored as SHA-256), from the standard library."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi.store.base import as_utc, utcnow
from huiqi.store.errors import Conflict, InvalidInput, NotFound
from huiqi.store.models import ROLES, Token, User

#: scrypt cost: 2**14 × 8 × 1 takes about 16 MiB and tens of milliseconds — slow for a guesser, fine for a login.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64), a fresh salt each time."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    encode = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash from ``hash_password`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    entity_id: int | None = None,
    expert_id: int | None = None,
) -> User:
    """A new account; an applicant must act for an entity, an expert must be an expert of the pool."""
    if role not in ROLES:
        raise InvalidInput(f"角色 {role!r} 无效：可用 {'、'.join(ROLES)}", where="role")
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("用户名应为1–64位字母、数字、- 或 _", where="username")
    if len(password) < 8:
        raise InvalidInput("密码至少8位", where="password")
    if role == "applicant" and entity_id is None:
        raise InvalidInput("申报主体账号须关联一个已登记的主体（entity_id）", where="entity_id")
    if role == "expert" and expert_id is None:
        raise InvalidInput("评审专家账号须关联专家库中的专家（expert_id）", where="expert_id")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已存在", where="username")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=hash_password(password),
        entity_id=entity_id if role == "applicant" else None,
        expert_id=expert_id if role == "expert" else None,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The active user with this name and password, else None (the caller says only "wrong")."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, *, user: User, hours: int = 12) -> str:
    """A new bearer token for ``user``; only its hash is stored, the secret is returned once."""
    secret = secrets.token_urlsafe(32)
    session.add(Token(user_id=user.id, token_hash=_digest(secret), expires_at=utcnow() + dt.timedelta(hours=hours)))
    session.flush()
    return secret


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token belongs to, else None."""
    row = session.scalar(select(Token).where(Token.token_hash == _digest(token)))
    if row is None or row.revoked or as_utc(row.expires_at) <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def revoke_token(session: Session, token: str) -> None:
    row = session.scalar(select(Token).where(Token.token_hash == _digest(token)))
    if row is None:
        raise NotFound("令牌不存在或已失效")
    row.revoked = True
