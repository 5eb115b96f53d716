"""专家评审：本人的任务、声明回避、按评审标准打分."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
