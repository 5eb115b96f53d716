"""Property tests: random entities never crash the engine, caps are never exceeded, tiers are monotone."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MiniFactory, run
from huiqi.engine.env import Env
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import Profile
from huiqi.engine.results import Status
from huiqi.engine.ruleset import CompiledRule
from huiqi.engine.values import is_unknown
from huiqi.expr.ast import Type
from huiqi.facts.catalogue import EntityType, Fact, Period

YEARS = range(2019, 2025)


def _value(fact: Fact) -> st.SearchStrategy[Any]:
    if fact.type is Type.MONEY:
        return st.integers(0, 2_000_000_000_000).map(Fraction)  # up to 200亿元 in fen
    if fact.type is Type.NUMBER:
        return st.integers(0, 2000).map(Fraction)
    if fact.type is Type.BOOL:
        return st.booleans()
    if fact.type is Type.DATE:
        return st.dates(dt.date(2000, 1, 1), dt.date(2024, 12, 31))
    if fact.type is Type.SET:
        return st.frozensets(st.sampled_from(fact.values or ["x"]), max_size=4)
    return st.sampled_from(fact.values or ["其他"])


@st.composite
def profiles(draw: st.DrawFn, engine: Engine) -> Profile:
    entity = draw(st.sampled_from(list(EntityType)))
    facts: dict[str, Any] = {}
    for fact in engine.catalogue:
        if entity not in fact.entity or not draw(st.booleans()):
            continue
        if fact.period is Period.ANNUAL:
            facts[fact.key] = {year: draw(_value(fact)) for year in YEARS if draw(st.booleans())}
        else:
            facts[fact.key] = draw(_value(fact))
    regions = [d.loaded.policy.document.jurisdiction.region for d in engine.documents.values()]
    return Profile(entity_type=entity, facts=facts, region=tuple(draw(st.lists(st.sampled_from(regions), max_size=2))))


def _static_max(rule: CompiledRule) -> Fraction | None:
    """The most a rule can ever pay, when its figures are constants."""
    env = Env(facts={}, period=2023, as_of=dt.date(2024, 6, 30))
    benefit = rule.benefit

    def const(fn: Any) -> Fraction | None:
        try:
            value = fn(env)
        except Exception:
            return None
        return None if is_unknown(value) else Fraction(value)

    candidates: list[Fraction | None] = []
    if benefit.form in ("fixed", "formula") and benefit.amount is not None:
        candidates.append(const(benefit.amount))
    if benefit.ceiling is not None:
        candidates.append(const(benefit.ceiling))
    if benefit.form == "tiers":
        amounts = [const(t.amount) for t in benefit.tiers]
        if all(a is not None for a in amounts):
            values = [a for a in amounts if a is not None]
            candidates.append(sum(values, Fraction(0)) if benefit.mode == "each" else max(values))
    for _, _, cap in rule.caps:
        candidates.append(const(cap))
    known = [c for c in candidates if c is not None]
    return min(known) if known else None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_entities_never_crash_and_never_exceed_a_ceiling(seed_engine: Engine, data: st.DataObject) -> None:
    profile = data.draw(profiles(seed_engine))
    evaluation = seed_engine.evaluate(
        profile, Options(as_of=dt.date(2024, 6, 30), include_drafts=True, include_expired=True)
    )
    by_ref = {r.ref: r for d in seed_engine.documents.values() for r in d.rules}
    for result in evaluation.rules():
        assert result.status in Status
        if result.amount_fen is None:
            continue
        assert result.amount_fen >= 0
        limit = _static_max(by_ref[result.ref])
        if limit is not None and result.status in (Status.ELIGIBLE, Status.NEEDS_REVIEW):
            assert result.amount_fen <= limit, result.ref


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}元"


TIERED = {
    "id": "5",
    "text": "对年营收首次达到1亿元、5亿元、10亿元、20亿元的企业，分别给予不超过70万元、100万元、200万元、300万元的奖励。",
    "rules": [{"id": "r", "benefit": {"form": "tiers", "mode": "highest", "is_ceiling": True, "tiers": [
        {"id": "1", "when": "revenue >= 1亿元", "amount": "70万元"},
        {"id": "5", "when": "revenue >= 5亿元", "amount": "100万元"},
        {"id": "10", "when": "revenue >= 10亿元", "amount": "200万元"},
        {"id": "20", "when": "revenue >= 20亿元", "amount": "300万元"}]}}],
}  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(low=st.integers(0, 3_000_000_000_00), raise_by=st.integers(0, 3_000_000_000_00))
def test_raising_revenue_never_lowers_a_tiered_amount(mini: MiniFactory, low: int, raise_by: int) -> None:
    engine = mini([TIERED])
    before = run(engine, {"revenue": _yuan(low)}).rule("5/r").amount_fen or 0
    after = run(engine, {"revenue": _yuan(low + raise_by)}).rule("5/r").amount_fen or 0
    assert after >= before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.integers(0, 10**13))
def test_a_rate_with_a_ceiling_never_exceeds_it(mini: MiniFactory, base: int) -> None:
    engine = mini([{"id": "1", "text": "按2‰给予最高100万元。",
                    "rules": [{"id": "r", "benefit": {"form": "rate", "base": "revenue", "rate": "2‰", "ceiling": "100万元"}}]}])  # fmt: skip
    result = run(engine, {"revenue": f"{base}元"}).rule("1/r")
    assert result.amount_fen is not None
    assert result.amount_fen <= 100_000_000
    assert result.amount_fen == min(
        base * 100 * 2 // 1000 + (1 if (base * 100 * 2) % 1000 * 2 >= 1000 else 0), 100_000_000
    )
