"""登录 / 退出 for the pages: the API's sign-in procedure (``huiqi.workflow.signin.sign_in``: the same user
store, password check and lock-out as ``POST /api/v1/auth/login``), a signed session cookie
(``huiqi.web.sessions``), and each role sent to its own desk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from huiqi.api.config import Settings
from huiqi.api.routes.auth import limits_of
from huiqi.api.security import client_address
from huiqi.store.users import revoke_token
from huiqi.web.sessions import DESKS, check_csrf, end_session, keep_pre_session, pre_session, set_session, viewer
from huiqi.web.templating import render
from huiqi.workflow.signin import WRONG_PASSWORD, lock_message, sign_in

router = APIRouter()


def safe_next(target: str | None) -> str | None:
    """A place on this site to go back to after signing in (never another site: ``//host`` or a scheme).

    >>> safe_next("/desk/official"), safe_next("//evil.example/"), safe_next("https://evil.example/")
    ('/desk/official', None, None)
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _form(request: Request, *, status_code: int = 200, username: str = "", next_url: str | None = None,
          errors: dict[str, str] | None = None, notice: str = "") -> HTMLResponse:  # fmt: skip
    fresh = pre_session(request)
    response = render(request, "signin/login.html", status_code=status_code, username=username,
                      next_url=safe_next(next_url) or "", errors=errors or {}, notice=notice)  # fmt: skip
    keep_pre_session(request, response, fresh)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login", response_class=HTMLResponse, response_model=None)
def login_page(request: Request, next: str | None = None, signed_out: bool = False) -> Response:
    """登录页；已登录的用户直接进入自己的工作台。"""
    found = viewer(request)
    if found is not None:
        return RedirectResponse(safe_next(next) or found.desk, status_code=303)
    return _form(request, next_url=next, notice="您已退出登录。" if signed_out else "")


@router.post("/login", response_class=HTMLResponse, response_model=None)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """登录：校验用户名和密码（与 API 相同的用户库、密码校验和失败锁定），成功后进入本角色的工作台。"""
    check_csrf(request, csrf_token)
    username = username.strip()
    errors = {}
    if not username:
        errors["username"] = "请填写用户名"
    if not password:
        errors["password"] = "请填写密码"  # noqa: S105 - a message
    if errors:
        return _form(request, status_code=422, username=username, next_url=next, errors=errors)
    settings: Settings = request.app.state.settings
    address = client_address(request.scope, trust_forwarded=settings.trust_forwarded_headers)
    result = sign_in(request.app.state.database, username=username, password=password, address=address,
                     limits=limits_of(settings), token_hours=settings.token_hours)  # fmt: skip
    if result.token is None:
        if result.lock is not None:
            locked = _form(request, status_code=429, username=username, next_url=next,
                             errors={"username": lock_message(result.lock)})  # fmt: skip
            locked.headers["Retry-After"] = str(result.lock.retry_after())
            return locked
        return _form(request, status_code=401, username=username, next_url=next,
                     errors={"password": f"{WRONG_PASSWORD}，请重新输入"})  # fmt: skip
    landing = RedirectResponse(safe_next(next) or DESKS.get(result.role, "/"), status_code=303)
    set_session(request, landing, result.token)
    return landing


@router.post("/logout", response_model=None)
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """退出：吊销本次登录的令牌，删除 Cookie。"""
    found = viewer(request)
    if found is not None:
        check_csrf(request, csrf_token)
        with request.app.state.database.transaction() as session:
            revoke_token(session, found.token)
    response = RedirectResponse("/login?signed_out=true", status_code=303)
    end_session(response)
    return response
