"""Request and response bodies, per resource: ``XCreate`` in, ``XPublic`` out. Money out is a yuan string."""

from __future__ import annotations
