"""Fixtures shared by the platform's tests (see tests/platform_fixtures.py)."""

from __future__ import annotations

from platform_fixtures import _platform_databases, db, pg_db, policy

__all__ = ["_platform_databases", "db", "pg_db", "policy"]
