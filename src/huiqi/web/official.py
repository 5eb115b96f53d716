"""审核工作台的操作：形式审查、专家抽取、拟支持名单、公示、批准、拨付、逾期报告、追回（主管部门）."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
