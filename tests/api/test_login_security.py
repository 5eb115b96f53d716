# ruff: noqa: S106  (test accounts have literal passwords)
"""Login security: lock-out after repeated failures (per username and per client address, counted in the
database so that every worker sees them), one scrypt whether or not the user exists, the password rule,
and a logout that revokes the token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from huiqi.api.config import Settings
from huiqi.errors import HuiqiError
from huiqi.store import users
from huiqi.store.db import Database
from huiqi.store.errors import InvalidInput
from huiqi.store.models import LoginFailure, User
from huiqi.store.throttle import Limits, current_lock, record_failure, record_success
from huiqi.store.users import authenticate, create_user, password_problem
from huiqi.workflow.bootstrap import ensure_admin
from platform_fixtures import TEST_PASSWORD, TestClient, add_user, make_app

LOGIN = "/api/v1/auth/login"


def login(client: Any, username: str, password: str, **headers: str) -> Any:
    return client.post(LOGIN, json={"username": username, "password": password}, headers=headers)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call of ``verify_password`` (the scrypt check), recorded by the stored hash it was given."""
    calls: list[str] = []
    real = users.verify_password

    def counted(password: str, stored: str) -> bool:
        calls.append(stored)
        return real(password, stored)

    monkeypatch.setattr(users, "verify_password", counted)
    yield calls


# -- lock-out -------------------------------------------------------------------------------------------------


def test_five_failures_lock_the_username_for_fifteen_minutes(db: Database, verifications: list[str]) -> None:
    client = TestClient(make_app(db))
    add_user(db, "wang", "official")
    answers = [login(client, "wang", f"Wrong-guess-{n}") for n in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    locked = answers[-1]
    assert locked.json()["code"] == "too_many_attempts" and "15分钟后" in locked.json()["message"]
    assert "北京时间" in locked.json()["message"] and 890 <= int(locked.headers["Retry-After"]) <= 900
    calls = len(verifications)
    right = login(client, "wang", TEST_PASSWORD)  # even the right password waits, and is not even checked
    assert right.status_code == 429 and len(verifications) == calls
    with db.transaction() as session:  # a quarter of an hour later
        session.execute(update(LoginFailure).values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert login(client, "wang", TEST_PASSWORD).status_code == 200
    with db.sessions() as session:
        assert session.scalars(select(LoginFailure.kind)).all() == ["ip"]  # the username's counter is reset


def test_a_successful_login_resets_the_username_counter(db: Database) -> None:
    client = TestClient(make_app(db))
    add_user(db, "wang", "official")
    assert {login(client, "wang", "Wrong-guess-1").status_code for _ in range(4)} == {401}
    assert login(client, "wang", TEST_PASSWORD).status_code == 200
    assert {login(client, "wang", "Wrong-guess-1").status_code for _ in range(4)} == {401}


def test_unknown_usernames_are_counted_and_locked_like_real_ones(db: Database) -> None:
    client = TestClient(make_app(db))
    answers = [login(client, "ghost", "Wrong-guess-1").status_code for _ in range(6)]
    assert answers == [401, 401, 401, 401, 429, 429]


def test_the_client_address_is_limited_across_usernames(db: Database) -> None:
    client = TestClient(make_app(db, login_max_failures_per_ip=3))
    answers = [login(client, f"user{n}", "Wrong-guess-1") for n in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 429, 429]
    assert "本地址" in answers[-1].json()["message"] and int(answers[-1].headers["Retry-After"]) > 0
    spoofed = login(client, "user9", "Wrong-guess-1", **{"X-Forwarded-For": "203.0.113.9"})
    assert spoofed.status_code == 429  # a header the client chose does not move it to another address
    behind_proxy = TestClient(make_app(db, login_max_failures_per_ip=3, trust_forwarded_headers=True))
    elsewhere = login(behind_proxy, "user9", "Wrong-guess-1", **{"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
    assert elsewhere.status_code == 401  # a trusted proxy's last entry is another client: not locked


def test_the_counters_are_shared_by_every_worker(db: Database) -> None:
    """Two app instances over one database (as two worker processes are): their failures add up."""
    first, second = TestClient(make_app(db)), TestClient(make_app(db))
    add_user(db, "wang", "official")
    statuses = [login(client, "wang", "Wrong-guess-1").status_code for client in (first, second) * 3]
    assert statuses == [401, 401, 401, 401, 429, 429]


def test_the_counter_forgets_failures_older_than_the_window(db: Database) -> None:
    limits = Limits(per_username=3, per_address=100, window=dt.timedelta(minutes=15))
    start = dt.datetime(2025, 1, 1, 8, 0, tzinfo=dt.UTC)

    def fail(minutes: float) -> Any:
        with db.transaction() as session:
            return record_failure(session, username="wang", address="10.0.0.1", limits=limits,
                                  now=start + dt.timedelta(minutes=minutes))  # fmt: skip

    assert fail(0) is None and fail(10) is None
    assert fail(30) is None  # 20 minutes after the last one: counting starts again
    assert fail(31) is None
    lock = fail(32)
    assert lock is not None and lock.kind == "username" and lock.until == start + dt.timedelta(minutes=47)
    with db.transaction() as session:
        assert current_lock(session, username="wang", address=None, now=start + dt.timedelta(minutes=46)) == lock
        assert current_lock(session, username="wang", address=None, now=start + dt.timedelta(minutes=47)) is None
        assert current_lock(session, username="li", address="10.0.0.2", now=start + dt.timedelta(minutes=46)) is None
    assert fail(48) is None  # the lock ran out: a fresh count
    with db.transaction() as session:
        record_success(session, username="wang")
    assert fail(100) is None  # the rows older than the window were purged on the way
    with db.sessions() as session:
        rows = session.scalars(select(LoginFailure).order_by(LoginFailure.kind)).all()
        assert [(r.kind, r.subject, r.failures) for r in rows] == [("ip", "10.0.0.1", 1), ("username", "wang", 1)]


# -- one scrypt for everybody ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["unknown", "inactive", "wrong password", "right password"])
def test_authenticate_verifies_one_password_whoever_asks(db: Database, verifications: list[str], case: str) -> None:
    with db.transaction() as session:
        user = create_user(session, username="wang", password=TEST_PASSWORD, role="official")
        user.active = case != "inactive"
    with db.transaction() as session:
        name = "nobody" if case == "unknown" else "wang"
        result = authenticate(session, username=name, password="Wrong-guess-1" if "wrong" in case else TEST_PASSWORD)
    assert (result is not None) == (case == "right password")
    assert len(verifications) == 1
    assert verifications[0].startswith(f"scrypt${users.SCRYPT_N}$")  # the dummy costs what a real hash costs


def test_a_login_over_http_verifies_one_password_for_unknown_and_known_users(
    db: Database, verifications: list[str]
) -> None:
    client = TestClient(make_app(db))
    add_user(db, "wang", "official")
    verifications.clear()  # (the app's start-up created the first administrator)
    assert login(client, "nobody", "Wrong-guess-1").status_code == 401
    assert len(verifications) == 1
    assert login(client, "wang", "Wrong-guess-1").status_code == 401
    assert len(verifications) == 2
    assert login(client, "nobody", "Wrong-guess-1").json() == login(client, "wang", "Wrong-guess-1").json()


# -- the password rule ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Ab1-short", "太短"),
        ("alllowercase1", "类别太少"),  # two classes, under 16 characters
        ("ALLUPPER-NOLOWER", None),  # 16 characters: any classes
        ("lower-and-digit1", None),
        ("Lower-1-ok", None),  # 10 characters, four classes
        ("中文密码也行但要够长", "类别太少"),  # 10 characters, all of the class "other"
        ("中文密码也行只要够长十六个字以上", None),
        ("xx-Wang-2024-xx", "用户名"),  # case-insensitive
        ("P@ssw0rd123", "常见"),
        ("Password123!", "常见"),
        ("changethis", "类别太少"),
    ],
)  # fmt: skip
def test_the_password_rule(password: str, problem: str | None) -> None:
    found = password_problem(password, username="wang")
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found and "至少10位" in found  # it says what is required


def test_create_user_and_the_api_apply_the_rule(db: Database) -> None:
    with db.transaction() as session, pytest.raises(InvalidInput, match="至少3类") as refused:
        create_user(session, username="wang", password="password12", role="official")
    assert refused.value.where == "password"
    client = TestClient(make_app(db))
    admin = {"Authorization": f"Bearer {add_user(db, 'root', 'administrator')}"}
    weak = client.post(
        "/api/v1/users", headers=admin, json={"username": "li", "password": "li-12345", "role": "official"}
    )
    assert weak.status_code == 422 and weak.json()["field"] == "password" and "至少10位" in weak.json()["message"]
    strong = client.post("/api/v1/users", headers=admin, json={"username": "li", "password": "Ledger-Keeper-7",
                                                                "role": "official"})  # fmt: skip
    assert strong.status_code == 201, strong.text
    assert login(client, "li", "Ledger-Keeper-7").status_code == 200


def test_the_development_default_admin_password_still_works_but_production_refuses_weak_ones(db: Database) -> None:
    with db.transaction() as session:
        assert ensure_admin(session, username="admin", password="changethis") is not None
    with db.sessions() as session:
        assert authenticate(session, username="admin", password="changethis") is not None
    production = {"HUIQI_ENVIRONMENT": "production", "HUIQI_DATABASE_URL": "postgresql+psycopg://x/y",
                  "HUIQI_SESSION_SECRET": "0123456789abcdef" * 4}  # fmt: skip
    with pytest.raises(HuiqiError, match="不符合密码规则"):
        Settings.from_env({**production, "HUIQI_FIRST_ADMIN_PASSWORD": "aaaaaaaaaaaa"})
    with pytest.raises(HuiqiError, match=r"不符合密码规则.*用户名"):
        Settings.from_env({**production, "HUIQI_FIRST_ADMIN_PASSWORD": "Admin-secret-2024"})
    assert (
        Settings.from_env({**production, "HUIQI_FIRST_ADMIN_PASSWORD": "Root-secret-2024"}).environment == "production"
    )


def test_set_password_applies_the_rule(db: Database) -> None:
    with db.transaction() as session:
        user = create_user(session, username="wang", password=TEST_PASSWORD, role="official")
        with pytest.raises(InvalidInput, match="太短"):
            users.set_password(user, "short")
        users.set_password(user, "New-secret-42")
    with db.sessions() as session:
        assert authenticate(session, username="wang", password="New-secret-42") is not None


# -- logout ---------------------------------------------------------------------------------------------------


def test_logout_revokes_the_token_it_was_called_with(db: Database) -> None:
    client = TestClient(make_app(db))
    add_user(db, "wang", "official")
    tokens = [login(client, "wang", TEST_PASSWORD).json()["access_token"] for _ in range(2)]
    bearer: Callable[[str], dict[str, str]] = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731
    assert client.get("/api/v1/auth/me", headers=bearer(tokens[0])).status_code == 200
    out = client.post("/api/v1/auth/logout", headers=bearer(tokens[0]))
    assert out.status_code == 204 and out.content == b""
    gone = client.get("/api/v1/auth/me", headers=bearer(tokens[0]))
    assert gone.status_code == 401 and gone.json()["code"] == "unauthenticated"
    assert client.post("/api/v1/auth/logout", headers=bearer(tokens[0])).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(tokens[1])).json()["username"] == "wang"  # the other session
    assert client.post("/api/v1/auth/logout").status_code == 401
    with db.sessions() as session:
        assert session.scalar(select(User.active).where(User.username == "wang")) is True
