"""模拟测算 in a browser, as an analyst: upload a GBK registry with Chinese headers and read the results and
the charts; a reform lowering a threshold shows the difference; the Excel download opens; a malformed file
is said with its line and column; another user's job is 未找到. Registries are small (a few seconds each)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import LAPTOP, Site, no_horizontal_scroll, shot
from .test_signin import sign_in

REGISTRY = Path(__file__).parents[2] / "examples" / "registry"


@pytest.fixture
def gbk_files(tmp_path: Path) -> tuple[Path, Path]:
    """The example registry (Chinese headers with units such as 实缴注册资本（万元）) saved as GBK, as Excel on a
    Chinese Windows saves CSV."""
    entities, history = tmp_path / "企业名册.csv", tmp_path / "年度数据.csv"
    for source, target in ((REGISTRY / "企业.csv", entities), (REGISTRY / "年度.csv", history)):
        target.write_bytes(source.read_text(encoding="utf-8").encode("gbk"))
    return entities, history


def _finished(page: Page) -> None:
    """Wait for the job page to turn from progress into results (or a failure)."""
    expect(page.locator("h1")).not_to_contain_text("测算中", timeout=30_000)


def test_an_uploaded_gbk_registry_gives_tables_charts_and_an_excel(
    page: Page, site: Site, gbk_files: tuple[Path, Path]
) -> None:
    sign_in(page, site, "analyst")
    expect(page).to_have_url(site.base_url + "/simulate")  # the analyst lands on 模拟测算
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="模拟测算")).to_have_attribute(
        "aria-current", "page"
    )
    shot(page, "simulate-form")
    page.get_by_label("上传名册（CSV 或 Excel）").check()
    page.get_by_label("上传：主体表").set_input_files(str(gbk_files[0]))
    page.get_by_label("上传：年度表（可选）").set_input_files(str(gbk_files[1]))
    page.get_by_label("苏州软件产业集群政策措施").check()
    page.get_by_role("button", name="开始测算").click()
    expect(page).to_have_url(re.compile(r"/simulate/jobs/[\w-]+$"))
    _finished(page)
    main = page.locator("main")
    expect(page.locator("h1")).to_have_text("政策模拟：受益主体与资金需求")
    expect(main).to_contain_text("上传的名册 企业名册.csv、年度数据.csv（3 个主体）")
    by_document = page.locator("section", has=page.get_by_role("heading", name="按文件汇总", exact=True))
    expect(by_document.locator("tbody tr")).to_have_count(1)
    row = by_document.locator("tbody tr").first
    expect(row).to_contain_text("苏州软件产业集群政策措施")
    expect(row.locator("td").nth(8)).to_have_text("2")  # both firms need information (needs_information)
    charts = page.locator(".sim-charts img")
    expect(charts.first).to_be_visible()
    widths = charts.evaluate_all("images => images.map(i => i.complete ? i.naturalWidth : 0)")
    assert widths and all(w > 300 for w in widths), widths  # the engine's PNGs, served from the job's folder
    no_horizontal_scroll(page)
    shot(page, "simulate-upload-results")

    with page.expect_download() as info:
        page.get_by_role("link", name="全部汇总表（Excel）").click()
    download = info.value
    assert download.suggested_filename == "模拟测算-全部汇总表.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert workbook.sheetnames[:3] == ["说明", "按文件汇总", "按条款汇总"]
    sheet = workbook["按文件汇总"]
    assert sheet["A1"].value == "文件" and sheet["A2"].value == "suzhou-software-cluster"
    assert "上传的名册 企业名册.csv" in str(workbook["说明"]["A2"].value)  # no server folder in the notes

    with page.expect_download() as info:
        page.get_by_role("link", name="按条款汇总（CSV）").click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("document,provision,provision_label")


def test_a_reform_lowering_a_threshold_shows_the_difference(page: Page, site: Site) -> None:
    sign_in(page, site, "analyst")
    page.get_by_label("合成：主体数量").fill("1000")
    page.get_by_label("合成：随机种子").fill("1")
    page.get_by_label("改革方案", exact=True).check()
    page.get_by_label("要修改的规则").select_option("suzhou-software-cluster:2/new-firm")
    page.get_by_label("门槛：原数值").fill("2000万元")
    page.get_by_label("门槛：新数值").fill("800万元")
    page.get_by_role("button", name="开始测算").click()
    expect(page).to_have_url(re.compile(r"/simulate/jobs/[\w-]+$"))  # at once: the run goes on in the background
    progress = page.locator("#progress")  # two runs take seconds: the page first shows the stage and the time
    expect(progress.locator(".sim-stage")).not_to_be_empty()
    expect(progress).to_contain_text(re.compile(r"已用时 \d+ 秒"))
    expect(progress).to_have_attribute("hx-trigger", "every 1s")
    shot(page, "simulate-progress")
    _finished(page)  # htmx polls the fragment; when the job is done the page reloads with the results
    expect(page.locator("h1")).to_contain_text("改革模拟：苏州软件产业集群政策措施 第2条")
    expect(page.locator("main")).to_contain_text("替换 2000万元 → 800万元")
    by_provision = page.locator("section", has=page.get_by_role("heading", name="改革前后：按条款"))
    second = by_provision.locator("tbody tr").nth(1)
    cells = second.locator("td").all_inner_texts()
    assert cells[1].startswith("2."), cells
    before, after, delta, winners = int(cells[2]), int(cells[3]), cells[4], int(cells[5])
    assert after > before and winners == after - before, cells  # more firms reach the lower threshold
    assert re.fullmatch(r"[\d,]+\.\d\d万元", delta) and delta != "0.00万元", delta
    unchanged = by_provision.locator("tbody tr").first.locator("td").all_inner_texts()
    assert unchanged[2] == unchanged[3] and unchanged[4] == "0.00万元"  # the other provisions do not move
    expect(page.locator(".sim-charts img")).to_have_count(2)
    shot(page, "simulate-reform")


def test_a_bad_form_and_a_malformed_file_are_said_in_chinese(page: Page, site: Site, tmp_path: Path) -> None:
    sign_in(page, site, "analyst")
    page.get_by_label("预算分配").check()
    page.get_by_label("预算金额（万元）").fill("五百")
    page.get_by_role("button", name="开始测算").click()
    expect(page.locator("#target-error")).to_have_text("请选择预算对象（文件或条款）")
    expect(page.locator("#amount-error")).to_contain_text("无法识别的金额 '五百'")
    expect(page.get_by_label("预算金额（万元）")).to_have_value("五百")  # what was typed is kept
    expect(page.get_by_label("预算金额（万元）")).to_have_attribute("aria-invalid", "true")

    bad = tmp_path / "企业.csv"
    text = (REGISTRY / "企业.csv").read_text(encoding="utf-8").replace(",800,", ",八百万,", 1)
    bad.write_bytes(text.encode("gbk"))
    page.get_by_label("上传名册（CSV 或 Excel）").check()
    page.get_by_label("政策模拟").check()
    page.get_by_label("上传：主体表").set_input_files(str(bad))
    page.get_by_role("button", name="开始测算").click()
    _finished(page)
    expect(page.locator("h1")).to_contain_text("未能完成")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        "企业.csv:第3行 列 实缴注册资本（paid_in_capital）"
    )  # the user's file, line and column
    expect(alert).to_contain_text("无法识别的金额 '八百万'")
    expect(alert).not_to_contain_text("huiqi-jobs-")  # the server's folder is not shown
    shot(page, "simulate-bad-file")
    page.get_by_role("link", name="重新提交").click()
    jobs = page.locator("section", has=page.get_by_role("heading", name="我的测算（保留2小时）"))
    expect(jobs.locator("tbody tr").first).to_contain_text("失败")


def test_a_budget_is_shared_out_in_wan_yuan(page: Page, site: Site) -> None:
    sign_in(page, site, "analyst")
    page.get_by_label("合成：主体数量").fill("1000")
    page.get_by_label("预算分配").check()
    page.get_by_label("预算对象").select_option("suzhou-software-cluster:11")
    page.get_by_label("预算金额（万元）").fill("500")
    page.get_by_label("分配规则").select_option("pro_rata")
    page.get_by_role("button", name="开始测算").click()
    _finished(page)
    budget = page.locator("section", has=page.get_by_role("heading", name="预算：需求、超额与分配"))
    cells = budget.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells[0] == "苏州软件产业集群政策措施 第11条" and cells[1] == "500.00万元", cells
    demand = int(cells[2].removesuffix("万元").replace(",", "").replace(".", ""))
    assert demand > 500_00 and cells[6] == "500.00万元" and cells[7] == "0.00万元", cells  # all of it, no more
    expect(page.locator("main")).to_contain_text("最大余数法")
    shot(page, "simulate-budget")


def test_another_users_job_is_not_found(page: Page, site: Site, browser: Browser) -> None:
    sign_in(page, site, "analyst")
    page.get_by_label("合成：主体数量").fill("200")
    page.get_by_role("button", name="开始测算").click()
    expect(page).to_have_url(re.compile(r"/simulate/jobs/[\w-]+$"))
    job_url = page.url  # whether it is still running or done, it is the analyst's alone
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")  # type: ignore[arg-type]
    try:
        other = context.new_page()
        sign_in(other, site, "official")
        expect(other).to_have_url(site.base_url + "/desk/official")
        for url in (job_url, job_url + "/progress", job_url + "/files/summary.xlsx"):
            response = other.goto(url)
            assert response is not None and response.status == 404, url
            expect(other.locator("main")).to_contain_text("未找到")
        other.goto(site.base_url + "/simulate")  # the official may simulate too, but sees only its own jobs
        expect(other.locator("main")).not_to_contain_text("我的测算")
        shot(other, "simulate-not-found-other-user")
    finally:
        context.close()
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")  # type: ignore[arg-type]
    try:
        visitor = context.new_page()
        visitor.goto(job_url)  # no one signed in: the sign-in page, then back
        expect(visitor).to_have_url(re.compile(r"/login\?next=/simulate/jobs/"))
        sign_in(visitor, site, "suzhou-c")  # an applicant may not simulate
        response = visitor.goto(site.base_url + "/simulate")
        assert response is not None and response.status == 403
        expect(visitor.locator("main")).to_contain_text("此操作仅限政策分析人员")
    finally:
        context.close()
