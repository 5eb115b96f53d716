"""The REST service: FastAPI under ``/api/v1``, one router per resource, OpenAPI at ``/api/v1/openapi.json``.

Routers are thin: they parse and check the request, call ``huiqi.workflow`` inside one transaction, and
shape the answer. Errors are ``{"code", "message", "field"}`` with a Chinese message.
"""

from __future__ import annotations
