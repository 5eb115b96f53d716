"""Shared fixtures of the platform's tests (store, workflow, api): databases on SQLite and PostgreSQL,
and a small world of entities, actors and calls built through the real workflow functions.

PostgreSQL is 127.0.0.1:5432 (trust auth, user root, database ``test``; override with
``HUIQI_TEST_PG_URL``). Each test session migrates a fresh schema and drops it at the end; each test
starts from empty tables. When ``CI=true`` an unreachable PostgreSQL fails the tests instead of skipping.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from stdnum.cn import ric, uscc

from huiqi import beijing
from huiqi.store.db import Database, make_engine
from huiqi.store.entities import create_entity, record_fact
from huiqi.store.migrate import upgrade
from huiqi.store.models import Application, Base, Call, Entity
from huiqi.workflow.actors import Actor
from huiqi.workflow.applications import create_draft, pass_check, submit
from huiqi.workflow.calls import CallSpec, open_call
from huiqi.workflow.lifecycle import check, move
from huiqi.workflow.policy import PolicyEngine, policy_engine
from huiqi.workflow.proposals import make_proposed_list

with warnings.catch_warnings():
    # Starlette asks for its httpx fork ("httpx2"), which the project does not depend on; the client works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

PG_URL = os.environ.get("HUIQI_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]

OFFICIAL = Actor("official1", "official", user_id=None)
FINANCE = Actor("finance1", "finance")
ADMIN = Actor("admin1", "administrator")

_state: dict[str, Any] = {}


def make_uscc(n: int) -> str:
    """A valid 统一社会信用代码 numbered ``n`` (Suzhou Industrial Park prefix)."""
    base = f"91320594MA{n:07d}"
    return base + uscc.calc_check_digit(base)


def make_id_number(n: int) -> str:
    """A valid 身份证号码 (Beijing Dongcheng, born 1990-01-01) numbered ``n``."""
    base = f"11010119900101{n % 1000:03d}"
    return base + ric.calc_check_digit(base + "0")


def pg_error() -> str | None:
    """Why PostgreSQL cannot be used, or None."""
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def require_pg() -> None:
    """Skip outside CI, fail in CI, when PostgreSQL is unreachable."""
    error = pg_error()
    if error is None:
        return
    message = f"PostgreSQL 不可用（{PG_URL}）：{error}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "；CI 中数据库测试必须运行")
    pytest.skip(message)


def pg_database() -> Database:
    """The session's PostgreSQL database: a fresh schema, migrated once."""
    require_pg()
    if "pg" not in _state:
        schema = f"huiqi_test_{os.getpid()}_{secrets.token_hex(3)}"
        admin = make_engine(PG_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        database = Database(PG_URL, schema=schema, pool_size=20)
        upgrade(database.engine)
        _state["pg"] = database
        _state["pg_schema"] = schema
    database: Database = _state["pg"]
    return database


def drop_pg_schema() -> None:
    """Drop the session's schema (called once at the end of the session)."""
    database = _state.pop("pg", None)
    schema = _state.pop("pg_schema", None)
    if database is None:
        return
    database.dispose()
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def reset_pg(database: Database) -> None:
    """Empty every table and put the audit chain's head back at genesis."""
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        connection.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64})


def sqlite_template() -> Path:
    """A migrated SQLite file, made once per process and copied for each test."""
    if "sqlite" not in _state:
        folder = Path(tempfile.mkdtemp(prefix="huiqi-test-"))
        path = folder / "template.db"
        database = Database(f"sqlite:///{path}")
        upgrade(database.engine)
        database.dispose()
        _state["sqlite"] = path
    path: Path = _state["sqlite"]
    return path


def sqlite_database(folder: Path) -> Database:
    target = folder / "huiqi.db"
    shutil.copy(sqlite_template(), target)
    return Database(f"sqlite:///{target}")


@pytest.fixture(scope="session", autouse=True)
def _platform_databases() -> Iterator[None]:
    yield
    drop_pg_schema()
    if "sqlite" in _state:
        shutil.rmtree(_state.pop("sqlite").parent, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: SQLite (a file) and PostgreSQL (a schema)."""
    if request.param == "sqlite":
        database = sqlite_database(tmp_path)
        yield database
        database.dispose()
    else:
        database = pg_database()
        reset_pg(database)
        yield database


@pytest.fixture
def pg_db() -> Database:
    """The PostgreSQL database alone, empty (concurrency tests need real row locks)."""
    database = pg_database()
    reset_pg(database)
    return database


@pytest.fixture(scope="session")
def policy() -> PolicyEngine:
    return policy_engine()


#: Facts that make an enterprise eligible for Suzhou 3/revenue-milestone tier t1 (200万元) in 2023.
SUZHOU_FACTS: dict[str, Any] = {
    "registered_city": "苏州市",
    "main_business_software": True,
    "in_miit_software_statistics": True,
}


def add_firm(
    database: Database, policy: PolicyEngine, n: int, *, revenue_2023: str = "1.35亿元", name: str | None = None
) -> int:
    """Register a Suzhou software firm whose 2023 revenue first passes 1亿元 (or not), facts verified."""
    with database.transaction() as session:
        entity = create_entity(session, entity_type="enterprise", name=name or f"苏州测试软件{n}有限公司",
                               uscc=make_uscc(n), region=["江苏省", "苏州市"])  # fmt: skip
        for key, value in SUZHOU_FACTS.items():
            record_fact(session, entity=entity, key=key, value=value, year=None, provenance="verified",
                        recorded_by="official1", catalogue=policy.base.catalogue)  # fmt: skip
        for year, value in ((2022, "4800万元"), (2023, revenue_2023)):
            record_fact(session, entity=entity, key="revenue", value=value, year=year, provenance="verified",
                        recorded_by="official1", catalogue=policy.base.catalogue)  # fmt: skip
        return entity.id


def applicant(entity_id: int) -> Actor:
    return Actor(f"applicant{entity_id}", "applicant", entity_id=entity_id)


def call_spec(**overrides: Any) -> CallSpec:
    """A Suzhou call for provision 3 open today, 1000万元, formal check, no 公示 unless asked."""
    today = beijing.today()
    data: dict[str, Any] = {
        "title": "2024年苏州市软件产业规模奖励申报",
        "document_id": "suzhou-software-cluster",
        "provisions": ["3"],
        "period": 2023,
        "as_of": "2024-06-30",
        "opens_on": (today - dt.timedelta(days=10)).isoformat(),
        "closes_on": (today + dt.timedelta(days=20)).isoformat(),
        "budget": "1000万元",
        "review_mode": "formal",
        "publicity_days": 0,
    }
    data.update(overrides)
    return CallSpec.model_validate(data)


def add_call(database: Database, policy: PolicyEngine, **overrides: Any) -> int:
    with database.transaction() as session:
        return open_call(session, spec=call_spec(**overrides), actor=OFFICIAL, policy=policy).id


def load(database: Database, model: type[Any], object_id: int) -> Any:
    with database.sessions() as session:
        return session.get(model, object_id)


def submit_application(database: Database, policy: PolicyEngine, call_id: int, entity_id: int) -> int:
    """Draft and submit (with 信用承诺) an application of ``entity_id``; returns its id."""
    actor = applicant(entity_id)
    with database.transaction() as session:
        call = session.get(Call, call_id)
        assert call is not None
        application = create_draft(session, call=call, actor=actor)
        submit(session, application=application, actor=actor, pledge=True, policy=policy)
        return application.id


def propose_all(database: Database, policy: PolicyEngine, call_id: int, entity_ids: list[int]) -> list[int]:
    """Submit, pass the formal check and make the proposed list; returns the application ids."""
    ids = [submit_application(database, policy, call_id, e) for e in entity_ids]
    with database.transaction() as session:
        for application_id in ids:
            application = session.get(Application, application_id)
            if application is not None and application.state == "submitted":
                pass_check(session, application=application, actor=OFFICIAL)
        call = session.get(Call, call_id)
        assert call is not None
        make_proposed_list(session, call=call, actor=OFFICIAL)
    return ids


def proposed_in_full(db: Database, policy: PolicyEngine, call_id: int, count: int) -> list[int]:
    """Applications proposed at their full amount, more than the budget holds (as two lists made at once could)."""
    ids = [submit_application(db, policy, call_id, add_firm(db, policy, n)) for n in range(1, count + 1)]
    with db.transaction() as session:
        for application_id in ids:
            application = session.get_one(Application, application_id)
            pass_check(session, application=application, actor=OFFICIAL)
            _call, transition = check(session, application, "propose", OFFICIAL)
            move(session, application, transition, actor=OFFICIAL, approved_fen=application.requested_fen,
                 rules=[{**r, "approved_fen": r["amount_fen"]} for r in application.rules])  # fmt: skip
    return ids


#: One scrypt hash computed once: test accounts share it so that making users costs nothing.
TEST_PASSWORD = "password-123"  # noqa: S105 - a test account's password
_HASH: dict[str, str] = {}


def add_user(database: Database, username: str, role: str, **links: int | None) -> str:
    """Create a user (password ``TEST_PASSWORD``) and return a bearer token for it."""
    from huiqi.store.models import User
    from huiqi.store.users import hash_password, issue_token

    if "hash" not in _HASH:
        _HASH["hash"] = hash_password(TEST_PASSWORD)
    with database.transaction() as session:
        user = User(username=username, display_name=username, role=role, password_hash=_HASH["hash"],
                    entity_id=links.get("entity_id"), expert_id=links.get("expert_id"))  # fmt: skip
        session.add(user)
        session.flush()
        return issue_token(session, user=user)


def make_app(database: Database, **settings: Any) -> Any:
    """The API over ``database`` with test settings."""
    from huiqi.api.app import create_app
    from huiqi.api.config import Settings

    values = {"environment": "test", "database_url": database.url, "first_admin_password": TEST_PASSWORD, **settings}
    return create_app(Settings.from_env({}, **values), database=database)


__all__ = ["Call", "Entity", "TestClient"]
