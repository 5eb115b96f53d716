"""Every role against every resource: allowed, refused (403), or not even visible (404)."""

from __future__ import annotations

from typing import Any

from huiqi.store.db import Database
from huiqi.store.models import Application, Call
from huiqi.workflow.awards import approve
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.proposals import make_proposed_list
from huiqi.workflow.review import add_expert
from platform_fixtures import OFFICIAL, TestClient, add_call, add_firm, add_user, make_app, submit_application

ROLES = ("owner", "other_applicant", "expert", "official", "finance", "administrator")
#: officials last: their successful changes must not mask the refusals of the others
ORDER = ("owner", "other_applicant", "expert", "finance", "administrator", "official")


def _world(db: Database, policy: PolicyEngine) -> dict[str, Any]:
    call_id = add_call(db, policy)
    mine, other = add_firm(db, policy, 1), add_firm(db, policy, 2)
    application_id = submit_application(db, policy, call_id, mine)
    with db.transaction() as session:
        expert_id = add_expert(session, name="专家", fields=[], employer="大学", interests=[], actor=OFFICIAL).id
    tokens = {
        "owner": add_user(db, "owner", "applicant", entity_id=mine),
        "other_applicant": add_user(db, "other", "applicant", entity_id=other),
        "expert": add_user(db, "expert", "expert", expert_id=expert_id),
        "official": add_user(db, "official", "official"),
        "finance": add_user(db, "finance", "finance"),
        "administrator": add_user(db, "administrator1", "administrator"),
    }
    return {"call": call_id, "mine": mine, "other": other, "application": application_id, "tokens": tokens}


# (method, path, body, expected status per role in ROLES order)
def _matrix(w: dict[str, Any]) -> list[tuple[str, str, Any, tuple[int, ...]]]:
    a, c, e = w["application"], w["call"], w["mine"]
    return [
        ("GET", f"/api/v1/applications/{a}", None, (200, 404, 404, 200, 200, 200)),
        ("GET", f"/api/v1/applications/{a}/frozen", None, (200, 404, 404, 200, 200, 200)),
        ("GET", f"/api/v1/applications/{a}/replay", None, (200, 404, 404, 200, 200, 200)),
        ("GET", f"/api/v1/applications/{a}/materials", None, (200, 404, 404, 200, 200, 200)),
        ("GET", f"/api/v1/entities/{e}", None, (200, 404, 404, 200, 200, 200)),
        ("GET", f"/api/v1/entities/{e}/facts", None, (200, 404, 403, 200, 200, 200)),
        ("POST", f"/api/v1/entities/{e}/evaluate", None, (200, 404, 404, 200, 200, 200)),
        ("GET", "/api/v1/calls", None, (200, 200, 200, 200, 200, 200)),
        ("GET", "/api/v1/policies", None, (200, 200, 200, 200, 200, 200)),
        ("GET", "/api/v1/awards", None, (200, 200, 403, 200, 200, 200)),
        ("GET", "/api/v1/payments", None, (200, 200, 403, 200, 200, 200)),
        ("GET", "/api/v1/reports", None, (200, 200, 403, 200, 200, 200)),
        ("GET", "/api/v1/experts", None, (403, 403, 403, 200, 403, 200)),
        ("GET", "/api/v1/assignments", None, (403, 403, 200, 200, 403, 200)),
        ("GET", "/api/v1/users", None, (403, 403, 403, 403, 403, 200)),
        ("GET", "/api/v1/audit/events", None, (403, 403, 403, 200, 403, 200)),
        ("GET", "/api/v1/audit/verify", None, (403, 403, 403, 403, 403, 200)),
        ("POST", "/api/v1/entities", {"entity_type": "institution", "name": "某大学", "uscc": "12100000400000624D"},
         (403, 403, 403, 409, 403, 201)),
        ("POST", "/api/v1/experts", {"name": "新专家", "employer": "某院"}, (403, 403, 403, 201, 403, 201)),
        ("POST", "/api/v1/calls", {"title": "x", "document_id": "suzhou-software-cluster", "provisions": ["3"],
                                   "period": 2023, "opens_on": "2024-01-01", "closes_on": "2030-01-01",
                                   "budget": "100万元"}, (403, 403, 403, 201, 403, 201)),
        ("POST", f"/api/v1/applications/{a}/reject", {"reason": "x"}, (403, 404, 404, 200, 403, 403)),
        ("POST", f"/api/v1/calls/{c}/close", None, (403, 403, 403, 200, 403, 403)),
    ]  # fmt: skip


def test_each_role_gets_exactly_what_it_may_on_each_resource(db: Database, policy: PolicyEngine) -> None:
    w = _world(db, policy)
    client = TestClient(make_app(db))
    wrong = []
    for method, path, body, expected in _matrix(w):
        for role in ORDER:
            status = expected[ROLES.index(role)]
            headers = {"Authorization": f"Bearer {w['tokens'][role]}"}
            response = client.request(method, path, json=body, headers=headers)
            if response.status_code != status:
                wrong.append(
                    f"{role} {method} {path}: {response.status_code} (expected {status}) {response.text[:120]}"
                )
            elif status >= 400:
                assert set(response.json()) == {"code", "message", "field"}
    assert wrong == []


def test_lists_are_filtered_to_what_the_user_may_see(db: Database, policy: PolicyEngine) -> None:
    w = _world(db, policy)
    other_application = submit_application(db, policy, w["call"], w["other"])
    client = TestClient(make_app(db))

    def ids(role: str, path: str) -> list[int]:
        response = client.get(path, headers={"Authorization": f"Bearer {w['tokens'][role]}"})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids("owner", "/api/v1/applications") == [w["application"]]
    assert ids("other_applicant", "/api/v1/applications") == [other_application]
    assert ids("expert", "/api/v1/applications") == []
    assert ids("official", "/api/v1/applications") == [w["application"], other_application]
    assert ids("owner", "/api/v1/entities") == [w["mine"]]
    with db.transaction() as session:
        from huiqi.workflow.applications import pass_check

        for application_id in (w["application"], other_application):
            pass_check(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
        make_proposed_list(session, call=session.get_one(Call, w["call"]), actor=OFFICIAL)
        approve(session, application=session.get_one(Application, w["application"]), actor=OFFICIAL)
        approve(session, application=session.get_one(Application, other_application), actor=OFFICIAL)
    owner_awards = client.get("/api/v1/awards", headers={"Authorization": f"Bearer {w['tokens']['owner']}"}).json()
    assert [a["entity_id"] for a in owner_awards["items"]] == [w["mine"]]
    page = client.get("/api/v1/awards?limit=1&offset=1", headers={"Authorization": f"Bearer {w['tokens']['finance']}"})
    assert page.json()["total"] == 2 and len(page.json()["items"]) == 1 and page.json()["offset"] == 1


def test_no_token_or_a_bad_token_is_401_with_a_chinese_message(db: Database) -> None:
    client = TestClient(make_app(db))
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        response = client.get("/api/v1/calls", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated" and "登录" in response.json()["message"]
