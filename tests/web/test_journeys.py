"""What a person does in a browser: search the policy library and read a provision; read the 公示 and
download it; the same on a phone; bad input refused next to the field; nothing loaded from outside."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

from playwright.sync_api import Page, expect

from .conftest import Site, no_horizontal_scroll, shot

PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"  # poppler-utils


def test_search_a_policy_and_read_a_provision(page: Page, site: Site) -> None:
    page.goto(site.base_url + "/")
    expect(page).to_have_title(re.compile("政策库"))
    expect(page.get_by_role("link", name="打开政策计算器")).to_be_visible()  # the first screen: library + calculator
    shot(page, "library", full_page=False)
    page.get_by_label("搜索标题和条款").fill("首版次")
    page.get_by_label("搜索标题和条款").press("Enter")
    hits = page.locator("ol.hits li")
    expect(hits.first).to_contain_text("首版次")
    expect(page.locator("ol.hits mark").first).to_have_text("首版次")
    shot(page, "search-首版次")
    page.get_by_role("link", name=re.compile("广州.*二.9")).click()
    panel = page.locator("#rule-panel")
    expect(panel).to_contain_text("首版次软件产品项目奖励")
    expect(panel).to_contain_text("这是最高可达的上限，不是确定可得的金额")  # 不超过300万元 is a ceiling
    expect(panel).to_contain_text("牵头单位")
    expect(panel.get_by_role("link", name=re.compile("policy.yaml"))).to_be_visible()
    expect(page.locator('a.prov[aria-current="true"]')).to_have_attribute("data-provision", "二.9")
    shot(page, "document-二.9", full_page=False)
    # keyboard: move to another provision and press Enter; htmx swaps the panel and focus lands on it
    other = page.locator('a.prov[data-provision="二.5"]')
    other.focus()
    page.keyboard.press("Enter")
    expect(panel).to_contain_text("进档补差")
    expect(page).to_have_url(re.compile(r"provision=%E4%BA%8C\.5|provision=二\.5"))
    expect(page.locator("#rule-panel h2")).to_be_focused()
    expect(page.locator('a.prov[aria-current="true"]')).to_have_attribute("data-provision", "二.5")
    response = page.request.get(site.base_url + "/policies/guangzhou-software/policy.yaml")
    assert response.ok and "首版次" in response.text() and response.headers["content-type"].startswith("text/plain")


def test_a_one_character_search_is_refused_next_to_the_field_and_kept(page: Page, site: Site) -> None:
    page.goto(site.base_url + "/")
    page.get_by_label("搜索标题和条款").fill("人")
    page.get_by_role("button", name="查询").click()
    error = page.locator("#q-error")
    expect(error).to_contain_text("只有1个字")
    expect(page.get_by_label("搜索标题和条款")).to_have_value("人")
    expect(page.get_by_label("搜索标题和条款")).to_have_attribute("aria-invalid", "true")
    # the message sits right under its field
    box, field = error.bounding_box(), page.get_by_label("搜索标题和条款").bounding_box()
    assert box and field and 0 <= box["y"] - (field["y"] + field["height"]) < 30
    shot(page, "search-refused")


def test_filters_by_status_region_and_beneficiary(page: Page, site: Site) -> None:
    page.goto(site.base_url + "/")
    page.get_by_label("文件状态").select_option("已失效")
    page.get_by_role("button", name="查询").click()
    items = page.locator("li.doc-item")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("浙江")  # Zhejiang's programme ran to 2018-12-31
    page.get_by_label("文件状态").select_option("")
    page.get_by_label("适用地区").select_option("苏州市")
    page.get_by_label("支持对象").select_option("talent")
    page.get_by_role("button", name="查询").click()
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("苏州")


def test_the_publicity_page_and_its_downloads(page: Page, site: Site) -> None:
    page.goto(site.base_url + "/publicity")
    section = page.locator(f"#call-{site.call_id}").locator("xpath=..")
    for name in site.firm_names:
        expect(section).to_contain_text(name)
    expect(section).to_contain_text(re.compile(r"公示期\d{4}年\d{1,2}月\d{1,2}日至\d{4}年\d{1,2}月\d{1,2}日"))
    expect(section.locator("td.num").first).to_have_text(re.compile(r"^[\d,]+(\.\d{2})?万元$|^[\d,]+(\.\d{2})?元$"))
    expect(page.get_by_role("heading", name="如何提出异议")).to_be_visible()
    expect(page.locator("main")).to_contain_text("身份证号码")
    shot(page, "publicity")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载名单（CSV）").click()
    raw = download_info.value.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV 应带 BOM（Excel 才能正确显示中文）"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    ours = [r for r in rows if r["批次编号"] == str(site.call_id)]
    assert [r["申报主体"] for r in ours] == site.firm_names or sorted(r["申报主体"] for r in ours) == sorted(
        site.firm_names
    )
    assert all(re.fullmatch(r"\d+\.\d{2}", r["拟支持金额（元）"]) for r in ours)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载名单（JSON）").click()
    data = json.loads(download_info.value.path().read_text(encoding="utf-8"))
    assert {r["name"] for item in data["lists"] for r in item["rows"]} >= set(site.firm_names)
    api = page.request.get(site.base_url + "/api/v1/publicity")  # no sign-in: the same lists from the API
    assert api.ok and api.json() == data["lists"]
    pdf = page.request.get(f"{site.base_url}/publicity/{site.call_id}/notice.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    text = subprocess.run([PDFTOTEXT, "-", "-"], input=pdf.body(), capture_output=True, check=True).stdout.decode()  # noqa: S603
    text = re.sub(r"\s", "", text)
    assert "拟支持名单的公示" in text and site.firm_names[0] in text and "身份证号码" in text  # Chinese, not boxes
    page.goto(f"{site.base_url}/publicity/{site.call_id}/notice")
    expect(page.get_by_role("heading", level=1)).to_contain_text("公示")
    shot(page, "publicity-notice")


def test_on_a_phone(phone: Page, site: Site) -> None:
    phone.goto(site.base_url + "/?q=人才")
    expect(phone.locator("ol.hits li").first).to_be_visible()
    no_horizontal_scroll(phone)
    shot(phone, "phone-search-人才", full_page=False)
    phone.locator("ol.hits a").first.click()
    expect(phone.locator("#rule-panel h2")).to_contain_text("条")
    no_horizontal_scroll(phone)
    shot(phone, "phone-document", full_page=False)
    phone.goto(site.base_url + "/publicity")
    expect(phone.locator("main")).to_contain_text(site.firm_names[0])
    no_horizontal_scroll(phone)
    shot(phone, "phone-publicity")
    expect(phone.get_by_role("navigation", name="主导航").get_by_role("link", name="公示")).to_be_visible()


def test_the_api_docs_work_offline(page: Page, site: Site) -> None:
    page.goto(site.base_url + "/api/v1/docs")
    expect(page.locator(".swagger-ui .title").first).to_contain_text("惠企")
    shot(page, "api-docs", full_page=False)


def test_unknown_documents_and_provisions_say_so_in_chinese(page: Page, site: Site) -> None:
    response = page.goto(site.base_url + "/policies/no-such-document")
    assert response is not None and response.status == 404
    expect(page.locator("main")).to_contain_text("政策库中没有编号为“no-such-document”的文件")
    response = page.goto(site.base_url + "/policies/guangzhou-software?provision=99")
    assert response is not None and response.status == 404
    expect(page.locator("main")).to_contain_text("没有编号为“99”的条款")


def test_a_page_that_does_not_exist_says_so_in_chinese(page: Page, site: Site) -> None:
    for path in ("/nowhere", "/publicity/not-a-number/notice"):
        response = page.goto(site.base_url + path)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("没有这个页面")
        expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
    api = page.request.get(site.base_url + "/api/v1/nowhere")  # the API keeps answering JSON
    assert api.status == 404 and api.json()["code"]
