"""Signing in to the pages as a person does: each demo role lands on its own desk; a wrong password is said
in Chinese next to the field; repeated failures lock the username as on the API; a POST without the form's
CSRF token is refused; an applicant who changes an application id in the URL sees 未找到, never another's."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from huiqi.workflow.demo import DEMO_PASSWORD

from .conftest import Site, no_horizontal_scroll, shot


def sign_in(page: Page, site: Site, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(site.base_url + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


@pytest.mark.parametrize(
    ("username", "desk", "heading", "content"),
    [
        ("suzhou-d", "/desk/applicant", "申报工作台", "苏州示例智能制造软件有限公司"),
        ("official", "/desk/official", "审核工作台", "公示中"),
        ("expert1", "/desk/expert", "评审工作台", "评审任务"),
        ("finance", "/desk/finance", "财政工作台", "80万元"),  # the demo's second instalment (40% of 200万元)
        ("analyst", "/simulate", "模拟测算", "名册"),
    ],
)
def test_each_role_lands_on_its_desk_and_signs_out(
    page: Page, site: Site, username: str, desk: str, heading: str, content: str
) -> None:
    sign_in(page, site, username)
    expect(page).to_have_url(site.base_url + desk)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("main")).to_contain_text(content)
    header = page.locator("header")
    expect(header).to_contain_text(username)
    expect(header.get_by_role("button", name="退出")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "huiqi_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # plain HTTP here
    shot(page, f"desk-{username}")
    header.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=true$"))
    expect(page.locator("main")).to_contain_text("您已退出登录")
    page.goto(site.base_url + desk)  # the token was revoked: back to the sign-in page
    expect(page).to_have_url(re.compile(r"/login\?next=" + re.escape(desk) + "$"))


@pytest.mark.parametrize(
    ("username", "offered", "not_offered"),
    [
        (None, ["政策库", "政策计算器", "公示"], ["统计", "模拟测算"]),
        ("suzhou-c", ["政策库", "政策计算器", "公示"], ["统计", "模拟测算"]),
        ("official", ["政策库", "统计", "模拟测算"], []),
        ("analyst", ["统计", "模拟测算"], []),
    ],
)
def test_the_navigation_offers_only_the_pages_the_role_may_open(
    page: Page, site: Site, username: str | None, offered: list[str], not_offered: list[str]
) -> None:
    if username is None:
        page.goto(site.base_url + "/")
    else:
        sign_in(page, site, username)
    nav = page.get_by_role("navigation", name="主导航")
    for label in offered:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    for label in not_offered:
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)


def test_a_wrong_password_is_said_next_to_the_field(page: Page, site: Site) -> None:
    sign_in(page, site, "official", "Not-the-password-1")
    error = page.locator("#password-error")
    expect(error).to_have_text("用户名或密码错误，请重新输入")
    expect(page.get_by_label("密码")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("密码")).to_have_attribute("aria-describedby", "password-error")
    expect(page.get_by_label("用户名")).to_have_value("official")  # what was typed is kept (not the password)
    expect(page.get_by_label("密码")).to_have_value("")
    shot(page, "signin-wrong-password")
    sign_in(page, site, "official")  # the right password still works: one failure locks nothing
    expect(page).to_have_url(site.base_url + "/desk/official")


def test_repeated_failures_lock_the_username_as_on_the_api(page: Page, site: Site) -> None:
    for attempt in range(5):
        sign_in(page, site, "finance-lock-test", f"Wrong-guess-{attempt}")
    error = page.locator("#username-error")
    expect(error).to_contain_text("该用户名登录失败次数过多，已暂时锁定")
    expect(error).to_contain_text("北京时间")
    locked = page.request.post(site.base_url + "/api/v1/auth/login",
                               data={"username": "finance-lock-test", "password": "Wrong-guess-9"})  # fmt: skip
    assert locked.status == 429  # one counter: the pages' failures lock the API's endpoint too


def test_a_post_without_the_csrf_token_is_refused(page: Page, site: Site) -> None:
    sign_in(page, site, "official")
    expect(page).to_have_url(site.base_url + "/desk/official")
    refused = page.request.post(site.base_url + "/logout", form={}, max_redirects=0)
    assert refused.status == 403 and "CSRF" in refused.text() and "操作未执行" in refused.text()
    forged = page.request.post(site.base_url + "/logout", form={"csrf_token": "forged"}, max_redirects=0)
    assert forged.status == 403
    page.reload()
    expect(page.locator("header")).to_contain_text("official")  # still signed in: nothing was done
    # the sign-in form is bound to its own page too: a login posted from elsewhere is refused
    login = page.request.post(site.base_url + "/login",
                              form={"username": "finance", "password": DEMO_PASSWORD}, max_redirects=0)  # fmt: skip
    assert login.status == 403
    # htmx sends the token from hx-headers on <body>: that header is accepted
    headers = page.locator("body").get_attribute("hx-headers") or ""
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', headers)
    assert token is not None
    accepted = page.request.post(site.base_url + "/logout", headers={"X-CSRF-Token": token.group(1)}, max_redirects=0)
    assert accepted.status == 303


def test_an_applicant_changing_the_id_in_the_url_gets_not_found(page: Page, site: Site) -> None:
    api = page.request
    token = api.post(site.base_url + "/api/v1/auth/login",
                     data={"username": "official", "password": DEMO_PASSWORD}).json()["access_token"]  # fmt: skip
    everything = api.get(site.base_url + "/api/v1/applications?limit=100",
                         headers={"Authorization": f"Bearer {token}"}).json()["items"]  # fmt: skip
    sign_in(page, site, "suzhou-d")
    own = page.locator("main table a").first
    own_id = int(own.inner_text())
    own.click()
    expect(page).to_have_url(f"{site.base_url}/desk/applicant/applications/{own_id}")
    expect(page.locator("main")).to_contain_text("拨付中")
    own_entity = next(a["entity_id"] for a in everything if a["id"] == own_id)
    others = [a for a in everything if a["entity_id"] != own_entity]
    assert others, "the demo has other firms' applications"
    for other in others[:3]:
        response = page.goto(f"{site.base_url}/desk/applicant/applications/{other['id']}")
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("未找到")
        expect(page.locator("main")).not_to_contain_text("苏州示例工业软件")
        expect(page.locator("main")).not_to_contain_text("苏州公示")
    shot(page, "desk-applicant-not-found")
    response = page.goto(site.base_url + "/desk/official")  # another role's desk
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("此操作仅限主管部门经办人")


def test_the_sign_in_page_on_a_phone(phone: Page, site: Site) -> None:
    phone.goto(site.base_url + "/desk/finance")
    expect(phone).to_have_url(re.compile(r"/login\?next=/desk/finance$"))
    phone.get_by_label("用户名").fill("finance")
    phone.get_by_label("密码").fill(DEMO_PASSWORD)
    phone.get_by_role("button", name="登录").click()
    expect(phone).to_have_url(site.base_url + "/desk/finance")
    no_horizontal_scroll(phone)
    shot(phone, "desk-finance-phone")


@pytest.mark.parametrize(
    ("username", "url", "status", "words"),
    [
        ("suzhou-c", "/desk/official", 403, "无权访问"),
        ("suzhou-c", "/dashboards", 403, "无权访问"),
        ("official", "/desk/finance", 403, "无权访问"),
        ("finance", "/desk/official/calls/new", 403, "无权访问"),
        ("expert1", "/simulate", 403, "无权访问"),
        ("analyst", "/desk/applicant", 403, "无权访问"),
        ("expert1", "/desk/expert/assignments/999999", 404, "未找到"),
        ("finance", "/desk/finance/entities/999999", 404, "未找到"),
    ],
)
def test_a_forbidden_url_for_each_role(
    page: Page, site: Site, username: str, url: str, status: int, words: str
) -> None:
    sign_in(page, site, username)
    answer = page.goto(site.base_url + url)
    assert answer is not None and answer.status == status
    expect(page.locator("main")).to_contain_text(words)
