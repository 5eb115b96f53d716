"""Persistence of the administration platform: SQLAlchemy 2 models, migrations, repositories.

SQLite (a file) by default, PostgreSQL by URL. Nothing here knows about HTTP; ``huiqi.workflow`` builds
the procedures on top and ``huiqi.api`` serves them. Money columns are BigInteger fen.
"""

from __future__ import annotations

from huiqi.store.db import Database, make_engine

__all__ = ["Database", "make_engine"]
