"""The demo the README's service starts with: its accounts log in and its calls take applications."""

from __future__ import annotations

from huiqi.store.db import Database
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
