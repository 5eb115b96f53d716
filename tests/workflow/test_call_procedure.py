"""The procedure as data: a call for a provision takes what the policy file states, and records what the
official set otherwise (Zhejiang's 七.1: competitive review, 2016 quotas 4 + 5 + 5, 公示 7 days by a reading,
reports due 06-30 and 12-31, funded by the province except Ningbo)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from huiqi import beijing
from huiqi.store.db import Database
from huiqi.store.errors import InvalidInput
from huiqi.store.models import AuditEvent, Call
from huiqi.workflow.calls import CallSpec, open_call, stated_procedure
from huiqi.workflow.policy import PolicyEngine
from platform_fixtures import OFFICIAL, add_call

CRITERIA = [{"key": "plan", "label": "建设方案可行性", "max": 100}]


def zhejiang(**fields: Any) -> CallSpec:
    """A Zhejiang call with only what the procedure cannot give, plus ``fields``."""
    today = beijing.today()
    data: dict[str, Any] = {"title": "2016年浙江省软件和信息服务产业基地申报", "document_id": "zhejiang-software-bases",
                            "provisions": ["七.1"], "period": 2016, "as_of": "2016-06-30", "opens_on": today.isoformat(),
                            "closes_on": (today + dt.timedelta(days=30)).isoformat(), "budget": "1.1亿元",
                            "criteria": CRITERIA}  # fmt: skip
    return CallSpec.model_validate(data | fields)


def opened(db: Database, policy: PolicyEngine, spec: CallSpec) -> Call:
    with db.transaction() as session:
        call_id = open_call(session, spec=spec, actor=OFFICIAL, policy=policy).id
    with db.sessions() as session:
        call = session.get(Call, call_id)
        assert call is not None
        session.expunge(call)
        return call


def test_fields_left_out_are_taken_from_the_stated_procedure(db: Database, policy: PolicyEngine) -> None:
    call = opened(db, policy, zhejiang())
    assert call.review_mode == "competitive"
    assert call.quota == 14  # 示范基地4个、特色基地5个、创业基地5个 (2016)
    assert (call.publicity_days, call.publicity_day_kind) == (7, "calendar")  # the reading's default
    assert call.report_due == ["06-30", "12-31"]
    assert call.materials == ["建设可行性实施方案", "项目情况表", "可行性报告"]
    assert call.payer == "浙江省财政（工业与信息化专项资金）"
    # the deadline stated for 2016 (2015-12-31) is no deviation to report: the official gave closes_on, and it
    # differs, so it is recorded — the only deviation
    assert [d["field"] for d in call.deviations] == ["closes_on"]
    assert call.procedure is not None and call.procedure["id"] == "bases"
    assert call.procedure["funding"]["exceptions"][0]["region"] == "宁波市"


def test_the_reading_decides_working_days(db: Database, policy: PolicyEngine) -> None:
    call = opened(db, policy, zhejiang(readings={"publicity_days": "working"}))
    assert (call.publicity_days, call.publicity_day_kind) == (7, "working")
    assert "publicity_day_kind" not in [d["field"] for d in call.deviations]


def test_every_change_from_the_procedure_is_recorded_in_the_call_and_its_audit_event(
    db: Database, policy: PolicyEngine
) -> None:
    call = opened(db, policy, zhejiang(quota=4, publicity_days=5, publicity_day_kind="working", review_mode="competitive",
                                       payer="浙江省财政"))  # fmt: skip
    by_field = {d["field"]: d for d in call.deviations}
    assert set(by_field) == {"quota", "publicity_days", "publicity_day_kind", "payer", "closes_on"}
    assert by_field["quota"]["stated"] == 14 and by_field["quota"]["chosen"] == 4
    assert by_field["quota"]["quote"] == "示范基地4个；特色基地5个；创业基地5个"
    assert by_field["publicity_days"] == {
        "field": "publicity_days", "label": "公示天数", "stated": 7, "stated_text": "7天", "chosen": 5,
        "provision": "六.4", "quote": "在省经信委网站进行公示，公示时间为7天",
    }  # fmt: skip
    assert call.quota == 4 and call.publicity_days == 5  # the official's choice stands
    with db.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "call.open",
                                                         AuditEvent.object_id == str(call.id)))  # fmt: skip
        assert event is not None
        after = json.loads(event.after)
    assert {d["field"] for d in after["deviations"]} == set(by_field)


def test_a_year_without_a_stated_quota_leaves_the_quota_to_the_official(db: Database, policy: PolicyEngine) -> None:
    with pytest.raises(InvalidInput) as refused:
        opened(db, policy, zhejiang(period=2017))
    assert refused.value.where == "quota" and "名额" in refused.value.message
    call = opened(db, policy, zhejiang(period=2017, quota=6))
    assert call.quota == 6 and "quota" not in [d["field"] for d in call.deviations]  # nothing stated, nothing deviates


def test_competitive_review_from_the_procedure_still_needs_criteria(db: Database, policy: PolicyEngine) -> None:
    with pytest.raises(InvalidInput) as refused:
        opened(db, policy, zhejiang(criteria=[]))
    assert refused.value.where == "criteria"


def test_a_document_without_a_procedure_is_opened_as_before(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy)
    with db.sessions() as session:
        call = session.get_one(Call, call_id)
        assert call.procedure is None and call.deviations == [] and call.review_mode == "formal"
    assert stated_procedure(policy, "suzhou-software-cluster", ["3"], period=2023, readings={}) == (None, {})


def test_the_api_accepts_a_call_with_the_procedure_fields_left_out(db: Database, policy: PolicyEngine) -> None:
    from starlette.testclient import TestClient

    from platform_fixtures import add_user, make_app

    token = add_user(db, "procedure-official", "official")
    with TestClient(make_app(db)) as client:
        body = zhejiang().model_dump(mode="json", exclude_unset=True)
        answer = client.post("/api/v1/calls", json=body, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 201, answer.text
        made = answer.json()
    assert made["review_mode"] == "competitive" and made["quota"] == 14 and made["report_due"] == ["06-30", "12-31"]
    assert [d["field"] for d in made["deviations"]] == ["closes_on"] and made["procedure"]["id"] == "bases"
