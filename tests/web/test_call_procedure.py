"""The procedure as data in the browser: the official chooses Zhejiang's 七.1 and the call form is pre-filled from
the procedure its policy file states (competitive review, 14 places in 2016, 公示 7 days, reports due 06-30 and
12-31, the provincial fund); the official changes the quota, the page says it deviates, and the call stored
records the deviation. The document page shows the procedure with its quotes."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import Site, no_horizontal_scroll, shot
from .test_signin import sign_in

TITLE = "程序预填测试·2016年浙江省软件和信息服务产业基地"


def test_the_call_form_is_prefilled_from_the_stated_procedure_and_a_change_is_recorded(page: Page, site: Site) -> None:
    sign_in(page, site, "official")
    page.goto(site.base_url + "/desk/official/calls/new")
    page.get_by_label("文件与条款").select_option("zhejiang-software-bases:七.1")
    page.get_by_label("名额所属年度").fill("2016")
    page.get_by_role("button", name="按规定程序预填").click()

    expect(page.locator("main .note")).to_contain_text("已按文件规定的申报程序预填")
    expect(page.get_by_label("政策文件")).to_have_value("zhejiang-software-bases")
    expect(page.locator('input[name="provisions"][value="zhejiang-software-bases:七.1"]')).to_be_checked()
    expect(page.get_by_label("评审方式")).to_have_value("competitive")
    expect(page.get_by_label("名额", exact=True)).to_have_value("14")
    expect(page.get_by_label("公示天数", exact=True)).to_have_value("7")
    expect(page.get_by_label("公示天数的计算")).to_have_value("calendar")
    expect(page.get_by_label("绩效报告截止日")).to_have_value("06-30, 12-31")
    expect(page.get_by_label("申报材料")).to_have_value("建设可行性实施方案\n项目情况表\n可行性报告")
    expect(page.get_by_label("资金来源（出资方）")).to_have_value("浙江省财政（工业与信息化专项资金）")
    procedure = page.locator("#procedure")
    expect(procedure).to_contain_text("设区市经信委")  # through whom: county → city → province
    expect(procedure).to_contain_text("宁波市申报的项目：宁波市财政")
    expect(procedure).to_contain_text("“示范基地4个”")
    expect(page.locator("#quota-stated")).to_contain_text("2016年共14个")
    no_horizontal_scroll(page)
    shot(page, "call-form-prefilled-from-procedure")

    page.get_by_label("批次名称").fill(TITLE)
    page.get_by_label("申报截止日").fill("2099-12-31")
    page.get_by_label("预算", exact=True).fill("1.1亿元")
    page.get_by_label("名额", exact=True).fill("4")  # only the 示范基地: a deviation
    page.get_by_role("button", name="发布申报批次").click()
    # competitive review needs criteria, which the text leaves to the committee: refused beside the field,
    # what was typed kept, and the deviation already said
    expect(page.locator("#criteria-error")).to_contain_text("评分标准")
    expect(page.get_by_label("名额", exact=True)).to_have_value("4")
    expect(page.locator("#quota-stated")).to_contain_text("已改动，将记为偏离")
    page.get_by_label("评分标准").fill("plan | 建设方案可行性 | 100")
    page.get_by_role("button", name="发布申报批次").click()
    expect(page).to_have_url(site.base_url + "/desk/official/calls/" + str(_call(site).id))

    deviations_shown = page.locator("#deviations")
    expect(deviations_shown).to_contain_text(
        "名额：文件规定 2016年共14个（示范基地4个、特色基地5个、创业基地5个），本批次为 4"
    )
    expect(deviations_shown).to_contain_text("申报截止日：文件规定 2015-12-31，本批次为 2099-12-31")
    call = _call(site)
    assert call.review_mode == "competitive" and call.quota == 4 and call.publicity_days == 7
    assert call.report_due == ["06-30", "12-31"] and call.payer == "浙江省财政（工业与信息化专项资金）"
    deviations = {d["field"]: d for d in call.deviations}
    assert set(deviations) == {"quota", "closes_on"}
    assert deviations["quota"]["stated"] == 14 and deviations["quota"]["chosen"] == 4


def test_a_provision_that_does_not_exist_is_refused_on_the_page(page: Page, site: Site) -> None:
    sign_in(page, site, "official")
    page.goto(site.base_url + "/desk/official/calls/new?provision=zhejiang-software-bases:九十九")
    expect(page.locator("#document_id-error")).to_contain_text("没有条款")
    page.goto(site.base_url + "/desk/official/calls/new?provision=zhejiang-software-bases:七.1&period=2017")
    expect(page.locator("main .note")).to_contain_text("文件只规定了 2016 年的名额，2017 年的名额须自行填写")
    expect(page.get_by_label("名额", exact=True)).to_have_value("")  # nothing stated for 2017
    expect(page.get_by_label("评审方式")).to_have_value("competitive")


def test_the_document_page_shows_the_procedure_with_its_quotes(page: Page, site: Site) -> None:
    page.goto(site.base_url + "/policies/zhejiang-software-bases")
    procedure = page.locator("#procedure")
    expect(procedure).to_contain_text("竞争性评审")
    expect(procedure).to_contain_text("公示时间为7天")
    expect(procedure).to_contain_text("每年 06-30、12-31")
    shot(page, "document-procedure")


def _call(site: Site):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from huiqi.store.models import Call

    with site.app.state.database.sessions() as session:
        call = session.scalar(select(Call).where(Call.title == TITLE))
        assert call is not None
        session.expunge(call)
        return call
