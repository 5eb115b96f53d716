"""History constructs at their boundaries: 首次超过 (``first_exceeded``, the strict counterpart of
``first_reached``) and 连续N年达到 (``consecutive_years``), on the scalar engine, DuckDB and Spark alike."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from conftest import run
from huiqi.compile.parity import Batch, differences, duckdb_run, spark_run
from huiqi.engine.evaluate import Engine
from huiqi.engine.profile import parse_profile
from huiqi.engine.results import Status
from huiqi.errors import ExpressionError
from huiqi.expr.check import infer
from huiqi.expr.parser import parse
from huiqi.expr.render import render
from huiqi.facts.catalogue import Catalogue
from huiqi.policy.base import default_policies_dir
from huiqi.policy.scope import DocumentScope

PERIOD = 2023
TEXT = (
    "对营业收入首次超过1亿元的企业，给予100万元奖励；对营业收入首次达到1亿元的企业，给予50万元奖励；"
    "对连续3年营业收入达到5000万元的企业，给予30万元奖励。"
)
PROVISIONS: list[dict[str, Any]] = [
    {
        "id": "1",
        "text": TEXT,
        "rules": [
            {"id": "exceeded", "conditions": {"all": [{"expr": "first_exceeded(revenue, 1亿元)",
                                                       "label": "营业收入首次超过1亿元"}]},
             "benefit": {"form": "fixed", "amount": "100万元"}},
            {"id": "reached", "conditions": {"all": [{"expr": "first_reached(revenue, 1亿元)",
                                                      "label": "营业收入首次达到1亿元"}]},
             "benefit": {"form": "fixed", "amount": "50万元"}},
            {"id": "steady", "conditions": {"all": [{"expr": "consecutive_years(revenue, 5000万元, 3)",
                                                     "label": "连续3年营业收入达到5000万元"}]},
             "benefit": {"form": "fixed", "amount": "30万元"}},
        ],
    }
]  # fmt: skip

E, N, Q = Status.ELIGIBLE, Status.NOT_ELIGIBLE, Status.NEEDS_INFORMATION  # Q: a question to the applicant
#: revenue by year → expected (exceeded, reached, steady)
CASES: list[tuple[dict[int, str], tuple[Status, Status, Status]]] = [
    ({2021: "0.8亿元", 2022: "0.9亿元", 2023: "1亿元"}, (N, E, E)),  # exactly at 1亿: reached, not exceeded
    ({2021: "0.8亿元", 2022: "1亿元", 2023: "1.1亿元"}, (E, N, E)),  # reached before, first above it now
    ({2021: "0.8亿元", 2022: "100000000.01元", 2023: "1.2亿元"}, (N, N, E)),  # one fen above it last year
    ({2021: "0.8亿元", 2022: "0.9亿元", 2023: "99999999.99元"}, (N, N, E)),  # one fen short
    ({2023: "1.2亿元"}, (Q, Q, Q)),  # no earlier year: unknown whether it was above before
    ({2021: "5000万元", 2022: "6000万元", 2023: "5000万元"}, (N, N, E)),  # at 5000万 every year: held
    ({2021: "49999999.99元", 2022: "6000万元", 2023: "6000万元"}, (N, N, N)),  # N−1 years held
    ({2022: "4000万元", 2023: "6000万元"}, (N, N, N)),  # a known year below decides, whatever 2021 was
    ({2021: "6000万元", 2023: "6000万元"}, (N, N, Q)),  # 2022 missing: 连续 unknown
    ({2020: "2亿元", 2021: "6000万元", 2022: "6000万元"}, (Q, Q, Q)),  # the assessed year missing
]


@pytest.fixture
def engine(mini: Any) -> Engine:
    return mini(PROVISIONS)


def _profiles(engine: Engine) -> list[Any]:
    raws = [{"entity_type": "enterprise", "region": ["苏州市"], "facts": {"revenue": revenue}} for revenue, _ in CASES]
    return [parse_profile(raw, engine.catalogue) for raw in raws]


@pytest.mark.parametrize(("revenue", "expected"), CASES)
def test_boundaries_on_the_scalar_engine(engine: Engine, revenue: dict[int, str], expected: tuple[Status, ...]) -> None:
    result = run(engine, {"revenue": revenue})
    got = tuple(result.rule(f"1/{rule}").status for rule in ("exceeded", "reached", "steady"))
    assert got == expected


def test_a_missing_year_is_asked_for_by_name(engine: Engine) -> None:
    steady = run(engine, {"revenue": {2021: "6000万元", 2023: "6000万元"}}).rule("1/steady")
    assert steady.status is Status.NEEDS_INFORMATION
    assert [(m.fact, m.year) for m in steady.missing] == [("revenue", 2022)]
    exceeded = run(engine, {"revenue": {2023: "1.2亿元"}}).rule("1/exceeded")
    assert [(m.fact, m.year) for m in exceeded.missing] == [("revenue", 2022)]


def test_the_explanation_names_the_condition(engine: Engine) -> None:
    result = run(engine, {"revenue": {2021: "0.8亿元", 2022: "0.9亿元", 2023: "1亿元"}}).rule("1/exceeded")
    assert "营业收入首次超过1亿元" in result.reason


def test_duckdb_and_spark_equal_the_scalar_engine_at_the_boundaries(engine: Engine, spark: Any) -> None:
    profiles = _profiles(engine)
    batch = Batch("test-doc", dt.date(2024, 6, 30), PERIOD, (), True)
    for runner in (duckdb_run(engine), spark_run(engine, spark)):
        compared, diffs = differences(engine, batch, profiles, runner)
        assert compared == 3 * len(CASES)
        assert diffs == []


@pytest.fixture(scope="module")
def scope() -> DocumentScope:
    return DocumentScope(catalogue=Catalogue.load(Path(default_policies_dir()) / "_facts"), document="t")


def test_rendered_in_chinese(scope: DocumentScope) -> None:
    label = {"revenue": "营业收入"}.get
    assert render(parse("first_exceeded(revenue, 1亿元)"), label) == "首次超过（营业收入，1亿元）"
    assert render(parse("consecutive_years(revenue, 5000万元, 3年)"), label) == "营业收入连续3年达到5000万元"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("first_exceeded(revenue, 100000000)", "同类型"),
        ("first_exceeded(paid_in_capital, 1亿元)", "按年度"),
        ("consecutive_years(revenue, 5000万元, period - 2020)", "整数常量"),
        ("consecutive_years(revenue, 5000万元, 0)", "整数常量"),
        ("consecutive_years(revenue, 5000, 3)", "同类型"),
    ],
)
def test_checked_like_first_reached(scope: DocumentScope, text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        infer(parse(text), scope)


RENEW_TEXT = "对上两年连续获得本项支持的企业，按上一次支持金额的50%给予续支持。"
RENEW: list[dict[str, Any]] = [
    {
        "id": "2",
        "text": RENEW_TEXT,
        "rules": [
            {"id": "renew", "conditions": {"all": [{"expr": "paid_each_year(2)", "label": "上两年连续获得本项支持"}]},
             "benefit": {"form": "rate", "base": "paid_last()", "rate": "50%"}},
        ],
    }
]  # fmt: skip
REF = "test-doc:2/renew"
#: the ledger as (rule, year, amount) → expected status and amount in fen
LEDGERS: list[tuple[list[tuple[str, int, str]], Status, int | None]] = [
    ([(REF, 2021, "100万元"), (REF, 2022, "80万元"), (REF, 2022, "20万元")], E, 50_000_000),  # two entries in 2022
    ([(REF, 2022, "100万元")], N, None),  # N−1 years paid
    ([(REF, 2020, "100万元"), (REF, 2022, "100万元")], N, None),  # a gap in 2021
    ([(REF, 2021, "100万元"), (REF, 2022, "60万元"), (REF, 2023, "10万元")], E, 30_000_000),  # 2023 is not "previous"
    ([(REF, 2021, "100万元"), (REF, 2022, "60.01万元"), ("test-doc:1/steady", 2022, "30万元")], E, 30_005_000),
    ([("test-doc:1/steady", 2021, "30万元"), ("test-doc:1/steady", 2022, "30万元")], N, None),  # another rule paid
    ([], N, None),
]


def _ledger(entries: list[tuple[str, int, str]]) -> list[dict[str, Any]]:
    return [{"rule": rule, "period": year, "amount": amount} for rule, year, amount in entries]


@pytest.mark.parametrize(("entries", "status", "amount"), LEDGERS)
def test_continuing_support_reads_the_ledger(
    mini: Any, entries: list[tuple[str, int, str]], status: Status, amount: int | None
) -> None:
    engine = mini(PROVISIONS + RENEW)
    result = run(engine, {"revenue": {2023: "1亿元"}}, ledger=_ledger(entries)).rule("2/renew")
    assert (result.status, result.amount_fen if status is E else None) == (status, amount)


def test_continuing_support_equals_the_scalar_engine_in_duckdb_and_spark(mini: Any, spark: Any) -> None:
    engine = mini(PROVISIONS + RENEW)
    raws = [{"entity_type": "enterprise", "region": ["苏州市"], "facts": {"revenue": {2023: "1亿元"}},
             "ledger": _ledger(entries)} for entries, _, _ in LEDGERS]  # fmt: skip
    profiles = [parse_profile(raw, engine.catalogue) for raw in raws]
    batch = Batch("test-doc", dt.date(2024, 6, 30), PERIOD, (), True)
    for runner in (duckdb_run(engine), spark_run(engine, spark)):
        compared, diffs = differences(engine, batch, profiles, runner)
        assert compared == 4 * len(LEDGERS)
        assert diffs == []


def test_ledger_constructs_checked_and_rendered(scope: DocumentScope) -> None:
    assert render(parse("paid_each_year(2年)"), {}.get) == "本规则此前连续2年均已支持"
    assert render(parse("paid_last() * 50%"), {}.get) == "本规则上一次支持金额 × 50%"
    with pytest.raises(ExpressionError, match="整数常量"):
        infer(parse("paid_each_year(period - 2021)"), scope)
