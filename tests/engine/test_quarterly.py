"""Periods below a year (issue 14.1): quarterly facts, rules evaluated per quarter with caps per quarter and
per year and "minus this year's payments", the ledger per quarter — Q1–Q4 of one firm in the engine (the
fixture policy's cases), the SQL side in tests/compile/test_quarterly_parity.py, the platform in
tests/workflow/test_quarterly_awards.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from huiqi.cases import load_cases, run_case
from huiqi.engine.evaluate import Engine
from huiqi.engine.profile import parse_profile, parse_quarter
from huiqi.errors import ProfileError
from huiqi.policy.base import PolicyBase, default_policies_dir

FIXTURES = Path(__file__).parent.parent / "fixtures" / "policies"
DOCUMENT = "sz-test-quarterly"


def quarterly_base(root: Path) -> Path:
    """The seed policies with the quarterly test policy and its fact file."""
    shutil.copytree(default_policies_dir(), root)
    shutil.copytree(FIXTURES / DOCUMENT, root / DOCUMENT)
    shutil.copy(FIXTURES / "_facts" / f"{DOCUMENT}.yaml", root / "_facts")
    return root


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine(PolicyBase.load(quarterly_base(tmp_path_factory.mktemp("base") / "policies")))


def test_four_quarters_of_one_firm(engine: Engine) -> None:
    cases = load_cases(engine, DOCUMENT)
    assert len(cases) == 4
    assert [run_case(engine, case).failures for case in cases] == [[]] * 4


@pytest.mark.parametrize(
    ("text", "quarter"),
    [("2024Q1", (2024, 1)), ("2024-Q3", (2024, 3)), ("2024年第四季度", (2024, 4)), ("2024年第2季度", (2024, 2))],
)
def test_quarters_are_read_as_people_write_them(text: str, quarter: tuple[int, int]) -> None:
    assert parse_quarter(text) == quarter


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("3000万元", "当年累计营业收入按季度填写，如 {2024Q1: 3000万元"),
        ({"2024Q5": "3000万元"}, "季度 '2024Q5' 应写成 2024Q1（或 2024年第一季度）"),
        ({"2024Q1": "-1元"}, "当年累计营业收入不能为负数"),
    ],
)
def test_a_bad_quarterly_fact_is_named_in_chinese(engine: Engine, value: object, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile({"entity_type": "enterprise", "facts": {"revenue_ytd": value}}, engine.catalogue)
    assert message in str(caught.value)


def test_a_ledger_entry_names_its_quarter(engine: Engine) -> None:
    ledger = [{"rule": f"{DOCUMENT}:1/growth", "period": 2024, "quarter": 5, "amount": "5万元"}]
    with pytest.raises(ProfileError, match="台账条目的 quarter 应为 1 至 4 的季度"):
        parse_profile({"entity_type": "enterprise", "ledger": ledger}, engine.catalogue)
