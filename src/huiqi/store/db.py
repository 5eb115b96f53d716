"""Engines and sessions from a URL: SQLite files by default, PostgreSQL (psycopg 3) in production.

SQLite gets foreign keys, WAL, a busy timeout and ``BEGIN IMMEDIATE`` transactions: every transaction
takes the write lock up front, so two writers queue instead of failing half-way with "database is
locked" when one of them upgrades a read to a write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

DEFAULT_URL = "sqlite:///huiqi.db"


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    schema: str | None = None,
    echo: bool = False,
    lock_timeout_ms: int | None = None,
    pool_timeout_s: float = 30.0,
) -> Engine:
    """An engine for ``url``; ``schema`` puts a PostgreSQL connection's ``search_path`` there (tests).

    On PostgreSQL the pool holds ``pool_size`` connections and as many again when busy; ``lock_timeout_ms``
    bounds every wait for a row lock (the statement fails and the request is answered 503 to retry), and a
    transaction left idle for a minute is ended by the server, so no lock is held forever.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=NullPool if parsed.database in (None, "", ":memory:") else None,
        )
        _configure_sqlite(engine)
        return engine
    given = parsed.query.get("options")  # e.g. ?options=-csearch_path%3Dx in the URL: kept, ours added
    options = [given] if isinstance(given, str) else list(given or ())
    options.append("-cidle_in_transaction_session_timeout=60000")
    if lock_timeout_ms is not None:
        options.append(f"-clock_timeout={lock_timeout_ms}")
    if schema:
        options.append(f"-csearch_path={schema}")
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout_s,
        pool_pre_ping=True,
        connect_args={"options": " ".join(options)},
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgresql(engine: Engine) -> bool:
    """Whether row locks (``FOR UPDATE``) mean anything on this engine."""
    return engine.dialect.name == "postgresql"


class Database:
    """An engine and its session factory: what the workflow and the API are given."""

    def __init__(
        self, url: str, *, pool_size: int = 5, schema: str | None = None, lock_timeout_ms: int | None = None
    ) -> None:
        self.url = url
        self.schema = schema
        self.engine = make_engine(url, pool_size=pool_size, schema=schema, lock_timeout_ms=lock_timeout_ms)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._probe: Engine | None = None

    def side_engine(self) -> Engine:
        """A small engine of its own (1 connection, 1 more when busy, waiting at most 2 s for one) for the
        checks made outside the admission gate — ``/health``, a token checked before a large body is read —
        so that they never take a connection an admitted request counts on."""
        if self._probe is None:
            self._probe = make_engine(self.url, pool_size=1, schema=self.schema, pool_timeout_s=2.0)
        return self._probe

    def ping(self) -> None:
        """``SELECT 1`` on the side engine: a health check answers even when every pooled connection is busy."""
        with self.side_engine().connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self._probe is not None:
            self._probe.dispose()
