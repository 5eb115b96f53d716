"""Who is signed in to the pages: a signed, HttpOnly, SameSite=Lax session cookie, and the CSRF token of
every form that changes something.

The cookie carries a token issued by ``huiqi.workflow.signin.sign_in`` — the API's own tokens, stored as a
hash, expiring after ``token_hours``, revoked at sign-out — followed by an HMAC-SHA256 of it under the
service's key (``Settings.session_secret``); a cookie whose signature does not match is ignored before the
database is asked. ``Secure`` is set when the request came over HTTPS (directly or through a trusted proxy).

CSRF: each session's token is an HMAC of the session token under the same key (nothing stored); a POST that
changes something must send it, as the form field ``csrf_token`` or (htmx) the header ``X-CSRF-Token``
(``hx-headers`` on ``<body>``), else it is refused with 403. The sign-in form, used before there is a
session, is bound the same way to a random pre-session cookie set by the sign-in page.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from huiqi.api.config import Settings
from huiqi.api.security import SESSION_COOKIE, came_over_tls, session_token
from huiqi.api.security import mac as _mac
from huiqi.store.db import Database
from huiqi.store.users import user_for_token
from huiqi.workflow.actors import Actor

COOKIE = SESSION_COOKIE
PRE_COOKIE = "huiqi_presession"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

#: The desk each role lands on after signing in.
DESKS = {"applicant": "/desk/applicant", "official": "/desk/official", "administrator": "/desk/official",
         "expert": "/desk/expert", "finance": "/desk/finance", "analyst": "/simulate"}  # fmt: skip

#: Who may open the analysts' pages (模拟测算) and the dashboards (统计); the navigation shows each only to them.
SIMULATION_ROLES = ("analyst", "official", "administrator", "finance")
STATISTICS_ROLES = ("official", "administrator", "finance", "analyst")


_UNSET = object()


class CsrfRefused(Exception):
    """A POST without the form's CSRF token (or with another session's)."""


class SignInRequired(Exception):
    """A page that needs a signed-in user was asked for without one."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a page request."""

    actor: Actor
    token: str

    @property
    def desk(self) -> str:
        return DESKS.get(self.actor.role, "/")


def session_secret(settings: Settings) -> str:
    """The signing key: the configured one, else a random one for this server start."""
    return settings.session_secret or secrets.token_hex(32)


def _key(request: Request) -> bytes:
    key: str = request.app.state.session_secret
    return key.encode()


def _signed_token(request: Request) -> str | None:
    """The session token of the request's cookie, if its signature is right (``huiqi.api.security.session_token``:
    the same check the body-size gate makes before a page's upload)."""
    return session_token(request.cookies.get(COOKIE, ""), _key(request))


def viewer(request: Request) -> Viewer | None:
    """The signed-in user (looked up once per request), or None."""
    cached = getattr(request.state, "viewer", _UNSET)
    if cached is None or isinstance(cached, Viewer):
        return cached
    found = None
    token = _signed_token(request)
    if token is not None:
        database: Database = request.app.state.database
        with database.sessions() as session:
            user = user_for_token(session, token)
            if user is not None:
                found = Viewer(Actor.of(user), token)
    request.state.viewer = found
    return found


def signed_in(request: Request) -> Actor:
    """The signed-in actor; a page dependency that sends anyone else to the sign-in page."""
    found = viewer(request)
    if found is None:
        raise SignInRequired
    return found.actor


def csrf_token(request: Request) -> str:
    """The token forms and htmx send back: bound to the session, or before sign-in to the pre-session cookie
    (empty when there is neither: such a page has no form that changes anything)."""
    found = viewer(request)
    if found is not None:
        return _mac(_key(request), "csrf", found.token)
    pre = request.cookies.get(PRE_COOKIE) or getattr(request.state, "pre_session", "")
    return _mac(_key(request), "csrf-pre", pre) if pre else ""


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse (``CsrfRefused``) unless the form field or the header carries this session's token."""
    sent = submitted or request.headers.get(CSRF_HEADER, "")
    expected = csrf_token(request)
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise CsrfRefused


def pre_session(request: Request) -> str | None:
    """Before rendering the sign-in page: a new pre-session value when the visitor has none (its form's CSRF
    token is bound to it; ``keep_pre_session`` then sets the cookie), else None."""
    if request.cookies.get(PRE_COOKIE):
        return None
    value = secrets.token_urlsafe(24)
    request.state.pre_session = value
    return value


def keep_pre_session(request: Request, response: Response, value: str | None) -> None:
    if value is not None:
        response.set_cookie(PRE_COOKIE, value, httponly=True, samesite="strict", secure=_tls(request), path="/login")


def set_session(request: Request, response: Response, token: str) -> None:
    """The signed session cookie, for as long as the token lives; the pre-session cookie is dropped."""
    settings: Settings = request.app.state.settings
    value = f"{token}.{_mac(_key(request), 'session', token)}"
    response.set_cookie(COOKIE, value, max_age=settings.token_hours * 3600, httponly=True, samesite="lax",
                        secure=_tls(request), path="/")  # fmt: skip
    response.delete_cookie(PRE_COOKIE, path="/login")


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def _tls(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return came_over_tls(request.scope, trust_forwarded=settings.trust_forwarded_headers)
