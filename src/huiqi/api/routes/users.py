"""Accounts, managed by the administrator."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from huiqi.api.deps import CurrentActor, PagingDep, SessionDep, require
from huiqi.api.schemas.accounts import UserCreate, UserPublic
from huiqi.api.schemas.common import ERRORS, Page
from huiqi.store.models import User
from huiqi.store.users import create_user
from huiqi.workflow import audit

router = APIRouter(prefix="/users", tags=["users"], responses=ERRORS)


@router.post("", response_model=UserPublic, status_code=201)
def create(body: UserCreate, actor: CurrentActor, session: SessionDep) -> UserPublic:
    """新建账号（仅系统管理员）。"""
    require(actor, "administrator")
    user = create_user(session, username=body.username, password=body.password, role=body.role,
                       display_name=body.display_name, entity_id=body.entity_id, expert_id=body.expert_id)  # fmt: skip
    audit.record(session, actor=actor, action="user.create", object_type="user", object_id=user.id, before=None,
                 after=audit.snapshot(user))  # fmt: skip
    return UserPublic.of(user)


@router.get("", response_model=Page[UserPublic])
def list_users(
    actor: CurrentActor, session: SessionDep, paging: PagingDep, role: str | None = None
) -> Page[UserPublic]:
    """账号列表（仅系统管理员），可按角色筛选。"""
    require(actor, "administrator")
    query = select(User)
    if role:
        query = query.where(User.role == role)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(User.id).limit(paging.limit).offset(paging.offset))
    return Page(items=[UserPublic.of(u) for u in rows], total=total, limit=paging.limit, offset=paging.offset)
