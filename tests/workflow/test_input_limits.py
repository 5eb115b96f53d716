"""Input limits: report due dates that exist every year, fact values of bounded size, and identifiers that
are not placeholders (all zeros)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from huiqi.engine.profile import parse_profile
from huiqi.errors import ProfileError
from huiqi.store.db import Database
from huiqi.store.entities import MAX_FACT_ITEMS, MAX_FACT_TEXT, create_entity, get_entity, record_fact
from huiqi.store.errors import InvalidInput
from huiqi.store.models import Application, Call, Fact, Report
from huiqi.workflow.awards import approve
from huiqi.workflow.calls import CallSpec, open_call
from huiqi.workflow.policy import PolicyEngine
from platform_fixtures import OFFICIAL, add_call, add_firm, call_spec, make_uscc, propose_all


@pytest.mark.parametrize(
    ("due", "says"),
    [("02-30", "2月没有30日"), ("04-31", "4月没有31日"), ("06-31", "6月没有31日"), ("02-29", "02-28 或 03-01")],
)
def test_a_report_due_date_that_does_not_exist_every_year_is_refused_when_the_call_is_opened(
    db: Database, policy: PolicyEngine, due: str, says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        call_spec(report_due=["06-30", due], report_years=2)
    data = call_spec(report_due=["06-30"], report_years=2).model_dump()
    unchecked = CallSpec.model_construct(**{**data, "report_due": ["06-30", due]})  # as a caller might build it
    with pytest.raises(InvalidInput, match=says) as refused, db.transaction() as session:
        open_call(session, spec=unchecked, actor=OFFICIAL, policy=policy)
    assert refused.value.where == "report_due[1]"
    with db.sessions() as session:
        assert session.scalars(select(Call)).all() == []


def test_valid_due_dates_schedule_reports_at_approval(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, report_due=["02-28", "12-31"], report_years=2)
    [application_id] = propose_all(db, policy, call_id, [add_firm(db, policy, 1)])
    with db.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL,
                today=dt.date(2024, 1, 15))  # fmt: skip
    with db.sessions() as session:
        due = sorted(r.due_on for r in session.scalars(select(Report)))
        assert due == [dt.date(2024, 2, 28), dt.date(2024, 12, 31), dt.date(2025, 2, 28), dt.date(2025, 12, 31)]


def _record(db: Database, policy: PolicyEngine, key: str, value: Any, year: int | None = None) -> None:
    with db.transaction() as session:
        firm = (
            session.scalar(select(Fact.entity_id))
            or create_entity(session, entity_type="enterprise", name="甲公司", uscc=make_uscc(1)).id
        )
        record_fact(session, entity=get_entity(session, firm), key=key, value=value, year=year, provenance="declared",
                    recorded_by="a", catalogue=policy.base.catalogue)  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "year", "says", "where"),
    [
        ("registered_city", "苏" * (MAX_FACT_TEXT + 1), None, "过长", "value"),
        ("certifications", ["CMMI3"] * (MAX_FACT_ITEMS + 1), None, "列表过长", "value"),
        ("registered_city", ["x" * 1999] * 10, None, "16KiB", "value"),
        ("registered_city", [[[["苏州市"]]]], None, "嵌套过深", "value[0][0][0]"),
        ("paid_in_capital", "99999999999亿元", None, "100万亿元", "value"),
        ("paid_in_capital", 10**16, None, "小于10", "value"),
        ("revenue", "100000000000000元", 2023, "100万亿元", "value"),
        ("social_insurance_staff", "1e9999999", None, "指数", "value"),
        ("social_insurance_staff", "10000000000000000人", None, "小于10", "value"),
    ],
)
def test_fact_values_have_size_limits(
    db: Database, policy: PolicyEngine, key: str, value: Any, year: int | None, says: str, where: str
) -> None:
    _record(db, policy, "registered_city", "苏州市")  # the entity, and one fact that is fine
    with pytest.raises(InvalidInput, match=says) as refused:
        _record(db, policy, key, value, year)
    assert refused.value.where == where
    with db.sessions() as session:
        assert session.scalars(select(Fact.key)).all() == ["registered_city"]


def test_fact_values_just_within_the_limits_are_kept(db: Database, policy: PolicyEngine) -> None:
    _record(db, policy, "registered_city", "苏" * MAX_FACT_TEXT)
    _record(db, policy, "certifications", ["CMMI3"] * MAX_FACT_ITEMS)
    _record(db, policy, "paid_in_capital", "99999999999999.99元")  # 10^16 - 1 fen
    with db.sessions() as session:
        assert len(session.scalars(select(Fact)).all()) == 3


def test_an_all_zero_uscc_or_id_number_is_refused_though_the_check_character_fits(
    db: Database, policy: PolicyEngine
) -> None:
    with db.transaction() as session:
        with pytest.raises(InvalidInput, match="全为0") as refused:
            create_entity(session, entity_type="enterprise", name="某公司", uscc="000000000000000000")
        assert refused.value.where == "uscc"
        with pytest.raises(InvalidInput, match="全为0") as refused:
            create_entity(session, entity_type="talent", name="张三", id_number="000000000000000000")
        assert refused.value.where == "id_number"
    with pytest.raises(ProfileError, match="全为0"):  # a profile for the calculator too: one validator
        parse_profile({"entity_type": "enterprise", "uscc": "0" * 18}, policy.base.catalogue)
