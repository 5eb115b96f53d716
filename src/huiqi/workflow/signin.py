"""Signing in with a username and password: the one procedure behind the API's token endpoint
(``POST /api/v1/auth/login``) and the web pages' sign-in form (``/login``).

The login is throttled (``huiqi.store.throttle``): too many failures lock the username, or the client's
address, for a while. The password is checked outside any transaction — scrypt takes tens of milliseconds,
and on SQLite a transaction holds the database's write lock — and costs one scrypt whether or not the user
exists (``huiqi.store.users.password_matches``). A success issues a token (``huiqi.store.users.issue_token``:
only its hash is stored); the API hands it to the client, the pages keep it in a signed cookie.
"""

from __future__ import annotations

from dataclasses import dataclass

from huiqi import beijing
from huiqi.store.base import utcnow
from huiqi.store.db import Database
from huiqi.store.models import User
from huiqi.store.throttle import USERNAME, Limits, Lock, current_lock, record_failure, record_success
from huiqi.store.users import find_user, issue_token, password_matches


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: a token (and who it is for), or a lock-out in force, or a wrong password."""

    token: str | None = None
    username: str = ""
    role: str = ""
    lock: Lock | None = None

    @property
    def ok(self) -> bool:
        return self.token is not None


WRONG_PASSWORD = "用户名或密码错误"  # noqa: S105 - a message, not a password


def lock_message(lock: Lock) -> str:
    """Who is locked, until when (Beijing time), and after how many minutes to retry."""
    minutes = -(-lock.retry_after() // 60)
    at = lock.until.astimezone(beijing.BEIJING).strftime("%H:%M")
    if lock.kind == USERNAME:
        return f"该用户名登录失败次数过多，已暂时锁定：请在{minutes}分钟后（北京时间{at}之后）重试；如忘记密码，请联系系统管理员"
    return f"来自本地址的登录失败次数过多，已暂时锁定：请在{minutes}分钟后（北京时间{at}之后）重试"


def sign_in(
    database: Database, *, username: str, password: str, address: str | None, limits: Limits, token_hours: int
) -> SignIn:
    """Check the lock-out, then the password (outside any transaction); issue a token or count the failure."""
    with database.transaction() as session:
        lock = current_lock(session, username=username, address=address)
        user = None if lock is not None else find_user(session, username)
    if lock is not None:
        return SignIn(lock=lock)
    if password_matches(user, password):  # one scrypt, outside any transaction
        with database.transaction() as session:
            current = session.get(User, user.id) if user is not None else None
            if current is not None and current.active:
                record_success(session, username=username)
                token = issue_token(session, user=current, hours=token_hours)
                return SignIn(token=token, username=current.username, role=current.role)
    now = utcnow()
    with database.transaction() as session:
        lock = record_failure(session, username=username, address=address, limits=limits, now=now)
    return SignIn(lock=lock)
