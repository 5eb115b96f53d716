"""审核工作台 in a browser: an official's formal check (one passed, one returned with its whole fix list at once),
the expert draw of a competitive call with a conflicted expert excluded, the scores, the proposed list against
the quota and the budget left, 公示 started with its end date in working days, approval (one refused beyond the
budget, nothing stored changed) and the instalments of an approved application.

The module builds its own firms, calls and experts in the live server's database (the demo's calls are left
alone); the pages act through the same workflow functions as the API.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from huiqi import beijing

from .conftest import Site, no_horizontal_scroll, shot
from .test_signin import sign_in

FIELD = "网页审核测试领域"
CRITERIA = [{"key": "tech", "label": "技术水平", "max": 60}, {"key": "market", "label": "市场前景", "max": 40}]


@dataclass
class World:
    formal_call: int
    competitive_call: int
    approval_call: int
    checked: int  # formal: to pass the check
    returned: int  # formal: to return with a fix list
    rejected: int  # formal: to reject
    drawn: int  # competitive: drawn in the browser, a conflicted expert excluded
    others: list[int]  # competitive: drawn in the fixture
    conflicted_expert: str
    experts: dict[str, int]
    first: int  # approval call: approved
    second: int  # approval call: refused beyond the budget
    admin: str


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[World]:
    from huiqi.store.models import Application, Call, Entity
    from huiqi.workflow.applications import create_draft, pass_check, submit
    from huiqi.workflow.lifecycle import check, move
    from huiqi.workflow.materials import add_material
    from huiqi.workflow.publicity import start_publicity
    from huiqi.workflow.review import add_expert, draw_experts
    from platform_fixtures import OFFICIAL, add_call, add_firm, add_user, applicant
    from platform_fixtures import submit_application as submit_plain

    state = site.app.state
    database, policy = state.database, state.policy

    def firm(n: int, name: str) -> int:
        return add_firm(database, policy, 700 + n, name=name)

    # 形式审查: a call that asks for an audit report; three firms submit with it
    formal = add_call(database, policy, title="网页审核测试·形式审查批次", publicity_days=5,
                      materials=["营业收入专项审计报告"])  # fmt: skip
    formal_ids = []
    for n, name in enumerate(["审核甲软件有限公司", "审核乙软件有限公司", "审核丙软件有限公司"]):
        entity_id = firm(n, name)
        actor = applicant(entity_id)
        with database.transaction() as session:
            call = session.get_one(Call, formal)
            application = create_draft(session, call=call, actor=actor)
            add_material(session, application=application, call=call, name="营业收入专项审计报告",
                         filename="审计报告.pdf", content_type="application/pdf",
                         content=b"%PDF-1.4\n" + name.encode() + b"\n%%EOF\n", actor=actor)  # fmt: skip
            submit(session, application=application, actor=actor, pledge=True, policy=policy)
            formal_ids.append(application.id)

    # 竞争性评审: quota 2, three experts each, 5 working days of 公示; three firms passed the check
    competitive = add_call(database, policy, title="网页审核测试·竞争性评审批次", review_mode="competitive", quota=2,
                           experts_per_application=3, criteria=CRITERIA, publicity_days=5,
                           publicity_day_kind="working", budget="500万元")  # fmt: skip
    names = ["审核竞争一软件有限公司", "审核竞争二软件有限公司", "审核竞争三软件有限公司"]
    competing = [submit_plain(database, policy, competitive, firm(10 + n, name)) for n, name in enumerate(names)]
    experts: dict[str, int] = {}
    with database.transaction() as session:
        for application_id in competing:
            pass_check(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
        for name, employer in [("网页审核专家甲", "东南大学"), ("网页审核专家乙", "南京大学"),
                               ("网页审核专家丙", "苏州大学"), ("网页审核专家丁", names[0])]:  # fmt: skip
            experts[name] = add_expert(session, name=name, fields=[FIELD], employer=employer, interests=[],
                                       actor=OFFICIAL).id  # fmt: skip
        for application_id in competing[1:]:
            draw_experts(session, application=session.get_one(Application, application_id), actor=OFFICIAL,
                         field=FIELD, seed=f"web-{application_id}")  # fmt: skip

    # 批准: two applications proposed in full (400万元) against a budget of 300万元, 公示 over; paid 60/40
    approval = add_call(database, policy, title="网页审核测试·批准批次", publicity_days=5, budget="300万元",
                        instalments=[60, 40])  # fmt: skip
    pair = [submit_plain(database, policy, approval, firm(20 + n, name))
            for n, name in enumerate(["审核批准一软件有限公司", "审核批准二软件有限公司"])]  # fmt: skip
    with database.transaction() as session:
        for application_id in pair:
            application = session.get_one(Application, application_id)
            pass_check(session, application=application, actor=OFFICIAL)
            _call, transition = check(session, application, "propose", OFFICIAL)
            move(session, application, transition, actor=OFFICIAL, approved_fen=application.requested_fen,
                 rules=[{**r, "approved_fen": r["amount_fen"]} for r in application.rules])  # fmt: skip
        start_publicity(session, call=session.get_one(Call, approval), actor=OFFICIAL,
                        starts_on=beijing.today() - dt.timedelta(days=20), calendar=state.calendar,
                        channel="网页审核测试网站")  # fmt: skip
        assert session.get_one(Entity, session.get_one(Application, competing[0]).entity_id).name == names[0]
    add_user(database, "web-review-admin", "administrator")
    yield World(formal, competitive, approval, *formal_ids, competing[0], competing[1:], "网页审核专家丁", experts,
                *pair, "web-review-admin")  # fmt: skip


def _official(page: Page, site: Site) -> None:
    sign_in(page, site, "official")
    expect(page).to_have_url(site.base_url + "/desk/official")


def _state_of(site: Site, application_id: int) -> str:
    from huiqi.store.models import Application

    with site.app.state.database.sessions() as session:
        return str(session.get_one(Application, application_id).state)


def _score(site: Site, world: World, application_id: int, totals: list[tuple[int, int]]) -> None:
    """Each drawn expert hands in its own sheet (through the workflow, as the expert desk does)."""
    from sqlalchemy import select

    from huiqi.store.models import Assignment
    from huiqi.workflow.actors import Actor
    from huiqi.workflow.review import submit_score

    database = site.app.state.database
    with database.transaction() as session:
        assignments = session.scalars(
            select(Assignment).where(Assignment.application_id == application_id).order_by(Assignment.id)
        ).all()
        for assignment, (tech, market) in zip(assignments, totals, strict=True):
            expert = Actor(f"expert-{assignment.expert_id}", "expert", expert_id=assignment.expert_id)
            submit_score(session, assignment_id=assignment.id, scores={"tech": tech, "market": market},
                         comment="技术路线清楚", actor=expert)  # fmt: skip


def test_formal_check_pass_return_with_fix_list_and_refusals(page: Page, site: Site, world: World) -> None:
    _official(page, site)
    desk_call = page.locator("section", has=page.get_by_role("heading", name="网页审核测试·形式审查批次"))
    expect(desk_call).to_contain_text("已提交（待形式审查）")
    desk_call.get_by_role("link", name="3", exact=True).click()  # the count of submitted applications opens the queue
    expect(page).to_have_url(re.compile(rf"/desk/official/calls/{world.formal_call}\?state=submitted$"))
    expect(page.locator("nav.state-tabs a[aria-current=page]")).to_contain_text("已提交（待形式审查） 3")
    queue = page.locator("table.queue tbody tr")
    expect(queue).to_have_count(3)
    expect(queue.first).to_contain_text("审核甲软件有限公司")
    expect(queue.first).to_contain_text("200万元")
    expect(page.locator("table.budget-table")).to_contain_text("1,000万元")
    shot(page, "official-call-queue")

    page.get_by_role("link", name="审核甲软件有限公司").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"申请 {world.checked}：审核甲软件有限公司")
    expect(page.locator("table.materials")).to_contain_text("审计报告.pdf")
    expect(page.locator("table.materials td.hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    facts = page.locator("table.facts")
    expect(facts.locator("tr", has_text="营业收入").filter(has_text="2023")).to_contain_text("主管部门核实")
    expect(page.locator("section", has_text="提交时冻结的评估结果")).to_contain_text("进档补差")
    expect(page.locator("ol.timeline")).to_contain_text("提交申报")
    shot(page, "official-application-submitted")
    page.get_by_role("button", name="形式审查通过").click()
    expect(page.locator("p.note[role=status]")).to_contain_text("已作出“形式审查通过”的决定")
    expect(page.locator("dd.state")).to_have_text("形式审查通过")
    expect(page.get_by_role("button", name="形式审查通过")).to_have_count(0)  # the state allows it no more
    assert _state_of(site, world.checked) == "checked"

    # 一次性告知: two items at once; a row with a material but no problem is refused, what was typed kept
    page.goto(f"{site.base_url}/desk/official/applications/{world.returned}")
    page.get_by_label("第1项 涉及的材料或信息").fill("营业收入专项审计报告")
    page.get_by_label("第1项 问题和补正要求").fill("缺少会计师事务所盖章页，请补充盖章页")
    page.get_by_label("第2项 涉及的材料或信息").fill("软件企业评估证书")
    page.get_by_role("button", name="退回补正").click()
    refusal = page.locator("form.fix-form .refusal")
    expect(refusal).to_contain_text("每个补正事项须说明问题和补正要求")
    expect(page.get_by_label("第2项 问题和补正要求")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("第1项 问题和补正要求")).to_have_value("缺少会计师事务所盖章页，请补充盖章页")
    assert _state_of(site, world.returned) == "submitted"  # nothing stored
    page.get_by_label("第2项 问题和补正要求").fill("证书已过有效期，请上传有效期内的证书")
    page.get_by_role("button", name="再加一项").click()  # official.js: a sixth row
    page.get_by_label("第6项 问题和补正要求").fill("申报书第3页缺法定代表人签字")
    shot(page, "official-return-form")
    page.get_by_role("button", name="退回补正").click()
    expect(page.locator("p.note[role=status]")).to_contain_text("一次性告知")
    fixes = page.locator("ol.corrections li")
    expect(fixes).to_have_count(3)
    expect(fixes.nth(0)).to_have_text("营业收入专项审计报告：缺少会计师事务所盖章页，请补充盖章页")
    expect(fixes.nth(2)).to_have_text("申报书第3页缺法定代表人签字")
    expect(page.locator("dd.state")).to_have_text("退回补正")

    # 不予支持 without a reason: 400, the message beside the field; with one: done
    page.goto(f"{site.base_url}/desk/official/applications/{world.rejected}")
    response = page.request.post(
        f"{site.base_url}/desk/official/applications/{world.rejected}/reject",
        form={"csrf_token": page.locator("form input[name=csrf_token]").first.input_value(), "reason": " "},
    )
    assert response.status == 400
    assert "不予支持须写明理由" in response.text()
    page.get_by_role("button", name="不予支持").click()
    expect(page.locator("#reject-error")).to_contain_text("不予支持须写明理由")
    expect(page.get_by_label("不予支持的理由（申报主体将看到）")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("不予支持的理由（申报主体将看到）").fill("经核实，2023年营业收入未达1亿元")
    page.get_by_role("button", name="不予支持").click()
    expect(page.locator("dd.state")).to_have_text("不予支持")
    # a POST without the form's token changes nothing
    response = page.request.post(f"{site.base_url}/desk/official/applications/{world.checked}/reject",
                                 form={"reason": "无令牌"})  # fmt: skip
    assert response.status == 403
    assert _state_of(site, world.checked) == "checked"


def test_expert_draw_excludes_the_conflict_then_the_proposed_list_and_publicity(
    page: Page, site: Site, world: World
) -> None:
    _official(page, site)
    page.goto(f"{site.base_url}/desk/official/applications/{world.drawn}")
    review = page.locator("#review")
    expect(review.locator("ul.excluded")).to_contain_text(
        f"{world.conflicted_expert}（审核竞争一软件有限公司）：专家任职于申报单位"
    )
    page.get_by_label("专家领域").select_option(FIELD)
    page.get_by_role("button", name="随机抽取专家").click()
    expect(page.locator("p.note[role=status]")).to_contain_text("已抽取评审专家")
    drawn = page.locator("table.drawn tbody tr")
    expect(drawn).to_have_count(3)
    expect(page.locator("table.drawn")).not_to_contain_text(world.conflicted_expert)
    for name in ("网页审核专家甲", "网页审核专家乙", "网页审核专家丙"):
        expect(page.locator("table.drawn")).to_contain_text(name)
    expect(drawn.first).to_contain_text("尚未提交评分")
    expect(page.locator("dd.state")).to_have_text("专家评审中")

    # the proposed list waits for every score
    page.goto(f"{site.base_url}/desk/official/calls/{world.competitive_call}")
    expect(page.locator("ul.pending")).to_contain_text("尚有3名专家未提交评分")
    page.get_by_role("button", name="确定拟支持名单").click()
    expect(page.locator("#proposed-error")).to_contain_text("尚有3名专家未提交评分")
    assert _state_of(site, world.drawn) == "under_review"

    _score(site, world, world.drawn, [(55, 35), (50, 30), (58, 38)])
    _score(site, world, world.others[0], [(40, 30), (45, 25), (42, 28)])
    _score(site, world, world.others[1], [(30, 20), (35, 15), (32, 18)])
    page.goto(f"{site.base_url}/desk/official/applications/{world.drawn}")
    expect(page.locator("table.drawn")).to_contain_text("90")
    expect(page.locator("strong.score")).to_have_text("90")  # trimmed mean of 80, 90, 96
    shot(page, "official-expert-draw")

    page.goto(f"{site.base_url}/desk/official/calls/{world.competitive_call}")
    proposed = page.locator("#proposed")
    expect(proposed).to_contain_text("名额 2 个")
    expect(proposed).to_contain_text("剩余预算 500万元")
    page.get_by_role("button", name="确定拟支持名单").click()
    expect(page).to_have_url(re.compile(r"state=proposed"))
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("审核竞争一软件有限公司")
    expect(rows.first).to_contain_text("第1名 · 90分")
    expect(rows.nth(1)).to_contain_text("第2名 · 70分")
    page.locator("nav.state-tabs").get_by_role("link", name=re.compile("不予支持")).click()
    expect(page.locator("table.queue")).to_contain_text("竞争性评审排名第3，未进入名额（名额2个）")
    expect(page.locator("table.budget-table")).to_contain_text("400万元")  # proposed, not yet approved

    from huiqi.workflow.holidays import publicity_end

    today = beijing.today()
    end = publicity_end(today, 5, "working", site.app.state.calendar)
    page.get_by_label("发布渠道").fill("苏州市工业和信息化局网站")
    expect(page.locator("#publicity")).to_contain_text(f"至 {end.year}年{end.month}月{end.day}日 结束")
    shot(page, "official-proposed-list")
    page.get_by_role("button", name="开始公示").click()
    expect(page.locator("p.note[role=status]")).to_contain_text("公示已开始")
    expect(page.locator("#publicity .period")).to_contain_text(
        f"至{end.year}年{end.month}月{end.day}日（5个工作日，节假日不计、调休上班日计入）"
    )
    expect(page.locator("table.queue tbody tr")).to_have_count(2)

    page.goto(f"{site.base_url}/desk/official/applications/{world.drawn}")
    expect(page.locator("#approve-blocker")).to_contain_text("公示期满后方可批准")
    expect(page.get_by_role("button", name="批准并预留预算")).to_be_disabled()

    # an objection by real name: the official sees who filed it, and records the outcome once
    _object(site, world.others[0])
    page.goto(f"{site.base_url}/desk/official/applications/{world.others[0]}")
    objection = page.locator("li.objection")
    expect(objection).to_contain_text("异议人 王小明（身份证 ")
    expect(objection).to_contain_text("营业收入含关联交易")
    objection.get_by_label("异议不成立").check()
    objection.get_by_role("button", name="记录处理结果").click()
    expect(page.locator("li.objection .refusal")).to_contain_text("须写明核查情况和处理意见")
    expect(page.locator("li.objection").get_by_label("异议不成立")).to_be_checked()
    page.locator("li.objection").get_by_label("核查情况和处理意见").fill(
        "经核查审计报告，关联交易已剔除，营业收入仍达1亿元"
    )
    page.locator("li.objection").get_by_role("button", name="记录处理结果").click()
    expect(page.locator("p.note[role=status]")).to_contain_text("异议处理结果已记录")
    expect(page.locator("li.objection")).to_contain_text("处理结果：异议不成立")
    expect(page.locator("li.objection form")).to_have_count(0)
    expect(page.locator("dd.state")).to_have_text("公示中")
    shot(page, "official-objection-resolved")


def _object(site: Site, application_id: int) -> None:
    from huiqi.store.models import Application
    from huiqi.workflow.publicity import file_objection
    from platform_fixtures import OFFICIAL, make_id_number

    with site.app.state.database.transaction() as session:
        file_objection(session, application=session.get_one(Application, application_id), actor=OFFICIAL,
                       name="王小明", id_number=make_id_number(7), contact="13800000000",
                       content="该企业营业收入含关联交易，实际未达1亿元", evidence="年报第12页")  # fmt: skip


def test_approval_within_the_budget_then_refused_beyond_it(page: Page, site: Site, world: World) -> None:
    _official(page, site)
    page.goto(f"{site.base_url}/desk/official/applications/{world.first}")
    approve = page.locator("#approve")
    expect(approve).to_contain_text("批准金额 200万元")
    expect(approve.locator(".budget-left")).to_have_text("300万元")
    page.get_by_role("button", name="批准并预留预算").click()
    expect(page.locator("p.note[role=status]")).to_contain_text("已批准")
    instalments = page.locator("table.instalments tbody tr")
    expect(instalments).to_have_count(2)
    expect(instalments.nth(0)).to_contain_text("第1期")
    expect(instalments.nth(0)).to_contain_text("60%")
    expect(instalments.nth(0)).to_contain_text("120万元")
    expect(instalments.nth(0)).to_contain_text("待拨付")
    expect(instalments.nth(1)).to_contain_text("80万元")
    expect(page.get_by_role("link", name="追回资金并列入失信名单…")).to_have_attribute(
        "href", f"/desk/official/applications/{world.first}/clawback"
    )
    shot(page, "official-approved-instalments")
    clawback = page.request.get(f"{site.base_url}/desk/official/applications/{world.first}/clawback")
    assert clawback.status == 200  # the link leads to the clawback page (web/official_batches.py)

    page.goto(f"{site.base_url}/desk/official/applications/{world.second}")
    expect(page.locator("#approve .budget-left")).to_have_text("100万元")
    page.get_by_role("button", name="批准并预留预算").click()
    refusal = page.locator("#approve .refusal")
    expect(refusal).to_contain_text("预算不足：本批次预算300万元，已预留200万元，剩余100万元，不足以批准200万元")
    expect(page.locator("dd.state")).to_have_text("公示中")
    assert _state_of(site, world.second) == "publicity"
    shot(page, "official-approve-refused")
    page.set_viewport_size({"width": 375, "height": 812})
    no_horizontal_scroll(page)
    page.goto(f"{site.base_url}/desk/official/applications/{world.checked}")
    no_horizontal_scroll(page)
    page.goto(f"{site.base_url}/desk/official/calls/{world.competitive_call}")
    no_horizontal_scroll(page)
    shot(page, "official-call-phone")


def test_separation_of_duties_and_what_others_may_not_see(page: Page, site: Site, world: World) -> None:
    from platform_fixtures import TEST_PASSWORD

    sign_in(page, site, world.admin, TEST_PASSWORD)
    page.goto(f"{site.base_url}/desk/official/applications/{world.second}")
    expect(page.locator("p.refused-step").first).to_contain_text("只能由主管部门经办人执行，当前用户是系统管理员")
    expect(page.get_by_role("button", name="批准并预留预算")).to_have_count(0)
    shot(page, "official-administrator-refused")
    response = page.request.post(f"{site.base_url}/desk/official/applications/{world.second}/approve",
                                 form={"csrf_token": _token(page)})  # fmt: skip
    assert response.status == 403
    assert "只能由主管部门经办人执行" in response.text()
    assert _state_of(site, world.second) == "publicity"
    missing = page.request.get(f"{site.base_url}/desk/official/applications/2147483000")
    assert missing.status == 404
    assert "未找到" in missing.text()
    page.context.clear_cookies()
    sign_in(page, site, "suzhou-c")
    other = page.request.get(f"{site.base_url}/desk/official/calls/{world.formal_call}")
    assert other.status == 403
    assert "此操作仅限主管部门经办人、系统管理员" in other.text()


def _token(page: Page) -> Any:
    return page.locator("input[name=csrf_token]").first.input_value()
