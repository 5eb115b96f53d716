"""The one Jinja2 environment of the web pages: templates from the package, the formatting filters, and
``render`` to answer a request with a page (or a fragment, for htmx)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from huiqi.web.formatting import FILTERS
from huiqi.web.sessions import csrf_token, viewer

#: The navigation of ``base.html``: (path, label). The calculator and comparison pages are W2's modules.
NAV = (
    ("/", "政策库"),
    ("/calculator", "政策计算器"),
    ("/compare", "政策比较"),
    ("/publicity", "公示"),
    ("/simulate", "模拟测算"),
    ("/dashboards", "统计"),  # signed-in officials, finance and analysts; anyone else: sign-in or 403
)

env = Environment(
    loader=PackageLoader("huiqi.web", "templates"),
    autoescape=select_autoescape(("html", "xml")),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(FILTERS)
env.globals["nav"] = NAV
env.globals["viewer"] = None  # a page rendered for a request gets the signed-in user and its CSRF token
env.globals["csrf_token"] = ""


def render_text(template: str, **context: Any) -> str:
    """A template rendered to text (for the PDF of a page, which WeasyPrint makes from the same HTML)."""
    return env.get_template(template).render(**context)


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page: ``template`` with ``context``, the request (for the active navigation item), its path, the
    signed-in user (``viewer``) and the session's CSRF token."""
    context.setdefault("viewer", viewer(request))
    context.setdefault("csrf_token", csrf_token(request))
    html = render_text(template, request=request, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)
