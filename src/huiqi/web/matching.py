"""政策找企业：通知、关注主题和地区、告知与申报统计."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
