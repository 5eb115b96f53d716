"""政策计算器 in a real browser: a Suzhou software firm's session to a result, its PDF, a bad answer refused
beside the field, and the same on a phone; the region list reaches every document."""

from __future__ import annotations

import subprocess
from pathlib import Path

from playwright.sync_api import Page

from huiqi.web.calculator import REGIONS
from huiqi.workflow.policy import policy_engine

from .conftest import ARTIFACTS, Site, no_horizontal_scroll, shot

#: The example firm's answers (examples/profiles/suzhou-software-firm.yaml); money typed with the unit select.
FIRM = {"registered_city": "苏州市", "main_business_software": "是", "in_miit_software_statistics": "是",
        "social_insurance_staff": "56", "revenue@2023": ("13500", "万元"), "revenue@2022": ("4800", "万元"),
        "paid_in_capital": ("1200", "万元"), "settled_on": "2022-03-15", "is_industrial_software_enterprise": "是",
        "newly_introduced_independent_entity": "是", "newly_established_in_suzhou": "是",
        "in_suzhou_key_software_pool": "是", "operating_stably": "是"}  # fmt: skip


def test_every_document_is_reachable_from_a_region() -> None:
    places = {place for _, path in REGIONS for place in path}
    for document in policy_engine().base.documents.values():
        assert document.policy.document.jurisdiction.region in places


def _answer(page: Page, key: str) -> None:
    value = FIRM.get(key)
    if value is None:
        page.get_by_role("button", name="不清楚").click()
        return
    if isinstance(value, tuple):
        page.locator("#answer").fill(value[0])
        page.locator("#unit").select_option(value[1])
    elif page.locator("#answer").count():
        page.locator("#answer").fill(value)
    else:
        page.get_by_label(value, exact=True).check()
    page.get_by_role("button", name="下一题").click()


def _key(page: Page) -> str:
    return page.locator("input[name=q]").get_attribute("value") or ""


def test_a_suzhou_software_firm_gets_its_result_and_pdf(page: Page, site: Site, tmp_path: Path) -> None:
    page.goto(f"{site.base_url}/calculator")
    page.get_by_label("主体类型").select_option("enterprise")
    page.get_by_label("所在地区").select_option("江苏省 苏州市")
    page.get_by_label("评价日").fill("2024-06-30")
    page.get_by_role("button", name="开始").click()
    assert "为什么问：决定：《苏州市" in page.locator(".why").inner_text()
    shot(page, "calculator-first-question")
    # a wrong answer is refused beside the field, in Chinese, and what was typed stays
    assert _key(page) == "registered_city"
    _answer(page, "registered_city")
    page.locator("input[name=q][value='registered_city']").wait_for(state="detached")
    asked = ["registered_city"]
    for _ in range(30):
        if page.locator("input[name=q]").count() == 0:
            break
        key = _key(page)
        if key == "social_insurance_staff" and "bad" not in asked:
            page.locator("#answer").fill("很多人")
            page.get_by_role("button", name="下一题").click()
            error = page.locator("#q-error")
            error.wait_for()
            assert "应为数值" in error.inner_text()
            assert page.locator("#answer").input_value() == "很多人"
            shot(page, "calculator-bad-answer")
            asked.append("bad")
        _answer(page, key)
        page.locator(f"input[name=q][value='{key}']").wait_for(state="detached")
        asked.append(key)
    assert page.locator(".done").count() == 1, asked
    totals = page.locator(".totals").inner_text()
    assert "确定金额" in totals and "最高可达" in totals and "不是确定可得的金额" in totals
    assert "新设软件企业规模奖励" in page.locator(".calc-results").inner_text()
    shot(page, "calculator-result")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 PDF").click()
    pdf = tmp_path / "result.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)
    pdftoppm = ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / "calculator-pdf")]
    subprocess.run(pdftoppm, check=True)  # noqa: S603 - fixed arguments, Debian's poppler-utils
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S603, S607
    assert "政策计算结果" in text and "最高可达" in text


def test_the_calculator_on_a_phone(phone: Page, site: Site) -> None:
    phone.goto(f"{site.base_url}/calculator/session?entity_type=enterprise&region=江苏省 苏州市&as_of=2024-06-30"
               "&a.registered_city=苏州市&a.main_business_software=是")  # fmt: skip
    assert phone.locator(".why").is_visible()
    phone.get_by_role("button", name="不清楚").click()
    phone.locator(".answer-list").get_by_text("不清楚").wait_for()
    no_horizontal_scroll(phone)
    shot(phone, "calculator-phone")
