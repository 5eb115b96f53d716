"""From draft to the formal check: 信用承诺, materials, the frozen evaluation, 一次性告知."""

from __future__ import annotations

import datetime as dt

import pytest

from huiqi import beijing
from huiqi.store.db import Database
from huiqi.store.entities import get_entity, record_fact
from huiqi.store.errors import Conflict, IllegalTransition, InvalidInput, PermissionDenied
from huiqi.store.models import Application, BlacklistEntry, Call
from huiqi.workflow.applications import create_draft, pass_check, return_for_correction, submit, withdraw
from huiqi.workflow.materials import add_material
from huiqi.workflow.policy import PolicyEngine
from platform_fixtures import OFFICIAL, add_call, add_firm, applicant, submit_application

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def test_submission_freezes_the_evaluation_the_policy_version_and_the_facts(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy)
    firm = add_firm(db, policy, 1)
    application_id = submit_application(db, policy, call_id, firm)
    with db.sessions() as session:
        application = session.get_one(Application, application_id)
        assert application.state == "submitted"
        assert application.evaluation is not None and application.evaluation["schema"] == "huiqi.evaluation/2"
        assert application.evaluation["as_of"] == "2024-06-30" and application.evaluation["period"] == 2023
        assert application.policy_version == policy.version("suzhou-software-cluster")
        assert application.requested_fen == 2_000_000_00
        assert [r["ref"] for r in application.rules] == ["suzhou-software-cluster:3/revenue-milestone"]
        assert application.pledge is not None and "郑重承诺" in application.pledge
        assert {f["key"] for f in application.facts_used or []} >= {"revenue", "registered_city"}
        frozen = application.evaluation
    with db.transaction() as session:  # the registry changes afterwards …
        record_fact(session, entity=get_entity(session, firm), key="revenue", value="5000万元", year=2023,
                    provenance="verified", recorded_by="official1", catalogue=policy.base.catalogue)  # fmt: skip
    with db.sessions() as session:  # … and the application still says what it was judged on
        assert session.get_one(Application, application_id).evaluation == frozen


def test_submission_needs_the_pledge_and_every_required_material(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, materials=["营业收入审计报告"])
    firm = add_firm(db, policy, 1)
    with db.transaction() as session:
        call = session.get_one(Call, call_id)
        application = create_draft(session, call=call, actor=applicant(firm))
        with pytest.raises(InvalidInput, match="信用承诺"):
            submit(session, application=application, actor=applicant(firm), pledge=False, policy=policy)
        with pytest.raises(InvalidInput, match="营业收入审计报告"):
            submit(session, application=application, actor=applicant(firm), pledge=True, policy=policy)
        add_material(session, application=application, call=call, name="营业收入审计报告", filename="audit.pdf",
                     content_type="application/pdf", content=PDF, actor=applicant(firm))  # fmt: skip
        submit(session, application=application, actor=applicant(firm), pledge=True, policy=policy)
        assert application.state == "submitted"


def test_an_entity_that_does_not_qualify_cannot_submit_and_is_told_why(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy)
    firm = add_firm(db, policy, 1, revenue_2023="9000万元")
    with pytest.raises(InvalidInput, match="不符合") as refused, db.transaction() as session:
        application = create_draft(session, call=session.get_one(Call, call_id), actor=applicant(firm))
        submit(session, application=application, actor=applicant(firm), pledge=True, policy=policy)
    assert refused.value.where == "facts"


def test_an_applicant_acts_only_for_its_own_entity_and_once_per_call(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy)
    firm, other = add_firm(db, policy, 1), add_firm(db, policy, 2)
    application_id = submit_application(db, policy, call_id, firm)
    with db.transaction() as session:
        application = session.get_one(Application, application_id)
        with pytest.raises(PermissionDenied):
            withdraw(session, application=application, actor=applicant(other))
        with pytest.raises(Conflict, match="只能申请一次"):
            create_draft(session, call=session.get_one(Call, call_id), actor=applicant(firm))


def test_a_call_outside_its_window_refuses_drafts(db: Database, policy: PolicyEngine) -> None:
    today = beijing.today()
    call_id = add_call(db, policy, opens_on=str(today + dt.timedelta(days=1)), closes_on=str(today + dt.timedelta(9)))
    firm = add_firm(db, policy, 1)
    with pytest.raises(Conflict, match="尚未开始"), db.transaction() as session:
        create_draft(session, call=session.get_one(Call, call_id), actor=applicant(firm))


def test_a_blacklisted_entity_cannot_apply_until_the_entry_expires(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy)
    firm = add_firm(db, policy, 1)
    today = beijing.today()
    with db.transaction() as session:
        session.add(BlacklistEntry(entity_id=firm, reason="虚报营业收入", starts_on=today - dt.timedelta(days=400),
                                   expires_on=today, created_by="official1"))  # fmt: skip
    with pytest.raises(PermissionDenied, match="失信名单"), db.transaction() as session:
        create_draft(session, call=session.get_one(Call, call_id), actor=applicant(firm))
    with db.transaction() as session:
        later = create_draft(session, call=session.get_one(Call, call_id), actor=applicant(firm),
                             today=today + dt.timedelta(days=1))  # fmt: skip
        assert later.state == "draft"


def test_return_for_correction_lists_everything_and_happens_only_once(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy)
    firm = add_firm(db, policy, 1)
    application_id = submit_application(db, policy, call_id, firm)
    with db.transaction() as session:
        application = session.get_one(Application, application_id)
        with pytest.raises(InvalidInput, match="一次性"):
            return_for_correction(session, application=application, items=[], actor=OFFICIAL)
        return_for_correction(session, application=application, actor=OFFICIAL,
                              items=[{"field": "materials", "problem": "审计报告缺少盖章页"},
                                     {"field": "facts.revenue", "problem": "2023年营业收入与审计报告不一致"}])  # fmt: skip
        assert application.state == "returned" and len(application.corrections) == 2
        submit(session, application=application, actor=applicant(firm), pledge=True, policy=policy)
        assert application.state == "submitted"
        with pytest.raises(IllegalTransition, match="一次性告知"):
            return_for_correction(session, application=application, actor=OFFICIAL,
                                  items=[{"problem": "还有问题"}])  # fmt: skip
        pass_check(session, application=application, actor=OFFICIAL)
        assert application.state == "checked"
