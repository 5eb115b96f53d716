"""The schema is made by migrations only, identically on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.command import downgrade
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from huiqi.store.db import Database
from huiqi.store.migrate import alembic_config, current_revision, head_revision, upgrade
from huiqi.store.models import AuditHead, Base


def test_migrations_bring_the_database_to_head_with_the_chain_head_seeded(db: Database) -> None:
    assert current_revision(db.engine) == head_revision() == "0006"
    with db.sessions() as session:
        head = session.get(AuditHead, 1)
        assert head is not None and head.seq == 0 and head.hash == "0" * 64


def test_the_migrated_schema_matches_the_models_exactly(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrading_twice_changes_nothing(db: Database) -> None:
    upgrade(db.engine)
    assert current_revision(db.engine) == "0006"


def test_the_login_failures_migration_goes_down_and_up_again(db: Database) -> None:
    downgrade(alembic_config(db.engine), "0001")
    assert current_revision(db.engine) == "0001"
    assert "login_failures" not in inspect(db.engine).get_table_names()
    upgrade(db.engine)
    assert current_revision(db.engine) == "0006"
    assert "login_failures" in inspect(db.engine).get_table_names()


def test_the_notices_migration_goes_down_and_up_again(db: Database) -> None:
    downgrade(alembic_config(db.engine), "0002")
    assert current_revision(db.engine) == "0002"
    tables = inspect(db.engine).get_table_names()
    assert "notices" not in tables and "subscriptions" not in tables
    assert "declined_at" not in {c["name"] for c in inspect(db.engine).get_columns("assignments")}
    upgrade(db.engine)
    assert current_revision(db.engine) == "0006"
    assert {"notices", "subscriptions"} <= set(inspect(db.engine).get_table_names())


def test_the_call_procedure_migration_goes_down_and_up_again_keeping_the_calls(db: Database) -> None:
    from sqlalchemy import text

    downgrade(alembic_config(db.engine), "0003")
    assert current_revision(db.engine) == "0003"
    columns = {c["name"] for c in inspect(db.engine).get_columns("calls")}
    assert "procedure" not in columns and "deviations" not in columns
    assert "ledger_used" not in {c["name"] for c in inspect(db.engine).get_columns("applications")}
    with db.engine.begin() as connection:  # a call opened before the migration
        connection.execute(text(
            "INSERT INTO calls (title, document_id, provisions, period, readings, opens_on, closes_on, budget_fen,"
            " reserved_fen, paid_fen, materials, review_mode, experts_per_application, criteria, aggregation,"
            " publicity_days, publicity_day_kind, oversubscription, instalments, report_due, report_years,"
            " transition_roles, status, created_by, created_at) VALUES ('旧批次', 'd', '[\"1\"]', 2024, '{}',"
            " '2025-01-01', '2025-02-01', 100, 0, 0, '[]', 'formal', 5, '[]', 'trimmed_mean', 7, 'calendar',"
            " 'ranking', '[]', '[]', 0, '{}', 'open', 'x', '2025-01-01 00:00:00')"
        ))  # fmt: skip
    upgrade(db.engine)
    assert current_revision(db.engine) == "0006"
    with db.engine.connect() as connection:
        row = connection.execute(text("SELECT title, procedure, deviations FROM calls")).one()
    assert row[0] == "旧批次" and row[1] is None and row[2] in ("[]", [])  # an old call: no procedure, nothing deviated
    assert "ledger_used" in {c["name"] for c in inspect(db.engine).get_columns("applications")}
