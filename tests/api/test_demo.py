"""The demo the README's service starts with: its accounts log in and its calls take applications."""

from __future__ import annotations

import datetime as dt

from huiqi.store.db import Database
from huiqi.workflow.audit import verify as verify_chain
from huiqi.workflow.demo import DEMO_PASSWORD
from platform_fixtures import TestClient, make_app


def test_the_demo_accounts_can_apply_to_both_demo_calls(db: Database) -> None:
    client = TestClient(make_app(db, demo_data=True))

    def login(name: str) -> dict[str, str]:
        body = client.post("/api/v1/auth/login", json={"username": name, "password": DEMO_PASSWORD}).json()
        return {"Authorization": f"Bearer {body['access_token']}"}

    official = login("official")
    calls = client.get("/api/v1/calls", headers=official).json()["items"]
    by_document = {c["document_id"]: c["id"] for c in calls}
    assert set(by_document) == {"suzhou-software-cluster", "zhejiang-software-bases"}
    county = login("county")
    draft = client.post(
        "/api/v1/applications", headers=county, json={"call_id": by_document["zhejiang-software-bases"]}
    )
    submitted = client.post(f"/api/v1/applications/{draft.json()['id']}/submit", headers=county, json={"pledge": True})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["requested"] == "10000000.00"  # 示范基地一次性支持资金1000万元
    lifecycle = client.get(f"/api/v1/calls/{by_document['zhejiang-software-bases']}/lifecycle", headers=official)
    assert {row["transition"] for row in lifecycle.json()} >= {"start_review", "start_publicity", "approve"}
    firm = login("suzhou-b")
    evaluation = client.post(f"/api/v1/entities/{client.get('/api/v1/auth/me', headers=firm).json()['entity_id']}"
                             "/evaluate?document=suzhou-software-cluster&as_of=2024-06-30&period=2023", headers=firm)  # fmt: skip
    assert evaluation.status_code == 200 and evaluation.json()["schema"] == "huiqi.evaluation/2"


def test_the_demo_has_a_list_in_publicity_made_by_the_workflow(db: Database) -> None:
    """A newcomer's 公示 page is not empty: the demo's earlier Suzhou call went through submission, formal
    check and the proposed list, and its 公示 runs today."""
    client = TestClient(make_app(db, demo_data=True))
    lists = client.get("/api/v1/publicity").json()
    assert len(lists) == 1
    (current,) = lists
    assert current["document"] == "suzhou-software-cluster" and current["day_kind"] == "working"
    assert current["starts_on"] <= dt.date.today().isoformat() <= current["ends_on"]
    names = [row["name"] for row in current["rows"]]
    assert names == ["苏州示例工业软件有限公司", "苏州示例信创软件有限公司"]
    # 营业收入首次达到1亿元 (200万元) and, for the firm already past 1亿元, 进档补差 to the 5亿元 tier (500 − 200)
    assert [row["amount"] for row in current["rows"]] == ["2000000.00", "3000000.00"]
    page = client.get("/publicity")
    assert page.status_code == 200 and "苏州示例信创软件有限公司" in page.text and "300万元" in page.text
    with db.transaction() as session:
        assert verify_chain(session).ok
