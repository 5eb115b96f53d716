"""申报：起草、上传材料、信用承诺、提交（申报主体）."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
