"""``huiqi.api.asgi:app`` — the app built from ``HUIQI_*`` settings, for ``uvicorn`` or any ASGI server."""

from __future__ import annotations

from huiqi.api.app import create_app

app = create_app()
