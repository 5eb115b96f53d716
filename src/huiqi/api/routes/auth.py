"""Login (username and password → bearer token), logout, and who am I.

The login is throttled (``huiqi.store.throttle``): too many failures lock the username, or the client's
address, for a while (429 with ``Retry-After``). The password is checked outside any transaction — scrypt
takes tens of milliseconds, and on SQLite a transaction holds the database's write lock — and costs one
scrypt whether or not the user exists (``huiqi.store.users.password_matches``).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security.utils import get_authorization_scheme_param

from huiqi.api import security
from huiqi.api.deps import CurrentActor, SessionDep, SettingsDep, Unauthenticated
from huiqi.api.schemas.accounts import LoginRequest, TokenPublic, UserPublic
from huiqi.api.schemas.common import ERRORS, ErrorBody
from huiqi.store.base import utcnow
from huiqi.store.db import Database
from huiqi.store.errors import NotFound
from huiqi.store.models import User
from huiqi.store.throttle import USERNAME, Limits, Lock, current_lock, record_failure, record_success
from huiqi.store.users import find_user, issue_token, password_matches, revoke_token

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)

BEIJING = dt.timezone(dt.timedelta(hours=8), "北京时间")
LOCKED: dict[int | str, dict[str, object]] = {
    429: {"model": ErrorBody, "description": "登录失败次数过多，暂时锁定（Retry-After 给出秒数）"}
}


def locked_out(lock: Lock) -> JSONResponse:
    """429: who is locked, until when (Beijing time), and after how many minutes to retry."""
    seconds = lock.retry_after()
    minutes = -(-seconds // 60)
    at = lock.until.astimezone(BEIJING).strftime("%H:%M")
    if lock.kind == USERNAME:
        message = f"该用户名登录失败次数过多，已暂时锁定：请在{minutes}分钟后（北京时间{at}之后）重试；如忘记密码，请联系系统管理员"
    else:
        message = f"来自本地址的登录失败次数过多，已暂时锁定：请在{minutes}分钟后（北京时间{at}之后）重试"
    headers = {"Retry-After": str(seconds), "Cache-Control": "no-store"}
    return security.json_error(429, "too_many_attempts", message, "username", headers=headers)


@router.post("/login", response_model=TokenPublic, responses=LOCKED)
def login(body: LoginRequest, request: Request, settings: SettingsDep) -> TokenPublic | JSONResponse:
    """用户名和密码换取令牌（默认12小时有效）；连续失败过多会暂时锁定该用户名或来源地址（429）。"""
    database: Database = request.app.state.database
    limits = Limits(per_username=settings.login_max_failures, per_address=settings.login_max_failures_per_ip,
                    window=dt.timedelta(minutes=settings.login_lockout_minutes))  # fmt: skip
    address = security.client_address(request.scope, trust_forwarded=settings.trust_forwarded_headers)
    with database.transaction() as session:
        lock = current_lock(session, username=body.username, address=address)
        user = None if lock is not None else find_user(session, body.username)
    if lock is not None:
        return locked_out(lock)
    if password_matches(user, body.password):  # one scrypt, outside any transaction
        with database.transaction() as session:
            current = session.get(User, user.id) if user is not None else None
            if current is not None and current.active:
                record_success(session, username=body.username)
                token = issue_token(session, user=current, hours=settings.token_hours)
                return TokenPublic(access_token=token, role=current.role, username=current.username)
    now = utcnow()
    with database.transaction() as session:
        lock = record_failure(session, username=body.username, address=address, limits=limits, now=now)
    if lock is not None:
        return locked_out(lock)
    raise Unauthenticated("用户名或密码错误", where="password")


@router.post("/logout", status_code=204, response_class=Response)
def logout(actor: CurrentActor, session: SessionDep, request: Request) -> Response:
    """注销：吊销本次请求所用的令牌，此后该令牌一律返回401。"""
    _scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    revoke_token(session, token)
    return Response(status_code=204)


@router.get("/me", response_model=UserPublic)
def me(actor: CurrentActor, session: SessionDep) -> UserPublic:
    """当前登录的用户。"""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise NotFound("用户不存在")
    return UserPublic.of(user)
