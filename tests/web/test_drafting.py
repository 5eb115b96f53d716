"""政策起草审核 in a browser: an official pastes a short policy text, sees the source and the draft side by side
with the values highlighted, edits and accepts a rule (a bad YAML is said in Chinese beside it), runs validate
and the cases, is refused publication while draft marks remain, accepts the rest and publishes into a policy
folder with PUBLISHED.yaml naming the reviewer and the approver. An applicant gets 403; another official
asking for the draft gets 404."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect

from huiqi.locations import default_policies_dir

from .conftest import Site, no_horizontal_scroll, shot
from .test_signin import sign_in

TEXT = """某市支持企业做大做强的若干措施

一、对年营业收入首次达到5000万元及以上的企业，给予一次性奖励50万元。
二、对研发投入超过1000万元的企业，按研发投入的10%给予补助，最高不超过200万元。
三、本措施由市工业和信息化局负责解释。
"""
OTHER_OFFICIAL = "drafting-official2"


@pytest.fixture(scope="module")
def publish_folder(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The served app's settings point HUIQI_POLICIES at a temporary policy folder (the catalogue copied) for
    this module only; another official exists to approve and to be refused the draft."""
    from platform_fixtures import add_user

    folder = tmp_path_factory.mktemp("published")
    shutil.copytree(default_policies_dir() / "_facts", folder / "_facts")
    state = site.app.state
    before = state.settings
    state.settings = before.model_copy(update={"policies": folder})
    add_user(state.database, OTHER_OFFICIAL, "official")
    yield folder
    state.settings = before


def test_an_official_reviews_and_publishes_a_draft(page: Page, site: Site, publish_folder: Path) -> None:
    from platform_fixtures import TEST_PASSWORD

    sign_in(page, site, "official")
    page.goto(site.base_url + "/drafting")
    page.get_by_role("button", name="生成草稿").click()  # nothing given: said beside the field
    expect(page.locator("#text-error")).to_contain_text("请粘贴政策原文")
    page.get_by_label("政策原文").fill(TEXT)
    page.get_by_role("button", name="生成草稿").click()
    expect(page).to_have_url(re.compile(r"/drafting/draft-[0-9a-f]{8}$"))
    draft = page.url.rsplit("/", 1)[1]
    source = page.locator(".drafting-text")
    expect(source.locator("mark.v-threshold", has_text="5000万元")).to_be_visible()
    expect(source.locator("mark.v-cap", has_text="200万元")).to_be_visible()
    first = page.locator("#p-一")
    expect(first).to_contain_text("可计算")
    expect(first.locator(".drafting-values")).to_contain_text("数额后接“及以上”（含本数）")
    shot(page, "drafting-draft")
    no_horizontal_scroll(page)

    # a malformed edit is refused beside the rule, and nothing is written
    second = page.locator("#p-二")
    second.get_by_label(re.compile("规则 r1")).fill("id: r1\nbenefit: [unclosed")
    second.get_by_role("button", name="保存并接受规则").click()
    expect(page.locator("[id='二-r1-error']")).to_contain_text("YAML 格式有误")
    # edit and accept the first rule: its label changes and it loses its draft mark
    page.goto(site.base_url + f"/drafting/{draft}")
    area = page.locator("#p-一").get_by_label(re.compile("规则 r1"))
    area.fill(re.sub(r"label: .*", "label: 营业收入首次达到5000万元的一次性奖励", area.input_value(), count=1))
    page.locator("#p-一").get_by_role("button", name="保存并接受规则").click()
    expect(page.locator("#p-一").get_by_text("规则 r1（已接受）")).to_be_visible()
    folder = Path(site.app.state.settings.database_url.removeprefix("sqlite:///")).parent / "drafts"
    written = next(folder.glob(f"u*/{draft}/policy.yaml")).read_text(encoding="utf-8")
    assert "label: 营业收入首次达到5000万元的一次性奖励" in written

    page.get_by_role("button", name="运行检查与案例").click()
    result = page.locator("#check-result")
    expect(result).to_contain_text("草稿通过检查")
    expect(result).to_contain_text("6 个通过，0 个未通过")

    # a rule naming an unknown fact: validate says so in Chinese at file:line; restored afterwards
    rule2 = page.locator("#p-二").get_by_label(re.compile("规则 r1"))
    original = rule2.input_value()
    rule2.fill(re.sub(r"expr: \S+ >", "expr: no_such_fact >", original, count=1))
    page.locator("#p-二").get_by_role("button", name="保存修改").click()
    page.get_by_role("button", name="运行检查与案例").click()
    expect(result.locator(".drafting-problems")).to_contain_text(re.compile(rf"{draft}/policy\.yaml:\d+"))
    expect(result.locator(".drafting-problems")).to_contain_text("no_such_fact")
    shot(page, "drafting-check")
    page.locator("#p-二").get_by_label(re.compile("规则 r1")).fill(original)
    page.locator("#p-二").get_by_role("button", name="保存修改").click()
    page.get_by_role("button", name="运行检查与案例").click()
    expect(result).to_contain_text("草稿通过检查")

    page.get_by_label("批准人").select_option(OTHER_OFFICIAL)
    page.get_by_role("button", name="发布").click()
    expect(page.locator("#publish-error")).to_contain_text("未审核的标记")
    shot(page, "drafting-refused")
    assert not (publish_folder / draft).exists()

    # the reviewer completes the document's metadata, then accepts the rest and publishes
    page.get_by_text("修改文件信息").click()
    meta = page.get_by_label("文件信息（policy.yaml 的 document）")
    meta.fill(meta.input_value().replace("issuers: []", "issuers:\n- 某市工业和信息化局", 1))
    page.get_by_role("button", name="保存文件信息").click()
    expect(page.locator(".drafting-meta")).to_contain_text("某市工业和信息化局")
    page.get_by_role("button", name="接受文件信息与省略文字").click()
    page.get_by_role("button", name="保存并接受事实").click()
    for pid in ("一", "二", "三"):
        page.locator(f"#p-{pid}").get_by_role("button", name="接受条款").click()
        expect(page.locator(f"#p-{pid}").get_by_role("button", name="接受条款")).to_be_disabled()
    page.locator("#p-二").get_by_role("button", name="保存并接受规则").click()
    expect(page.locator(".drafting-marks")).to_have_text("0")
    page.get_by_label("批准人").select_option(OTHER_OFFICIAL)
    page.get_by_role("button", name="发布").click()
    expect(page.locator("main")).to_contain_text(f"已发布（审核：official，批准：{OTHER_OFFICIAL}")
    record = yaml.safe_load((publish_folder / draft / "PUBLISHED.yaml").read_text(encoding="utf-8"))
    assert record["reviewed_by"] == "official" and record["approved_by"] == OTHER_OFFICIAL
    published = yaml.safe_load((publish_folder / draft / "policy.yaml").read_text(encoding="utf-8"))
    assert published["document"]["issuers"] == ["某市工业和信息化局"]
    assert published["provisions"][0]["rules"][0]["label"] == "营业收入首次达到5000万元的一次性奖励"
    page.goto(site.base_url + "/drafting")
    expect(page.locator(".drafting-list")).to_contain_text("已发布")

    # another official: the draft is not found; an applicant may not open the page
    page.get_by_role("button", name="退出").click()
    sign_in(page, site, OTHER_OFFICIAL, TEST_PASSWORD)
    assert page.goto(site.base_url + f"/drafting/{draft}").status == 404  # type: ignore[union-attr]
    expect(page.locator("h1")).to_have_text("未找到")
    page.get_by_role("button", name="退出").click()
    sign_in(page, site, "suzhou-d")
    assert page.goto(site.base_url + "/drafting").status == 403  # type: ignore[union-attr]
    expect(page.locator("main")).to_contain_text("此操作仅限")


def test_a_post_without_the_csrf_token_is_refused(page: Page, site: Site, publish_folder: Path) -> None:
    sign_in(page, site, "official")
    page.goto(site.base_url + "/drafting")
    response = page.request.post(site.base_url + "/drafting", form={"text": TEXT})
    assert response.status == 403
    assert "CSRF" in response.text()


def test_an_uploaded_gbk_text_is_drafted_and_a_wrong_file_is_said_beside_the_field(
    page: Page, site: Site, publish_folder: Path
) -> None:
    sign_in(page, site, "official")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="政策起草").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("政策起草审核")
    page.get_by_label("或上传文件").set_input_files(
        {"name": "old.doc", "mimeType": "application/msword", "buffer": b"\xd0\xcf\x11\xe0 not a text"}
    )
    page.get_by_role("button", name="生成草稿").click()
    expect(page.locator("#file-error")).to_contain_text("只接受 .txt")
    text = TEXT.replace("5000万元", "3000万元")
    page.get_by_label("或上传文件").set_input_files(
        {"name": "gbk-policy.txt", "mimeType": "text/plain", "buffer": text.encode("gbk")}
    )
    page.get_by_role("button", name="生成草稿").click()
    expect(page).to_have_url(re.compile(r"/drafting/gbk-policy(-\d+)?$"))
    expect(page.locator(".drafting-text mark.v-threshold", has_text="3000万元")).to_be_visible()
    page.set_viewport_size({"width": 375, "height": 812})  # on a phone the source comes above the provisions
    no_horizontal_scroll(page)
    shot(page, "drafting-phone")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(site.base_url + "/drafting")
    expect(page.locator(".drafting-list")).to_contain_text("某市支持企业做大做强的若干措施")
    shot(page, "drafting-list")
