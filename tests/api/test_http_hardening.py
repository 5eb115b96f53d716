"""HTTP hardening (``huiqi.api.security``): security headers on every response, and body-size limits that
refuse an oversized request before its body is read — checked against a real uvicorn server over a raw
socket, where "before" can be observed (the test client reads a request's whole body before the app runs).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from huiqi.api import security
from huiqi.api.app import API_PREFIX
from huiqi.store.db import Database
from platform_fixtures import TestClient, add_user, make_app

KIB, MIB = 1024, 1024 * 1024


def test_every_response_carries_the_security_headers(db: Database) -> None:
    client = TestClient(make_app(db))
    token = add_user(db, "official1", "official")
    for response in (
        client.get("/api/v1/health"),
        client.get("/api/v1/calls"),  # 401
        client.get("/api/v1/calls", headers={"Authorization": f"Bearer {token}"}),
        client.get("/nowhere"),  # 404 outside the API
        client.post("/api/v1/auth/login", json={"username": "x", "password": "y"}),  # 401
    ):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", response.request.url
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        web = response.request.url.path == "/nowhere"  # a web page (huiqi.web): this origin's assets only
        assert headers["Content-Security-Policy"] == (
            security.WEB_CSP if web else "default-src 'none'; frame-ancestors 'none'"
        )
        assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would mean nothing
    assert client.get("/api/v1/calls", headers={"Authorization": f"Bearer {token}"}).headers["Cache-Control"] == (
        "no-store"
    )
    assert "no-store" not in client.get("/api/v1/openapi.json").headers.get("Cache-Control", "")


def test_credential_responses_are_never_stored(db: Database) -> None:
    client = TestClient(make_app(db))
    add_user(db, "official1", "official")
    login = client.post("/api/v1/auth/login", json={"username": "official1", "password": "password-123"})
    assert login.status_code == 200 and login.headers["Cache-Control"] == "no-store"
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=bearer).headers["Cache-Control"] == "no-store"
    assert client.post("/api/v1/auth/logout", headers=bearer).headers["Cache-Control"] == "no-store"


def test_hsts_only_over_tls_and_a_forwarded_proto_only_from_a_trusted_proxy(db: Database) -> None:
    hsts = "max-age=31536000; includeSubDomains"
    assert TestClient(make_app(db), base_url="https://testserver").get("/api/v1/health").headers[
        "Strict-Transport-Security"
    ] == hsts  # fmt: skip
    forwarded = {"X-Forwarded-Proto": "https"}
    plain = TestClient(make_app(db)).get("/api/v1/health", headers=forwarded)
    assert "Strict-Transport-Security" not in plain.headers  # anyone can send the header
    trusted = TestClient(make_app(db, trust_forwarded_headers=True)).get("/api/v1/health", headers=forwarded)
    assert trusted.headers["Strict-Transport-Security"] == hsts


def test_the_docs_page_may_run_exactly_its_own_scripts(db: Database) -> None:
    page = TestClient(make_app(db)).get("/api/v1/docs")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == f"'self' 'sha256-{digest}'"
    assert directives["connect-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert not re.findall(r'(?:src|href)="(https?://[^"]+)', page.text)  # vendored: nothing from outside
    assert page.headers["X-Frame-Options"] == "DENY" and int(page.headers["Content-Length"]) == len(page.content)


def test_small_bodies_are_refused_413_before_anything_else(db: Database) -> None:
    client = TestClient(make_app(db, max_upload_mb=1))
    token = add_user(db, "official1", "official")
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    big_json = b'{"name": "' + b"x" * (1 * MIB) + b'"}'
    anonymous = client.post("/api/v1/entities", content=b"{}" + b" " * (64 * KIB))
    assert anonymous.status_code == 413 and "未登录" in anonymous.json()["message"]  # not parsed, then 401
    assert anonymous.json()["code"] == "payload_too_large" and anonymous.headers["X-Frame-Options"] == "DENY"
    assert client.post("/api/v1/entities", content=b"{}").status_code == 401  # a small one: the usual 401
    login = client.post("/api/v1/auth/login", content=b'{"username": "' + b"x" * (8 * KIB) + b'"}')
    assert login.status_code == 413 and "登录" in login.json()["message"]
    assert client.post("/api/v1/entities", content=big_json, headers=bearer).status_code == 413
    below = client.post("/api/v1/entities", content=b'{"name": "' + b"x" * (100 * KIB) + b'"}', headers=bearer)
    assert below.status_code == 422  # over 64 KiB with a live token: read, and refused by validation
    fake = {**bearer, "Authorization": "Bearer made-up"}
    refused = client.post("/api/v1/entities", content=b'{"name": "' + b"x" * (100 * KIB) + b'"}', headers=fake)
    assert refused.status_code == 413 and "令牌无效" in refused.json()["message"]

    def upload(size: int) -> Any:
        files = {"file": ("a.pdf", b"%PDF-1.4\n" + b"0" * size, "application/pdf")}
        return client.post("/api/v1/applications/999/materials", data={"name": "x"}, files=files,
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip

    assert upload(2 * MIB).status_code == 413
    assert upload(MIB - 16 * KIB).status_code == 404  # within max_upload_mb: read, and no such application


# -- a real server: an oversized body is refused without being read ----------------------------------------


@dataclass
class Counting:
    """An ASGI wrapper that counts the body bytes the application pulled from the server."""

    app: Any
    received: int = 0
    requests: list[str] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counted() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
            return message

        if scope["type"] == "http":
            self.requests.append(scope["path"])
        await self.app(scope, counted, send)


@contextmanager
def serving(app: Any) -> Iterator[int]:
    """Run ``app`` under uvicorn (h11) on a free local port in a thread; yields the port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, http="h11", ws="none", lifespan="off",
                                           log_level="critical"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one HTTP/1.1 response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before the response: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(lines[0].split()[1]), headers, body


def request_head(path: str, *headers: str) -> bytes:
    return ("\r\n".join([f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *headers]) + "\r\n\r\n").encode()


@pytest.fixture
def server(db: Database) -> Iterator[tuple[int, Counting, str]]:
    """The API over ``db`` served by uvicorn, wrapped in ``Counting``; (port, counter, an official's token)."""
    counting = Counting(make_app(db))
    token = add_user(db, "official1", "official")
    with serving(counting) as port:
        yield port, counting, token


@pytest.mark.parametrize(
    ("path", "headers", "words"),
    [
        # a 100 MiB upload with a live token: over max_upload_mb (10), refused on its Content-Length
        (f"{API_PREFIX}/applications/1/materials", ["Content-Type: multipart/form-data; boundary=x"], "10 MB"),
        # 50 MiB with no Authorization at all: anonymous, refused before the 401 would be worked out
        (f"{API_PREFIX}/entities", ["Content-Type: application/json"], "未登录"),
    ],
)
def test_a_declared_oversized_body_is_refused_before_a_byte_of_it_is_sent(
    server: tuple[int, Counting, str], path: str, headers: list[str], words: str
) -> None:
    port, counting, token = server
    length = 100 * MIB if "materials" in path else 50 * MIB
    auth = [f"Authorization: Bearer {token}"] if "materials" in path else []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request_head(path, *headers, *auth, f"Content-Length: {length}"))
        status, response_headers, body = read_response(sock)  # answered although no body was sent
    assert status == 413 and response_headers["connection"] == "close"
    assert json.loads(body)["code"] == "payload_too_large" and words in json.loads(body)["message"]
    assert counting.requests == [path] and counting.received == 0


def test_a_streamed_body_is_cut_off_when_it_passes_the_limit(server: tuple[int, Counting, str]) -> None:
    port, counting, token = server
    chunk = b"x" * (64 * KIB)
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request_head(f"{API_PREFIX}/entities", "Content-Type: application/json",
                                  f"Authorization: Bearer {token}", "Transfer-Encoding: chunked"))  # fmt: skip
        while sent < 100 * MIB:  # up to 100 MiB, until the server answers
            try:
                sock.sendall(frame)
            except OSError:  # the server answered and closed
                break
            sent += len(chunk)
            if socket_readable(sock):
                break
        status, _headers, body = read_response(sock)
    assert status == 413 and "1 MiB" in json.loads(body)["message"]
    assert counting.received <= security.JSON_BODY + len(chunk)  # read no further than the limit
    assert sent < 100 * MIB


def socket_readable(sock: socket.socket) -> bool:
    import select

    return bool(select.select([sock], [], [], 0.005)[0])
