"""Expert review: conflicts excluded before the draw, independent scores, trimmed mean, quota."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from huiqi.store.db import Database
from huiqi.store.errors import Conflict, InvalidInput, NotFound
from huiqi.store.models import Application, Assignment, Call
from huiqi.workflow.actors import Actor
from huiqi.workflow.applications import pass_check
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.proposals import make_proposed_list
from huiqi.workflow.review import add_expert, draw_experts, scores_visible_to, submit_score
from platform_fixtures import OFFICIAL, add_call, add_firm, make_uscc, submit_application

CRITERIA = [{"key": "scale", "label": "产业规模", "max": 50}, {"key": "plan", "label": "建设方案", "max": 50}]


def _pool(db: Database, conflicted_with: str) -> list[int]:
    with db.transaction() as session:
        experts = [
            add_expert(session, name=f"专家{n}", fields=["软件"], employer=f"某大学{n}", interests=[], actor=OFFICIAL)
            for n in range(5)
        ]
        experts.append(add_expert(session, name="有利益关系的专家", fields=["软件"], employer="某研究院",
                                  interests=[conflicted_with], actor=OFFICIAL))  # fmt: skip
        experts.append(add_expert(session, name="任职专家", fields=["软件"], employer="苏州测试软件1有限公司",
                                  interests=[], actor=OFFICIAL))  # fmt: skip
        return [e.id for e in experts]


def _checked(db: Database, policy: PolicyEngine, call_id: int, firms: list[int]) -> list[int]:
    ids = [submit_application(db, policy, call_id, f) for f in firms]
    with db.transaction() as session:
        for application_id in ids:
            pass_check(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
    return ids


def test_the_draw_never_picks_an_expert_with_a_conflict(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, review_mode="expert", criteria=CRITERIA, experts_per_application=5)
    firm = add_firm(db, policy, 1)
    experts = _pool(db, conflicted_with=make_uscc(1))
    [application_id] = _checked(db, policy, call_id, [firm])
    for seed in ("a", "b", "c"):  # whatever the seed, only the five without a conflict can be drawn
        with db.sessions() as session:
            application = session.get_one(Application, application_id)
            drawn = draw_experts(session, application=application, actor=OFFICIAL, seed=seed)
            assert sorted(a.expert_id for a in drawn) == experts[:5]
            assert application.state == "under_review" and {a.draw_seed for a in drawn} == {seed}
            session.rollback()


def test_too_few_experts_without_conflict_is_refused(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, review_mode="expert", criteria=CRITERIA, experts_per_application=6)
    firm = add_firm(db, policy, 1)
    _pool(db, conflicted_with="苏州测试软件1有限公司")
    [application_id] = _checked(db, policy, call_id, [firm])
    with pytest.raises(Conflict, match="少于"), db.transaction() as session:
        draw_experts(session, application=session.get_one(Application, application_id), actor=OFFICIAL)


def test_scores_are_independent_checked_and_aggregated_then_ranked_against_the_quota(
    db: Database, policy: PolicyEngine
) -> None:
    call_id = add_call(db, policy, review_mode="competitive", criteria=CRITERIA, experts_per_application=3, quota=1)
    firms = [add_firm(db, policy, n) for n in (11, 12)]
    with db.transaction() as session:
        experts = [add_expert(session, name=f"专家{n}", fields=["软件"], employer=f"大学{n}", interests=[],
                              actor=OFFICIAL).id for n in range(3)]  # fmt: skip
    ids = _checked(db, policy, call_id, firms)
    with db.transaction() as session:
        for application_id in ids:
            draw_experts(session, application=session.get_one(Application, application_id), actor=OFFICIAL, seed="s")
    sheets = {ids[0]: [(40, 40), (30, 30), (50, 50)], ids[1]: [(45, 45), (44, 44), (10, 10)]}
    with db.transaction() as session:
        for application_id, marks in sheets.items():
            for expert_id, (scale, plan) in zip(experts, marks, strict=True):
                assignment = session.scalar(select(Assignment).where(Assignment.application_id == application_id,
                                                                     Assignment.expert_id == expert_id))  # fmt: skip
                assert assignment is not None
                me = Actor(f"expert{expert_id}", "expert", expert_id=expert_id)
                other = Actor("other", "expert", expert_id=experts[(experts.index(expert_id) + 1) % 3])
                with pytest.raises(NotFound):
                    submit_score(session, assignment_id=assignment.id, scores={"scale": 1, "plan": 1}, comment="",
                                 actor=other)  # fmt: skip
                with pytest.raises(InvalidInput, match="0到50"):
                    submit_score(session, assignment_id=assignment.id, scores={"scale": 51, "plan": 1}, comment="",
                                 actor=me)  # fmt: skip
                submit_score(session, assignment_id=assignment.id, scores={"scale": scale, "plan": plan},
                             comment="意见", actor=me)  # fmt: skip
                with pytest.raises(Conflict, match="不能修改"):
                    submit_score(session, assignment_id=assignment.id, scores={"scale": 0, "plan": 0}, comment="",
                                 actor=me)  # fmt: skip
                visible = scores_visible_to(me, list(session.scalars(select(Assignment))))
                assert {row["expert_id"] for row in visible} == {expert_id}
    with db.transaction() as session:
        result = make_proposed_list(session, call=session.get_one(Call, call_id), actor=OFFICIAL)
    with db.sessions() as session:
        first, second = (session.get_one(Application, i) for i in ids)
        # trimmed means: first drops 100 and 60 → 80; second drops 90 and 20 → 88
        assert (first.score, second.score) == ("80/1", "88/1")
        assert (second.rank, second.state) == (1, "proposed")
        assert (first.rank, first.state) == (2, "rejected") and "未进入名额" in (first.reason or "")
        assert result["proposed"] == [ids[1]]
