"""The web application: server-rendered pages (Jinja2, htmx) under ``/``, in the same process as the API.

Pages call the library (policy base, engine, workflow) directly, through the same functions as the API
routes, so each rule and each permission lives in one place. Every asset is vendored under ``static/``
(see ``static/vendor/VERSIONS.md``): the pages work with no network.

Each page module has a ``router``; ``build_router`` puts them together. To add pages, write a module with a
``router`` (templates under ``templates/<module>/``) and add it to ``PAGE_MODULES``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

STATIC_DIR = Path(__file__).parent / "static"

#: The page modules of ``huiqi.web``, in the order their routes are matched.
PAGE_MODULES = (
    "library",
    "publicity",
    "calculator",
    "compare",
    "signin",
    "desks",
    "apply",
    "official_batches",  # before "official": its fixed paths (/desk/official/calls/new) before "calls/{id}"
    "official",
    "matching",
    "expert",
    "finance",
    "dashboards",
    "simulate",
    "drafting",
)


def build_router() -> APIRouter:
    """Every page of the web application (not in the OpenAPI document: that is the API's)."""
    router = APIRouter(include_in_schema=False)
    for name in PAGE_MODULES:
        module = importlib.import_module(f"huiqi.web.{name}")
        router.include_router(module.router)
    return router


def install(app: FastAPI, *, docs_url: str, openapi_url: str) -> None:
    """Serve the pages under ``/``, the assets under ``/static`` and the API docs page (Swagger UI, vendored)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    from huiqi.web.library import Library
    from huiqi.web.sessions import session_secret

    app.state.library = Library.build(app.state.policy)  # the search index and the cases, once
    app.state.session_secret = session_secret(app.state.settings)  # signs the session cookie (huiqi.web.sessions)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _page_errors(app)
    app.include_router(build_router())

    @app.get(docs_url, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} · 接口文档",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
        )


def _page_errors(app: FastAPI) -> None:
    """A browser asking for a page that does not exist (or with a malformed path, e.g. a call number that is
    not a number) gets a Chinese page, not the API's JSON; everything else keeps the API's handlers."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import Response

    from huiqi.web.sessions import CsrfRefused, SignInRequired
    from huiqi.web.templating import render

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        message = "表单已过期或来源不明，操作未执行（缺少或不符的 CSRF 令牌）。请返回上一页，刷新后重新提交。"
        return render(request, "error.html", status_code=403, title="操作被拒绝", message=message)

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        from urllib.parse import quote

        from starlette.responses import RedirectResponse

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    app.add_exception_handler(CsrfRefused, csrf_refused)
    app.add_exception_handler(SignInRequired, sign_in_required)

    def wants_page(request: Request) -> bool:
        return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")

    for kind in (HTTPException, RequestValidationError):
        api_handler = app.exception_handlers.get(kind)
        if api_handler is None:
            continue

        async def handler(request: Request, exc: Exception, api_handler: Any = api_handler) -> Response:
            missing = isinstance(exc, RequestValidationError) or getattr(exc, "status_code", 0) == 404
            if missing and wants_page(request):
                message = f"没有这个页面：{request.url.path}。请从导航栏进入政策库、政策计算器、政策比较或公示。"
                return render(request, "error.html", status_code=404, title="没有这个页面", message=message)
            response: Response = await api_handler(request, exc)
            return response

        app.add_exception_handler(kind, handler)
