"""政策起草审核, publishing as a new version: an official drafts the amendment of a policy the service's policy
folder already holds, chooses “作为《测试文件》（test-doc）的新版本发布”, is told beside the date field when the
new version would start before the current one, then publishes: the page lists what changed, the policy folder
has both versions (the old one in ``versions/`` with its dates) and an evaluation as of a day before the new
version uses the old one, from its first day the new one."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect

from extract.amendment import AMENDED, OLD_POLICY, write_base
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile
from huiqi.policy.base import PolicyBase

from .conftest import Site, no_horizontal_scroll, shot
from .test_signin import sign_in

APPROVER = "drafting-approver-v"


@pytest.fixture(scope="module")
def policy_folder(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HUIQI_POLICIES of the served app is, for this module, a policy folder holding test-doc (in force from
    2021-01-01); another official exists to approve."""
    from platform_fixtures import add_user

    folder = write_base(tmp_path_factory.mktemp("versions"))
    state = site.app.state
    before = state.settings
    state.settings = before.model_copy(update={"policies": folder})
    add_user(state.database, APPROVER, "official")
    yield folder
    state.settings = before


def _amount(base: PolicyBase, on: dt.date, capital: str) -> tuple[str, int | None]:
    engine = Engine(base)
    profile = parse_profile({"entity_type": "enterprise", "region": ["江苏省", "苏州市"],
                             "facts": {"paid_in_capital": capital}}, engine.catalogue)  # fmt: skip
    rule = engine.evaluate(profile, Options(as_of=on, documents=("test-doc",))).documents[0].provisions[0].rules[0]
    return rule.status.value, rule.amount_fen


def test_an_official_publishes_a_draft_as_a_new_version(page: Page, site: Site, policy_folder: Path) -> None:
    sign_in(page, site, "official")
    page.goto(site.base_url + "/drafting")
    page.get_by_label("政策原文").fill(AMENDED)
    page.get_by_role("button", name="生成草稿").click()
    expect(page).to_have_url(re.compile(r"/drafting/draft-[0-9a-f]{8}$"))
    draft = page.url.rsplit("/", 1)[1]

    # the review: the amended policy's region and issuer, then every mark accepted
    page.get_by_text("修改文件信息").click()
    meta = page.get_by_label("文件信息（policy.yaml 的 document）")
    text = meta.input_value().replace("region: 全国\n  level: nation", "region: 苏州市\n  level: city")
    meta.fill(text.replace("issuers: []", "issuers:\n- 测试局", 1))
    page.get_by_role("button", name="保存文件信息").click()
    expect(page.locator(".drafting-meta")).to_contain_text("测试局")
    page.get_by_role("button", name="接受文件信息与省略文字").click()
    if page.get_by_role("button", name="保存并接受事实").count():
        page.get_by_role("button", name="保存并接受事实").click()
    for pid in ("1", "2"):
        page.locator(f"#p-{pid}").get_by_role("button", name="接受条款").click()
        expect(page.locator(f"#p-{pid}").get_by_role("button", name="接受条款")).to_be_disabled()
    page.locator("#p-1").get_by_role("button", name="保存并接受规则").click()
    expect(page.locator(".drafting-marks")).to_have_text("0")

    # the choice: a new policy, or a new version of one the policy folder has
    choice = page.get_by_label("发布方式")
    expect(choice.locator("option")).to_have_text(
        [f"作为新政策发布（编号 {draft}）", "作为《测试文件》（test-doc）的新版本发布"]
    )
    choice.select_option("test-doc")
    page.get_by_label("新版本施行日期").fill("2020-06-01")  # before the current version: said beside the date
    page.get_by_label("批准人").select_option(APPROVER)
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.locator("#effective_from-error")).to_contain_text(
        "应晚于 test-doc 现行版本（2021）的施行日期 2021-01-01"
    )
    expect(page.get_by_label("发布方式")).to_have_value("test-doc")  # the choices are kept
    assert not (policy_folder / "test-doc" / "versions").exists()
    shot(page, "drafting-version-refused")

    page.get_by_label("新版本施行日期").fill("")  # the draft's own date: 本办法自2024年1月1日起施行
    page.get_by_role("button", name="预览改动（新版本）").click()  # every check, the changes, nothing written
    preview = page.locator(".drafting-preview")
    expect(preview).to_contain_text(
        "预览：作为 test-doc 的新版本 2024年修订 发布（自 2024-01-01 施行，原版本 2021 施行至 2023-12-31）"
    )
    expect(preview).to_contain_text("[修改] 规则 1/r1：金额：50万元 → 80万元")
    assert not (policy_folder / "test-doc" / "versions").exists()
    shot(page, "drafting-version-preview")
    page.get_by_role("button", name="发布", exact=True).click()
    changes = page.locator(".drafting-changes")
    expect(changes).to_contain_text(
        "已发布为 test-doc 的新版本 2024年修订（自 2024-01-01 施行，原版本 2021 移入 versions/）"
    )
    expect(changes).to_contain_text("[修改] 规则 1/r1：金额：50万元 → 80万元")
    expect(changes).to_contain_text("新增条件：paid_in_capital >= 800万元")
    expect(page.locator("main")).to_contain_text(f"已发布（审核：official，批准：{APPROVER}")
    no_horizontal_scroll(page)
    shot(page, "drafting-version-published")

    base = PolicyBase.load(policy_folder)
    versions = base.versions_of("test-doc")
    assert [base.version_label(v) for v in versions] == ["2021", "2024年修订"]
    assert versions[0].policy.document.effective_to == dt.date(2023, 12, 31)
    assert (
        (policy_folder / "test-doc" / "versions" / "2021" / "policy.yaml")
        .read_text(encoding="utf-8")
        .startswith(OLD_POLICY.splitlines()[0])
    )
    assert _amount(base, dt.date(2023, 12, 31), "1000万元") == ("eligible", 50_000_000)
    assert _amount(base, dt.date(2023, 12, 31), "800万元")[0] == "not_eligible"
    assert _amount(base, dt.date(2024, 1, 1), "800万元") == ("eligible", 80_000_000)
    record = yaml.safe_load((policy_folder / "test-doc" / "PUBLISHED.yaml").read_text(encoding="utf-8"))
    assert (record["reviewed_by"], record["approved_by"], record["amends"]) == ("official", APPROVER, "2021")
