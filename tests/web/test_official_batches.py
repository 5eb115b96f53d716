"""The official's desk beyond the review path, in chromium, as the demo `official`: opening a call from the form
(a bad budget and a bad date refused beside their fields), closing it; a 免申即享 batch computed over the
registry, refused out of order, put to 公示 and approved into the award ledger; the reports overdue across
calls and a submitted one read; a clawback with the blacklist, refused first for a date in the past.

The module's own firms and calls are made in the `site` database (numbers 8800+, years 2031–2033) so that the
demo's calls and the other tests' are untouched."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from huiqi import beijing

from .conftest import Site, no_horizontal_scroll, shot
from .test_signin import sign_in

BATCH_FIRMS = ["免申批次甲软件有限公司", "免申批次乙软件有限公司", "免申批次丙软件有限公司"]
CLAWBACK_FIRM = "追回测试软件有限公司"


@dataclass
class World:
    batch_call: int
    clawback_call: int
    application: int
    overdue_due: dt.date
    submitted_title: str


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    from huiqi.store.entities import get_entity, record_fact
    from huiqi.store.models import Application, Call, Payment, Report
    from huiqi.workflow.applications import pass_check
    from huiqi.workflow.awards import approve, pay
    from huiqi.workflow.proposals import make_proposed_list
    from huiqi.workflow.reports import submit_report
    from platform_fixtures import FINANCE, OFFICIAL, add_call, add_firm, applicant, submit_application

    state = site.app.state
    database, policy = state.database, state.policy

    def firm(n: int, name: str, year: int) -> int:
        """A Suzhou software firm whose revenue first passes 1亿元 in ``year`` (200万元 under provision 3)."""
        entity_id = add_firm(database, policy, 8800 + n, name=name, revenue_2023="5000万元")
        with database.transaction() as session:
            entity = get_entity(session, entity_id)
            for at, value in ((year - 1, "6000万元"), (year, "1.35亿元")):
                record_fact(session, entity=entity, key="revenue", value=value, year=at, provenance="verified",
                            recorded_by="official1", catalogue=policy.base.catalogue)  # fmt: skip
        return entity_id

    for n, name in enumerate(BATCH_FIRMS):
        firm(n, name, 2031)
    batch_call = add_call(database, policy, title="免申即享测试·2031年度规模奖励", period=2031, as_of=None,
                          budget="1000万元")  # fmt: skip

    # 追回: approved 200万元 (60/40) back-dated 200 days so that a half-year report is overdue; 60% paid
    clawback_call = add_call(database, policy, title="追回测试·2032年度规模奖励", period=2032, as_of=None,
                             budget="500万元", instalments=[60, 40], report_due=["06-30", "12-31"],
                             report_years=2)  # fmt: skip
    entity_id = firm(10, CLAWBACK_FIRM, 2032)
    application_id = submit_application(database, policy, clawback_call, entity_id)
    approved_on = beijing.today() - dt.timedelta(days=200)
    with database.transaction() as session:
        application = session.get_one(Application, application_id)
        pass_check(session, application=application, actor=OFFICIAL)
        make_proposed_list(session, call=session.get_one(Call, clawback_call), actor=OFFICIAL)
        approve(session, application=application, actor=OFFICIAL, today=approved_on)
    with database.transaction() as session:
        reports = list(session.query(Report).filter(Report.application_id == application_id).order_by(Report.due_on))
        overdue = next(r for r in reports if r.due_on < beijing.today())
        last = reports[-1]
        submit_report(session, report_id=last.id, content="年度绩效：营业收入1.35亿元，新增研发人员12人。",
                      actor=applicant(entity_id))  # fmt: skip
        first = session.query(Payment).filter(Payment.application_id == application_id, Payment.instalment == 1)
        payment_id = first.one().id
    with database.transaction() as session:
        pay(session, payment_id=payment_id, actor=FINANCE, reference="CZ-TEST-8810")
    yield World(batch_call, clawback_call, application_id, overdue.due_on, last.title)


def _call_row(site: Site, title: str) -> tuple[int, int, str, list[int], list[str]]:
    from sqlalchemy import select

    from huiqi.store.models import Call

    with site.app.state.database.sessions() as session:
        call = session.scalars(select(Call).where(Call.title == title)).one()
        return call.id, call.budget_fen, call.status, list(call.instalments), list(call.report_due)


def _notices_told(site: Site, call_id: int) -> int:
    """The notices of a call, once the background matching after the redirect has written them."""
    import time

    from sqlalchemy import func, select

    from huiqi.store.models import Notice

    deadline = time.monotonic() + 30
    while True:
        with site.app.state.database.sessions() as session:
            told = session.scalar(select(func.count()).select_from(Notice).where(Notice.call_id == call_id)) or 0
        if told or time.monotonic() > deadline:
            return told
        time.sleep(0.2)


def test_open_a_call_from_the_form_refusing_a_bad_budget_and_dates_then_close_it(page: Page, site: Site) -> None:
    sign_in(page, site, "official")
    expect(page.get_by_role("link", name="发布申报批次")).to_be_visible()
    page.get_by_role("link", name="发布申报批次").first.click()
    expect(page).to_have_url(site.base_url + "/desk/official/calls/new")
    title = "网页发布测试·2033年度软件规模奖励"
    page.get_by_label("批次名称").fill(title)
    page.get_by_label("政策文件").select_option("suzhou-software-cluster")
    expect(page.locator('details[data-document="suzhou-software-cluster"]')).to_have_attribute("open", "")
    page.get_by_label("3. 支持企业做大做强").check()
    page.get_by_label("奖励年度").fill("2033")
    page.get_by_label("申报开始日").fill("2033-03-01")
    page.get_by_label("申报截止日").fill("2033-02-01")  # before the start
    page.get_by_label("预算", exact=True).fill("五百万")
    page.get_by_label("分期拨付比例").fill("60/40")
    page.get_by_label("绩效报告截止日").fill("06-30, 12-31")
    page.get_by_label("绩效报告年数").fill("2")
    page.get_by_label("申报材料").fill("营业执照\n营业收入专项审计报告")
    page.get_by_label("奖励季度").fill("第五季度")
    page.get_by_role("button", name="发布申报批次").click()

    expect(page.locator("#quarter-error")).to_contain_text("奖励季度应为 1 至 4")
    expect(page.locator("#budget-error")).to_contain_text("无法识别的金额")
    expect(page.get_by_label("预算", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-errors")).to_contain_text("未发布")
    expect(page.get_by_label("批次名称")).to_have_value(title)  # what was typed is kept
    expect(page.get_by_label("3. 支持企业做大做强")).to_be_checked()
    shot(page, "batches-call-form-refused")
    page.get_by_label("预算", exact=True).fill("500")  # a bare number is 万元
    page.get_by_role("button", name="发布申报批次").click()
    expect(page.locator("#closes_on-error")).to_have_text("申报截止日不能早于开始日")
    page.get_by_label("申报截止日").fill("2033-04-30")
    page.get_by_label("绩效报告截止日").fill("06-31")
    page.get_by_role("button", name="发布申报批次").click()
    expect(page.locator("#report_due-error")).to_contain_text("6月没有31日")
    with pytest.raises(Exception, match="No row"):
        _call_row(site, title)  # nothing stored by the refusals
    page.get_by_label("绩效报告截止日").fill("06-30, 12-31")
    page.get_by_label("奖励季度").fill("2")  # a yearly provision: no quarter
    page.get_by_role("button", name="发布申报批次").click()
    expect(page.locator("#quarter-error")).to_contain_text("所选条款不按季度兑现")
    page.get_by_label("奖励季度").fill("")
    page.get_by_role("button", name="发布申报批次").click()

    expect(page).to_have_url(re.compile(r"/desk/official/calls/\d+$"))
    call_id, budget_fen, status, instalments, report_due = _call_row(site, title)
    assert page.url.endswith(f"/desk/official/calls/{call_id}")
    assert (budget_fen, status, instalments, report_due) == (500_0000_00, "open", [60, 40], ["06-30", "12-31"])
    assert _notices_told(site, call_id) > 0  # 政策找企业 ran after the answer, as after POST /api/v1/calls

    page.goto(site.base_url + "/desk/official/calls/new")
    row = page.locator("#calls tr", has_text=title)
    expect(row).to_contain_text("500万元")
    row.get_by_role("button", name="关闭申报").click()
    expect(page.locator("main .note")).to_contain_text(f"申报批次 {call_id} 已关闭")
    expect(page.locator("#calls tr", has_text=title)).to_contain_text("已关闭")
    assert _call_row(site, title)[2] == "closed"
    no_horizontal_scroll(page)


def test_a_batch_computed_refused_out_of_order_published_and_approved(
    page: Page, site: Site, world: World, tmp_path: Path
) -> None:
    sign_in(page, site, "official")
    page.goto(site.base_url + "/desk/official/batches")
    page.get_by_role("button", name="按登记数据计算名单").click()  # no call chosen
    expect(page.locator("#call_id-error")).to_have_text("请选择申报批次")
    page.get_by_label("申报批次").select_option(str(world.batch_call))
    page.get_by_role("button", name="按登记数据计算名单").click()
    expect(page).to_have_url(re.compile(r"/desk/official/batches/\d+$"))
    items = page.locator("section", has=page.locator("#items-title"))
    for name in BATCH_FIRMS:
        expect(items.locator("tr", has_text=name)).to_contain_text("200万元")
    expect(items.locator("tbody tr")).to_have_count(3)  # the demo's and other tests' firms are not eligible in 2031
    expect(page.locator("#certain-total")).to_have_text("600万元")
    excluded = page.locator("section", has=page.locator("#excluded-title"))
    expect(excluded).to_contain_text("需补充信息")  # e.g. the demo firms: no 2031 revenue registered
    excluded.locator("summary").click()
    expect(excluded.locator("tr", has_text="苏州示例").first).to_contain_text("营业收入（2031年）")
    shot(page, "batches-batch-computed")

    page.get_by_role("button", name="批准兑现").click()
    expect(page.locator("#batch-error")).to_contain_text("名单须先发布，才能兑现")
    page.get_by_role("button", name="公示名单").click()
    expect(page.locator("main .badge").first).to_have_text("公示中（待兑现）")
    page.get_by_role("button", name="公示名单").click()
    expect(page.locator("#batch-error")).to_contain_text("只有刚计算出的名单可以发布")
    page.get_by_role("button", name="批准兑现").click()
    expect(page.locator("main .badge").first).to_have_text("已兑现")
    expect(page.locator("#awarded-total")).to_have_text("600万元")
    awards = page.locator("section", has=page.locator("#awards-title"))
    expect(awards.locator("tbody tr")).to_have_count(3)
    expect(page.locator("main")).to_contain_text("已预留 600万元")
    shot(page, "batches-batch-awarded")
    no_horizontal_scroll(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="下载名单和未列入的主体（Excel）").click()
    assert download.value.suggested_filename.startswith("免申即享名单-批次")
    from decimal import Decimal

    from openpyxl import load_workbook

    target = tmp_path / "batch.xlsx"
    download.value.save_as(target)
    book = load_workbook(target)
    assert book.sheetnames == ["说明", "名单", "未列入"]
    listed = list(book["名单"].iter_rows(values_only=True))
    assert listed[0][4:6] == ("确定金额（万元）", "最高限额（万元）")
    assert sorted(r[0] for r in listed[1:]) == sorted(BATCH_FIRMS)
    assert all(Decimal(str(r[4])) == 200 and r[5] is None and r[6] == "已兑现" for r in listed[1:])
    assert any(r[2] == "需补充信息" for r in book["未列入"].iter_rows(values_only=True))

    from sqlalchemy import func, select

    from huiqi.store.models import Award, Call

    with site.app.state.database.sessions() as session:
        assert session.get_one(Call, world.batch_call).reserved_fen == 600_0000_00
        assert session.scalar(select(func.count()).select_from(Award).where(Award.call_id == world.batch_call)) == 3


def test_overdue_reports_listed_and_a_submitted_report_read(page: Page, site: Site, world: World) -> None:
    sign_in(page, site, "official")
    page.goto(site.base_url + "/desk/official")
    page.get_by_role("link", name="绩效报告（逾期）").click()
    expect(page).to_have_url(site.base_url + "/desk/official/reports")
    overdue = page.locator("section", has=page.locator("#overdue-title"))
    row = overdue.locator("tr", has_text=CLAWBACK_FIRM).first
    days = (beijing.today() - world.overdue_due).days
    expect(row).to_contain_text(f"逾期 {days} 天")
    expect(row).to_contain_text(f"{world.overdue_due.year}年{world.overdue_due.month}月{world.overdue_due.day}日")
    expect(row).to_contain_text("追回测试·2032年度规模奖励")
    page.get_by_label("申报批次").select_option(str(world.clawback_call))
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(rf"call={world.clawback_call}$"))
    expect(page.locator("tbody tr", has_text=CLAWBACK_FIRM).first).to_be_visible()
    assert page.locator("tbody tr", has_text="苏州示例").count() == 0  # only that call
    shot(page, "batches-reports")
    submitted = page.locator("section", has=page.locator("#submitted-title"))
    submitted.get_by_role("link", name=world.submitted_title).click()
    expect(page.locator("main")).to_contain_text("年度绩效：营业收入1.35亿元，新增研发人员12人。")
    expect(page.get_by_role("heading", level=1)).to_contain_text(CLAWBACK_FIRM)


def test_a_clawback_with_the_blacklist(page: Page, site: Site, world: World) -> None:
    sign_in(page, site, "official")
    url = f"{site.base_url}/desk/official/applications/{world.application}/clawback"
    page.goto(url)
    expect(page.locator("#application-state")).to_have_text("拨付中")
    expect(page.locator("main")).to_contain_text("释放预算 80万元")
    expect(page.locator("main")).to_contain_text("已拨付的 120万元 应由")
    page.get_by_role("button", name="追回并列入失信名单").click()
    expect(page.locator("#reason-error")).to_have_text("追回须写明事实和依据")
    expect(page.locator("#blacklist_until-error")).to_contain_text("请填写失信名单的期满日")
    page.get_by_label("事实和依据").fill("经核查，申报的2032年度营业收入与审计报告不符。")
    page.get_by_label("或期满日").fill((beijing.today() - dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="追回并列入失信名单").click()
    expect(page.locator("#blacklist_until-error")).to_have_text("失信名单的期满日须晚于今天")
    expect(page.get_by_label("事实和依据")).to_have_value("经核查，申报的2032年度营业收入与审计报告不符。")
    expect(page.locator("#application-state")).to_have_text("拨付中")  # nothing changed
    shot(page, "batches-clawback-refused")

    from huiqi.web.official_batches import years_after

    until = years_after(beijing.today(), 3)
    page.get_by_label("或期满日").fill("")
    page.get_by_label("自今天起").select_option("3")  # three years from today
    page.get_by_role("button", name="追回并列入失信名单").click()
    expect(page).to_have_url(url)
    expect(page.locator("#application-state")).to_have_text("已追回")
    expect(page.locator("#clawed-notice")).to_contain_text("应退回已拨付资金 120万元")
    ledger = page.locator("section", has=page.locator("#ledger-title"))
    expect(ledger.locator("tbody tr").first).to_contain_text("已追回")
    expect(ledger).to_contain_text("已取消")
    blacklist = page.locator("section", has=page.locator("#blacklist-title"))
    expect(blacklist).to_contain_text(f"{until.year}年{until.month}月{until.day}日")
    expect(blacklist).to_contain_text("（在期内）")
    expect(page.get_by_role("button", name="追回并列入失信名单")).to_have_count(0)
    shot(page, "batches-clawback-done")
    page.goto(f"{site.base_url}/desk/official/reports?call={world.clawback_call}")  # its reports say so
    expect(page.locator("#overdue-title + .table-wrap tbody tr").first).to_contain_text("已追回")

    from huiqi.store.models import Call

    with site.app.state.database.sessions() as session:
        call = session.get_one(Call, world.clawback_call)
        assert call.reserved_fen == 120_0000_00  # 80万元 released; the 120万元 paid awaits its return


def test_on_a_phone_for_officials_only_and_never_without_the_token(phone: Page, site: Site, world: World) -> None:
    sign_in(phone, site, "official")
    for path in ("/desk/official/calls/new", "/desk/official/batches", "/desk/official/reports",
                 f"/desk/official/applications/{world.application}/clawback"):  # fmt: skip
        phone.goto(site.base_url + path)
        expect(phone.get_by_role("heading", level=1)).to_be_visible()
        no_horizontal_scroll(phone)
    phone.goto(site.base_url + "/desk/official/batches")
    shot(phone, "batches-phone")
    refused = phone.request.post(site.base_url + "/desk/official/batches", form={"call_id": str(world.batch_call)})
    assert refused.status == 403 and "CSRF" in refused.text()
    refused = phone.request.post(site.base_url + f"/desk/official/applications/{world.application}/clawback",
                                 form={"reason": "x", "blacklist_until": "2099-01-01"})  # fmt: skip
    assert refused.status == 403
    phone.context.clear_cookies()
    sign_in(phone, site, "suzhou-c")  # an applicant: not its desk
    for path in ("/desk/official/batches", "/desk/official/reports", "/desk/official/calls/new",
                 f"/desk/official/applications/{world.application}/clawback"):  # fmt: skip
        response = phone.goto(site.base_url + path)
        assert response is not None and response.status in (403, 404), path
        expect(phone.locator("main")).to_contain_text("无权访问" if response.status == 403 else "未找到")
