"""Settings: one object, read from ``HUIQI_*`` environment variables, that refuses insecure defaults
outside development (a default admin password, demo accounts, a throwaway SQLite file)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from huiqi.errors import HuiqiError
from huiqi.store.db import DEFAULT_URL
from huiqi.store.users import password_problem

INSECURE_PASSWORD = "changethis"  # noqa: S105 - the known default that production refuses


class Settings(BaseModel):
    """Service settings. ``Settings.from_env()`` reads ``HUIQI_<NAME>`` for each field.

    (pydantic-settings is not a dependency of the project; reading the environment takes a few lines.)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_URL
    database_pool_size: int = Field(default=10, ge=1, le=200)
    #: PostgreSQL's ``lock_timeout``: a statement waiting longer for a row lock fails (503, retry) instead of hanging.
    database_lock_timeout_ms: int = Field(default=10_000, ge=100, le=600_000)
    #: Requests at work at once per process (default: the pool's connections, 2 × pool size); the rest queue.
    max_concurrent_requests: int | None = Field(default=None, ge=1, le=400)
    #: How long a request may queue for a slot before it is answered 503 with Retry-After.
    admission_wait_s: float = Field(default=10.0, gt=0, le=300)
    token_hours: int = Field(default=12, ge=1, le=24 * 30)
    first_admin: str = "admin"
    first_admin_password: str = INSECURE_PASSWORD
    demo_data: bool = False
    policies: Path | None = None
    #: Where the web page 政策起草审核 keeps each user's drafts (unset: ``drafts/`` next to the SQLite file).
    drafts_dir: Path | None = None
    holidays_file: Path | None = None
    max_upload_mb: int = Field(default=10, ge=1, le=100)
    #: Failed logins in a row of one username before it is locked (unknown usernames count too).
    login_max_failures: int = Field(default=5, ge=1, le=100)
    #: Failed logins from one client address before it is locked (whatever the usernames).
    login_max_failures_per_ip: int = Field(default=30, ge=1, le=100_000)
    #: How long a lock-out lasts; failures further apart than this do not add up.
    login_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    #: Behind a reverse proxy that sets X-Forwarded-Proto and X-Forwarded-For (overwriting what clients sent):
    #: take the scheme (for HSTS) and the client address (for the login limits) from them.
    trust_forwarded_headers: bool = False
    #: The key that signs the web pages' session cookie (huiqi.web.sessions), at least 32 characters. Unset: a random
    #: key per server start (``huiqi serve`` hands it to its workers), so sign-ins end at a restart; production
    #: requires one.
    session_secret: str | None = Field(default=None, min_length=32, max_length=512, repr=False)
    #: 政策找企业: new notices are POSTed as JSON to this URL (a government messaging system), signed with
    #: ``webhook_secret`` (HMAC-SHA256, huiqi.workflow.webhooks); unset: notices stay in the app.
    webhook_url: str | None = Field(default=None, pattern=r"^https?://", max_length=500)
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=512, repr=False)
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=60)

    @model_validator(mode="after")
    def _secure_outside_development(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("设置了 HUIQI_WEBHOOK_URL 时须设置 HUIQI_WEBHOOK_SECRET（至少16位，用于签名推送）")
        if self.environment != "production":
            return self
        problems = []
        if self.first_admin_password == INSECURE_PASSWORD or len(self.first_admin_password) < 12:
            problems.append("HUIQI_FIRST_ADMIN_PASSWORD 仍为默认值或少于12位")
        elif (problem := password_problem(self.first_admin_password, username=self.first_admin)) is not None:
            problems.append(f"HUIQI_FIRST_ADMIN_PASSWORD 不符合密码规则（{problem}）")
        if self.demo_data:
            problems.append("HUIQI_DEMO_DATA 不能在生产环境开启（演示账号的密码是公开的）")
        if self.session_secret is None:
            problems.append(
                "须设置 HUIQI_SESSION_SECRET（至少32位随机字符，用于签名网页登录 Cookie；可用 openssl rand -hex 32 生成）"
            )
        if self.database_url.startswith("sqlite"):
            problems.append("生产环境应使用 PostgreSQL（HUIQI_DATABASE_URL=postgresql+psycopg://…）")
        if problems:
            raise ValueError("生产环境的设置不安全：" + "；".join(problems))
        return self

    @property
    def request_slots(self) -> int:
        """Requests admitted at once: never more than the pool has connections (``huiqi.api.admission``)."""
        capacity = 2 * self.database_pool_size  # pool_size + max_overflow (huiqi.store.db.make_engine)
        return min(self.max_concurrent_requests or capacity, capacity)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``HUIQI_*`` variables (and keyword overrides), refusing insecure production ones."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = f"HUIQI_{name.upper()}"
            if key in env:
                values[name] = env[key]
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValueError as exc:
            raise HuiqiError(f"服务设置有误：{exc}") from None
