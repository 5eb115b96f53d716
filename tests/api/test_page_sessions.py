"""The pages' session cookie and CSRF token, over HTTP without a browser: the cookie is signed (a changed
signature or token is ignored), Secure over HTTPS (directly or through a trusted proxy), revoked at sign-out;
the pages' sign-in and the API's token endpoint share one lock-out."""

from __future__ import annotations

import re
from typing import Any

from huiqi.store.db import Database
from platform_fixtures import TEST_PASSWORD, TestClient, add_user, make_app


def _sign_in(client: TestClient, username: str, password: str = TEST_PASSWORD, **headers: str) -> Any:
    page = client.get("/login", headers=headers)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    fresh = re.search(r"huiqi_presession=([^;]+)", page.headers.get("set-cookie", ""))
    pre = fresh.group(1) if fresh else client.cookies.get("huiqi_presession")
    assert match is not None and pre
    # the pre-session cookie sent as a browser behind a TLS proxy would (a Secure cookie is not sent over http)
    headers = {**headers, "Cookie": f"huiqi_presession={pre}"}
    return client.post("/login", data={"username": username, "password": password, "csrf_token": match.group(1)},
                       headers=headers, follow_redirects=False)  # fmt: skip


def test_the_session_cookie_is_signed_and_revoked_at_sign_out(db: Database) -> None:
    add_user(db, "wang", "official")
    client = TestClient(make_app(db))
    answer = _sign_in(client, "wang")
    assert answer.status_code == 303 and answer.headers["location"] == "/desk/official"
    header = answer.headers["set-cookie"]
    assert "huiqi_session=" in header and "HttpOnly" in header and "SameSite=lax" in header
    assert "Secure" not in header  # plain HTTP
    cookie = client.cookies["huiqi_session"]
    assert client.get("/desk/official", follow_redirects=False).status_code == 200
    token, _dot, signature = cookie.rpartition(".")
    for forged in (f"{token}.{signature[:-2]}xx", f"{token[:-2]}xx.{signature}", token):
        other = TestClient(client.app, cookies={"huiqi_session": forged})
        refused = other.get("/desk/official", follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"] == "/login?next=/desk/official"
    page = client.get("/desk/official")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    assert client.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False).status_code == 303
    replay = TestClient(client.app, cookies={"huiqi_session": cookie})  # the old cookie, kept by an attacker
    assert replay.get("/desk/official", follow_redirects=False).status_code == 303


def test_the_cookie_is_secure_over_https(db: Database) -> None:
    add_user(db, "wang", "official")
    direct = TestClient(make_app(db), base_url="https://testserver")
    assert "Secure" in _sign_in(direct, "wang").headers["set-cookie"]
    proxied = TestClient(make_app(db, trust_forwarded_headers=True))
    answer = _sign_in(proxied, "wang", **{"X-Forwarded-Proto": "https"})
    assert "Secure" in answer.headers["set-cookie"]
    untrusted = TestClient(make_app(db))  # the header is ignored unless the proxy is trusted
    assert "Secure" not in _sign_in(untrusted, "wang", **{"X-Forwarded-Proto": "https"}).headers["set-cookie"]


def test_the_pages_and_the_api_share_one_lock_out(db: Database) -> None:
    add_user(db, "wang", "official")
    client = TestClient(make_app(db))
    for attempt in range(4):
        assert _sign_in(client, "wang", f"Wrong-guess-{attempt}").status_code == 401
    fifth = client.post("/api/v1/auth/login", json={"username": "wang", "password": "Wrong-guess-9"})
    assert fifth.status_code == 429
    locked = _sign_in(client, "wang")  # even the right password, on the page
    assert locked.status_code == 429 and "已暂时锁定" in locked.text and "Retry-After" in locked.headers
