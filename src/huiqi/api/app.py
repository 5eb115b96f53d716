"""The application factory: settings → database (migrated at start-up) → policy engine → routers."""

from __future__ import annotations

import gc
import os
from importlib.metadata import version as _package_version

import anyio
from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse

from huiqi import web
from huiqi.api import errors, security
from huiqi.api.admission import Admission
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
    questions,
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
ROUTERS = (auth, users, entities, evaluation, questions, policies, calls, applications, reviews, publicity, awards,
           payments, reports, batches, audit)  # fmt: skip


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the service: migrate the database, make sure an administrator exists, load the policy base."""
    settings = settings or Settings.from_env()
    database = database or Database(
        settings.database_url, pool_size=settings.database_pool_size, lock_timeout_ms=settings.database_lock_timeout_ms
    )
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

            demo_accounts = load_demo(session, policy=policy, calendar=calendar)
    if demo_accounts:
        from huiqi.workflow.demo import tell_demo_firms

        tell_demo_firms(database, policy)  # 政策找企业: the demo firms find the open calls on their desks
    app = FastAPI(
        title="惠企 huiqi 管理平台 API",
        summary="申报批次、申请、形式审查、专家评审、公示、预算、拨付、台账与审计",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below from the vendored Swagger UI: the page works with no network
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.policy = policy
    app.state.calendar = calendar
    app.state.demo_accounts = demo_accounts
    errors.install(app)
    security.install(app)
    admission = Admission(settings.request_slots, wait_s=settings.admission_wait_s)
    app.state.admission = admission
    # Every API route passes the gate first (it is the first dependency, so it is released last: after the
    # session's commit); /health does not, so it answers however busy the rest is.
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(admission, scope="function")])
    for module in ROUTERS:
        api.include_router(module.router)
    app.include_router(api)
    web.install(app, docs_url=f"{API_PREFIX}/docs", openapi_url=f"{API_PREFIX}/openapi.json")
    probe = anyio.CapacityLimiter(2)

    @app.get(f"{API_PREFIX}/health", tags=["health"])
    async def health() -> JSONResponse:
        """服务与数据库是否可用（无需登录；不排队，繁忙时也会回答）。"""
        load = {"pid": os.getpid(), **admission.load()}
        try:
            with anyio.fail_after(3):
                await anyio.to_thread.run_sync(database.ping, limiter=probe, abandon_on_cancel=True)
        except Exception:  # any failure of the probe means the database is not usable now
            return JSONResponse(
                {"status": "unavailable", "version": __version__, "database": "unreachable", **load},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        return JSONResponse({"status": "ok", "version": __version__, "database": "ok", **load})

    # The policy base, the compiled rules and the app are ~150,000 objects that live as long as the process;
    # left to the cyclic collector, every full collection walked them all (≈50 ms, the p99 of /evaluate).
    gc.collect()
    gc.freeze()
    return app
