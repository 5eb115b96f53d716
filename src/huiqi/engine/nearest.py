"""The nearest way to qualify: move the failing thresholds to their bound and evaluate again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from huiqi.expr.ast import Type
from huiqi.facts.catalogue import Period
from huiqi.money import MONEY_UNITS, format_cn, format_in_unit

from .conditions import Threshold, needed_value
from .env import Env
from .results import Suggestion
from .values import display, is_unknown

if TYPE_CHECKING:
    from .ruleset import CompiledRule


def current_value(threshold: Threshold, env: Env) -> Any:
    """The value of the fact a threshold compares (the assessed year's value for annual facts)."""
    value = env.facts.get(threshold.fact)
    if isinstance(value, dict):
        return value.get(env.period, 0)
    if value is None:
        from .values import Unknown

        return Unknown(frozenset({(threshold.fact, None)}))
    return value


def suggest(
    rule: CompiledRule,
    env: Env,
    thresholds: list[Threshold],
    evaluate: Callable[[Env], tuple[Any, int | None, bool]],
) -> Suggestion | None:
    """Try the facts at their needed values; return the suggestion when the rule then gives something."""
    if not thresholds:
        return None
    facts = dict(env.facts)
    for threshold in thresholds:
        needed = needed_value(threshold, env)
        if is_unknown(needed):
            return None
        fact = rule.catalogue[threshold.fact]
        if fact.period is Period.ANNUAL:
            series = dict(facts.get(threshold.fact) or {})
            series[env.period] = needed
            facts[threshold.fact] = series
        elif fact.period is Period.QUARTERLY:  # the assessed quarter's value
            facts[threshold.fact] = {**(facts.get(threshold.fact) or {}), (env.period, env.quarter): needed}
        else:
            facts[threshold.fact] = needed
    trial = env.with_facts(facts)
    status, amount, is_ceiling = evaluate(trial)
    if status not in ("eligible", "needs_review"):
        return None  # (the changes are written only for a hint that is given)
    changes = []
    for threshold in thresholds:
        fact = rule.catalogue[threshold.fact]
        changes.append(
            {
                "fact": threshold.fact,
                "name": fact.name,
                "year": env.period if fact.period is Period.ANNUAL else None,
                "current": in_unit(current_value(threshold, env), threshold, fact.unit),
                # the bound in its own unit; "relation" says whether reaching it is enough (达到) or not (超过)
                "needed": in_unit(threshold.target(env), threshold, fact.unit),
                "relation": _RELATIONS[threshold.op],
                "direction": "up" if threshold.op in (">=", ">") else "down",
            }
        )
    parts = []
    for change in changes:
        year = f"（{change['year']}年）" if change["year"] else ""
        parts.append(f"{change['name']}{year}{change['relation']}{change['needed']}（现为{change['current']}）")
    return Suggestion(
        changes=changes,
        amount_fen=amount,
        is_ceiling=is_ceiling,
        text="若" + "，".join(parts) + "，" + _gain(status, amount, is_ceiling, rule),
    )


#: how a hint words a bound: reaching it (>=), passing it (>), coming down to it (<=), below it (<)
_RELATIONS = {">=": "达到", ">": "超过", "<=": "降至", "<": "低于"}


def _gain(status: str, amount: int | None, is_ceiling: bool, rule: CompiledRule) -> str:
    """What qualifying would give, never promising an amount the rule does not have."""
    if amount is not None:
        text = format_cn(amount)
        if status == "needs_review":
            return f"可申请，金额由主管部门审核确定（最高{text}）"
        if is_ceiling:
            return f"可获最高{text}"
        return f"可获不低于{text}" if rule.rule.benefit.is_floor else f"可获{text}"
    if status == "needs_review":
        return "可申请，金额由主管部门审核确定（原文未规定金额）"
    return "即符合本项条件（本项只判断资格，不涉及金额）"


def in_unit(value: Any, threshold: Threshold, fact_unit: str | None) -> str:
    """A value in the unit of the bound it is compared with: 5.3亿元 beside 50亿元, 4.5% beside 5%, 30人."""
    if is_unknown(value):
        return "缺失"
    if threshold.kind is Type.MONEY:
        if threshold.unit in MONEY_UNITS:
            return format_in_unit(value, threshold.unit)
        return format_cn(value)
    return display(value, threshold.kind, threshold.unit or fact_unit)
