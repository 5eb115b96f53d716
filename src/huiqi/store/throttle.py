"""Login throttling: failed logins are counted per username and per client address, in the database, and
too many lock the username (or the address) for a while.

The counters live in the ``login_failures`` table rather than in memory so that every worker process of
the service — and every server behind a load balancer — counts the same failures. Unknown usernames are
counted like known ones: probing for names is limited as much as guessing passwords, and a lock-out says
nothing about whether a name exists.

A counter starts again when its last failure is older than the window (``Limits.window``), when a lock has
run out, and — for a username — on a successful login. An address's counter is not reset by a success
(one working account must not let its owner go on guessing others). Rows whose last failure is older than
the window count for nothing and are deleted when the next failure is recorded.

Concurrency: a failure upserts its row and then updates it under a row lock (``FOR UPDATE`` on PostgreSQL;
SQLite's transactions take the write lock up front), so concurrent failures are all counted. The lock is
checked before the password is, so at most the requests already under way when the limit is reached get
an answer from the password check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from huiqi.store.base import as_utc, utcnow
from huiqi.store.models import LoginFailure

USERNAME, ADDRESS = "username", "ip"


@dataclass(frozen=True)
class Limits:
    """Failures allowed before a lock-out, and how long a lock (and the counting window) lasts."""

    per_username: int = 5
    per_address: int = 30
    window: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Lock:
    """A lock-out in force: of a username or of a client address (``kind``), until ``until`` (UTC)."""

    kind: str
    until: dt.datetime

    def retry_after(self, now: dt.datetime | None = None) -> int:
        """Whole seconds until the lock runs out (at least 1), for the ``Retry-After`` header."""
        seconds = (self.until - (now or utcnow())).total_seconds()
        return max(1, int(-(-seconds // 1)))


def _keys(username: str, address: str | None) -> list[tuple[str, str]]:
    """The counters a login touches, always in the same order (so two transactions lock rows alike)."""
    keys = [(USERNAME, username[:100])]
    if address:
        keys.append((ADDRESS, address[:100]))
    return keys


def current_lock(
    session: Session, *, username: str, address: str | None, now: dt.datetime | None = None
) -> Lock | None:
    """The lock-out in force for this username or address (the longer one), else None."""
    now = now or utcnow()
    match = or_(*(and_(LoginFailure.kind == k, LoginFailure.subject == s) for k, s in _keys(username, address)))
    locks = [
        Lock(row.kind, as_utc(row.locked_until))
        for row in session.scalars(select(LoginFailure).where(match))
        if row.locked_until is not None and as_utc(row.locked_until) > now
    ]
    return max(locks, key=lambda lock: lock.until, default=None)


def record_failure(
    session: Session, *, username: str, address: str | None, limits: Limits, now: dt.datetime | None = None
) -> Lock | None:
    """Count a failed login for the username and the address; the lock-out in force afterwards, if any."""
    now = now or utcnow()
    _purge(session, before=now - limits.window)
    locks = []
    for kind, subject in _keys(username, address):
        row = _row_for_update(session, kind, subject, now)
        locked = row.locked_until is not None and as_utc(row.locked_until) > now
        if not locked and (row.locked_until is not None or as_utc(row.last_failed_at) < now - limits.window):
            row.failures, row.locked_until = 0, None  # a lock ran out, or the last failure is too old to count
        row.failures += 1
        row.last_failed_at = now
        limit = limits.per_username if kind == USERNAME else limits.per_address
        if not locked and row.failures >= limit:
            row.locked_until = now + limits.window
        if row.locked_until is not None and as_utc(row.locked_until) > now:
            locks.append(Lock(kind, as_utc(row.locked_until)))
    session.flush()
    return max(locks, key=lambda lock: lock.until, default=None)


def record_success(session: Session, *, username: str) -> None:
    """A successful login: the username's failures are forgotten (the address's are not)."""
    session.execute(
        delete(LoginFailure).where(LoginFailure.kind == USERNAME, LoginFailure.subject == username[:100]),
        execution_options={"synchronize_session": False},
    )


def _row_for_update(session: Session, kind: str, subject: str, now: dt.datetime) -> LoginFailure:
    """The counter row of ``(kind, subject)``, created if missing, locked for this transaction."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"kind": kind, "subject": subject, "failures": 0, "last_failed_at": now, "locked_until": None}
    query = select(LoginFailure).where(LoginFailure.kind == kind, LoginFailure.subject == subject)
    for _attempt in range(3):  # a concurrent purge may delete the row between the two statements: insert again
        session.execute(insert(LoginFailure).values(values).on_conflict_do_nothing())
        row = session.scalars(query.with_for_update().execution_options(populate_existing=True)).one_or_none()
        if row is not None:
            return row
    raise RuntimeError(f"login counter {kind}:{subject} vanished three times")  # pragma: no cover


def _purge(session: Session, *, before: dt.datetime) -> None:
    """Delete counters whose last failure is older than ``before`` (they count for nothing any more).

    ``SKIP LOCKED``: a row another login is updating right now is left alone, so the purge never waits.
    """
    stale = select(LoginFailure.id).where(LoginFailure.last_failed_at < before).with_for_update(skip_locked=True)
    session.execute(
        delete(LoginFailure).where(LoginFailure.id.in_(stale)), execution_options={"synchronize_session": False}
    )
