"""Expert review, 公示 with objections, and 免申即享 through the API, with the roles that own each step."""

from __future__ import annotations

from huiqi.store.db import Database
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.review import add_expert
from platform_fixtures import OFFICIAL, TestClient, add_call, add_firm, add_user, make_app, make_id_number

CRITERIA = [{"key": "scale", "label": "产业规模", "max": 60}, {"key": "plan", "label": "方案", "max": 40}]


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_review_ranking_publicity_and_objection_over_http(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, review_mode="competitive", quota=1, criteria=CRITERIA, experts_per_application=3,
                       publicity_days=7)  # fmt: skip
    firms = [add_firm(db, policy, n) for n in (1, 2)]
    applicants = [add_user(db, f"firm{n}", "applicant", entity_id=f) for n, f in enumerate(firms)]
    official = add_user(db, "official", "official")
    experts = []
    with db.transaction() as session:
        for n in range(3):
            experts.append(add_expert(session, name=f"专家{n}", fields=["软件"], employer=f"大学{n}", interests=[],
                                      actor=OFFICIAL).id)  # fmt: skip
    expert_tokens = {e: add_user(db, f"expert{e}", "expert", expert_id=e) for e in experts}
    client = TestClient(make_app(db))
    ids = []
    for token in applicants:
        draft = client.post("/api/v1/applications", headers=_h(token), json={"call_id": call_id}).json()
        assert client.post(f"/api/v1/applications/{draft['id']}/submit", headers=_h(token),
                           json={"pledge": True}).status_code == 200  # fmt: skip
        assert client.post(f"/api/v1/applications/{draft['id']}/pass-check", headers=_h(official)).status_code == 200
        drawn = client.post(f"/api/v1/applications/{draft['id']}/draw", headers=_h(official), json={"seed": "s1"})
        assert drawn.status_code == 201 and {a["expert_id"] for a in drawn.json()} == set(experts)
        ids.append(draft["id"])
    for expert_id, token in expert_tokens.items():
        mine = client.get("/api/v1/assignments", headers=_h(token)).json()["items"]
        assert {a["expert_id"] for a in mine} == {expert_id} and len(mine) == 2
        assert len(client.get("/api/v1/applications", headers=_h(token)).json()["items"]) == 2
        for assignment in mine:
            marks = {"scale": 50, "plan": 30} if assignment["application_id"] == ids[1] else {"scale": 40, "plan": 30}
            scored = client.post(f"/api/v1/assignments/{assignment['id']}/score", headers=_h(token),
                                 json={"scores": marks, "comment": "同意"})  # fmt: skip
            assert scored.status_code == 200, scored.text
    listed = client.post(f"/api/v1/calls/{call_id}/proposed-list", headers=_h(official)).json()
    assert listed["proposed"] == [ids[1]] and listed["declined"] == [ids[0]]
    publicity = client.post(f"/api/v1/calls/{call_id}/publicity", headers=_h(official), json={"channel": "网站"})
    assert publicity.status_code == 201
    too_early = client.post(f"/api/v1/applications/{ids[1]}/approve", headers=_h(official))
    assert too_early.status_code == 409 and "公示期满" in too_early.json()["message"]
    objection = client.post(f"/api/v1/applications/{ids[1]}/objections", headers=_h(applicants[0]), json={
        "name": "王五", "id_number": make_id_number(3), "contact": "13800000000", "content": "营收不实",
        "evidence": "年报"})  # fmt: skip
    assert objection.status_code == 201, objection.text
    resolved = client.post(f"/api/v1/objections/{objection.json()['id']}/resolve", headers=_h(official),
                           json={"outcome": "upheld", "resolution": "经核查属实"})  # fmt: skip
    assert resolved.status_code == 200 and resolved.json()["outcome"] == "upheld"
    final = client.get(f"/api/v1/applications/{ids[1]}", headers=_h(applicants[1])).json()
    assert final["state"] == "rejected" and "异议成立" in final["reason"] and final["score"] == "80/1"


def test_a_batch_without_applications_over_http(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, review_mode="none", budget="400万元", oversubscription="pro_rata")
    firms = [add_firm(db, policy, n) for n in (1, 2, 3)]
    official, finance = add_user(db, "official", "official"), add_user(db, "finance", "finance")
    client = TestClient(make_app(db))
    batch = client.post(f"/api/v1/calls/{call_id}/batches", headers=_h(official))
    assert batch.status_code == 201 and [i["entity_id"] for i in batch.json()["items"]] == firms
    assert client.post(f"/api/v1/batches/{batch.json()['id']}/award", headers=_h(official)).status_code == 409
    assert client.post(f"/api/v1/batches/{batch.json()['id']}/publish", headers=_h(finance)).status_code == 403
    assert client.post(f"/api/v1/batches/{batch.json()['id']}/publish", headers=_h(official)).status_code == 200
    awarded = client.post(f"/api/v1/batches/{batch.json()['id']}/award", headers=_h(official)).json()
    assert awarded == {"awarded": "4000000.00", "items": 3}
    amounts = [a["amount"] for a in client.get("/api/v1/awards", headers=_h(finance)).json()["items"]]
    assert amounts == ["1333333.34", "1333333.33", "1333333.33"]


def test_an_expert_declines_over_http_and_a_replacement_is_drawn(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, review_mode="competitive", quota=1, criteria=CRITERIA, experts_per_application=2,
                       publicity_days=7)  # fmt: skip
    firm = add_firm(db, policy, 1)
    applicant = add_user(db, "firm1", "applicant", entity_id=firm)
    official = add_user(db, "official", "official")
    with db.transaction() as session:
        experts = [add_expert(session, name=f"专家{n}", fields=["软件"], employer=f"大学{n}", interests=[],
                              actor=OFFICIAL).id for n in range(3)]  # fmt: skip
    tokens = {e: add_user(db, f"expert{e}", "expert", expert_id=e) for e in experts}
    client = TestClient(make_app(db))
    draft = client.post("/api/v1/applications", headers=_h(applicant), json={"call_id": call_id}).json()
    assert client.post(f"/api/v1/applications/{draft['id']}/submit", headers=_h(applicant),
                       json={"pledge": True}).status_code == 200  # fmt: skip
    assert client.post(f"/api/v1/applications/{draft['id']}/pass-check", headers=_h(official)).status_code == 200
    drawn = client.post(f"/api/v1/applications/{draft['id']}/draw", headers=_h(official), json={"seed": "s1"}).json()
    first = drawn[0]
    token = tokens[first["expert_id"]]
    other = next(t for e, t in tokens.items() if e == drawn[1]["expert_id"])
    refused = client.post(f"/api/v1/assignments/{first['id']}/decline", headers=_h(other), json={"reason": "亲属"})
    assert refused.status_code == 404  # another expert's sheet does not exist for it
    empty = client.post(f"/api/v1/assignments/{first['id']}/decline", headers=_h(token), json={"reason": "  "})
    assert empty.status_code == 422 and "回避理由" in empty.json()["message"]
    declined = client.post(f"/api/v1/assignments/{first['id']}/decline", headers=_h(token),
                           json={"reason": "曾在申报单位任职"})  # fmt: skip
    assert declined.status_code == 200, declined.text
    body = declined.json()
    assert body["declined"]["declined_at"] and body["declined"]["decline_reason"] == "曾在申报单位任职"
    spare = ({*experts} - {a["expert_id"] for a in drawn}).pop()
    assert body["replacement"]["expert_id"] == spare
    again = client.post(f"/api/v1/assignments/{first['id']}/score", headers=_h(token),
                        json={"scores": {"scale": 50, "plan": 30}})  # fmt: skip
    assert again.status_code == 409
