"""Login (username and password → bearer token), logout, and who am I."""

from __future__ import annotations

from fastapi import APIRouter

from huiqi.api.deps import CurrentActor, SessionDep, SettingsDep, Unauthenticated
from huiqi.api.schemas.accounts import LoginRequest, TokenPublic, UserPublic
from huiqi.api.schemas.common import ERRORS
from huiqi.store.errors import NotFound
from huiqi.store.models import User
from huiqi.store.users import authenticate, issue_token

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)


@router.post("/login", response_model=TokenPublic)
def login(body: LoginRequest, session: SessionDep, settings: SettingsDep) -> TokenPublic:
    """用户名和密码换取令牌（默认12小时有效）。"""
    user = authenticate(session, username=body.username, password=body.password)
    if user is None:
        raise Unauthenticated("用户名或密码错误", where="password")
    token = issue_token(session, user=user, hours=settings.token_hours)
    return TokenPublic(access_token=token, role=user.role, username=user.username)


@router.get("/me", response_model=UserPublic)
def me(actor: CurrentActor, session: SessionDep) -> UserPublic:
    """当前登录的用户。"""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise NotFound("用户不存在")
    return UserPublic.of(user)
