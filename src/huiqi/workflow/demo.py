"""Demo data for ``huiqi serve`` on a fresh database, dated from the day it is loaded so that it works on any
date: four Suzhou software firms, a county, officials, finance, experts, and calls at every stage.

The calls and the years they ask about (``Y`` is the previous calendar year, ``today.year - 1``: a call
opened this year rewards what a firm reached last year, as Suzhou's calls do):

- **open for applications** — Suzhou's software-scale rewards for year ``Y`` (provision 3), open from a week
  ago for 60 days: ``suzhou-c`` first reached 1亿元 in ``Y`` and can submit today (200万元);
- **competitive** — Zhejiang's software-base programme (provision 七.1), open: ``county`` can submit;
- **in 公示** — an earlier Suzhou call for year ``Y - 1`` (window ending today, closed), whose proposed list
  (``suzhou-a`` 200万元, ``suzhou-b`` 300万元 进档补差) has been in 公示 since two days ago;
- **approved and paying** — a Suzhou call for year ``Y - 2`` that ran about a year ago: ``suzhou-d``'s
  application was submitted, checked, proposed, in 公示, approved (200万元, 60/40 instalments, reports due
  30 June and 31 December of the approval year), and finance paid the first instalment (120万元).

The firms' revenue is recorded for the years those calls use, counted back from today (``Y - 3`` … ``Y``),
so the engine never asks for a year the demo lacks. Nothing is written directly: every step goes through
the workflow functions with the actor whose role the state machine requires (the applicant submits with its
信用承诺, the official checks, lists, publishes and approves, finance pays). The past steps are dated
when they would have happened (submission, formal check, proposed list, 公示 start, approval, payment: each
workflow function takes ``now`` for its audit events), so an application's timeline reads as it would have;
the events are still appended to the chain in the order they were made at load time (the chain is ordered by
sequence, not by time; opening the calls and creating the accounts carry the load time).

Every account's password is ``DEMO_PASSWORD`` (``Huiqi-Demo-2024``) — public by design, which is why settings
refuse demo data in production. (It meets the password rule; ``<username>-demo`` would not: it contains the
username.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.store.db import Database
from huiqi.store.entities import create_entity, record_fact
from huiqi.store.models import Application, Call, Entity, Payment
from huiqi.store.users import create_user
from huiqi.workflow.actors import SYSTEM, Actor
from huiqi.workflow.applications import create_draft, pass_check, submit
from huiqi.workflow.awards import approve, pay
from huiqi.workflow.calls import CallSpec, close_call, open_call
from huiqi.workflow.holidays import HolidayCalendar
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.proposals import make_proposed_list
from huiqi.workflow.publicity import start_publicity
from huiqi.workflow.review import add_expert

OFFICIAL = Actor("official", "official")
FINANCE = Actor("finance", "finance")
DEMO_PASSWORD = "Huiqi-Demo-2024"  # noqa: S105 - the demo's public password

#: What each demo account is for (docs/platform.md lists the same).
ROLES_GUIDE: dict[str, str] = {
    "suzhou-a": "申报主体：苏州示例工业软件有限公司，上一批次拟支持、公示中",
    "suzhou-b": "申报主体：苏州示例信创软件有限公司，上一批次拟支持、公示中",
    "suzhou-c": "申报主体：苏州示例数据服务有限公司，今天可向开放中的苏州批次提交申请",
    "suzhou-d": "申报主体：苏州示例智能制造软件有限公司，已获批准、第一期已拨付",
    "county": "申报主体：西湖区人民政府（样例），可申报浙江省软件基地（竞争性评审）",
    "official": "主管部门经办人：审核、名单、公示、批准",
    "finance": "财政：拨付",
    "analyst": "政策分析人员：模拟测算、改革方案、预算分配",
    "expert1": "评审专家（expert1 至 expert6）",
}


def firms(today: dt.date) -> list[dict[str, Any]]:
    """The demo firms, their revenue recorded for the years the calls use (``Y = today.year - 1`` and before)."""
    y = today.year - 1
    common = {"registered_city": "苏州市", "main_business_software": True, "in_miit_software_statistics": True}
    return [
        {"username": "suzhou-a", "name": "苏州示例工业软件有限公司", "uscc": "91320594MA1W2X3Y4X", "district": "虎丘区",
         "facts": {**common, "industry": "工业软件", "revenue": {y - 2: "4800万元", y - 1: "1.35亿元", y: "1.6亿元"}}},
        {"username": "suzhou-b", "name": "苏州示例信创软件有限公司", "uscc": "91320594MA00000015", "district": "吴中区",
         "facts": {**common, "industry": "软件开发", "revenue": {y - 2: "3.8亿元", y - 1: "5.6亿元", y: "6.2亿元"}}},
        {"username": "suzhou-c", "name": "苏州示例数据服务有限公司", "uscc": "91320594MA00000028", "district": "姑苏区",
         "facts": {**common, "industry": "信息技术服务", "revenue": {y - 2: "6000万元", y - 1: "9000万元", y: "1.2亿元"}}},
        {"username": "suzhou-d", "name": "苏州示例智能制造软件有限公司", "uscc": "91320594MA0000003B", "district": "相城区",
         "facts": {**common, "industry": "工业软件", "revenue": {y - 3: "7000万元", y - 2: "1.1亿元", y - 1: "1.3亿元", y: "1.5亿元"}}},
    ]  # fmt: skip


COUNTY: dict[str, Any] = {
    "username": "county",
    "name": "西湖区人民政府（样例）",
    "region": ["浙江省", "杭州市", "西湖区"],
    "facts": {"government_level": "县（市、区）", "prefecture_city": "杭州市", "county_software_scale_rank": 12,
              "base_has_clear_plan_and_schedule": True, "base_planned_construction_years": 3,
              "base_fosters_backbone_enterprises_and_projects": True, "government_issued_support_policies": True,
              "government_prioritises_base_construction": True, "listed_software_base_type": "示范基地"},
}  # fmt: skip

EXPERTS = [("张教授", "苏州大学"), ("李研究员", "江苏省软件研究所"), ("王高工", "浙江大学"), ("赵教授", "南京大学"),
           ("钱会计师", "某会计师事务所"), ("孙工程师", "某信息技术研究院")]  # fmt: skip

SUZHOU_TITLE = "苏州市软件产业规模奖励（营业收入首次达到1亿元、5亿元、10亿元）"


def load_demo(
    session: Session, *, policy: PolicyEngine, calendar: HolidayCalendar | None = None, today: dt.date | None = None
) -> list[str]:
    """Load the demo once (nothing happens if entities exist); returns the accounts created."""
    if session.scalar(select(Entity.id).limit(1)) is not None:
        return []
    today = today or beijing.today()
    calendar = calendar or HolidayCalendar.packaged()
    accounts = []

    def account(username: str, role: str, *, entity_id: int | None = None, expert_id: int | None = None) -> None:
        create_user(session, username=username, password=DEMO_PASSWORD, role=role, entity_id=entity_id,
                    expert_id=expert_id)  # fmt: skip
        accounts.append(f"{username} / {DEMO_PASSWORD}（{role}）")

    catalogue = policy.base.catalogue
    applicants: dict[str, Actor] = {}
    for spec in [*firms(today), COUNTY]:
        kind = "local_government" if spec is COUNTY else "enterprise"
        entity = create_entity(session, entity_type=kind, name=spec["name"], uscc=spec.get("uscc"),
                               region=spec.get("region", ["江苏省", "苏州市", spec.get("district", "")]))  # fmt: skip
        for key, value in spec["facts"].items():
            items = value.items() if isinstance(value, dict) else [(None, value)]
            for year, item in items:
                record_fact(session, entity=entity, key=key, value=item, year=year, provenance="verified",
                            recorded_by="demo", catalogue=catalogue, source="演示数据")  # fmt: skip
        account(spec["username"], "applicant", entity_id=entity.id)
        applicants[spec["username"]] = Actor(spec["username"], "applicant", entity_id=entity.id)
    account("official", "official")
    account("finance", "finance")
    account("analyst", "analyst")
    for index, (name, employer) in enumerate(EXPERTS, start=1):
        expert = add_expert(
            session, name=name, fields=["软件", "信息服务"], employer=employer, interests=[], actor=SYSTEM
        )
        account(f"expert{index}", "expert", expert_id=expert.id)
    _paying_demo(session, policy=policy, calendar=calendar, firm=applicants["suzhou-d"], today=today)
    _publicity_demo(session, policy=policy, calendar=calendar,
                    firms=[applicants["suzhou-a"], applicants["suzhou-b"]], today=today)  # fmt: skip
    open_call(session, actor=OFFICIAL, policy=policy, spec=CallSpec(
        title=f"{today.year}年{SUZHOU_TITLE}", document_id="suzhou-software-cluster",
        provisions=["3"], period=today.year - 1, opens_on=today - dt.timedelta(days=7),
        closes_on=today + dt.timedelta(days=60), budget="2000万元",
        materials=["营业收入审计报告"], review_mode="formal", publicity_days=7, publicity_day_kind="working",
        oversubscription="pro_rata", instalments=[60, 40], report_due=["06-30", "12-31"], report_years=1))  # fmt: skip
    open_call(session, actor=OFFICIAL, policy=policy, spec=CallSpec(
        title="浙江省软件和信息服务产业基地建设（竞争性评审）", document_id="zhejiang-software-bases", provisions=["七.1"],
        period=2016, as_of=dt.date(2016, 6, 30), opens_on=today - dt.timedelta(days=7),
        closes_on=today + dt.timedelta(days=60), budget="1.1亿元", review_mode="competitive", quota=4,
        materials=[],  # the demo asks for none (the text's three are left out: recorded as a deviation)
        experts_per_application=5,
        criteria=[{"key": "scale", "label": "产业规模与基础", "max": 40}, {"key": "plan", "label": "建设方案可行性", "max": 40},
                  {"key": "support", "label": "地方支持政策", "max": 20}],
        publicity_days=7, report_due=["06-30", "12-31"], report_years=3, payer="浙江省财政（工业与信息化专项资金）"))  # fmt: skip
    return accounts


def tell_demo_firms(database: Database, policy: PolicyEngine, *, today: dt.date | None = None) -> int:
    """政策找企业 for the demo's open calls, as after opening them through the API or the official's form (the
    demo opens them inside its loading transaction, so this runs once that is committed); returns the
    notices told."""
    from huiqi.workflow.matching import match_committed

    today = today or beijing.today()
    with database.sessions() as session:
        calls = session.scalars(select(Call.id).where(Call.status == "open", Call.closes_on >= today)).all()
    return sum(len(match_committed(database, policy, call_id, today=today).new_notice_ids) for call_id in calls)


def _day_kind(calendar: HolidayCalendar, starts_on: dt.date) -> Literal["working", "calendar"]:
    """Working days when the holiday calendar covers the 公示 (seven working days are at most 20 days), else
    calendar days — as an official would have to before the State Council publishes next year's holidays."""
    known = {starts_on.year, (starts_on + dt.timedelta(days=20)).year} <= set(calendar.years)
    return "working" if known else "calendar"


def _moment(day: dt.date) -> dt.datetime:
    """10:00 Beijing time on ``day``, as UTC."""
    return dt.datetime(day.year, day.month, day.day, 2, tzinfo=dt.UTC)


def _submit_and_check(
    session: Session, *, call: Call, policy: PolicyEngine, applicants: list[Actor], on: dt.date
) -> list[Application]:
    applications = []
    for actor in applicants:
        application = create_draft(session, call=call, actor=actor, today=on, now=_moment(on))
        submit(session, application=application, actor=actor, pledge=True, policy=policy, now=_moment(on))
        pass_check(session, application=application, actor=OFFICIAL, now=_moment(on + dt.timedelta(days=3)))
        applications.append(application)
    return applications


def _publicity_demo(
    session: Session, *, policy: PolicyEngine, calendar: HolidayCalendar, firms: list[Actor], today: dt.date
) -> None:
    """A Suzhou call for year ``today.year - 2`` whose applications went through the formal check and whose
    proposed list has been in 公示 since two days ago (seven working days, counted with 调休, when the
    holiday calendar covers them; else seven calendar days)."""
    period = today.year - 2
    call = open_call(session, actor=OFFICIAL, policy=policy, spec=CallSpec(
        title=f"{period}年度{SUZHOU_TITLE}（演示：拟支持名单公示中）", document_id="suzhou-software-cluster",
        provisions=["3"], period=period, opens_on=today - dt.timedelta(days=30),
        closes_on=today, budget="1000万元", review_mode="formal", publicity_days=7,
        publicity_day_kind=_day_kind(calendar, today - dt.timedelta(days=2)), oversubscription="pro_rata"))  # fmt: skip
    _submit_and_check(session, call=call, policy=policy, applicants=firms, on=today - dt.timedelta(days=20))
    close_call(session, call=call, actor=OFFICIAL)  # the list is made: nothing more is taken
    make_proposed_list(session, call=call, actor=OFFICIAL, now=_moment(today - dt.timedelta(days=5)))
    start_publicity(session, call=call, actor=OFFICIAL, starts_on=today - dt.timedelta(days=2), calendar=calendar,
                    channel="苏州市工业和信息化局网站（演示）", now=_moment(today - dt.timedelta(days=2)))  # fmt: skip


def _paying_demo(
    session: Session, *, policy: PolicyEngine, calendar: HolidayCalendar, firm: Actor, today: dt.date
) -> None:
    """A Suzhou call for year ``today.year - 3`` that ran about a year ago: submitted, checked, proposed, in
    公示 for seven working days, approved after it ended, and its first instalment paid by finance."""
    period = today.year - 3
    opens = today - dt.timedelta(days=400)
    call = open_call(session, actor=OFFICIAL, policy=policy, spec=CallSpec(
        title=f"{period}年度{SUZHOU_TITLE}（演示：已批准、拨付中）", document_id="suzhou-software-cluster",
        provisions=["3"], period=period, opens_on=opens, closes_on=opens + dt.timedelta(days=30),
        budget="1000万元", materials=[], review_mode="formal", publicity_days=7,
        publicity_day_kind=_day_kind(calendar, opens + dt.timedelta(days=40)),
        oversubscription="pro_rata", instalments=[60, 40], report_due=["06-30", "12-31"], report_years=1))  # fmt: skip
    (application,) = _submit_and_check(
        session, call=call, policy=policy, applicants=[firm], on=opens + dt.timedelta(days=10)
    )
    close_call(session, call=call, actor=OFFICIAL)
    make_proposed_list(session, call=call, actor=OFFICIAL, now=_moment(opens + dt.timedelta(days=35)))
    publicity = start_publicity(session, call=call, actor=OFFICIAL, starts_on=opens + dt.timedelta(days=40),
                                calendar=calendar, channel="苏州市工业和信息化局网站（演示）",
                                now=_moment(opens + dt.timedelta(days=40)))  # fmt: skip
    approved_on = publicity.ends_on + dt.timedelta(days=7)
    approve(session, application=application, actor=OFFICIAL, today=approved_on, now=_moment(approved_on))
    first = session.scalars(
        select(Payment).where(Payment.application_id == application.id).order_by(Payment.instalment)
    ).first()
    assert first is not None
    pay(session, payment_id=first.id, actor=FINANCE, reference=f"演示-{approved_on:%Y%m%d}-001",
        now=_moment(approved_on + dt.timedelta(days=10)))  # fmt: skip
