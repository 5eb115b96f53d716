"""Login, tokens and users."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from huiqi.store.models import User
from huiqi.store.users import PASSWORD_RULE

Role = Literal["applicant", "official", "expert", "finance", "analyst", "administrator"]


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret
    role: Role
    username: str


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    #: Checked by the password rule (``huiqi.store.users.password_problem``), which says what is missing.
    password: str = Field(min_length=1, max_length=200, description=PASSWORD_RULE)
    role: Role
    display_name: str | None = Field(default=None, max_length=100)
    entity_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    expert_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    entity_id: int | None
    expert_id: int | None
    active: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls.model_validate(user)
