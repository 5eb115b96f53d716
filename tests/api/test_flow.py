"""The whole procedure over HTTP, uploads checked, errors shaped, the calculator equal to the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from huiqi.api.config import Settings
from huiqi.cli import app as cli
from huiqi.errors import HuiqiError
from huiqi.store.db import Database
from huiqi.workflow.policy import PolicyEngine
from platform_fixtures import TestClient, add_firm, add_user, make_app

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "profiles" / "suzhou-software-firm.yaml"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_call_runs_from_draft_to_payment_over_http(db: Database, policy: PolicyEngine) -> None:
    firm = add_firm(db, policy, 1)
    official, finance = add_user(db, "official", "official"), add_user(db, "finance", "finance")
    applicant = add_user(db, "firm", "applicant", entity_id=firm)
    client = TestClient(make_app(db))
    call = client.post("/api/v1/calls", headers=_auth(official), json={
        "title": "苏州软件规模奖励", "document_id": "suzhou-software-cluster", "provisions": ["3"], "period": 2023,
        "as_of": "2024-06-30", "opens_on": "2024-01-01", "closes_on": "2099-12-31", "budget": "1000万元",
        "materials": ["营业收入审计报告"], "review_mode": "formal", "publicity_days": 0, "instalments": [60, 40]})  # fmt: skip
    assert call.status_code == 201, call.text
    call_id = call.json()["id"]
    draft = client.post("/api/v1/applications", headers=_auth(applicant), json={"call_id": call_id}).json()
    url = f"/api/v1/applications/{draft['id']}"
    refused = client.post(f"{url}/submit", headers=_auth(applicant), json={"pledge": True})
    assert refused.status_code == 422 and refused.json()["field"] == "materials"
    upload = client.post(f"{url}/materials", headers=_auth(applicant), data={"name": "营业收入审计报告"},
                         files={"file": ("审计报告.pdf", PDF, "application/pdf")})  # fmt: skip
    assert upload.status_code == 201, upload.text
    submitted = client.post(f"{url}/submit", headers=_auth(applicant), json={"pledge": True}).json()
    assert submitted["state"] == "submitted" and submitted["requested"] == "2000000.00"
    frozen = client.get(f"{url}/frozen", headers=_auth(applicant)).json()
    assert frozen["evaluation"]["schema"] == "huiqi.evaluation/2" and len(frozen["policy_version"]) == 64
    illegal = client.post(f"{url}/approve", headers=_auth(official))
    assert illegal.status_code == 409 and illegal.json()["code"] == "illegal_transition"
    assert "已提交" in illegal.json()["message"]
    assert client.post(f"{url}/pass-check", headers=_auth(official)).json()["state"] == "checked"
    listed = client.post(f"/api/v1/calls/{call_id}/proposed-list", headers=_auth(official)).json()
    assert listed["proposed"] == [draft["id"]]
    approved = client.post(f"{url}/approve", headers=_auth(official)).json()
    assert approved["state"] == "approved" and approved["approved"] == "2000000.00"
    assert client.get(f"/api/v1/calls/{call_id}", headers=_auth(official)).json()["reserved"] == "2000000.00"
    payments = client.get(f"/api/v1/payments?application_id={draft['id']}", headers=_auth(finance)).json()["items"]
    assert [p["amount"] for p in payments] == ["1200000.00", "800000.00"]
    for payment in payments:
        paid = client.post(f"/api/v1/payments/{payment['id']}/pay", headers=_auth(finance), json={"reference": "PZ"})
        assert paid.status_code == 200, paid.text
    again = client.post(f"/api/v1/payments/{payments[0]['id']}/pay", headers=_auth(finance), json={"reference": "PZ"})
    assert again.status_code == 409
    assert client.get(url, headers=_auth(applicant)).json()["state"] == "paid"
    awards = client.get("/api/v1/awards", headers=_auth(applicant)).json()["items"]
    assert [(a["rule_ref"], a["amount"], a["paid"]) for a in awards] == [
        ("suzhou-software-cluster:3/revenue-milestone", "2000000.00", "2000000.00")
    ]
    admin = client.post("/api/v1/auth/login", json={"username": "admin", "password": "password-123"}).json()
    verdict = client.get("/api/v1/audit/verify", headers=_auth(admin["access_token"])).json()
    assert verdict["ok"] and verdict["events"] > 10


@pytest.mark.parametrize(
    ("filename", "content_type", "content", "field", "words"),
    [
        ("a.pdf", "application/pdf", b"", "file", "为空"),
        ("a.exe", "application/x-msdownload", b"MZ\x90\x00", "file.content_type", "不接受"),
        ("a.pdf", "application/pdf", b"\x89PNG\r\n\x1a\n....", "file", "文件头"),
        ("a.png", "application/pdf", PDF, "file.filename", "扩展名"),
        (".hidden.pdf", "application/pdf", PDF, "file.filename", "文件名"),
        ("a.pdf", "application/pdf", b"%PDF-" + b"0" * (1024 * 1024), "file", "上限"),
    ],
)
def test_malformed_uploads_are_refused_and_nothing_is_stored(
    db: Database, policy: PolicyEngine, filename: str, content_type: str, content: bytes, field: str, words: str
) -> None:
    from platform_fixtures import add_call

    firm = add_firm(db, policy, 1)
    applicant = add_user(db, "firm", "applicant", entity_id=firm)
    call_id = add_call(db, policy, materials=["营业收入审计报告"])
    client = TestClient(make_app(db, max_upload_mb=1))
    draft = client.post("/api/v1/applications", headers=_auth(applicant), json={"call_id": call_id}).json()
    url = f"/api/v1/applications/{draft['id']}/materials"
    response = client.post(url, headers=_auth(applicant), data={"name": "营业收入审计报告"},
                           files={"file": (filename, content, content_type)})  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field and words in response.json()["message"]
    assert client.get(url, headers=_auth(applicant)).json() == []


def test_validation_errors_name_the_field_and_unknown_paths_are_json(db: Database) -> None:
    client = TestClient(make_app(db))
    token = add_user(db, "official", "official")
    bad = client.post("/api/v1/calls", headers=_auth(token), json={"title": "x"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input" and bad.json()["field"]
    missing = client.get("/api/v1/nowhere", headers=_auth(token))
    assert missing.status_code == 404 and "api/v1" in missing.json()["message"]
    wrong_money = client.post("/api/v1/calls", headers=_auth(token), json={
        "title": "x", "document_id": "suzhou-software-cluster", "provisions": ["3"], "period": 2023,
        "opens_on": "2024-01-01", "closes_on": "2024-12-31", "budget": "一百万"})  # fmt: skip
    assert wrong_money.status_code == 422 and wrong_money.json()["field"] == "budget"


def test_the_calculator_returns_exactly_the_cli_json(db: Database) -> None:
    client = TestClient(make_app(db))
    token = add_user(db, "firm", "official")
    profile = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    body = {"profile": json.loads(json.dumps(profile, default=str)), "as_of": "2024-06-30", "include_drafts": True}
    response = client.post("/api/v1/evaluate", headers=_auth(token), json=body)
    assert response.status_code == 200, response.text
    printed = CliRunner().invoke(cli, ["evaluate", str(EXAMPLE), "--format", "json", "--as-of", "2024-06-30",
                                       "--include-drafts"])  # fmt: skip
    assert response.json() == json.loads(printed.stdout)
    broken = client.post("/api/v1/evaluate", headers=_auth(token), json={"profile": {"facts": {"revenu": "1元"}}})
    assert broken.status_code == 422 and "revenu" in broken.json()["message"]
    # The calculator needs no sign-in: it reads and stores nothing of the registry.
    anonymous = client.post("/api/v1/evaluate", json=body)
    assert anonymous.status_code == 200 and anonymous.json() == response.json()
    assert anonymous.headers["content-type"] == "application/json"


def test_settings_refuse_insecure_defaults_in_production() -> None:
    with pytest.raises(HuiqiError, match="HUIQI_FIRST_ADMIN_PASSWORD"):
        Settings.from_env({"HUIQI_ENVIRONMENT": "production", "HUIQI_DATABASE_URL": "postgresql+psycopg://x/y"})
    with pytest.raises(HuiqiError, match="PostgreSQL"):
        Settings.from_env({"HUIQI_ENVIRONMENT": "production", "HUIQI_FIRST_ADMIN_PASSWORD": "a-long-secret-123"})
    production = {"HUIQI_ENVIRONMENT": "production", "HUIQI_FIRST_ADMIN_PASSWORD": "a-long-secret-123",
                  "HUIQI_DATABASE_URL": "postgresql+psycopg://x/y"}  # fmt: skip
    with pytest.raises(HuiqiError, match="HUIQI_SESSION_SECRET"):
        Settings.from_env(production)
    ok = Settings.from_env({**production, "HUIQI_SESSION_SECRET": "0123456789abcdef" * 4})
    assert ok.environment == "production" and not ok.demo_data
