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

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

STATIC_DIR = Path(__file__).parent / "static"

#: The page modules of ``huiqi.web``, in the order their routes are matched.
PAGE_MODULES = ("library", "publicity", "calculator")


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

    app.state.library = Library.build(app.state.policy)  # the search index and the cases, once
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(build_router())

    @app.get(docs_url, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} · 接口文档",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        )
