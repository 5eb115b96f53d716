"""财政工作台：待拨付、导出、标记已拨付、台账."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
