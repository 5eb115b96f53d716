# ruff: noqa: S106  (test accounts have literal passwords)
"""The platform's commands: db upgrade, users create, audit verify (which must catch tampering), serve."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from huiqi.cli import app
from huiqi.cli_platform import is_fresh_sqlite
from huiqi.store.db import Database
from huiqi.store.migrate import current_revision
from huiqi.store.models import Application, AuditEvent
from huiqi.store.users import authenticate
from huiqi.workflow.awards import approve
from huiqi.workflow.policy import policy_engine
from platform_fixtures import OFFICIAL, add_call, add_firm, propose_all


def test_db_upgrade_users_create_and_audit_verify_catch_tampering(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    upgraded = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert upgraded.exit_code == 0 and "0006" in upgraded.stdout
    created = runner.invoke(app, ["users", "create", "wang", "--role", "official", "--database", url],
                            input="A-good-password-1\nA-good-password-1\n")  # fmt: skip
    assert created.exit_code == 0, created.output
    refused = runner.invoke(app, ["users", "create", "li", "--role", "mayor", "--password", "12345678",
                                  "--database", url])  # fmt: skip
    assert refused.exit_code == 2 and "角色" in refused.output
    database = Database(url)
    with database.sessions() as session:
        assert authenticate(session, username="wang", password="A-good-password-1") is not None
    policy = policy_engine()
    call_id = add_call(database, policy)
    [application_id] = propose_all(database, policy, call_id, [add_firm(database, policy, 1)])
    with database.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
    clean = runner.invoke(app, ["audit", "verify", "--database", url])
    assert clean.exit_code == 0 and "审计链完整" in clean.stdout
    with database.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.action == "award.create").values(after="{}"))
    tampered = runner.invoke(app, ["audit", "verify", "--database", url])
    assert tampered.exit_code == 1 and "篡改" in tampered.output
    assert current_revision(database.engine) == "0006"
    database.dispose()


def test_serve_loads_the_demo_only_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    assert is_fresh_sqlite(f"sqlite:///{tmp_path / 'new.db'}")
    (tmp_path / "old.db").write_bytes(b"")
    assert not is_fresh_sqlite(f"sqlite:///{tmp_path / 'old.db'}")
    assert not is_fresh_sqlite("postgresql+psycopg://root@127.0.0.1/test")
    assert CliRunner().invoke(app, ["serve", "--help"]).exit_code == 0
