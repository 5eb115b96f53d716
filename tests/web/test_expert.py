"""The expert's desk in a browser: its own assignments with the applicant (to see a conflict), a score sheet
against the call's criteria with Chinese messages beside the field, a second submission refused, a declared
conflict (回避) with a replacement drawn, and another expert's assignment 未找到.

The module builds its own call, firms, experts and users in the live server's database, in a field (领域) of
its own so that no other test's draw can pick its experts (the demo's data is left alone).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from platform_fixtures import TEST_PASSWORD

from .conftest import Site, shot

FIELD = "网页评审测试领域"
CRITERIA = [{"key": "scale", "label": "产业规模与基础", "max": 40}, {"key": "plan", "label": "建设方案可行性", "max": 40},
            {"key": "support", "label": "地方支持政策", "max": 20}]  # fmt: skip
FIRMS = ["评审测试甲软件有限公司", "评审测试乙软件有限公司"]


@dataclass
class World:
    call_title: str
    application: int  # firm 甲's, three experts drawn
    experts: dict[int, str]  # expert id → username, the five of the field
    scorer: int  # an assignment of the application, for scoring
    decliner: int  # another, for 回避
    others: list[int]  # assignments of firm 乙's application (the scorer has none of them)


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    from sqlalchemy import select

    from huiqi.store.models import Application, Assignment
    from huiqi.workflow.applications import pass_check
    from huiqi.workflow.review import add_expert, draw_experts
    from platform_fixtures import OFFICIAL, add_call, add_firm, add_user, submit_application

    database, policy = site.app.state.database, site.app.state.policy
    title = "网页评审测试·竞争性评审批次"
    call_id = add_call(database, policy, title=title, review_mode="competitive", quota=1,
                       experts_per_application=3, criteria=CRITERIA)  # fmt: skip
    ids = [submit_application(database, policy, call_id, add_firm(database, policy, 6101 + n, name=name))
           for n, name in enumerate(FIRMS)]  # fmt: skip
    experts: dict[int, str] = {}
    with database.transaction() as session:
        for n in range(5):
            expert = add_expert(session, name=f"网页评审专家{'一二三四五'[n]}", fields=[FIELD], employer=f"测试大学{n}",
                                interests=[], actor=OFFICIAL)  # fmt: skip
            experts[expert.id] = f"web-expert-{n + 1}"
        for application_id in ids:
            application = session.get_one(Application, application_id)
            pass_check(session, application=application, actor=OFFICIAL)
            draw_experts(
                session, application=application, actor=OFFICIAL, field=FIELD, seed=f"web-expert-{application_id}"
            )
    for expert_id, username in experts.items():
        add_user(database, username, "expert", expert_id=expert_id)
    with database.sessions() as session:
        sheets = {i: list(session.scalars(select(Assignment).where(Assignment.application_id == i).order_by(Assignment.id)))
                  for i in ids}  # fmt: skip
    scorer, decliner = sheets[ids[0]][:2]
    others = [a.id for a in sheets[ids[1]] if a.expert_id != scorer.expert_id]
    assert others, "firm 乙's application should have an expert other than the scorer"
    yield World(title, ids[0], experts, scorer.id, decliner.id, others)


def _sheet(site: Site, assignment_id: int) -> object:
    from huiqi.store.models import Assignment

    with site.app.state.database.sessions() as session:
        return session.get_one(Assignment, assignment_id)


def _sign_in_as_expert_of(page: Page, site: Site, world: World, assignment_id: int) -> None:
    sheet = _sheet(site, assignment_id)
    page.goto(site.base_url + "/login")
    page.get_by_label("用户名").fill(world.experts[sheet.expert_id])  # type: ignore[attr-defined]
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(site.base_url + "/desk/expert")


def test_an_expert_scores_against_the_criteria_and_cannot_submit_twice(page: Page, site: Site, world: World) -> None:
    _sign_in_as_expert_of(page, site, world, world.scorer)
    row = page.locator("table.review-tasks tbody tr", has_text=FIRMS[0])
    expect(row).to_have_count(1)
    expect(row).to_contain_text(FIRMS[0])  # the applicant, to see a conflict
    expect(row).to_contain_text("待评分")
    shot(page, "expert-desk")
    row.get_by_role("link", name="评分或回避").click()
    expect(page).to_have_url(f"{site.base_url}/desk/expert/assignments/{world.scorer}")
    expect(page.get_by_label("产业规模与基础（满分40分）")).to_be_visible()
    expect(page.get_by_label("地方支持政策（满分20分）")).to_be_visible()

    stale = page.context.new_page()  # the same sheet, open in a second tab
    stale.goto(page.url)

    def submit(scale: str, plan: str, support: str, comment: str = "") -> None:
        page.get_by_label("产业规模与基础（满分40分）").fill(scale)
        page.get_by_label("建设方案可行性（满分40分）").fill(plan)
        page.get_by_label("地方支持政策（满分20分）").fill(support)
        page.get_by_label("评审意见").fill(comment)
        page.get_by_role("button", name="提交评分").click()

    # not a whole number: said by the page, beside the field, what was typed kept
    submit("35", "3.5", "15")
    expect(page.locator("#score-plan-error")).to_have_text("“建设方案可行性”的分数应为0到40的整数，您填写的是“3.5”")
    expect(page.get_by_label("建设方案可行性（满分40分）")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("产业规模与基础（满分40分）")).to_have_value("35")
    # over the maximum, negative, missing: the workflow's own messages, beside the field
    submit("45", "30", "15")
    expect(page.locator("#score-scale-error")).to_contain_text("“产业规模与基础”的分数应为0到40的整数")
    shot(page, "expert-sheet-refused")
    submit("35", "30", "-3")
    expect(page.locator("#score-support-error")).to_contain_text("“地方支持政策”的分数应为0到20的整数")
    submit("35", "30", "")
    expect(page.locator("#score-support-error")).to_contain_text("缺少评分项“地方支持政策”")
    assert _sheet(site, world.scorer).submitted_at is None  # type: ignore[attr-defined]

    submit("35", "30", "15", "产业基础扎实，建设方案可行。")
    expect(page.locator("p.note[role=status]")).to_have_text("评分已提交。评分提交后不能修改。")
    table = page.locator("table.score-table")
    expect(table.locator("tfoot")).to_contain_text("80")
    expect(table).to_contain_text("建设方案可行性")
    expect(page.locator(".ef-comment")).to_have_text("产业基础扎实，建设方案可行。")
    expect(page.get_by_role("button", name="提交评分")).to_have_count(0)  # read-only now
    expect(page.get_by_role("button", name="声明回避")).to_have_count(0)
    shot(page, "expert-sheet-submitted")

    # the second tab still shows the form: the workflow refuses the second submission, said on the page
    stale.get_by_label("产业规模与基础（满分40分）").fill("1")
    stale.get_by_label("建设方案可行性（满分40分）").fill("1")
    stale.get_by_label("地方支持政策（满分20分）").fill("1")
    with stale.expect_response(lambda r: r.request.method == "POST") as posted:
        stale.get_by_role("button", name="提交评分").click()
    assert posted.value.status == 409
    expect(stale.locator("#form-error")).to_have_text("您已提交过本项评分，评分提交后不能修改")
    expect(stale.locator("table.score-table tfoot")).to_contain_text("80")
    stale.close()
    sheet = _sheet(site, world.scorer)
    assert (sheet.total, sheet.scores) == (80, {"scale": 35, "plan": 30, "support": 15})  # type: ignore[attr-defined]

    page.goto(site.base_url + "/desk/expert")
    expect(row).to_contain_text("已提交")
    expect(row).to_contain_text("总分 80/100")


def test_an_expert_declares_a_conflict_and_a_replacement_is_drawn(page: Page, site: Site, world: World) -> None:
    from sqlalchemy import select

    from huiqi.store.models import Assignment

    before = {a.expert_id for a in _assignments(site, world.application)}
    _sign_in_as_expert_of(page, site, world, world.decliner)
    page.goto(f"{site.base_url}/desk/expert/assignments/{world.decliner}")
    expect(page.locator("main")).to_contain_text(FIRMS[0])
    page.get_by_role("button", name="声明回避").click()
    expect(page.locator("#reason-error")).to_contain_text("请填写回避理由")
    expect(page.get_by_label("回避理由")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("回避理由").fill("本人近三年与该单位有技术合作项目")
    page.get_by_role("button", name="声明回避").click()
    expect(page.locator("p.note[role=status]")).to_have_text("您已声明回避，本项评审已另行抽取一名无利益冲突的专家。")
    expect(page.locator("main")).to_contain_text("回避理由：本人近三年与该单位有技术合作项目")
    expect(page.get_by_role("button", name="提交评分")).to_have_count(0)
    shot(page, "expert-declined")

    declined = _sheet(site, world.decliner)
    assert declined.declined_at is not None  # type: ignore[attr-defined]
    assert declined.decline_reason == "本人近三年与该单位有技术合作项目"  # type: ignore[attr-defined]
    after = _assignments(site, world.application)
    assert len(after) == 4
    [replacement] = [a for a in after if a.expert_id not in before]
    assert replacement.expert_id in world.experts and replacement.declined_at is None  # of the same field

    page.goto(site.base_url + "/desk/expert")
    row = page.locator("table.review-tasks tbody tr", has_text=FIRMS[0])
    expect(row).to_contain_text("已回避")
    expect(row.get_by_role("link", name="查看")).to_be_visible()

    # the declined sheet cannot be scored, even by posting the form again
    token = _token(page, site, world.decliner)
    response = page.request.post(f"{site.base_url}/desk/expert/assignments/{world.decliner}/score",
                                 form={"csrf_token": token, "score-scale": "1", "score-plan": "1", "score-support": "1"})  # fmt: skip
    assert response.status == 409
    with site.app.state.database.sessions() as session:
        assert session.get_one(Assignment, world.decliner).total is None
        assert session.scalars(select(Assignment).where(Assignment.expert_id == replacement.expert_id)).all()


def _assignments(site: Site, application_id: int) -> list:  # type: ignore[type-arg]
    from sqlalchemy import select

    from huiqi.store.models import Assignment

    with site.app.state.database.sessions() as session:
        return list(session.scalars(select(Assignment).where(Assignment.application_id == application_id)))


def _token(page: Page, site: Site, assignment_id: int) -> str:
    page.goto(f"{site.base_url}/desk/expert/assignments/{assignment_id}")
    return str(page.locator("input[name=csrf_token]").first.get_attribute("value"))


def test_another_experts_assignment_is_not_found(page: Page, site: Site, world: World) -> None:
    _sign_in_as_expert_of(page, site, world, world.scorer)
    token = _token(page, site, world.scorer)
    for other in world.others:
        response = page.goto(f"{site.base_url}/desk/expert/assignments/{other}")
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("未找到")
        expect(page.locator("main")).not_to_contain_text(FIRMS[1])
        for action, form in (("score", {"score-scale": "1", "score-plan": "1", "score-support": "1"}),
                             ("decline", {"reason": "冒名回避"})):  # fmt: skip
            posted = page.request.post(f"{site.base_url}/desk/expert/assignments/{other}/{action}",
                                       form={"csrf_token": token, **form})  # fmt: skip
            assert posted.status == 404
        sheet = _sheet(site, other)
        assert sheet.submitted_at is None and sheet.declined_at is None  # type: ignore[attr-defined]
    response = page.goto(f"{site.base_url}/desk/expert/assignments/2147483647")
    assert response is not None and response.status == 404
