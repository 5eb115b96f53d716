"""The applicant's desk as a firm reads it: its registered facts with where each came from, the open calls it
may apply to, and an application's timeline (states with dates, 公示, approval, instalments, reports)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from huiqi import beijing

from .conftest import Site, no_horizontal_scroll, shot
from .test_signin import sign_in


def test_a_firm_sees_its_facts_and_the_calls_it_may_apply_to(page: Page, site: Site) -> None:
    sign_in(page, site, "suzhou-c")
    expect(page).to_have_url(site.base_url + "/desk/applicant")
    expect(page).to_have_title("申报工作台 · 惠企 huiqi")
    calls = page.locator("section", has=page.get_by_role("heading", name="可申报的批次"))
    year = beijing.today().year
    expect(calls).to_contain_text(f"{year}年苏州市软件产业规模奖励")
    expect(calls).to_contain_text(f"评价年度 {year - 1}")
    expect(calls).not_to_contain_text("浙江省")  # a county's programme: not for an enterprise
    expect(calls).not_to_contain_text("演示")  # the calls in 公示 and being paid are closed
    facts = page.locator("section", has=page.get_by_role("heading", name="登记信息及来源"))
    revenue = facts.locator("tr", has_text=f"{year - 1}").filter(has_text="营业收入")
    expect(revenue).to_contain_text("1.2亿元")
    expect(revenue).to_contain_text("主管部门核实")
    expect(revenue).to_contain_text("演示数据")
    shot(page, "desk-applicant-suzhou-c")


def test_an_applications_timeline_from_submission_to_payment(page: Page, site: Site) -> None:
    sign_in(page, site, "suzhou-d")
    page.locator("main table a").first.click()
    timeline = page.locator("ol.timeline li")
    expect(timeline.first).to_be_visible()
    joined = " | ".join(timeline.all_inner_texts())
    for earlier, later in [("提交申报", "形式审查通过"), ("形式审查通过", "开始公示"), ("开始公示", "公示期满"),
                           ("公示期满", "批准"), ("批准", "第1期拨付"), ("第1期拨付", "第2期待拨付")]:  # fmt: skip
        assert joined.index(earlier) < joined.index(later), joined
    paid = page.locator("ol.timeline li", has_text="第1期拨付")
    expect(paid).to_contain_text("120万元")
    expect(paid).to_contain_text("拨付凭证号")
    expect(page.locator("ol.timeline li", has_text="第2期待拨付")).to_contain_text("待办")
    expect(page.locator("ol.timeline li", has_text="公示期满")).to_contain_text("个工作日")
    expect(page.locator("ol.timeline li", has_text="绩效报告截止").first).to_be_visible()
    shot(page, "desk-application-timeline")
    page.set_viewport_size({"width": 375, "height": 812})
    no_horizontal_scroll(page)
    shot(page, "desk-application-timeline-phone")
