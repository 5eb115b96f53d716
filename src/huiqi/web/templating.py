"""The one Jinja2 environment of the web pages: templates from the package, the formatting filters, and
``render`` to answer a request with a page (or a fragment, for htmx)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from huiqi.web.formatting import FILTERS
from huiqi.web.sessions import SIMULATION_ROLES, STATISTICS_ROLES, Viewer, csrf_token, viewer

#: The navigation of ``base.html``: (path, label, the roles that see it — None: everyone, signed in or not).
NAV: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("/", "政策库", None),
    ("/calculator", "政策计算器", None),
    ("/compare", "政策比较", None),
    ("/publicity", "公示", None),
    ("/simulate", "模拟测算", SIMULATION_ROLES),
    ("/dashboards", "统计", STATISTICS_ROLES),
    ("/drafting", "政策起草", ("official", "administrator")),
)


def nav_for(found: Viewer | None) -> list[tuple[str, str]]:
    """The navigation items this user may open (a page a role may not open is not offered to it)."""
    role = found.actor.role if found is not None else None
    return [(href, label) for href, label, roles in NAV if roles is None or role in roles]


env = Environment(
    loader=PackageLoader("huiqi.web", "templates"),
    autoescape=select_autoescape(("html", "xml")),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(FILTERS)
env.globals["nav"] = nav_for(None)
env.globals["viewer"] = None  # a page rendered for a request gets the signed-in user and its CSRF token
env.globals["csrf_token"] = ""


def render_text(template: str, **context: Any) -> str:
    """A template rendered to text (for the PDF of a page, which WeasyPrint makes from the same HTML)."""
    return env.get_template(template).render(**context)


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page: ``template`` with ``context``, the request (for the active navigation item), its path, the
    signed-in user (``viewer``) and the session's CSRF token."""
    context.setdefault("viewer", viewer(request))
    context.setdefault("nav", nav_for(context["viewer"]))
    context.setdefault("csrf_token", csrf_token(request))
    html = render_text(template, request=request, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)
