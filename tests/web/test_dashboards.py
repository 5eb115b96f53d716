"""统计看板 in chromium: the demo official sees a call's budget and award distributions as tables and drawn
charts (Chinese text, 万元), downloads a table as Excel and the file is well-formed and exact; other roles are
refused, anyone not signed in is sent to sign in, a bad call number is said next to the field."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from sqlalchemy import select

from huiqi.population.labels import wan
from huiqi.store.entities import create_entity, record_fact
from huiqi.store.models import Application, Payment
from huiqi.web.formatting import money
from huiqi.workflow.awards import approve, pay
from platform_fixtures import FINANCE, OFFICIAL, SUZHOU_FACTS, add_call, make_uscc, propose_all

from .conftest import Site, no_horizontal_scroll, shot
from .test_signin import sign_in

WAN = 1_000_000  # fen
CHARTS = ("budget", "provisions", "districts", "industries", "sizes", "months")


@dataclass
class Board:
    call_id: int
    title: str


@pytest.fixture(scope="module")
def board(site: Site) -> Board:
    """A call of this module's own (1000万元, 60/40): three Suzhou firms in two districts approved in two
    months — 200万, 300万 and 200万元 — and the first one's first instalment (120万元) paid."""
    database, policy = site.app.state.database, site.app.state.policy
    firms = []
    for n, (district, revenue, industry) in enumerate([("姑苏区", ("4800万元", "1.35亿元"), "软件开发"),
                                                        ("工业园区", ("3.8亿元", "5.6亿元"), "工业软件"),
                                                        ("工业园区", ("9000万元", "1.2亿元"), "软件开发")]):  # fmt: skip
        with database.transaction() as session:
            entity = create_entity(session, entity_type="enterprise", name=f"看板测试{district}软件{n}有限公司",
                                   uscc=make_uscc(6_420_000 + n), region=["江苏省", "苏州市", district])  # fmt: skip
            facts = [*SUZHOU_FACTS.items(), ("industry", industry)]
            for key, value, year in [(k, v, None) for k, v in facts] + [("revenue", revenue[0], 2022),
                                                                          ("revenue", revenue[1], 2023)]:  # fmt: skip
                record_fact(session, entity=entity, key=key, value=value, year=year, provenance="verified",
                            recorded_by="official1", catalogue=policy.base.catalogue)  # fmt: skip
            firms.append(entity.id)
    title = "2024年苏州市软件产业规模奖励（统计看板测试）"
    call_id = add_call(database, policy, title=title, budget="1000万元", instalments=[60, 40])
    applications = propose_all(database, policy, call_id, firms)
    for application_id, moment in zip(applications, ("2024-05-20", "2024-05-21", "2024-07-02"), strict=True):
        with database.transaction() as session:
            approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL,
                    now=dt.datetime.fromisoformat(f"{moment}T02:00:00+00:00"))  # fmt: skip
    with database.transaction() as session:
        first = session.scalars(
            select(Payment).where(Payment.application_id == applications[0], Payment.instalment == 1)
        ).one()
        pay(session, payment_id=first.id, actor=FINANCE, reference="KB-1")
    return Board(call_id, title)


def painted(page: Page, name: str) -> int:
    """How many pixels of the chart's canvas are painted (0: an empty canvas)."""
    count: int = page.evaluate(
        """(name) => {
            const canvas = document.querySelector(`#chart-${name} canvas`);
            if (!canvas || !canvas.width || !canvas.height) return 0;
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
            return painted;
        }""",
        name,
    )
    return count


def chart_font(page: Page, name: str) -> str:
    """The font family the chart draws its text with."""
    font: str = page.evaluate(
        """(name) => {
            const option = echarts.getInstanceByDom(document.querySelector(`#chart-${name}`)).getOption();
            return (Array.isArray(option.textStyle) ? option.textStyle[0] : option.textStyle).fontFamily;
        }""",
        name,
    )
    return font


def test_the_official_sees_the_charts_and_downloads_exact_excel(page: Page, site: Site, board: Board) -> None:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if _csp(m) else None)
    sign_in(page, site, "official")
    expect(page).to_have_url(site.base_url + "/desk/official")
    page.goto(f"{site.base_url}/dashboards?call={board.call_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("统计看板")
    expect(page.get_by_label("批次", exact=True)).to_have_value(str(board.call_id))
    budget = page.locator("#table-budget tbody tr")
    expect(budget).to_have_count(1)
    expect(budget).to_contain_text(board.title)
    for cell, fen in zip(budget.locator("td.num").all()[:4], (1000 * WAN, 120 * WAN, 580 * WAN, 300 * WAN),
                         strict=True):  # fmt: skip
        expect(cell).to_have_text(money(fen))
    expect(page.locator("#table-districts tbody tr").first).to_contain_text("苏州市工业园区")
    expect(page.locator("#table-districts tbody tr").first).to_contain_text(money(500 * WAN))
    expect(page.locator("#table-industries")).to_contain_text("工业软件")
    expect(page.locator("#table-sizes")).to_contain_text("1亿元–10亿元")
    expect(page.locator("#table-months tbody tr")).to_have_count(3)  # May, June (none), July
    expect(page.locator("#table-months tbody tr").nth(1)).to_contain_text("2024年6月")
    expect(page.locator(".dash-chart[data-rendered=true]")).to_have_count(len(CHARTS))
    for name in CHARTS:
        assert painted(page, name) > 2000, f"图表 {name} 是空的"
        assert "Noto Sans CJK SC" in chart_font(page, name)  # the page's CJK font stack, not the canvas default
    shot(page, "dashboards")
    assert not refused, f"内容安全策略拒绝了：{refused}"

    with page.expect_download() as download_info:
        page.locator("#budget-title + a", has_text="导出 Excel").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx") and "预算执行" in download.suggested_filename
    workbook = openpyxl.load_workbook(io.BytesIO(download.path().read_bytes()))
    assert workbook.sheetnames == ["说明", "预算执行"]
    assert any(board.title in str(row[0]) for row in workbook["说明"].iter_rows(values_only=True))
    sheet = workbook["预算执行"]
    header = [c.value for c in sheet[1]]
    assert header == ["批次编号", "批次", "预算（万元）", "已拨付（万元）", "已批准未拨付（万元）", "剩余可批准（万元）",
                      "获奖项数（项）"]  # fmt: skip
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G2"
    row = list(sheet[2])
    assert [row[0].value, row[1].value, row[6].value] == [board.call_id, board.title, 3]
    for cell, fen in zip(row[2:6], (1000 * WAN, 120 * WAN, 580 * WAN, 300 * WAN), strict=True):
        assert cell.number_format == "#,##0.00"
        assert Decimal(str(cell.value)) == wan(fen)


def test_the_whole_board_as_one_workbook(page: Page, site: Site, board: Board) -> None:
    sign_in(page, site, "official")
    expect(page).to_have_url(site.base_url + "/desk/official")
    response = page.request.get(f"{site.base_url}/dashboards/all.xlsx?call={board.call_id}")
    assert response.status == 200 and response.headers["cache-control"] == "no-store"
    workbook = openpyxl.load_workbook(io.BytesIO(response.body()))
    assert workbook.sheetnames == ["说明", "预算执行", "按条款", "按区县", "按行业", "按规模", "按月份"]
    months = [[c.value for c in row] for row in workbook["按月份"].iter_rows(min_row=2)]
    assert [(m, n, Decimal(str(a))) for m, n, a in months] == [
        ("2024年5月", 2, wan(500 * WAN)), ("2024年6月", 0, Decimal(0)), ("2024年7月", 1, wan(200 * WAN))]  # fmt: skip
    districts = {row[0].value: row[3] for row in workbook["按区县"].iter_rows(min_row=2)}
    assert Decimal(str(districts["苏州市工业园区"].value)) == wan(500 * WAN)
    assert districts["苏州市工业园区"].number_format == "#,##0.00"


def test_who_may_see_the_board(page: Page, site: Site, board: Board) -> None:
    anonymous = page.request.get(site.base_url + "/dashboards", max_redirects=0)
    assert anonymous.status == 303 and anonymous.headers["location"] == "/login?next=/dashboards"
    sign_in(page, site, "suzhou-c")
    expect(page).to_have_url(site.base_url + "/desk/applicant")
    page.goto(site.base_url + "/dashboards")
    expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")
    expect(page.locator("main")).to_contain_text("此操作仅限主管部门")
    assert page.request.get(site.base_url + "/dashboards/budget.xlsx").status == 403
    page.context.clear_cookies()
    sign_in(page, site, "finance")
    expect(page).to_have_url(site.base_url + "/desk/finance")
    page.goto(site.base_url + "/dashboards?call=abc")
    error = page.locator("#call-error")
    expect(error).to_contain_text("批次编号应为正整数")
    page.goto(site.base_url + "/dashboards?call=" + "9" * 60)
    expect(error).to_contain_text("没有编号为 99999999999999999999… 的申报批次")
    expect(page.get_by_label("批次", exact=True)).to_have_attribute("aria-invalid", "true")
    page.goto(site.base_url + "/dashboards?call=2147480000")
    expect(error).to_contain_text("没有编号为 2147480000 的申报批次")
    expect(page.locator("#table-budget tbody tr").first).to_be_visible()  # the whole board is still shown


def test_all_calls_on_a_phone_from_the_navigation(phone: Page, site: Site, board: Board) -> None:
    sign_in(phone, site, "official")
    expect(phone).to_have_url(site.base_url + "/desk/official")
    phone.get_by_role("navigation", name="主导航").get_by_role("link", name="统计").click()
    expect(phone).to_have_url(site.base_url + "/dashboards")
    expect(phone.get_by_label("批次", exact=True)).to_have_value("")
    expect(phone.locator("#table-budget")).to_contain_text(board.title)  # every call, the demo's too
    expect(phone.locator("#table-budget")).to_contain_text("（演示：已批准、拨付中）")
    expect(phone.locator(".dash-chart[data-rendered=true]")).to_have_count(len(CHARTS))
    assert painted(phone, "budget") > 2000
    no_horizontal_scroll(phone)
    shot(phone, "dashboards-phone")


def _csp(message: ConsoleMessage) -> bool:
    return "Content Security Policy" in message.text
