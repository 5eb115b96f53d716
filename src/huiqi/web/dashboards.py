"""统计看板：预算、获奖分布、趋势（ECharts），表格和图表导出为 Excel."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
