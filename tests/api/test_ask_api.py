"""POST /api/v1/questions: the calculator's next question without sign-in, errors at the answer's key."""

from __future__ import annotations

from typing import Any

import pytest

from huiqi.store.db import Database
from platform_fixtures import TestClient, make_app, sqlite_database


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    database: Database = sqlite_database(tmp_path_factory.mktemp("ask"))
    yield TestClient(make_app(database))
    database.dispose()


BODY = {"entity_type": "enterprise", "region": ["江苏省", "苏州市"], "as_of": "2024-06-30", "include_drafts": True}


def test_questions_need_no_sign_in_and_name_the_next_fact(client: Any) -> None:
    response = client.post("/api/v1/questions", json=BODY)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["schema"] == "huiqi.questions/1" and data["done"] is False
    assert data["next"]["key"] == "registered_city"
    assert data["next"]["why"].startswith("决定：")
    assert data["evaluation"]["schema"].startswith("huiqi.evaluation/")


def test_answers_move_the_session_until_nothing_can_change(client: Any) -> None:
    answers: dict[str, Any] = {}
    truth = {"registered_city": "苏州市", "main_business_software": "否", "in_miit_software_statistics": "否"}
    for _ in range(40):
        data = client.post("/api/v1/questions", json={**BODY, "answers": answers}).json()
        if data["done"]:
            break
        key = data["next"]["key"]
        answers[key] = truth.get(key, "不清楚")
    else:
        raise AssertionError("the session did not end")
    assert data["next"] is None and data["open"] == []
    statuses = {
        r["ref"]: r["status"] for d in data["evaluation"]["documents"] for p in d["provisions"] for r in p["rules"]
    }
    assert statuses["suzhou-software-cluster:1/capital"] == "not_eligible"
    # what was answered 不清楚 stays needs-information, not 0
    assert statuses["suzhou-software-cluster:10/first-conformance"] == "needs_information"
    assert answers["first_round_xinchuang_conformance_user"] == "不清楚"


def test_a_bad_answer_is_refused_at_its_key_in_chinese(client: Any) -> None:
    response = client.post("/api/v1/questions", json={**BODY, "answers": {"paid_in_capital": "三千万"}})
    assert response.status_code == 422
    error = response.json()
    assert error["field"] == "answers.paid_in_capital"
    assert "无法识别的金额" in error["message"]
    unknown = client.post("/api/v1/questions", json={**BODY, "answers": {"revenu@2023": "1亿元"}}).json()
    assert unknown["field"] == "answers.revenu@2023" and "未知的事实" in unknown["message"]
