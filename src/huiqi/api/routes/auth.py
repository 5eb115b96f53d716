"""Login (username and password → bearer token), logout, and who am I.

The login is ``huiqi.workflow.signin.sign_in``, the same procedure as the web pages' sign-in form: throttled
(too many failures lock the username, or the client's address, for a while: 429 with ``Retry-After``), one
scrypt whether or not the user exists, checked outside any transaction.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security.utils import get_authorization_scheme_param

from huiqi.api import security
from huiqi.api.config import Settings
from huiqi.api.deps import CurrentActor, SessionDep, SettingsDep, Unauthenticated
from huiqi.api.schemas.accounts import LoginRequest, TokenPublic, UserPublic
from huiqi.api.schemas.common import ERRORS, ErrorBody
from huiqi.store.errors import NotFound
from huiqi.store.models import User
from huiqi.store.throttle import Limits, Lock
from huiqi.store.users import revoke_token
from huiqi.workflow.signin import WRONG_PASSWORD, lock_message, sign_in

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)

LOCKED: dict[int | str, dict[str, object]] = {
    429: {"model": ErrorBody, "description": "登录失败次数过多，暂时锁定（Retry-After 给出秒数）"}
}


def limits_of(settings: Settings) -> Limits:
    """The lock-out limits of the service's settings (the API's token endpoint and the pages' sign-in)."""
    return Limits(per_username=settings.login_max_failures, per_address=settings.login_max_failures_per_ip,
                  window=dt.timedelta(minutes=settings.login_lockout_minutes))  # fmt: skip


def locked_out(lock: Lock) -> JSONResponse:
    """429: who is locked, until when (Beijing time), and after how many minutes to retry."""
    headers = {"Retry-After": str(lock.retry_after()), "Cache-Control": "no-store"}
    return security.json_error(429, "too_many_attempts", lock_message(lock), "username", headers=headers)


@router.post("/login", response_model=TokenPublic, responses=LOCKED)
def login(body: LoginRequest, request: Request, settings: SettingsDep) -> TokenPublic | JSONResponse:
    """用户名和密码换取令牌（默认12小时有效）；连续失败过多会暂时锁定该用户名或来源地址（429）。"""
    address = security.client_address(request.scope, trust_forwarded=settings.trust_forwarded_headers)
    result = sign_in(request.app.state.database, username=body.username, password=body.password, address=address,
                     limits=limits_of(settings), token_hours=settings.token_hours)  # fmt: skip
    if result.token is not None:
        return TokenPublic(access_token=result.token, role=result.role, username=result.username)
    if result.lock is not None:
        return locked_out(result.lock)
    raise Unauthenticated(WRONG_PASSWORD, where="password")


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
