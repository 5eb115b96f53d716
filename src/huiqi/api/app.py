"""The application factory: settings → database (migrated at start-up) → policy engine → routers."""

from __future__ import annotations

from importlib.metadata import version as _package_version

from fastapi import APIRouter, FastAPI

from huiqi.api import errors
from huiqi.api.config import Settings
from huiqi.api.routes import (
    applications,
    audit,
    auth,
    awards,
    batches,
    calls,
    entities,
    evaluation,
    payments,
    policies,
    publicity,
    reports,
    reviews,
    users,
)
from huiqi.store.db import Database
from huiqi.store.migrate import upgrade
from huiqi.workflow.bootstrap import ensure_admin
from huiqi.workflow.holidays import HolidayCalendar
from huiqi.workflow.policy import policy_engine

API_PREFIX = "/api/v1"
__version__ = _package_version("huiqi")
ROUTERS = (auth, users, entities, evaluation, policies, calls, applications, reviews, publicity, awards, payments,
           reports, batches, audit)  # fmt: skip


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the service: migrate the database, make sure an administrator exists, load the policy base."""
    settings = settings or Settings.from_env()
    database = database or Database(settings.database_url, pool_size=settings.database_pool_size)
    upgrade(database.engine)
    policy = policy_engine(settings.policies)
    calendar = HolidayCalendar.packaged()
    if settings.holidays_file is not None:
        calendar = calendar.load(settings.holidays_file)
    with database.transaction() as session:
        ensure_admin(session, username=settings.first_admin, password=settings.first_admin_password)
        demo_accounts = []
        if settings.demo_data:
            from huiqi.workflow.demo import load_demo

            demo_accounts = load_demo(session, policy=policy)
    app = FastAPI(
        title="惠企 huiqi 管理平台 API",
        summary="申报批次、申请、形式审查、专家评审、公示、预算、拨付、台账与审计",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.policy = policy
    app.state.calendar = calendar
    app.state.demo_accounts = demo_accounts
    errors.install(app)
    api = APIRouter(prefix=API_PREFIX)
    for module in ROUTERS:
        api.include_router(module.router)

    @api.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """服务与数据库是否可用（无需登录）。"""
        with database.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    app.include_router(api)
    return app
