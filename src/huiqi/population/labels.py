"""How result columns read to a person: Chinese headers, money in 万元, statuses in words.

Money stays integer fen in the data (columns ending ``_fen``). What a person reads — the console, the
HTML tables, Excel and the charts — shows it in 万元 with two places, as officials write it: Excel holds
the exact ``Decimal`` of 万元 (six places, formatted ``#,##0.00``), the console and HTML round half up
from the integer fen. CSV keeps exact 元 with two places (``*_yuan``) for other programs.

>>> wan(123456789)
Decimal('123.456789')
>>> wan_text(123456789)
'123.46'
>>> yuan(123456789)
Decimal('1234567.89')
>>> yuan_text(-123456789)
'-1,234,567.89'
>>> display("cost_fen", 5000)
'0.01'
>>> display("is_ceiling", True)
'是'
>>> text_width("营业收入（万元）"), text_width("total_fen")
(16, 9)
"""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal
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
    "cost_fen": "确定金额（万元）",
    "ceiling_fen": "上限金额（万元）",
    "total_fen": "最高可达合计（万元）",
    "review_count": "待审核定额",
    "review_ceiling_fen": "待审核上限（万元）",
    "information_count": "需补充信息",
    "excluded_count": "不重复享受",
    "not_eligible_count": "不符合",
    "budget_year": "预算年度",
    "dimension": "维度",
    "value": "分组",
    "status": "状态",
    "amount_fen": "金额（万元）",
    "baseline_status": "现行状态",
    "reform_status": "改革后状态",
    "baseline_amount_fen": "现行金额（万元）",
    "reform_amount_fen": "改革后金额（万元）",
    "baseline_beneficiaries": "现行受益主体数",
    "reform_beneficiaries": "改革后受益主体数",
    "beneficiaries_delta": "受益主体数变化",
    "baseline_total_fen": "现行最高可达合计（万元）",
    "reform_total_fen": "改革后最高可达合计（万元）",
    "baseline_fen": "现行金额（万元）",
    "reform_fen": "改革后金额（万元）",
    "delta_fen": "变化（万元）",
    "winners": "受益增加主体数",
    "losers": "受益减少主体数",
    "best_document": "最有利文件",
    "best_fen": "最有利文件金额（万元）",
    "best_for": "最有利主体数",
    "target": "预算对象",
    "allocation": "分配规则",
    "budget_fen": "预算（万元）",
    "demand_fen": "需求（万元）",
    "claimants": "申请主体数",
    "oversubscription": "超额倍数（需求/预算）",
    "funded": "获安排主体数",
    "fully_funded": "全额安排主体数",
    "allocated_fen": "已分配（万元）",
    "unallocated_fen": "未分配（万元）",
    "claim_fen": "申请额（万元）",
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
        return f"{name.removesuffix('_fen')}（万元）"
    return name


def wan(fen: int) -> Decimal:
    """Integer fen as an exact Decimal of 万元 (1 万元 = 1,000,000 fen)."""
    return Decimal(int(fen)).scaleb(-6)


def wan_text(fen: int) -> str:
    """Integer fen as 万元 with thousands separators and two places, rounded half up (no float)."""
    return f"{wan(fen).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def text_width(text: str) -> int:
    """Columns ``text`` takes in a fixed-width grid: CJK (wide and full-width) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


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
        return wan_text(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}"
    return VALUE_LABELS.get(column, {}).get(str(value), str(value))
