"""回避: an expert declares a conflict before scoring; the sheet is closed, a replacement drawn, the score
aggregated without it, and the chain records both."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from huiqi.store.db import Database
from huiqi.store.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from huiqi.store.models import Application, Assignment, AuditEvent, Call
from huiqi.workflow import audit
from huiqi.workflow.actors import Actor
from huiqi.workflow.applications import pass_check
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.review import add_expert, decline_assignment, draw_experts, score_of, submit_score
from platform_fixtures import FINANCE, OFFICIAL, add_call, add_firm, submit_application

CRITERIA = [{"key": "scale", "label": "产业规模", "max": 50}, {"key": "plan", "label": "建设方案", "max": 50}]


def _under_review(db: Database, policy: PolicyEngine, *, pool: int, per_application: int = 3) -> tuple[int, list[int]]:
    """An application drawn for ``per_application`` experts out of ``pool``; returns it and the pool's ids."""
    call_id = add_call(db, policy, review_mode="competitive", criteria=CRITERIA,
                       experts_per_application=per_application, quota=1)  # fmt: skip
    firm = add_firm(db, policy, 1)
    with db.transaction() as session:
        experts = [add_expert(session, name=f"专家{n}", fields=["软件"], employer=f"大学{n}", interests=[],
                              actor=OFFICIAL).id for n in range(pool)]  # fmt: skip
    application_id = submit_application(db, policy, call_id, firm)
    with db.transaction() as session:
        application = session.get_one(Application, application_id)
        pass_check(session, application=application, actor=OFFICIAL)
        draw_experts(session, application=application, actor=OFFICIAL, seed="first")
    return application_id, experts


def _sheets(db: Database, application_id: int) -> list[Assignment]:
    with db.sessions() as session:
        query = select(Assignment).where(Assignment.application_id == application_id).order_by(Assignment.id)
        return list(session.scalars(query))


def expert(expert_id: int) -> Actor:
    return Actor(f"expert{expert_id}", "expert", expert_id=expert_id)


def test_a_declared_conflict_closes_the_sheet_draws_a_replacement_and_is_audited(
    db: Database, policy: PolicyEngine
) -> None:
    application_id, experts = _under_review(db, policy, pool=5)
    first = _sheets(db, application_id)
    assert len(first) == 3
    declining = first[0]
    moment = dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)
    with db.transaction() as session:
        result = decline_assignment(session, assignment_id=declining.id, actor=expert(declining.expert_id),
                                    reason="  曾在申报单位兼职  ", now=moment, seed="again")  # fmt: skip
        assert result.replacement is not None
        replacement_id, new_expert = result.replacement.id, result.replacement.expert_id
    sheets = {a.id: a for a in _sheets(db, application_id)}
    assert sheets[declining.id].declined_at is not None and sheets[declining.id].decline_reason == "曾在申报单位兼职"
    assert new_expert in experts and new_expert not in {a.expert_id for a in first}  # someone not yet drawn
    assert sheets[replacement_id].draw_seed == "again" and sheets[replacement_id].declined_at is None
    with db.sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert audit.verify(session).ok
    decline = [e for e in events if e.action == "review.decline"]
    assert len(decline) == 1 and decline[0].actor == f"expert{declining.expert_id}"
    assert decline[0].object_id == str(declining.id)
    assert json.loads(decline[0].after)["decline_reason"] == "曾在申报单位兼职"
    assert any(e.action == "review.assign" and e.object_id == str(replacement_id) for e in events)

    # the declined sheet can no longer be scored, nor declined again
    with pytest.raises(Conflict, match="回避"), db.transaction() as session:
        submit_score(session, assignment_id=declining.id, scores={"scale": 1, "plan": 1}, comment="",
                     actor=expert(declining.expert_id))  # fmt: skip
    with pytest.raises(Conflict, match="不能重复"), db.transaction() as session:
        decline_assignment(session, assignment_id=declining.id, actor=expert(declining.expert_id), reason="再次")

    # the score is the others' and the replacement's, the declined sheet left out
    marks = {first[1].id: 40, first[2].id: 60, replacement_id: 80}
    with db.transaction() as session:
        for assignment_id, mark in marks.items():
            sheet = session.get_one(Assignment, assignment_id)
            submit_score(session, assignment_id=assignment_id, scores={"scale": mark // 2, "plan": mark // 2},
                         comment="", actor=expert(sheet.expert_id))  # fmt: skip
    with db.sessions() as session:
        application = session.get_one(Application, application_id)
        assert score_of(session, application, session.get_one(Call, application.call_id)) == 60  # trimmed mean


def test_no_replacement_when_nobody_of_the_field_is_left_and_the_score_counts_those_left(
    db: Database, policy: PolicyEngine
) -> None:
    application_id, _experts = _under_review(db, policy, pool=3)
    with db.transaction() as session:  # free, but not of the field: not a replacement
        add_expert(session, name="财务专家", fields=["财务"], employer="某会计师事务所", interests=[], actor=OFFICIAL)
    first = _sheets(db, application_id)
    with db.transaction() as session:
        result = decline_assignment(session, assignment_id=first[0].id, actor=expert(first[0].expert_id),
                                    reason="近三年与申报单位有合作项目")  # fmt: skip
        assert result.replacement is None
    assert len(_sheets(db, application_id)) == 3
    with db.transaction() as session:
        application = session.get_one(Application, application_id)
        call = session.get_one(Call, application.call_id)
        with pytest.raises(Conflict, match="2名专家未提交"):
            score_of(session, application, call)
        for sheet, mark in zip(first[1:], (70, 90), strict=True):
            submit_score(session, assignment_id=sheet.id, scores={"scale": mark - 40, "plan": 40}, comment="",
                         actor=expert(sheet.expert_id))  # fmt: skip
        assert score_of(session, application, call) == 80  # two sheets: the mean


def test_who_and_when_may_decline(db: Database, policy: PolicyEngine) -> None:
    application_id, _experts = _under_review(db, policy, pool=4)
    first, second, _third = _sheets(db, application_id)
    refusals: list[tuple[type[Exception], str, int, Actor, str]] = [
        (InvalidInput, "请填写回避理由", first.id, expert(first.expert_id), "   "),
        (InvalidInput, "最多500字", first.id, expert(first.expert_id), "关" * 501),
        (NotFound, "没有分配给您", first.id, expert(second.expert_id), "另一位专家的任务"),
        (NotFound, "没有分配给您", 999_999, expert(first.expert_id), "不存在"),
        (PermissionDenied, "评审专家本人", first.id, OFFICIAL, "代为回避"),
        (PermissionDenied, "评审专家本人", first.id, FINANCE, "代为回避"),
    ]
    for kind, message, assignment_id, actor, reason in refusals:
        with pytest.raises(kind, match=message), db.transaction() as session:
            decline_assignment(session, assignment_id=assignment_id, actor=actor, reason=reason)
    # after the sheet is handed in, no more 回避
    with db.transaction() as session:
        submit_score(session, assignment_id=second.id, scores={"scale": 30, "plan": 30}, comment="",
                     actor=expert(second.expert_id))  # fmt: skip
    with pytest.raises(Conflict, match="提交本项评分"), db.transaction() as session:
        decline_assignment(session, assignment_id=second.id, actor=expert(second.expert_id), reason="后来想起")
    # once the application has left review, no more 回避 either
    with db.transaction() as session:
        session.get_one(Application, application_id).state = "rejected"
    with pytest.raises(IllegalTransition, match="不在专家评审阶段"), db.transaction() as session:
        decline_assignment(session, assignment_id=first.id, actor=expert(first.expert_id), reason="利益关系")
    # nothing of the refused attempts was stored
    assert all(a.declined_at is None for a in _sheets(db, application_id))
    with db.sessions() as session:
        assert not session.scalars(select(AuditEvent).where(AuditEvent.action == "review.decline")).all()


def test_the_first_draw_is_unchanged_by_the_refactoring(db: Database, policy: PolicyEngine) -> None:
    """The same urn and seed draw the same experts as before ``eligible_experts``/``sample_experts``."""
    import random

    application_id, experts = _under_review(db, policy, pool=6)
    expected = sorted(random.Random("first").sample(experts, 3))  # noqa: S311 - the draw's own algorithm
    assert sorted(a.expert_id for a in _sheets(db, application_id)) == expected
