"""Workflow integrity over HTTP: separation of duties in a call's configuration, input limits, and who may
see the person behind a 公示 objection."""

from __future__ import annotations

import json
from typing import Any

import pytest

from huiqi import beijing
from huiqi.store.db import Database
from huiqi.store.models import Call
from huiqi.workflow.holidays import HolidayCalendar
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.publicity import start_publicity
from huiqi.workflow.review import add_expert
from platform_fixtures import OFFICIAL, TestClient, add_call, add_firm, add_user, make_app, make_id_number, propose_all

CALL: dict[str, Any] = {
    "title": "苏州软件规模奖励", "document_id": "suzhou-software-cluster", "provisions": ["3"], "period": 2023,
    "as_of": "2024-06-30", "opens_on": "2024-01-01", "closes_on": "2099-12-31", "budget": "1000万元",
    "review_mode": "formal", "publicity_days": 0,
}  # fmt: skip


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_who_approves_or_pays_is_changed_only_by_an_administrator_within_separation_of_duties(db: Database) -> None:
    official, admin = add_user(db, "official", "official"), add_user(db, "administrator1", "administrator")
    client = TestClient(make_app(db))
    self_approval = {**CALL, "transition_roles": {"approve": "applicant"}}
    refused = client.post("/api/v1/calls", headers=_auth(official), json=self_approval)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert refused.json()["field"] == "transition_roles" and "系统管理员" in refused.json()["message"]
    for roles, words in (({"approve": "applicant"}, "不能交给申报主体"), ({"approve": "finance"}, "批准与拨付"),
                         ({"pay": "official"}, "只能由财政"), ({"propose": "expert"}, "评审专家"),
                         ({"submit": "official"}, "申报主体本人")):  # fmt: skip
        invalid = client.post("/api/v1/calls", headers=_auth(admin), json={**CALL, "transition_roles": roles})
        assert invalid.status_code == 422, invalid.text
        [step] = roles
        assert invalid.json()["field"] == f"transition_roles.{step}"
        assert "职责分离" in invalid.json()["message"] and words in invalid.json()["message"]
    assert client.post("/api/v1/calls", headers=_auth(official), json=CALL).status_code == 201
    overridden = client.post("/api/v1/calls", headers=_auth(admin),
                             json={**CALL, "transition_roles": {"approve": "administrator"}})  # fmt: skip
    assert overridden.status_code == 201, overridden.text
    lifecycle = client.get(f"/api/v1/calls/{overridden.json()['id']}/lifecycle", headers=_auth(official)).json()
    assert {row["transition"]: row["role"] for row in lifecycle}["approve"] == "系统管理员"
    events = client.get("/api/v1/audit/events?action=call.transition_roles", headers=_auth(admin)).json()["items"]
    assert [(e["actor"], e["object_id"]) for e in events] == [("administrator1", str(overridden.json()["id"]))]
    before, after = json.loads(events[0]["before"]), json.loads(events[0]["after"])
    assert (before["roles"]["approve"], after["roles"]["approve"]) == ("official", "administrator")


@pytest.mark.parametrize(("due", "words"), [("02-30", "2月没有30日"), ("04-31", "4月没有31日"), ("02-29", "03-01")])
def test_a_report_due_date_that_does_not_exist_is_refused(db: Database, due: str, words: str) -> None:
    official = add_user(db, "official", "official")
    client = TestClient(make_app(db))
    response = client.post("/api/v1/calls", headers=_auth(official),
                           json={**CALL, "report_due": [due], "report_years": 1})  # fmt: skip
    assert response.status_code == 422 and response.json()["field"] == "report_due"
    assert words in response.json()["message"]


@pytest.mark.parametrize(
    ("value", "words"),
    [("苏" * 2001, "过长"), (["CMMI3"] * 201, "列表过长"), ([("x" * 1999)] * 10, "16KiB"), (10**16, "过大")],
)
def test_fact_values_over_the_limits_are_refused_in_chinese(
    db: Database, policy: PolicyEngine, value: Any, words: str
) -> None:
    firm = add_firm(db, policy, 1)
    official = add_user(db, "official", "official")
    client = TestClient(make_app(db))
    response = client.post(f"/api/v1/entities/{firm}/facts", headers=_auth(official),
                           json={"key": "registered_city", "value": value})  # fmt: skip
    assert response.status_code == 422 and response.json()["field"] == "value", response.text
    assert words in response.json()["message"]


def test_a_quarter_on_a_fact_that_is_not_quarterly_is_refused_in_chinese(db: Database, policy: PolicyEngine) -> None:
    firm = add_firm(db, policy, 1)
    official = add_user(db, "official", "official")
    client = TestClient(make_app(db))
    response = client.post(f"/api/v1/entities/{firm}/facts", headers=_auth(official),
                           json={"key": "registered_city", "value": "苏州市", "quarter": 2})  # fmt: skip
    assert response.status_code == 422 and response.json()["field"] == "quarter", response.text
    assert "不按季度填写，请不要填写季度" in response.json()["message"]
    response = client.post(f"/api/v1/entities/{firm}/facts", headers=_auth(official),
                           json={"key": "registered_city", "value": "苏州市", "quarter": 5})  # fmt: skip
    assert response.status_code == 422, response.text


def test_an_all_zero_uscc_is_refused(db: Database) -> None:
    official = add_user(db, "official", "official")
    client = TestClient(make_app(db))
    response = client.post("/api/v1/entities", headers=_auth(official),
                           json={"entity_type": "enterprise", "name": "某公司", "uscc": "0" * 18})  # fmt: skip
    assert response.status_code == 422 and response.json()["field"] == "uscc" and "全为0" in response.json()["message"]


def test_only_those_who_handle_an_objection_and_the_objector_see_who_filed_it(
    db: Database, policy: PolicyEngine
) -> None:
    call_id = add_call(db, policy, publicity_days=7)
    owner_firm, objector_firm, third_firm = (add_firm(db, policy, n) for n in (1, 2, 3))
    [application_id] = propose_all(db, policy, call_id, [owner_firm])
    with db.transaction() as session:
        start_publicity(session, call=session.get_one(Call, call_id), actor=OFFICIAL, starts_on=beijing.today(),
                        calendar=HolidayCalendar.packaged())  # fmt: skip
        expert_id = add_expert(session, name="专家", fields=[], employer="大学", interests=[], actor=OFFICIAL).id
    tokens = {
        "official": add_user(db, "official", "official"),
        "administrator": add_user(db, "administrator1", "administrator"),
        "owner": add_user(db, "owner", "applicant", entity_id=owner_firm),
        "objector": add_user(db, "objector", "applicant", entity_id=objector_firm),
        "bystander": add_user(db, "bystander", "applicant", entity_id=third_firm),
        "expert": add_user(db, "expert", "expert", expert_id=expert_id),
        "finance": add_user(db, "finance", "finance"),
    }
    client = TestClient(make_app(db))
    url = f"/api/v1/applications/{application_id}/objections"
    id_number = make_id_number(8)
    filed = client.post(url, headers=_auth(tokens["objector"]), json={
        "name": "王小五", "id_number": id_number, "contact": "13800000000", "content": "营业收入不实",
        "evidence": "年报截图"})  # fmt: skip
    assert filed.status_code == 201, filed.text
    assert filed.json()["objector_name"] == "王小五" and filed.json()["objector_id_number"] == id_number

    def read(role: str) -> Any:
        return client.get(url, headers=_auth(tokens[role]))

    for role in ("official", "administrator", "objector"):
        [seen] = read(role).json()
        assert (seen["objector_name"], seen["objector_id_number"], seen["contact"], seen["identity_masked"]) == (
            "王小五",
            id_number,
            "13800000000",
            False,
        ), role
    owner = read("owner")
    [masked] = owner.json()
    assert (masked["objector_name"], masked["objector_id_number"], masked["contact"], masked["identity_masked"]) == (
        "王**",
        None,
        None,
        True,
    )
    assert masked["content"] == "营业收入不实" and masked["outcome"] is None
    assert id_number not in owner.text and "王小五" not in owner.text and "13800000000" not in owner.text
    assert read("bystander").status_code == 404
    assert read("expert").status_code == 403 and read("finance").status_code == 403
    resolved = client.post(f"/api/v1/objections/{masked['id']}/resolve", headers=_auth(tokens["official"]),
                           json={"outcome": "dismissed", "resolution": "经核查，营业收入属实"})  # fmt: skip
    assert resolved.status_code == 200 and resolved.json()["objector_id_number"] == id_number
    [outcome] = read("owner").json()
    assert (outcome["outcome"], outcome["resolution"], outcome["objector_name"]) == (
        "dismissed",
        "经核查，营业收入属实",
        "王**",
    )
    [own] = read("objector").json()
    assert own["outcome"] == "dismissed" and own["objector_name"] == "王小五"
