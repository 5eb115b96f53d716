"""The nearest way to qualify: move the failing thresholds to their bound and evaluate again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from huiqi.facts.catalogue import Period

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
    changes = []
    for threshold in thresholds:
        needed = needed_value(threshold, env)
        if is_unknown(needed):
            return None
        fact = rule.catalogue[threshold.fact]
        current = current_value(threshold, env)
        if fact.period is Period.ANNUAL:
            series = dict(facts.get(threshold.fact) or {})
            series[env.period] = needed
            facts[threshold.fact] = series
        else:
            facts[threshold.fact] = needed
        changes.append(
            {
                "fact": threshold.fact,
                "name": fact.name,
                "year": env.period if fact.period is Period.ANNUAL else None,
                "current": display(current, fact.type),
                "needed": display(needed, fact.type),
                "direction": "up" if threshold.op in (">=", ">") else "down",
            }
        )
    trial = Env(
        facts=facts, period=env.period, as_of=env.as_of, ledger=env.ledger, readings=env.readings, region=env.region
    )
    status, amount, is_ceiling = evaluate(trial)
    if status not in ("eligible", "needs_review"):
        return None
    parts = []
    for change in changes:
        year = f"（{change['year']}年）" if change["year"] else ""
        verb = "达到" if change["direction"] == "up" else "降至"
        parts.append(f"{change['name']}{year}{verb}{change['needed']}（现为{change['current']}）")
    gain = "可获" + (display(amount, rule.money_type) if amount is not None else "资格（金额由审核确定）")
    if amount is not None and is_ceiling:
        gain = f"可获最高{display(amount, rule.money_type)}"
    return Suggestion(
        changes=changes, amount_fen=amount, is_ceiling=is_ceiling, text="若" + "，".join(parts) + "，" + gain
    )
