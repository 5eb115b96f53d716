"""How result columns read to a person: Chinese headers, money in 元, statuses in words.

Money stays integer fen in the data (columns ending ``_fen``); at the edges it becomes an exact
``Decimal`` of 元 with two places (Excel) or a decimal string (CSV, HTML, the console).

>>> yuan(123456789)
Decimal('1234567.89')
>>> yuan_text(-123456789)
'-1,234,567.89'
>>> display("is_ceiling", True)
'是'
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from huiqi.engine.results import STATUS_LABELS, Status
from huiqi.money import format_yuan

from .dimensions import DIMENSIONS

COLUMN_LABELS: dict[str, str] = {
    "entity_id": "主体编号",
    "document": "文件",
    "title": "文件名称",
    "document_status": "文件状态",
    "provision": "条款",
    "provision_label": "条款标题",
    "rule": "规则",
    "label": "规则名称",
    "is_ceiling": "金额为上限",
    "assessed": "适用主体数",
    "beneficiaries": "受益主体数",
    "cost_fen": "确定金额（元）",
    "ceiling_fen": "上限金额（元）",
    "total_fen": "最高可达合计（确定＋上限，元）",
    "review_count": "待审核定额",
    "review_ceiling_fen": "待审核上限（元）",
    "information_count": "需补充信息",
    "excluded_count": "不重复享受",
    "not_eligible_count": "不符合",
    "dimension": "维度",
    "value": "分组",
    "status": "状态",
    "amount_fen": "金额（元）",
    "baseline_status": "现行状态",
    "reform_status": "改革后状态",
    "baseline_amount_fen": "现行金额（元）",
    "reform_amount_fen": "改革后金额（元）",
    "baseline_beneficiaries": "现行受益主体数",
    "reform_beneficiaries": "改革后受益主体数",
    "beneficiaries_delta": "受益主体数变化",
    "baseline_total_fen": "现行最高可达合计（元）",
    "reform_total_fen": "改革后最高可达合计（元）",
    "baseline_fen": "现行金额（元）",
    "reform_fen": "改革后金额（元）",
    "delta_fen": "变化（元）",
    "winners": "受益增加主体数",
    "losers": "受益减少主体数",
    "best_document": "最有利文件",
    "best_fen": "最有利文件金额（元）",
    "best_for": "最有利主体数",
    "target": "预算对象",
    "allocation": "分配规则",
    "budget_fen": "预算（元）",
    "demand_fen": "需求（元）",
    "claimants": "申请主体数",
    "oversubscription": "超额倍数（需求/预算）",
    "funded": "获安排主体数",
    "fully_funded": "全额安排主体数",
    "allocated_fen": "已分配（元）",
    "unallocated_fen": "未分配（元）",
    "claim_fen": "申请额（元）",
    "rank": "排序",
}

VALUE_LABELS: dict[str, dict[str, str]] = {
    "status": {s.value: STATUS_LABELS[s] for s in Status},
    "baseline_status": {s.value: STATUS_LABELS[s] for s in Status},
    "reform_status": {s.value: STATUS_LABELS[s] for s in Status},
    "dimension": DIMENSIONS,
}


def column_label(name: str) -> str:
    """The Chinese header of a column (compared documents' ``<id>_fen`` columns keep their id)."""
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if name.endswith("_fen"):
        return f"{name.removesuffix('_fen')}（元）"
    return name


def yuan(fen: int) -> Decimal:
    """Integer fen as an exact Decimal of 元 with two places."""
    return Decimal(int(fen)).scaleb(-2)


def yuan_text(fen: int) -> str:
    """Integer fen as 元 with thousands separators and two places (exact, no float)."""
    plain = format_yuan(int(fen))
    sign, digits = ("-", plain[1:]) if plain.startswith("-") else ("", plain)
    whole, cents = digits.split(".")
    return f"{sign}{int(whole):,}.{cents}"


def display(column: str, value: Any) -> str:
    """A cell as text for HTML and the console."""
    if value is None:
        return ""
    if column.endswith("_fen"):
        return yuan_text(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}"
    return VALUE_LABELS.get(column, {}).get(str(value), str(value))
