"""Dependencies as ``Annotated`` aliases: the session of one transaction, the current user, the policy
engine, the holiday calendar, and pagination."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from huiqi.api.config import Settings
from huiqi.store.db import Database
from huiqi.store.errors import PermissionDenied
from huiqi.store.users import user_for_token
from huiqi.workflow.actors import Actor
from huiqi.workflow.holidays import HolidayCalendar
from huiqi.workflow.policy import PolicyEngine

bearer = HTTPBearer(auto_error=False, description="登录后获得的令牌：Authorization: Bearer <token>")


class Unauthenticated(PermissionDenied):
    code = "unauthenticated"
    status = 401


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on any error.

    ``scope="function"`` commits *before* the response is sent: a client that got 200 can rely on the
    change being durable and visible to its next request (the default scope commits after sending — the
    benchmark caught a submit that could not yet see the draft it had just been told was created).

    The session is made in the event loop (that does no I/O: it connects at its first statement) and only
    the commit goes to a worker thread — one thread hop fewer per request than a synchronous dependency.
    The thread is always there: the admission gate admits fewer requests than the pool has threads.
    """
    database: Database = request.app.state.database
    session = database.sessions()
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(session.close)  # closing rolls the transaction back
        raise
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(_commit_and_close, session)


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_actor(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Actor:
    """The logged-in user, or 401."""
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("请先登录：POST /api/v1/auth/login 获取令牌，并以 Authorization: Bearer <令牌> 发送")
    user = user_for_token(session, credentials.credentials)
    if user is None:
        raise Unauthenticated("令牌无效或已过期，请重新登录")
    session.info["user"] = user  # the identity map holds objects weakly: keep the user for the request's handler
    return Actor.of(user)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def get_policy(request: Request) -> PolicyEngine:
    policy: PolicyEngine = request.app.state.policy
    return policy


PolicyDep = Annotated[PolicyEngine, Depends(get_policy)]


def get_calendar(request: Request) -> HolidayCalendar:
    calendar: HolidayCalendar = request.app.state.calendar
    return calendar


CalendarDep = Annotated[HolidayCalendar, Depends(get_calendar)]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


class Paging:
    """``limit`` (1–100) and ``offset`` query parameters."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=100, description="每页条数")] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000, description="跳过条数")] = 0,
    ) -> None:
        self.limit = limit
        self.offset = offset


PagingDep = Annotated[Paging, Depends()]


def require(actor: Actor, *roles: str) -> None:
    """Refuse unless the actor has one of ``roles``."""
    if actor.role not in roles:
        from huiqi.store.models import ROLE_LABELS

        allowed = "、".join(ROLE_LABELS[r] for r in roles)
        raise PermissionDenied(f"此操作仅限{allowed}，当前用户是{actor.role_label}", where="role")


#: Ids fit the database's integer columns (schemathesis found that a 20-digit id overflowed SQLite).
MAX_ID = 2_147_483_647
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
YearQuery = Annotated[int | None, Query(ge=1900, le=2200)]
