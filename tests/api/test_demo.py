"""The demo the README's service starts with: its accounts log in, an applicant can submit today whatever
the date, and it has a call at every stage (open, in 公示, approved and paying)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from huiqi import beijing
from huiqi.store.db import Database
from huiqi.store.models import Application, Entity
from huiqi.workflow.audit import verify as verify_chain
from huiqi.workflow.demo import DEMO_PASSWORD, ROLES_GUIDE, load_demo
from huiqi.workflow.holidays import HolidayCalendar
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.timeline import application_timeline, open_calls_for
from platform_fixtures import TestClient, make_app

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _login(client: TestClient, name: str) -> dict[str, str]:
    body = client.post("/api/v1/auth/login", json={"username": name, "password": DEMO_PASSWORD}).json()
    return {"Authorization": f"Bearer {body['access_token']}"}


def _calls(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    items: list[dict[str, object]] = client.get("/api/v1/calls?limit=100", headers=headers).json()["items"]
    return items


def test_the_demo_accounts_can_apply_to_both_open_calls(db: Database) -> None:
    client = TestClient(make_app(db, demo_data=True))
    official = _login(client, "official")
    today = beijing.today()
    open_now = {c["document_id"]: c for c in _calls(client, official)
                if c["status"] == "open" and str(c["opens_on"]) <= today.isoformat() <= str(c["closes_on"])
                and "演示" not in str(c["title"])}  # fmt: skip
    assert set(open_now) == {"suzhou-software-cluster", "zhejiang-software-bases"}
    suzhou = open_now["suzhou-software-cluster"]
    assert suzhou["period"] == today.year - 1  # a call of this year rewards what was reached last year
    # the firm the demo documents as able to apply today submits (it used to be refused: 需补充：营业收入（2025年）)
    firm = _login(client, "suzhou-c")
    draft = client.post("/api/v1/applications", headers=firm, json={"call_id": suzhou["id"]})
    assert draft.status_code == 201, draft.text
    url = f"/api/v1/applications/{draft.json()['id']}"
    upload = client.post(f"{url}/materials", headers=firm, data={"name": "营业收入审计报告"},
                         files={"file": ("审计报告.pdf", PDF, "application/pdf")})  # fmt: skip
    assert upload.status_code == 201, upload.text
    submitted = client.post(f"{url}/submit", headers=firm, json={"pledge": True})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted" and submitted.json()["requested"] == "2000000.00"
    county = _login(client, "county")
    draft = client.post(
        "/api/v1/applications", headers=county, json={"call_id": open_now["zhejiang-software-bases"]["id"]}
    )
    submitted = client.post(f"/api/v1/applications/{draft.json()['id']}/submit", headers=county, json={"pledge": True})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["requested"] == "10000000.00"  # 示范基地一次性支持资金1000万元
    lifecycle = client.get(f"/api/v1/calls/{open_now['zhejiang-software-bases']['id']}/lifecycle", headers=official)
    assert {row["transition"] for row in lifecycle.json()} >= {"start_review", "start_publicity", "approve"}
    for username in ROLES_GUIDE:  # every documented account signs in
        assert (
            client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}).status_code == 200
        )


def test_the_demo_has_a_list_in_publicity_made_by_the_workflow(db: Database) -> None:
    """A newcomer's 公示 page is not empty: the demo's earlier Suzhou call went through submission, formal
    check and the proposed list, and its 公示 runs today."""
    client = TestClient(make_app(db, demo_data=True))
    lists = client.get("/api/v1/publicity").json()
    assert len(lists) == 1
    (current,) = lists
    assert current["document"] == "suzhou-software-cluster" and current["day_kind"] in ("working", "calendar")
    assert current["starts_on"] <= beijing.today().isoformat() <= current["ends_on"]
    names = [row["name"] for row in current["rows"]]
    assert names == ["苏州示例工业软件有限公司", "苏州示例信创软件有限公司"]
    # 营业收入首次达到1亿元 (200万元) and, for the firm already past 1亿元, 进档补差 to the 5亿元 tier
    assert [row["amount"] for row in current["rows"]] == ["2000000.00", "3000000.00"]
    page = client.get("/publicity")
    assert page.status_code == 200 and "苏州示例信创软件有限公司" in page.text and "300万元" in page.text
    with db.transaction() as session:
        assert verify_chain(session).ok


def test_the_demo_has_an_approved_call_being_paid(db: Database) -> None:
    """Approval and payment can be shown: a past call's 公示 ended, the application was approved, and
    finance paid the first of its two instalments (60/40)."""
    client = TestClient(make_app(db, demo_data=True))
    firm = _login(client, "suzhou-d")
    (application,) = client.get("/api/v1/applications", headers=firm).json()["items"]
    assert application["state"] == "paying"
    payments = client.get(f"/api/v1/payments?application_id={application['id']}", headers=_login(client, "finance"))
    rows = [(p["instalment"], p["amount"], p["status"]) for p in payments.json()["items"]]
    assert rows == [(1, "1200000.00", "paid"), (2, "800000.00", "scheduled")]
    awards = client.get("/api/v1/awards", headers=firm).json()["items"]
    assert [(a["period"], a["amount"], a["paid"]) for a in awards] == [
        (beijing.today().year - 3, "2000000.00", "1200000.00")
    ]
    with db.transaction() as session:
        assert verify_chain(session).ok


@pytest.mark.parametrize("today", [dt.date(2025, 1, 2), dt.date(2026, 12, 1), dt.date(2031, 7, 15)])
def test_the_demo_loads_on_any_date(db: Database, policy: PolicyEngine, today: dt.date) -> None:
    """Every stage is made through the workflow whatever the date (the year the calls ask about moves with it)."""
    with db.transaction() as session:
        accounts = load_demo(session, policy=policy, calendar=HolidayCalendar.packaged(), today=today)
    assert len(accounts) == len(ROLES_GUIDE) + 5  # expert2 … expert6


def test_the_paying_applications_timeline_reads_as_it_happened(db: Database, policy: PolicyEngine) -> None:
    """Each step of the past call is dated when it would have happened (the workflow functions take ``now``),
    so the applicant's timeline reads in order: submitted, checked, listed, 公示, approved, report, paid."""
    today = dt.date(2026, 12, 1)
    with db.transaction() as session:
        load_demo(session, policy=policy, calendar=HolidayCalendar.packaged(), today=today)
    with db.sessions() as session:
        firm = session.scalars(select(Entity).where(Entity.name == "苏州示例智能制造软件有限公司")).one()
        application = session.scalars(select(Application).where(Application.entity_id == firm.id)).one()
        steps = application_timeline(session, application, today=today)
        suzhou_c = session.scalars(select(Entity).where(Entity.name == "苏州示例数据服务有限公司")).one()
        county = session.scalars(select(Entity).where(Entity.entity_type == "local_government")).one()
        open_for_firm = [c.title for c in open_calls_for(session, suzhou_c, policy=policy, today=today)]
        open_for_county = [c.title for c in open_calls_for(session, county, policy=policy, today=today)]
    assert [(s.on, s.label, s.kind, s.amount_fen) for s in steps] == [
        (dt.date(2025, 11, 6), "创建草稿", "done", None),
        (dt.date(2025, 11, 6), "提交申报（信用承诺）", "done", None),
        (dt.date(2025, 11, 9), "形式审查通过", "done", None),
        (dt.date(2025, 12, 1), "列入拟支持名单", "done", None),
        (dt.date(2025, 12, 6), "开始公示", "done", None),
        (dt.date(2025, 12, 16), "公示期满", "done", None),  # 7 working days from Saturday 6 December
        (dt.date(2025, 12, 23), "批准（预留预算）", "done", None),
        (dt.date(2025, 12, 31), "2025年下半年绩效报告截止", "overdue", None),
        (dt.date(2026, 1, 2), "第1期拨付（60%）", "done", 120_000_000),
        (None, "第2期待拨付（40%）", "ahead", 80_000_000),
    ]
    # the firm may apply to this year's Suzhou call (not to the county's programme, nor to the closed ones)
    assert open_for_firm == ["2026年苏州市软件产业规模奖励（营业收入首次达到1亿元、5亿元、10亿元）"]
    assert open_for_county == ["浙江省软件和信息服务产业基地建设（竞争性评审）"]
