"""免申即享批次（主管部门）."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
