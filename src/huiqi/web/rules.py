"""A rule as plain Chinese for the document page: who, on which conditions, how much (an amount or a
ceiling, never confused), the readings chosen and their alternatives, caps, duration and instalments.

Built from the compiled rule (``huiqi.engine.ruleset``): the condition labels are the engine's own (the
same text its traces show), the figures are the rule's expressions rendered by ``huiqi.expr.render``."""

from __future__ import annotations

from dataclasses import dataclass, field

from huiqi.engine.conditions import CompiledCondition
from huiqi.engine.ruleset import CompiledInstalment, CompiledRule
from huiqi.expr.parser import parse
from huiqi.expr.render import render
from huiqi.facts.catalogue import ENTITY_LABELS, Fact
from huiqi.policy.models import Instalment
from huiqi.policy.scope import DocumentScope, item_scope

_MODES = {"highest": "按达到的最高一档给予（就高不就低）", "each": "达到的各档逐档累加",
          "top_up": "进档补差：达到更高一档时补足与已领奖励的差额"}  # fmt: skip
_CAPS = {"per_year": "每年", "per_quarter": "每季度", "cumulative": "累计"}


@dataclass(frozen=True)
class ConditionView:
    """One node of the condition tree: ``kind`` is leaf, all (全部满足), any (满足其一) or not (不满足)."""

    kind: str
    label: str
    children: tuple[ConditionView, ...] = ()


@dataclass(frozen=True)
class ReadingView:
    key: str
    question: str
    default: str
    options: tuple[tuple[str, str, bool], ...]  # (value, label, is_default)


@dataclass(frozen=True)
class RuleView:
    ref: str
    id: str
    label: str
    quote: str
    applies_to: str
    recipient: str | None
    conditions: ConditionView | None
    benefit: list[str]
    is_ceiling: bool
    limits: list[str] = field(default_factory=list)
    readings: list[ReadingView] = field(default_factory=list)
    payer: str | None = None
    once: bool = False
    note: str | None = None


def _condition(node: CompiledCondition) -> ConditionView:
    return ConditionView(node.kind, node.label, tuple(_condition(c) for c in node.children))


def _text(value: str | int | None, scope: DocumentScope) -> str:
    return "" if value is None else render(parse(str(value)), scope.label)


def _instalment(stated: Instalment, compiled: CompiledInstalment, scope: DocumentScope) -> str:
    """``第二年拨付 30%（批准后第1个年度；须满足：仍在本市注册、到期的绩效报告均已提交）``."""
    waits = compiled.waits_on()
    when = [f"批准后第{stated.year}个年度"] if stated.year else []
    if waits:
        when.append("须满足：" + "、".join(waits))
    return f"{stated.label} {_text(stated.share, scope)}" + (f"（{'；'.join(when)}）" if when else "")


def _items_fact(compiled: CompiledRule) -> Fact:
    """The list fact a per_item rule pays over."""
    return compiled.catalogue[str(compiled.benefit.items)]


def describe(compiled: CompiledRule, scope: DocumentScope) -> RuleView:
    """The plain-Chinese view of one compiled rule."""
    rule = compiled.rule
    benefit = rule.benefit
    lines: list[str] = []
    if benefit.form in ("fixed", "formula"):
        lines.append(f"{'最高' if compiled.is_ceiling else '金额：'}{_text(benefit.amount, scope)}")
    elif benefit.form == "rate":
        lines.append(f"按 {compiled.benefit.base_label} × {_text(benefit.rate, scope)} 计算")
        if benefit.ceiling is not None:
            lines.append(f"单项封顶：不超过 {_text(benefit.ceiling, scope)}")
    elif benefit.form == "tiers":
        lines.append(_MODES.get(benefit.mode or "highest", ""))
        for tier, compiled_tier in zip(benefit.tiers or [], compiled.benefit.tiers, strict=True):
            lines.append(f"{tier.label or tier.id}：{compiled_tier.when.label} → {_text(tier.amount, scope)}")
    elif benefit.form == "schedule":
        for step in benefit.steps or []:
            low, high = step.years
            years = f"第{low}年" if low == high else f"第{low}至{high}年"
            lines.append(
                f"{years}（{compiled.benefit.index_label}）：{compiled.benefit.base_label} × {_text(step.rate, scope)}"
            )
    elif benefit.form == "per_item":
        lines.append(
            f"按{compiled.benefit.items_label}逐项计算，每项：{_text(benefit.amount, item_scope(scope, _items_fact(compiled)))}"
        )
        if compiled.benefit.where is not None:
            lines.append(f"计入的项目：{compiled.benefit.where.label}")
        for when, _fn, amount in compiled.benefit.item_caps:
            lines.append(f"单项上限（{when.label}）：{amount}")
    elif compiled.benefit.review:
        lines.append("金额由主管部门按程序确定（一事一议或评审）")
    else:
        lines.append("不涉及资金：符合条件即取得资格")
    limits = [f"{_CAPS[cap.scope]}不超过 {_text(cap.amount, scope)}" + ("（本条合计）" if cap.over == "provision" else "")
              for cap in rule.caps]  # fmt: skip
    if rule.duration is not None:
        limits.append(f"连续支持不超过{rule.duration.max_years}年")
    if rule.matter is not None:
        limits.append(f"事项：{rule.matter}（与其他同类政策同一事项不得重复享受的判断依据）")
    if rule.instalments:
        limits.append("分期拨付：" + "；".join(_instalment(i, part, scope)
                                              for i, part in zip(rule.instalments, compiled.instalments, strict=True)))  # fmt: skip
    readings = [
        ReadingView(key, question, default, tuple((value, label, value == default) for value, label in options.items()))
        for key, question, default, options in compiled.reading_meta
    ]
    kinds = [rule.applies_to] if isinstance(rule.applies_to, str) else rule.applies_to
    return RuleView(
        ref=compiled.ref, id=rule.id, label=rule.label, quote=rule.quote,
        applies_to="、".join(ENTITY_LABELS[k] for k in kinds),
        recipient=ENTITY_LABELS.get(rule.recipient) if rule.recipient else None,
        conditions=_condition(compiled.condition) if compiled.condition is not None else None,
        benefit=[line for line in lines if line], is_ceiling=compiled.is_ceiling, limits=limits, readings=readings,
        payer=rule.payer, once=rule.once, note=rule.note,
    )  # fmt: skip
