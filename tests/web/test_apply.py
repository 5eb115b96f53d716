"""申报 in the browser, as a firm does it: the calculator with its registered facts already answered, 开始申报
from the desk, the facts the engine still needs (declared on the page), the materials (a PDF accepted and shown
with its SHA-256, a wrong type refused in Chinese), the 信用承诺 (submitting without it is refused), the
submission and its timeline; an application returned for 补正 shows the one complete list of fixes and is
resubmitted; a report due after approval is handed in; another firm's application, material or report is
未找到. The upload limit of a page: a 200 KiB upload with a live page session passes the body-size gate, a
forged session cookie is answered 413.

Each test's firms, calls and users are made here (the demo's data is left alone for the other tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Page, expect

from huiqi import beijing
from huiqi.api.security import mac
from huiqi.store.entities import create_entity, record_fact
from huiqi.store.models import Application, Call, Report
from huiqi.workflow.applications import create_draft, return_for_correction, submit
from huiqi.workflow.awards import approve
from huiqi.workflow.materials import add_material
from platform_fixtures import OFFICIAL, TEST_PASSWORD, add_call, add_firm, add_user, applicant, make_uscc, propose_all

from .conftest import Site, no_horizontal_scroll, shot

PDF = b"%PDF-1.4\n% huiqi test material\n" + b"0" * 2048
YEAR = beijing.today().year


@dataclass
class World:
    call_id: int  # open, with two required materials
    fresh_user: str  # a firm that has not applied: lacks 纳入工信部软件统计
    returned_user: str  # a firm whose application was returned for 补正
    returned_id: int
    approved_user: str  # a firm approved under a call with reports
    approved_id: int
    report_ids: list[int]
    other_draft_id: int  # another firm's draft, with one material
    other_user: str
    other_material_id: int


def _firm_without_statistics(database: object, policy: object, n: int) -> int:
    """A Suzhou software firm whose registry lacks 纳入工信部软件统计 (the engine asks for it)."""
    with database.transaction() as session:  # type: ignore[attr-defined]
        entity = create_entity(session, entity_type="enterprise", name="苏州申报网页测试软件有限公司",
                               uscc=make_uscc(n), region=["江苏省", "苏州市"])  # fmt: skip
        facts = [("registered_city", None, "苏州市"), ("main_business_software", None, True),
                 ("revenue", 2022, "4800万元"), ("revenue", 2023, "1.35亿元"),
                 ("revenue", YEAR - 2, "4800万元"), ("revenue", YEAR - 1, "1.35亿元")]  # fmt: skip
        for key, year, value in facts:
            record_fact(session, entity=entity, key=key, value=value, year=year, provenance="verified",
                        recorded_by="official1", catalogue=policy.base.catalogue)  # type: ignore[attr-defined]  # fmt: skip
        return entity.id


@pytest.fixture(scope="module")
def world(site: Site) -> World:
    database, policy = site.app.state.database, site.app.state.policy
    materials = ["营业执照", "软件统计报表"]
    call_id = add_call(database, policy, title="苏州市软件产业规模奖励（申报网页测试）", materials=materials)
    fresh = _firm_without_statistics(database, policy, 9301)
    add_user(database, "apply-fresh", "applicant", entity_id=fresh)

    returned = add_firm(database, policy, 9302, name="苏州补正网页测试软件有限公司")
    other = add_firm(database, policy, 9303, name="苏州他人网页测试软件有限公司")
    with database.transaction() as session:
        call = session.get_one(Call, call_id)
        application = create_draft(session, call=call, actor=applicant(returned))
        for name in materials:
            add_material(session, application=application, call=call, name=name, filename=f"{name}.pdf",
                         content_type="application/pdf", content=PDF, actor=applicant(returned))  # fmt: skip
        submit(session, application=application, actor=applicant(returned), pledge=True, policy=policy)
        return_for_correction(session, application=application, actor=OFFICIAL, items=[
            {"field": "营业执照", "problem": "复印件不清晰，请上传加盖公章的清晰扫描件"},
            {"field": "软件统计报表", "problem": "须为评价年度（2023年）的年报，请重新上传"}])  # fmt: skip
        returned_id = application.id
        draft = create_draft(session, call=call, actor=applicant(other))
        material = add_material(session, application=draft, call=call, name="营业执照", filename="他人营业执照.pdf",
                                content_type="application/pdf", content=PDF, actor=applicant(other))  # fmt: skip
        other_draft_id, other_material_id = draft.id, material.id
    add_user(database, "apply-returned", "applicant", entity_id=returned)
    add_user(database, "apply-other", "applicant", entity_id=other)

    approved = add_firm(database, policy, 9304, name="苏州绩效网页测试软件有限公司")
    # approved 20 days ago with a report due 10 days ago (overdue) and one at the end of the year
    approved_on = beijing.today() - dt.timedelta(days=20)
    due = (beijing.today() - dt.timedelta(days=10)).strftime("%m-%d")
    report_call = add_call(database, policy, title="苏州市软件产业规模奖励（绩效报告网页测试）",
                           report_due=[due, "12-31"], report_years=2)  # fmt: skip
    [approved_id] = propose_all(database, policy, report_call, [approved])
    with database.transaction() as session:
        approve(session, application=session.get_one(Application, approved_id), actor=OFFICIAL, today=approved_on,
                now=dt.datetime.combine(approved_on, dt.time(2), tzinfo=dt.UTC))  # fmt: skip
        report_ids = [r.id for r in session.query(Report).filter(Report.application_id == approved_id)
                      .order_by(Report.due_on)]  # fmt: skip
    add_user(database, "apply-approved", "applicant", entity_id=approved)
    return World(call_id, "apply-fresh", "apply-returned", returned_id, "apply-approved", approved_id, report_ids,
                 other_draft_id, "apply-other", other_material_id)  # fmt: skip


def sign_in(page: Page, site: Site, username: str) -> None:
    page.goto(site.base_url + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(site.base_url + "/desk/applicant")


def test_from_the_prefilled_calculator_to_a_submitted_application(page: Page, site: Site, world: World) -> None:
    sign_in(page, site, world.fresh_user)
    # the calculator with the registry's answers: it asks only what the registry lacks
    page.get_by_role("link", name="用本单位登记信息测算").click()
    expect(page).to_have_url(re.compile(r"/calculator/session\?.*a\.registered_city="))
    answers = page.locator(".answers")
    expect(answers).to_contain_text("苏州市")
    expect(answers).to_contain_text(f"营业收入（{YEAR - 1}年）：13500万元")
    expect(page.locator("form.question h2")).to_contain_text("纳入工信部软件统计")  # the one the registry lacks
    shot(page, "apply-calculator-prefilled")

    # 开始申报 from the desk: a draft; pressing it again continues the same draft
    page.goto(site.base_url + "/desk/applicant")
    page.get_by_role("button", name="开始申报：苏州市软件产业规模奖励（申报网页测试）").click()
    expect(page).to_have_url(re.compile(r"/apply/applications/\d+"))
    application_url = page.url.split("?")[0]
    expect(page.get_by_role("status")).to_contain_text("已创建申报草稿")
    page.goto(site.base_url + "/desk/applicant")
    expect(page.get_by_role("link", name=re.compile(r"^\d+$"))).to_have_count(1)

    page.goto(application_url)
    expect(page.get_by_role("heading", name="申报条款")).to_be_visible()
    results = page.locator(".doc-result")
    expect(results).to_contain_text("需补充信息")
    expect(results).to_contain_text("若符合：200万元")
    expect(page.locator(".totals")).to_contain_text("确定金额")
    missing = page.get_by_label("需补充：纳入工信部软件统计")
    expect(missing).to_be_visible()

    # submit too early: no materials yet, no pledge
    page.get_by_role("button", name="提交申报").click()
    expect(page.locator("#submit-error")).to_contain_text("提交前须作出信用承诺")
    page.get_by_label("我单位作出以上信用承诺").check()
    page.get_by_role("button", name="提交申报").click()
    expect(page.locator("#submit-error")).to_contain_text("尚缺申报材料：营业执照、软件统计报表")

    # a wrong type is refused in Chinese; a PDF is accepted and shown with its SHA-256
    page.get_by_label("材料名称").select_option("营业执照")
    page.get_by_label("文件", exact=True).set_input_files(
        files=[{"name": "营业执照.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ\x90\x00" * 64}]
    )
    page.get_by_role("button", name="上传").click()
    expect(page.locator("#material-error")).to_contain_text("不接受的文件类型")
    expect(page.locator("#material-error")).to_contain_text("只接受 PDF、PNG、JPEG、OFD")
    shot(page, "apply-upload-refused")
    for name in ("营业执照", "软件统计报表"):
        page.get_by_label("材料名称").select_option(name)
        page.get_by_label("文件", exact=True).set_input_files(
            files=[{"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        page.get_by_role("button", name="上传").click()
        expect(page.get_by_role("status")).to_contain_text("材料已上传")
    table = page.locator("table.apply-materials")
    expect(table).to_contain_text(hashlib.sha256(PDF).hexdigest())
    expect(table.locator("tr", has_text="软件统计报表")).to_contain_text("软件统计报表.pdf")

    # the engine still lacks a fact: submitting says so; declaring it on the page makes the rule eligible
    page.get_by_label("我单位作出以上信用承诺").check()
    page.get_by_role("button", name="提交申报").click()
    expect(page.locator("#submit-error")).to_contain_text("均不能给予奖补")
    page.get_by_label("需补充：纳入工信部软件统计").select_option("是")
    page.get_by_role("button", name="填报").first.click()
    expect(page.get_by_role("status")).to_contain_text("已登记填报的信息")
    expect(page.locator(".totals")).to_contain_text("200万元")
    expect(page.get_by_label("需补充：纳入工信部软件统计")).to_have_count(0)
    shot(page, "apply-draft-ready")

    page.get_by_label("我单位作出以上信用承诺").check()
    page.get_by_role("button", name="提交申报").click()
    expect(page).to_have_url(re.compile(r"/desk/applicant/applications/\d+$"))
    expect(page.locator("dl.kv")).to_contain_text("已提交")
    expect(page.locator("dl.kv")).to_contain_text("200万元")
    timeline = " | ".join(page.locator("ol.timeline li").all_inner_texts())
    assert timeline.index("创建草稿") < timeline.index("提交申报"), timeline
    shot(page, "apply-submitted-timeline")


def test_returned_for_correction_shows_every_fix_and_is_resubmitted(page: Page, site: Site, world: World) -> None:
    sign_in(page, site, world.returned_user)
    page.goto(f"{site.base_url}/desk/applicant/applications/{world.returned_id}")
    page.get_by_role("link", name="按告知补正并重新提交").click()
    fixes = page.locator("section", has=page.get_by_role("heading", name=re.compile("需补正的事项")))
    expect(fixes).to_contain_text("共2项")
    expect(fixes.locator("li")).to_have_count(2)
    expect(fixes).to_contain_text("复印件不清晰")
    expect(fixes).to_contain_text("须为评价年度（2023年）的年报")
    page.get_by_label("材料名称").select_option("营业执照")
    clearer = PDF + b"clear scan"
    page.get_by_label("文件", exact=True).set_input_files(
        files=[{"name": "营业执照（盖章）.pdf", "mimeType": "application/pdf", "buffer": clearer}]
    )
    page.get_by_role("button", name="上传").click()
    expect(page.locator("table.apply-materials")).to_contain_text(hashlib.sha256(clearer).hexdigest())
    shot(page, "apply-returned-fixes")
    page.set_viewport_size({"width": 375, "height": 812})
    no_horizontal_scroll(page)
    shot(page, "apply-returned-fixes-phone")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_role("button", name="重新提交").click()  # without the pledge: refused
    expect(page.locator("#submit-error")).to_contain_text("信用承诺")
    page.get_by_label("我单位作出以上信用承诺").check()
    page.get_by_role("button", name="重新提交").click()
    expect(page).to_have_url(f"{site.base_url}/desk/applicant/applications/{world.returned_id}")
    expect(page.locator("ol.timeline")).to_contain_text("退回补正")
    expect(page.locator("dl.kv")).to_contain_text("已提交")


def test_reports_due_after_approval_are_handed_in(page: Page, site: Site, world: World) -> None:
    sign_in(page, site, world.approved_user)
    page.goto(f"{site.base_url}/desk/applicant/applications/{world.approved_id}")
    reports = page.locator("section", has=page.get_by_role("heading", name="绩效报告"))
    expect(reports.locator("li").first).to_contain_text("已逾期")
    expect(reports.locator("li").last).to_contain_text("待提交")
    shot(page, "apply-reports-due")
    reports.get_by_role("link", name="提交报告").first.click()
    page.get_by_role("button", name="提交报告").click()
    expect(page.locator("#report-error")).to_contain_text("报告内容不能为空")
    page.get_by_label("报告内容").fill("资金用于研发投入，项目按计划推进，营业收入同比增长。")
    page.get_by_role("button", name="提交报告").click()
    expect(page.get_by_role("status")).to_contain_text("绩效报告已提交")
    expect(reports.locator("li").first).to_contain_text("已提交")
    shot(page, "apply-report-handed-in")


def test_another_firms_application_material_and_report_are_not_found(page: Page, site: Site, world: World) -> None:
    sign_in(page, site, world.fresh_user)
    for path in (f"/apply/applications/{world.other_draft_id}", f"/apply/applications/{world.returned_id}",
                 f"/apply/materials/{world.other_material_id}", f"/apply/reports/{world.report_ids[0]}",
                 f"/desk/applicant/applications/{world.approved_id}"):  # fmt: skip
        response = page.goto(site.base_url + path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", name="未找到")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("他人")
    shot(page, "apply-not-found")
    token = page.locator("input[name=csrf_token]").first.input_value()
    answer = page.request.post(f"{site.base_url}/apply/reports/{world.report_ids[0]}",
                               form={"content": "冒名提交", "csrf_token": token}, max_redirects=0)  # fmt: skip
    assert answer.status == 404


def test_a_page_session_may_upload_more_than_the_anonymous_limit(page: Page, site: Site, world: World) -> None:
    sign_in(page, site, world.other_user)
    page.goto(f"{site.base_url}/apply/applications/{world.other_draft_id}")
    token = page.locator("input[name=csrf_token]").first.input_value()
    big = PDF + b"1" * (200 * 1024)
    url = f"{site.base_url}/apply/applications/{world.other_draft_id}/materials"
    form = {"name": "软件统计报表", "csrf_token": token}
    upload = {"file": ("软件统计报表.pdf", big, "application/pdf")}
    cookie = next(c for c in page.context.cookies() if c["name"] == "huiqi_session")["value"]
    live, _dot, signature = cookie.rpartition(".")
    dead = "no-such-token"
    signed_dead = f"{dead}.{mac(site.app.state.session_secret.encode(), 'session', dead)}"
    for forged in (f"{live}.forged", live, f"{dead}.{signature}", signed_dead):
        refused = httpx.post(url, cookies={"huiqi_session": forged}, data=form, files=upload)
        assert refused.status_code == 413, (forged, refused.text)
        assert "未登录或登录已过期，提交的内容不得超过64 KiB：请重新登录后再上传" in refused.text
    accepted = httpx.post(url, cookies={"huiqi_session": cookie}, data=form, files=upload)
    assert accepted.status_code == 303, accepted.text[:300]
    page.reload()
    row = page.locator("table.apply-materials tr", has_text="软件统计报表")
    expect(row).to_contain_text(hashlib.sha256(big).hexdigest())
    expect(row).to_contain_text(f"{len(big):,} 字节")
