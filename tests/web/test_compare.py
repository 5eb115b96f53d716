"""政策比较 in a real browser: a Suzhou software firm under Suzhou, Guangzhou and Xinjiang, per provision and in
total, certain money and ceilings apart and equal to the engine's; a bad file refused beside its field; the
calculator's 比较各地政策 link on a phone, the wide totals table scrolling inside its own box."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Page

from huiqi.engine.evaluate import Options
from huiqi.engine.profile import Profile, load_profile_file, parse_profile
from huiqi.engine.results import Totals
from huiqi.web.formatting import ceiling, money
from huiqi.workflow.policy import policy_engine

from .conftest import Site, no_horizontal_scroll, shot

DOCUMENTS = ("suzhou-software-cluster", "guangzhou-software", "xinjiang-2017-software")
FIRM = Path(__file__).parents[2] / "examples" / "profiles" / "suzhou-software-firm.yaml"
AS_OF = dt.date(2024, 6, 30)


def _expected(profile: Profile) -> dict[str, Totals]:
    """What the engine gives the profile under each document, the jurisdiction set aside."""
    policy = policy_engine()
    totals = {}
    for document in DOCUMENTS:
        evaluation = policy.engine.evaluate(profile, Options(as_of=AS_OF, documents=(document,), any_jurisdiction=True))
        totals[document] = evaluation.totals
    return totals


def _cell(page: Page, row: str, document: str) -> str:
    return page.locator(f".compare-totals tr.{row} td[data-document='{document}']").inner_text()


def _check_totals(page: Page, expected: dict[str, Totals]) -> None:
    """Each document's certain money and sum of ceilings, apart, as the engine adds them; never one figure."""
    for document, totals in expected.items():
        certain, bound = _cell(page, "row-certain", document), _cell(page, "row-ceiling", document)
        if totals.certain_rules:
            assert certain.startswith(money(totals.certain_fen)) and f"{totals.certain_rules} 项" in certain
        else:
            assert certain == "无"
        if totals.ceiling_rules:
            assert bound.startswith(ceiling(totals.ceiling_fen)) and "上限之和" in bound
        else:
            assert bound == "无"
        added = money(totals.certain_fen + totals.ceiling_fen)
        if totals.certain_rules and totals.ceiling_rules:
            assert added not in page.locator(f".compare-doc[data-document='{document}']").inner_text()
            assert added not in certain + bound


def _check_json(path: Path, expected: dict[str, Totals]) -> None:
    """The downloaded evaluation (huiqi.evaluation schema) carries each document's totals apart, as the engine."""
    body = json.loads(path.read_text("utf-8"))
    assert body["schema"].startswith("huiqi.evaluation/")
    by_document = {d["document"]: d["totals"] for d in body["documents"]}
    assert set(by_document) == set(expected)
    for document, totals in expected.items():
        got = by_document[document]
        assert (got["certain_rules"], got["ceiling_rules"]) == (totals.certain_rules, totals.ceiling_rules)
        assert Decimal(got["certain"]) * 100 == totals.certain_fen
        assert Decimal(got["ceiling"]) * 100 == totals.ceiling_fen


def test_a_firm_compared_under_suzhou_guangzhou_and_xinjiang(page: Page, site: Site, tmp_path: Path) -> None:
    page.goto(f"{site.base_url}/compare")
    assert page.locator(".site-nav a[aria-current=page]").inner_text() == "政策比较"
    for box in page.locator("input[name=doc]").all():
        box.uncheck()
    # nothing chosen and no profile: both refused beside their fields, in Chinese
    page.get_by_role("button", name="比较").click()
    assert "请至少选择一个要比较的文件" in page.locator("#doc-error").inner_text()
    assert "请上传主体档案" in page.locator("#profile-error").inner_text()
    # a file that is not a profile: the message names the file and the place, the choices stay
    page.locator(f"input[name=doc][value='{DOCUMENTS[0]}']").check()
    bad = tmp_path / "档案.yaml"
    bad.write_text("facts:\n  revenu: 1\n", encoding="gbk")
    page.get_by_label("上传主体档案（YAML 或 JSON）").set_input_files(bad)
    page.get_by_role("button", name="比较").click()
    error = page.locator("#profile-error").inner_text()
    assert "未知的事实 'revenu'" in error and "revenue" in error
    assert page.locator(f"input[name=doc][value='{DOCUMENTS[0]}']").is_checked()
    assert not page.locator(f"input[name=doc][value='{DOCUMENTS[1]}']").is_checked()
    shot(page, "compare-bad-file")

    for document in DOCUMENTS:
        page.locator(f"input[name=doc][value='{document}']").check()
    page.get_by_label("上传主体档案（YAML 或 JSON）").set_input_files(FIRM)
    page.get_by_label("评价日").fill(AS_OF.isoformat())
    page.get_by_role("button", name="比较").click()
    page.locator(".compare-totals").wait_for()
    shot(page, "compare-laptop")

    expected = _expected(load_profile_file(FIRM, policy_engine().base.catalogue))
    assert expected[DOCUMENTS[0]].certain_rules and expected[DOCUMENTS[0]].ceiling_rules  # the check can fail
    _check_totals(page, expected)
    # per provision: each column lists the provisions that concern the firm, amounts by kind
    suzhou = page.locator(f".compare-doc[data-document='{DOCUMENTS[0]}']")
    assert "2. 鼓励企业增资扩产" in suzhou.inner_text()
    assert "确定 100万元" in suzhou.inner_text()
    assert page.locator(".compare-doc").count() == 3
    assert "征求意见稿：尚未正式施行" in suzhou.inner_text()
    no_horizontal_scroll(page)
    # the uploaded profile's comparison as JSON, from the form (an upload has no address to link to)
    page.get_by_role("link", name="修改比较").click()
    page.get_by_label("上传主体档案（YAML 或 JSON）").set_input_files(FIRM)
    for document in DOCUMENTS:
        page.locator(f"input[name=doc][value='{document}']").check()
    page.get_by_label("评价日").fill(AS_OF.isoformat())
    with page.expect_download() as download:
        page.get_by_role("button", name="下载结果（JSON）").click()
    assert download.value.suggested_filename == "政策比较结果.json"
    _check_json(Path(download.value.path()), expected)


#: The calculator's answers of the Suzhou firm (as its session's address carries them).
ANSWERS = {"registered_city": "苏州市", "main_business_software": "是", "in_miit_software_statistics": "是",
           "social_insurance_staff": "56", "revenue@2023": "13500万元", "revenue@2022": "4800万元",
           "paid_in_capital": "1200万元", "settled_on": "2022-03-15", "is_industrial_software_enterprise": "是",
           "newly_introduced_independent_entity": "是", "newly_established_in_suzhou": "是",
           "in_suzhou_key_software_pool": "是", "operating_stably": "是"}  # fmt: skip


def test_the_calculator_link_compares_its_answers_on_a_phone(phone: Page, site: Site) -> None:
    state = [("entity_type", "enterprise"), ("region", "江苏省 苏州市"), ("as_of", AS_OF.isoformat())]
    phone.goto(f"{site.base_url}/calculator/session?{urlencode(state + [(f'a.{k}', v) for k, v in ANSWERS.items()])}")
    phone.get_by_role("link", name="比较各地政策").click()
    phone.locator("form.compare-form").wait_for()
    assert f"{len(ANSWERS)} 项回答" in phone.locator(".compare-source .note").inner_text()
    no_horizontal_scroll(phone)
    shot(phone, "compare-phone-form")
    for box in phone.locator("input[name=doc]").all():
        box.uncheck()
    for document in DOCUMENTS:
        phone.locator(f"input[name=doc][value='{document}']").check()
    phone.get_by_role("button", name="比较").click()
    phone.locator(".compare-totals").wait_for()
    assert f"政策计算器的回答（{len(ANSWERS)} 项" in phone.locator("main").inner_text()
    facts: dict[str, Any] = {}
    for key, value in ANSWERS.items():
        fact, _, year = key.partition("@")
        if year:
            facts.setdefault(fact, {})[int(year)] = value
        else:
            facts[fact] = value
    profile = parse_profile({"entity_type": "enterprise", "facts": facts}, policy_engine().base.catalogue)
    expected = _expected(profile)
    assert expected[DOCUMENTS[0]].certain_rules  # the check can fail
    _check_totals(phone, expected)
    # the page fits the phone; the wide totals table scrolls inside its own box
    no_horizontal_scroll(phone)
    scroll = phone.locator(".compare-scroll")
    assert scroll.evaluate("e => e.scrollWidth > e.clientWidth")
    shot(phone, "compare-phone")
    scroll.evaluate("e => e.scrollLeft = e.scrollWidth")
    shot(phone, "compare-phone-scrolled", full_page=False)
    with phone.expect_download() as download:
        phone.get_by_role("link", name="下载 JSON").click()
    _check_json(Path(download.value.path()), expected)
