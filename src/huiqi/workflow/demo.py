"""Demo data for ``huiqi serve`` on a fresh database: a few enterprises, a county, officials, finance,
experts and three calls: Suzhou software rewards open for applications; Zhejiang's competitive software-base
programme; and an earlier Suzhou call whose proposed list is in 公示 (so the public 公示 page shows a real list,
made by the same workflow an official uses: submission, formal check, proposed list, publicity).

Every account's password is ``DEMO_PASSWORD`` (``Huiqi-Demo-2024``) — public by design, which is why settings
refuse demo data in production. (It meets the password rule; ``<username>-demo`` would not: it contains the
username.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi.store.entities import create_entity, record_fact
from huiqi.store.models import Entity
from huiqi.store.users import create_user
from huiqi.workflow.actors import SYSTEM, Actor
from huiqi.workflow.applications import create_draft, pass_check, submit
from huiqi.workflow.calls import CallSpec, open_call
from huiqi.workflow.holidays import HolidayCalendar
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.proposals import make_proposed_list
from huiqi.workflow.publicity import start_publicity
from huiqi.workflow.review import add_expert

OFFICIAL = Actor("official", "official")
DEMO_PASSWORD = "Huiqi-Demo-2024"  # noqa: S105 - the demo's public password

FIRMS: list[dict[str, Any]] = [
    {"username": "suzhou-a", "name": "苏州示例工业软件有限公司", "uscc": "91320594MA1W2X3Y4X", "region": ["江苏省", "苏州市"],
     "facts": {"registered_city": "苏州市", "main_business_software": True, "in_miit_software_statistics": True,
               "revenue": {2022: "4800万元", 2023: "1.35亿元"}}},
    {"username": "suzhou-b", "name": "苏州示例信创软件有限公司", "uscc": "91320594MA00000015", "region": ["江苏省", "苏州市"],
     "facts": {"registered_city": "苏州市", "main_business_software": True, "in_miit_software_statistics": True,
               "revenue": {2022: "3.8亿元", 2023: "5.6亿元"}}},
    {"username": "suzhou-c", "name": "苏州示例数据服务有限公司", "uscc": "91320594MA00000028", "region": ["江苏省", "苏州市"],
     "facts": {"registered_city": "苏州市", "main_business_software": True, "in_miit_software_statistics": True,
               "revenue": {2022: "6000万元", 2023: "9000万元"}}},
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


def load_demo(session: Session, *, policy: PolicyEngine, calendar: HolidayCalendar | None = None) -> list[str]:
    """Load the demo once (nothing happens if entities exist); returns the accounts created."""
    if session.scalar(select(Entity.id).limit(1)) is not None:
        return []
    accounts = []

    def account(username: str, role: str, *, entity_id: int | None = None, expert_id: int | None = None) -> None:
        create_user(session, username=username, password=DEMO_PASSWORD, role=role, entity_id=entity_id,
                    expert_id=expert_id)  # fmt: skip
        accounts.append(f"{username} / {DEMO_PASSWORD}（{role}）")

    catalogue = policy.base.catalogue
    applicants: list[Actor] = []
    for spec in [*FIRMS, COUNTY]:
        kind = "local_government" if spec is COUNTY else "enterprise"
        entity = create_entity(
            session, entity_type=kind, name=spec["name"], uscc=spec.get("uscc"), region=spec["region"]
        )
        for key, value in spec["facts"].items():
            items = value.items() if isinstance(value, dict) else [(None, value)]
            for year, item in items:
                record_fact(session, entity=entity, key=key, value=item, year=year, provenance="verified",
                            recorded_by="demo", catalogue=catalogue, source="演示数据")  # fmt: skip
        account(spec["username"], "applicant", entity_id=entity.id)
        if spec is not COUNTY:
            applicants.append(Actor(spec["username"], "applicant", entity_id=entity.id))
    account("official", "official")
    account("finance", "finance")
    for index, (name, employer) in enumerate(EXPERTS, start=1):
        expert = add_expert(
            session, name=name, fields=["软件", "信息服务"], employer=employer, interests=[], actor=SYSTEM
        )
        account(f"expert{index}", "expert", expert_id=expert.id)
    today = dt.date.today()
    open_call(session, actor=OFFICIAL, policy=policy, spec=CallSpec(
        title="苏州市软件产业规模奖励（营业收入首次达到1亿元、5亿元、10亿元）", document_id="suzhou-software-cluster",
        provisions=["3"], period=today.year - 1, as_of=dt.date(2024, 6, 30) if today.year > 2024 else None,
        opens_on=today - dt.timedelta(days=7), closes_on=today + dt.timedelta(days=60), budget="2000万元",
        materials=["营业收入审计报告"], review_mode="formal", publicity_days=7, publicity_day_kind="working",
        oversubscription="pro_rata", instalments=[60, 40], report_due=["06-30", "12-31"], report_years=1))  # fmt: skip
    open_call(session, actor=OFFICIAL, policy=policy, spec=CallSpec(
        title="浙江省软件和信息服务产业基地建设（竞争性评审）", document_id="zhejiang-software-bases", provisions=["七.1"],
        period=2016, as_of=dt.date(2016, 6, 30), opens_on=today - dt.timedelta(days=7),
        closes_on=today + dt.timedelta(days=60), budget="1.1亿元", review_mode="competitive", quota=4,
        experts_per_application=5,
        criteria=[{"key": "scale", "label": "产业规模与基础", "max": 40}, {"key": "plan", "label": "建设方案可行性", "max": 40},
                  {"key": "support", "label": "地方支持政策", "max": 20}],
        publicity_days=7, report_due=["06-30", "12-31"], report_years=3, payer="浙江省财政（工业与信息化专项资金）"))  # fmt: skip
    _publicity_demo(session, policy=policy, calendar=calendar or HolidayCalendar.packaged(), applicants=applicants)
    return accounts


def _publicity_demo(
    session: Session, *, policy: PolicyEngine, calendar: HolidayCalendar, applicants: list[Actor]
) -> None:
    """A Suzhou call whose applications went through the formal check and whose proposed list has been in
    公示 since two days ago (seven working days, counted with 调休)."""
    today = dt.date.today()
    call = open_call(session, actor=OFFICIAL, policy=policy, spec=CallSpec(
        title="苏州市软件产业规模奖励（第一批，演示：拟支持名单公示中）", document_id="suzhou-software-cluster",
        provisions=["3"], period=2023, as_of=dt.date(2024, 6, 30), opens_on=today - dt.timedelta(days=30),
        closes_on=today, budget="1000万元", review_mode="formal", publicity_days=7,
        publicity_day_kind="working", oversubscription="pro_rata"))  # fmt: skip
    for actor in applicants[:2]:  # the third firm's revenue reaches no tier: it could not submit
        application = create_draft(session, call=call, actor=actor, today=today)
        submit(session, application=application, actor=actor, pledge=True, policy=policy)
        if application.state == "submitted":
            pass_check(session, application=application, actor=OFFICIAL)
    make_proposed_list(session, call=call, actor=OFFICIAL)
    start_publicity(session, call=call, actor=OFFICIAL, starts_on=today - dt.timedelta(days=2), calendar=calendar,
                    channel="苏州市工业和信息化局网站（演示）")  # fmt: skip
