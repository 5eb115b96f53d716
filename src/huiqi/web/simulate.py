"""模拟测算：上传名册或合成名册，模拟、改革、比较、预算分配."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
