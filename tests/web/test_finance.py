"""The finance desk in a browser: the instalments due with their total, the payment orders exported for a bank
or treasury system (Excel opened with openpyxl: headers, frozen header, filter, number format, exact 元; the
same columns as CSV with a BOM), an instalment marked paid with its bank reference, a second payment and a
payment out of order refused in Chinese, and an entity's ledger with its totals, exported too.

The module approves its own firms' applications in the live server's database (the demo's payment that other
tests read is left alone).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from huiqi import beijing
from platform_fixtures import TEST_PASSWORD, make_uscc

from .conftest import Site, no_horizontal_scroll, shot

USER = "web-finance-desk"
FIRMS = ["财政测试甲软件有限公司", "财政测试乙软件有限公司", "财政测试丙软件有限公司"]
HEADERS = ["付款单号", "批次", "收款单位", "统一社会信用代码", "分期", "金额（元）", "用途/摘要", "应付日期"]
USCC_YI = make_uscc(6202)
ODD_FEN = 123_456_789  # 1,234,567.89元 approved to 乙: split 50/30/20 to the fen by largest remainder


@dataclass
class World:
    call_title: str
    entities: list[int]  # 甲, 乙, 丙
    payments: dict[int, list[int]]  # entity → its instalments' payment ids, in order
    approved_on: dt.date


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    from sqlalchemy import select

    from huiqi.store.models import Application, Award, Call, Payment
    from huiqi.workflow.applications import pass_check
    from huiqi.workflow.awards import approve, pay
    from huiqi.workflow.lifecycle import check, move
    from huiqi.workflow.publicity import start_publicity
    from platform_fixtures import FINANCE, OFFICIAL, add_call, add_firm, add_user, submit_application

    state = site.app.state
    database, policy = state.database, state.policy
    title = "网页财政测试·分期拨付批次"
    call_id = add_call(database, policy, title=title, publicity_days=5, budget="1000万元", instalments=[50, 30, 20])
    entities = [add_firm(database, policy, 6201 + n, name=name) for n, name in enumerate(FIRMS)]
    ids = [submit_application(database, policy, call_id, entity) for entity in entities]
    with database.transaction() as session:
        for application_id, amount in zip(ids, (None, ODD_FEN, None), strict=True):
            application = session.get_one(Application, application_id)
            pass_check(session, application=application, actor=OFFICIAL)
            _call, transition = check(session, application, "propose", OFFICIAL)
            fen = amount or application.requested_fen
            move(session, application, transition, actor=OFFICIAL, approved_fen=fen,
                 rules=[{**r, "approved_fen": fen} for r in application.rules])  # fmt: skip
        start_publicity(session, call=session.get_one(Call, call_id), actor=OFFICIAL,
                        starts_on=beijing.today() - dt.timedelta(days=20), calendar=state.calendar,
                        channel="网页财政测试网站")  # fmt: skip
    with database.transaction() as session:
        for application_id in ids:
            approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
    payments: dict[int, list[int]] = {}
    with database.sessions() as session:
        for entity, application_id in zip(entities, ids, strict=True):
            query = select(Payment.id).where(Payment.application_id == application_id).order_by(Payment.instalment)
            payments[entity] = list(session.scalars(query))
        award = session.scalars(select(Award).where(Award.application_id == ids[0])).one()
        approved_on = beijing.day_of(award.approved_at)
    with database.transaction() as session:  # 丙's first instalment was paid already (its ledger)
        pay(session, payment_id=payments[entities[2]][0], actor=FINANCE, reference="FIXTURE-0001")
    add_user(database, USER, "finance")
    yield World(title, entities, payments, approved_on)


def _sign_in(page: Page, site: Site) -> None:
    page.goto(site.base_url + "/login")
    page.get_by_label("用户名").fill(USER)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(site.base_url + "/desk/finance")


def _number(payment_id: int) -> str:
    return f"HQ-FK-{payment_id:06d}"


def _due_total(site: Site) -> int:
    from sqlalchemy import func, select

    from huiqi.store.models import Payment

    with site.app.state.database.sessions() as session:
        return int(session.scalar(select(func.sum(Payment.amount_fen)).where(Payment.status == "scheduled")) or 0)


def test_the_desk_lists_the_instalments_due_and_exports_the_payment_orders(
    page: Page, site: Site, world: World, tmp_path: Path
) -> None:
    from huiqi.web.formatting import money

    jia, yi, _bing = world.entities
    _sign_in(page, site)
    first = page.locator(f"#payment-{world.payments[yi][0]}")
    expect(first).to_contain_text(FIRMS[1])
    expect(first).to_contain_text(USCC_YI)
    expect(first).to_contain_text("第1期/共3期占奖励的50%")
    expect(first).to_contain_text("617,283.94元")  # 50% of 1,234,567.89元 to the fen
    expect(first).to_contain_text(f"{world.approved_on.year}年{world.approved_on.month}月{world.approved_on.day}日")
    expect(page.locator(f"#payment-{world.payments[yi][1]}")).to_contain_text("370,370.37元")
    expect(page.locator(f"#payment-{world.payments[yi][1]}")).to_contain_text("待上一期拨付")
    expect(page.locator(f"#payment-{world.payments[jia][0]}")).to_contain_text("100万元")
    expect(page.locator("strong.due-total")).to_have_text(money(_due_total(site)))
    shot(page, "finance-desk")

    with page.expect_download() as download:
        page.get_by_role("link", name="导出付款指令（Excel）").click()
    assert download.value.suggested_filename.startswith("待拨付付款指令-")
    assert download.value.suggested_filename.endswith(".xlsx")
    target = tmp_path / "orders.xlsx"
    download.value.save_as(target)
    book = load_workbook(target)
    assert book.sheetnames == ["说明", "付款指令"]
    notes = "\n".join(str(row[0]) for row in book["说明"].iter_rows(values_only=True) if row[0])
    assert "收款账户（开户银行、银行账号、账户名称）不在本系统的登记簿中" in notes
    sheet = book["付款指令"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:H{sheet.max_row}"
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert len(rows) == sheet.max_row - 1
    order = rows[_number(world.payments[yi][0])]
    assert [c.value for c in order[1:5]] == [world.call_title, FIRMS[1], USCC_YI, "1/3"]
    amount = order[5]
    assert Decimal(str(amount.value)) == Decimal("617283.94") and amount.number_format == "#,##0.00"
    assert "营业收入首次达到1亿元、5亿元、10亿元进档补差奖励" in order[6].value
    assert "依据：苏州软件产业集群政策措施第3条" in order[6].value
    assert order[7].value.date() == world.approved_on and order[7].number_format == "yyyy-mm-dd"
    later = rows[_number(world.payments[yi][2])]
    assert Decimal(str(later[5].value)) == Decimal("246913.58") and later[7].value is None
    assert Decimal(str(rows[_number(world.payments[jia][0])][5].value)) == Decimal("1000000.00")
    total = sum(Decimal(str(row[5].value)) for row in rows.values())
    assert total == Decimal(_due_total(site)) / 100
    assert _number(world.payments[world.entities[2]][0]) not in rows  # paid: not an order any more

    with page.expect_download() as download:
        page.get_by_role("link", name="导出付款指令（CSV）").click()
    assert download.value.suggested_filename.endswith(".csv")
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == HEADERS
    lines = {line[0]: line for line in table[1:]}
    assert lines[_number(world.payments[yi][0])] == [
        _number(world.payments[yi][0]), world.call_title, FIRMS[1], USCC_YI, "1/3", "617283.94",
        order[6].value, world.approved_on.isoformat()]  # fmt: skip
    assert lines[_number(world.payments[yi][2])][5:] == ["246913.58", later[6].value, ""]
    assert set(lines) == set(rows)


def test_an_instalment_is_marked_paid_once_and_in_order(page: Page, site: Site, world: World) -> None:
    from huiqi.store.models import Payment

    jia = world.entities[0]
    first, second, third = world.payments[jia]
    _sign_in(page, site)
    stale = page.context.new_page()  # the desk, open in a second tab before the payment
    stale.goto(site.base_url + "/desk/finance")

    # no reference: said beside the field
    page.locator(f"#payment-{first}").get_by_role("button", name="标记已拨付").click()
    expect(page.locator(f"#reference-{first}-error")).to_have_text("请填写银行流水号（拨付凭证号）后再标记已拨付")
    expect(page.locator(f"#reference-{first}")).to_have_attribute("aria-invalid", "true")
    # the third before the second: refused by the workflow, beside that field
    page.locator(f"#reference-{third}").fill("BANK-OUT-OF-ORDER")
    page.locator(f"#payment-{third}").get_by_role("button", name="标记已拨付").click()
    expect(page.locator(f"#reference-{third}-error")).to_have_text("请先拨付第1期，再拨付第3期")
    expect(page.locator(f"#reference-{third}")).to_have_value("BANK-OUT-OF-ORDER")

    page.locator(f"#reference-{first}").fill("  BANK-20240001  ")
    page.locator(f"#payment-{first}").get_by_role("button", name="标记已拨付").click()
    expect(page.locator("p.note[role=status]")).to_have_text(
        f"已登记拨付：付款单 {_number(first)}，流水号 BANK-20240001。"
    )
    expect(page.locator(f"#payment-{first}")).to_have_count(0)
    # payable from the day the first was paid, on Beijing's calendar (a day ahead of UTC from 16:00 UTC)

    today = beijing.today()
    expect(page.locator(f"#payment-{second}")).to_contain_text(f"{today.year}年{today.month}月{today.day}日")

    # the stale tab pays the same instalment again: refused, said on the page, nothing changed
    stale.locator(f"#reference-{first}").fill("BANK-20240002")
    with stale.expect_response(lambda r: r.request.method == "POST") as posted:
        stale.locator(f"#payment-{first}").get_by_role("button", name="标记已拨付").click()
    assert posted.value.status == 409
    expect(stale.locator("p.ef-refusal")).to_have_text(
        f"付款单 {_number(first)}：第1期已拨付（或已取消），不能重复拨付"
    )
    shot(stale, "finance-double-payment")
    stale.close()
    with site.app.state.database.sessions() as session:
        payment = session.get_one(Payment, first)
        assert (payment.status, payment.reference) == ("paid", "BANK-20240001")
        assert session.get_one(Payment, third).status == "scheduled"


def test_an_entitys_ledger_with_its_totals_and_its_export(page: Page, site: Site, world: World, tmp_path: Path) -> None:
    bing = world.entities[2]
    _paid, *outstanding = world.payments[bing]
    _sign_in(page, site)
    page.locator(f"#payment-{outstanding[0]}").get_by_role("link", name=FIRMS[2]).click()
    expect(page).to_have_url(f"{site.base_url}/desk/finance/entities/{bing}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"资金台账：{FIRMS[2]}")
    expect(page.locator("dd.ledger-paid")).to_have_text("100万元")
    expect(page.locator("dd.ledger-outstanding")).to_have_text("100万元")
    expect(page.locator("table.ledger-awards tfoot")).to_contain_text("200万元")
    rows = page.locator("table.ledger-payments tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("已拨付")
    expect(rows.nth(0)).to_contain_text("FIXTURE-0001")
    expect(rows.nth(1)).to_contain_text("待拨付")
    expect(rows.nth(1)).to_contain_text("60万元")
    shot(page, "finance-ledger")

    with page.expect_download() as download:
        page.get_by_role("link", name="导出台账（Excel）").click()
    target = tmp_path / "ledger.xlsx"
    download.value.save_as(target)
    book = load_workbook(target)
    assert book.sheetnames == ["说明", "奖励", "拨付"]
    awards = book["奖励"]
    assert awards.freeze_panes == "A2" and awards.auto_filter.ref == "A1:I2"
    [award] = awards.iter_rows(min_row=2, values_only=True)
    assert [Decimal(str(v)) for v in award[5:8]] == [Decimal("2000000"), Decimal("1000000"), Decimal("1000000")]
    payments = book["拨付"]
    lines = list(payments.iter_rows(min_row=2, values_only=True))
    assert [line[0] for line in lines] == [_number(p) for p in world.payments[bing]]
    assert [line[4] for line in lines] == ["已拨付", "待拨付", "待拨付"]
    assert lines[0][7] == "FIXTURE-0001" and Decimal(str(lines[1][3])) == Decimal("600000")

    response = page.goto(f"{site.base_url}/desk/finance/entities/2147483647")
    assert response is not None and response.status == 404


def test_only_finance_may_use_the_desk(page: Page, site: Site, world: World) -> None:
    from huiqi.workflow.demo import DEMO_PASSWORD

    page.goto(site.base_url + "/login")
    page.get_by_label("用户名").fill("expert1")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(site.base_url + "/desk/expert")
    for path in ("/desk/finance", "/desk/finance/payments.xlsx", f"/desk/finance/entities/{world.entities[0]}"):
        response = page.request.get(site.base_url + path)
        assert response.status == 403, path
    token = str(page.locator("input[name=csrf_token]").first.get_attribute("value"))
    posted = page.request.post(f"{site.base_url}/desk/finance/payments/{world.payments[world.entities[1]][0]}/pay",
                               form={"csrf_token": token, "reference": "NOT-FINANCE"})  # fmt: skip
    assert posted.status == 403


def test_the_desk_on_a_phone(phone: Page, site: Site, world: World) -> None:
    _sign_in(phone, site)
    row = phone.locator(f"#payment-{world.payments[world.entities[1]][0]}")
    expect(row).to_contain_text("617,283.94元")
    expect(row.get_by_label("银行流水号")).to_be_visible()
    no_horizontal_scroll(phone)
    shot(phone, "finance-desk-phone")


def test_a_part_due_in_a_later_year_is_listed_but_not_exported(page: Page, site: Site, world: World) -> None:
    """分年拨付: an instalment whose budget year has not come stays on the desk (its due date the 1st of January of
    that year) and is left out of the payment orders sent to the bank until then."""
    from sqlalchemy import update

    from huiqi.store.models import Payment

    later = world.payments[world.entities[1]][0]
    next_year = beijing.today().year + 1  # the budget year after Beijing's current one
    database = site.app.state.database
    with database.transaction() as session:
        session.execute(update(Payment).where(Payment.id == later).values(due_year=next_year, waits_on="仍在本市注册"))
    try:
        _sign_in(page, site)
        row = page.locator(f"#payment-{later}")
        expect(row).to_contain_text(f"{next_year}年1月1日")
        expect(row).to_contain_text(f"{next_year}年度")
        expect(row).to_contain_text("须满足：仍在本市注册")
        body = page.request.get(site.base_url + "/desk/finance/payments.csv").body().decode("utf-8-sig")
        assert _number(later) not in body
        assert body.count("HQ-FK-") >= 1  # the parts due now are still exported
    finally:
        with database.transaction() as session:
            session.execute(update(Payment).where(Payment.id == later).values(due_year=None, waits_on=None))
