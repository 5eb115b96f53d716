"""The Content-Disposition of a download: a Chinese file name (RFC 6266 ``filename*``) with an ASCII fallback
for old clients."""

from __future__ import annotations

from urllib.parse import quote


def attachment(filename: str, *, fallback: str = "download") -> str:
    """``attachment`` naming ``filename`` (e.g. 政策计算结果.json); clients without RFC 5987 get ``fallback.json``."""
    suffix = filename.rsplit(".", 1)[1] if "." in filename else "bin"
    return f"attachment; filename=\"{fallback}.{suffix}\"; filename*=UTF-8''{quote(filename)}"
