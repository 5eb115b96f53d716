"""HTTP hardening: security headers on every response, and request-size limits enforced before a body is read.

One pure ASGI middleware (not ``BaseHTTPMiddleware``, which would buffer and hide the body stream) does both:

* **Headers.** ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer``
  and ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`` on every response — except the
  Swagger page under ``/api/v1/docs``, whose CSP allows exactly what it loads (its vendored script, stylesheet
  and favicon from this origin, its one inline script by hash, the OpenAPI document), and the web pages
  (``huiqi.web``, everything outside ``/api/``), which may load scripts, styles and images from this origin only.
  ``Strict-Transport-Security`` only when the request came over TLS (the scheme is ``https``, or a trusted
  proxy says so in ``X-Forwarded-Proto``). ``Cache-Control: no-store`` on every ``/api/v1`` response but the
  OpenAPI document and the docs page, so no token, personal data or amount is kept by a browser or proxy.
* **Sizes.** A declared ``Content-Length`` above the limit is answered 413 at once, without reading a byte
  of the body; a body without one (chunked) is counted as it streams and cut off with 413 when it passes the
  limit. The limit: 8 KiB for the login; 64 KiB for a request without ``Authorization``; 1 MiB for a JSON
  (or any other) body; for a multipart upload ``max_upload_mb`` plus 64 KiB of form overhead. A body beyond
  64 KiB must come with a live bearer token (checked in the database once, before the extra bytes are
  read), so a made-up ``Authorization`` header does not buy a bigger body either. A page's request (an
  upload on the 申报 page) carries the pages' signed session cookie instead: it counts as credentials only
  when its signature is right (``session_token``, the one check the pages use too) and then, like a bearer
  token, only while its token is live — a forged or unsigned cookie stays at 64 KiB.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.orm import Session
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from huiqi.api.config import Settings
from huiqi.store.users import user_for_token

#: The API's prefix (``huiqi.api.app.API_PREFIX``; that module imports this one, so it is repeated here).
API_PREFIX = "/api/v1"
LOGIN_PATH = f"{API_PREFIX}/auth/login"
KIB, MIB = 1024, 1024 * 1024
LOGIN_BODY = 8 * KIB
ANONYMOUS_BODY = 64 * KIB
JSON_BODY = 1 * MIB
MULTIPART_OVERHEAD = 64 * KIB

API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: The Swagger page (FastAPI's ``get_swagger_ui_html``): its inline script is allowed by hash, added per response.
#: Its script, stylesheet and favicon are the vendored Swagger UI under /static (huiqi.web).
DOCS_CSP = (
    "default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
#: The web pages (huiqi.web): scripts, styles, images and requests from this origin only; no inline script.
WEB_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
STATIC_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
#: Responses that carry credentials: no-store whatever the handler said.
CREDENTIAL_PATHS = frozenset(f"{API_PREFIX}/auth/{name}" for name in ("login", "me", "logout"))
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def json_error(
    status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """An error answered by this layer, in the API's shape ``{code, message, field}``."""
    return JSONResponse({"code": code, "message": message, "field": field}, status_code=status, headers=headers)


def client_address(scope: Scope, *, trust_forwarded: bool = False) -> str | None:
    """The client's address: the peer, or — behind a trusted proxy — the last ``X-Forwarded-For`` entry (the one
    that proxy appended; entries before it are whatever the client claimed)."""
    if trust_forwarded:
        forwarded = ",".join(Headers(scope=scope).getlist("x-forwarded-for"))
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    client = scope.get("client")
    return str(client[0]) if client else None


def came_over_tls(scope: Scope, *, trust_forwarded: bool = False) -> bool:
    """Whether the request reached us over HTTPS (directly, or via a trusted proxy's ``X-Forwarded-Proto``)."""
    if scope.get("scheme") == "https":
        return True
    if not trust_forwarded:
        return False
    proto = Headers(scope=scope).get("x-forwarded-proto", "")
    return proto.rsplit(",", 1)[-1].strip().lower() == "https"


@dataclass(frozen=True)
class BodyLimit:
    """At most ``limit`` bytes (``message`` says so when passed); beyond ``gated`` bytes only with a live token."""

    limit: int
    message: str
    gated: int | None = None


#: The pages' session cookie (``huiqi.web.sessions``): ``<token>.<HMAC-SHA256 of it>``.
SESSION_COOKIE = "huiqi_session"


def mac(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``purpose:value`` under ``key``, URL-safe base64 without padding."""
    digest = hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def session_token(cookie: str, key: bytes) -> str | None:
    """The token a session cookie's value carries, if its signature under ``key`` is right, else None.

    The one signature check of the session cookie: the pages (``huiqi.web.sessions``) and the body-size gate
    below both use it; nothing else reads the cookie.
    """
    token, _dot, signature = cookie.rpartition(".")
    if not token or not hmac.compare_digest(signature, mac(key, "session", token)):
        return None
    return token


def _cookie_token(scope: Scope) -> str | None:
    """The token of the request's session cookie when it is signed with the app's key (no database asked)."""
    app: Any = scope.get("app")
    key = getattr(getattr(app, "state", None), "session_secret", None)
    header = Headers(scope=scope).get("cookie")
    if not key or not header:
        return None
    value = cookie_parser(header).get(SESSION_COOKIE)
    return session_token(value, str(key).encode()) if value else None


def _credential(scope: Scope) -> str | None:
    """The token the request presents: its bearer token when it has an ``Authorization`` header (a header of
    another scheme presents none), else its signed session cookie's."""
    headers = Headers(scope=scope)
    if "authorization" in headers:
        scheme, token = get_authorization_scheme_param(headers.get("authorization"))
        return token if scheme.lower() == "bearer" and token else None
    return _cookie_token(scope)


ANONYMOUS_MESSAGE = (
    f"未登录的请求体不得超过{ANONYMOUS_BODY // KIB} KiB：请先登录（POST {LOGIN_PATH}），"
    "再以 Authorization: Bearer <令牌> 发送"
)
#: The same limit said to a person on a page (an upload after the session ended).
PAGE_ANONYMOUS_MESSAGE = f"未登录或登录已过期，提交的内容不得超过{ANONYMOUS_BODY // KIB} KiB：请重新登录后再上传"


def _anonymous_message(scope: Scope) -> str:
    return ANONYMOUS_MESSAGE if scope["path"].startswith(API_PREFIX) else PAGE_ANONYMOUS_MESSAGE


def body_limit(scope: Scope, settings: Settings) -> BodyLimit:
    """The size limit of this request's body (see the module's docstring)."""
    headers = Headers(scope=scope)
    if scope["path"] == LOGIN_PATH:
        return BodyLimit(LOGIN_BODY, f"登录请求体不得超过{LOGIN_BODY // KIB} KiB")
    if "authorization" not in headers and _cookie_token(scope) is None:
        return BodyLimit(ANONYMOUS_BODY, _anonymous_message(scope))
    if headers.get("content-type", "").lower().startswith("multipart/form-data"):
        mb = settings.max_upload_mb
        message = f"上传请求不得超过{mb} MB（文件上限{mb}MB，另含少量表单开销）：请压缩文件后上传"
        return BodyLimit(mb * MIB + MULTIPART_OVERHEAD, message, gated=ANONYMOUS_BODY)
    return BodyLimit(JSON_BODY, f"请求体不得超过{JSON_BODY // MIB} MiB", gated=ANONYMOUS_BODY)


class _BodyTooLarge(Exception):
    """Raised into the application from ``receive`` when the body passes its limit."""


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


class Hardening:
    """The middleware (see the module's docstring); ``settings`` are the service's."""

    def __init__(self, app: ASGIApp, *, settings: Settings, docs_path: str | None = None) -> None:
        self.app = app
        self.settings = settings
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(scope, send)
        limit = body_limit(scope, self.settings)
        declared = _content_length(Headers(scope=scope))
        token_checked = False
        if declared is not None:
            if declared > limit.limit:
                await _refuse(limit.message, scope, send)
                return
            if limit.gated is not None and declared > limit.gated:
                if not await _token_is_live(scope):
                    await _refuse("令牌无效或已过期：" + _anonymous_message(scope), scope, send)
                    return
                token_checked = True
        received = 0
        refused: list[str] = []
        app_started = replaced = False

        async def limited_receive() -> Message:
            nonlocal received, token_checked
            message = await receive()
            if message["type"] != "http.request":
                return message
            received += len(message.get("body", b""))
            if received > limit.limit:
                refused.append(limit.message)
                raise _BodyTooLarge(limit.message)
            if limit.gated is not None and received > limit.gated and not token_checked:
                token_checked = True
                if not await _token_is_live(scope):
                    refused.append("令牌无效或已过期：" + _anonymous_message(scope))
                    raise _BodyTooLarge(refused[-1])
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started, replaced
            if refused and not app_started:
                if not replaced:  # the app's answer to the broken body (400 or whatever) becomes our 413
                    replaced = True
                    await _refuse(refused[0], scope, send)
                return
            if message["type"] == "http.response.start":
                app_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused or app_started:
                raise
            if not replaced:
                await _refuse(refused[0], scope, send)

    def _with_headers(self, scope: Scope, send: Send) -> Send:
        """``send``, adding the security headers to the response's start (see the module's docstring)."""
        path: str = scope["path"]
        tls = came_over_tls(scope, trust_forwarded=self.settings.trust_forwarded_headers)
        docs = self.docs_path is not None and path.startswith(self.docs_path)
        public = docs or path == f"{API_PREFIX}/openapi.json"
        held: list[Message] = []
        chunks: list[bytes] = []

        def decorate(message: Message, csp: str) -> None:
            headers = MutableHeaders(scope=message)
            for name, value in STATIC_HEADERS.items():
                headers.setdefault(name, value)
            headers["Content-Security-Policy"] = csp
            if tls:
                headers.setdefault("Strict-Transport-Security", HSTS)
            if path in CREDENTIAL_PATHS:
                headers["Cache-Control"] = "no-store"
            elif path.startswith(API_PREFIX) and not public:
                headers.setdefault("Cache-Control", "no-store")

        async def send_with_headers(message: Message) -> None:
            is_start = message["type"] == "http.response.start"
            if (
                docs
                and is_start
                and Headers(raw=message.get("headers", [])).get("content-type", "").startswith("text/")
            ):
                held.append(message)  # the CSP needs the page's inline scripts: wait for the body
                return
            if held and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = b"".join(chunks)
                start = held.pop()
                decorate(start, _docs_csp(page))
                MutableHeaders(scope=start)["Content-Length"] = str(len(page))
                await send(start)
                await send({"type": "http.response.body", "body": page, "more_body": False})
                return
            if message["type"] == "http.response.start":
                decorate(message, API_CSP if path.startswith(API_PREFIX) else WEB_CSP)
            await send(message)

        return send_with_headers


def _docs_csp(page: bytes) -> str:
    """The docs page's CSP, allowing its inline scripts by their SHA-256."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(page)
    )
    return DOCS_CSP.format(hashes=hashes).replace("  ", " ")


#: A page's 413 (an upload from the 申报 page): the message in Chinese on a page of the site, not the API's JSON.
PAGE_413 = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>提交的内容过大 · 惠企 huiqi</title>'
    '<link rel="stylesheet" href="/static/css/site.css"></head><body><main id="main" class="wrap">'
    '<h1>提交的内容过大</h1><p class="field-error" role="alert">{message}</p>'
    "<p>没有保存任何内容。请返回上一页，按上述提示处理后重新提交。</p></main></body></html>"
)


async def _refuse(message: str, scope: Scope, send: Send) -> None:
    """Answer 413 and close the connection (the rest of the body is never read): the API's JSON, or for a page
    a Chinese page saying the same."""
    response: Response
    if scope["path"].startswith(API_PREFIX):
        response = json_error(413, "payload_too_large", message, headers={"Connection": "close"})
    else:
        page = PAGE_413.format(message=html.escape(message))
        response = HTMLResponse(page, status_code=413, headers={"Connection": "close", "Cache-Control": "no-store"})

    async def nothing() -> Message:  # a response does not read the request
        return {"type": "http.disconnect"}

    await response(scope, nothing, send)


async def _token_is_live(scope: Scope) -> bool:
    """Whether the request's bearer token (or signed session cookie's token) belongs to an active user (looked
    up in a worker thread).

    If it cannot be checked (no database on the scope, the database down) the gate stays open: the hard limit
    still holds, and the route's own authentication answers.
    """
    token = _credential(scope)
    if token is None:
        return False
    app: Any = scope.get("app")
    database = getattr(getattr(app, "state", None), "database", None)
    if database is None:
        return True

    def check() -> bool:  # on the side engine: this runs before the admission gate (huiqi.api.admission)
        with Session(database.side_engine()) as session:
            return user_for_token(session, token) is not None

    try:
        return await anyio.to_thread.run_sync(check)
    except Exception:  # a database error here is the route's to report, as 503
        return True


def install(app: FastAPI) -> None:
    """Add the middleware to ``app`` (whose ``state.settings`` is set)."""
    settings: Settings = app.state.settings
    app.add_middleware(Hardening, settings=settings, docs_path=app.docs_url or f"{API_PREFIX}/docs")


__all__ = [
    "Hardening",
    "body_limit",
    "came_over_tls",
    "client_address",
    "install",
    "json_error",
    "mac",
    "session_token",
]
