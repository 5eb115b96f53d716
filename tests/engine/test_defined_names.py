"""A defined name (a definition, or a name a reading defines) is computed once per entity and document, and
every rule that reads it is told what it took at a default; one that reads what the rule being decided was
paid is computed for each rule."""

from __future__ import annotations

from conftest import MiniFactory, run
from huiqi.engine.results import Status

OTHER_SUPPORT = {"key": "got_other_support", "name": "已享受同类支持", "type": "bool", "entity": ["enterprise"],
                 "definition": "同一事项已享受其他同类政策支持。", "default": False}  # fmt: skip
TEXT = "社保员工达到20人且未享受同类支持的，给予10万元；达到50人的，再给予20万元。"


def _rules(condition: str) -> list[dict[str, object]]:
    return [
        {"id": "a", "conditions": {"all": ["social_insurance_staff >= 20", condition]},
         "benefit": {"form": "fixed", "amount": "10万元"}},
        {"id": "b", "conditions": {"all": ["social_insurance_staff >= 50", condition]},
         "benefit": {"form": "fixed", "amount": "20万元"}},
    ]  # fmt: skip


def test_every_rule_reading_a_definition_is_told_of_its_default(mini: MiniFactory) -> None:
    definitions = [{"name": "free_of_other_support", "label": "未享受同类支持", "expr": "not got_other_support",
                    "quote": "未享受同类支持"}]  # fmt: skip
    engine = mini([{"id": "1", "text": TEXT, "rules": _rules("free_of_other_support")}], facts=[OTHER_SUPPORT],
                  definitions=definitions)  # fmt: skip
    evaluation = run(engine, {"social_insurance_staff": 60})
    for ref in ("1/a", "1/b"):
        result = evaluation.rule(ref)
        assert result.status is Status.ELIGIBLE
        assert result.defaults_used == ["got_other_support"], ref
    answered = run(engine, {"social_insurance_staff": 60, "got_other_support": False})
    assert [answered.rule(ref).defaults_used for ref in ("1/a", "1/b")] == [[], []]


def test_a_name_a_reading_defines_is_told_of_its_default_too(mini: MiniFactory) -> None:
    readings = [{"key": "scope", "question": "是否考虑同类支持？", "default": "strict", "options": [
        {"value": "strict", "label": "考虑", "define": {"eligible_scope": "not got_other_support"}},
        {"value": "loose", "label": "不考虑", "define": {"eligible_scope": "true"}}]}]  # fmt: skip
    engine = mini([{"id": "1", "text": TEXT, "rules": _rules("eligible_scope")}], facts=[OTHER_SUPPORT],
                  readings=readings)  # fmt: skip
    strict = run(engine, {"social_insurance_staff": 60, "got_other_support": True})
    assert [strict.rule(ref).status for ref in ("1/a", "1/b")] == [Status.NOT_ELIGIBLE, Status.NOT_ELIGIBLE]
    loose = run(engine, {"social_insurance_staff": 60, "got_other_support": True}, readings={"scope": "loose"})
    assert [loose.rule(ref).status for ref in ("1/a", "1/b")] == [Status.ELIGIBLE, Status.ELIGIBLE]
    defaulted = run(engine, {"social_insurance_staff": 60})
    assert [defaulted.rule(ref).defaults_used for ref in ("1/a", "1/b")] == [["got_other_support"]] * 2


def test_a_definition_of_what_the_rule_was_paid_is_computed_for_each_rule(mini: MiniFactory) -> None:
    definitions = [{"name": "not_paid_yet", "label": "本项尚未领取", "expr": "paid() == 0元", "quote": "未享受"}]
    engine = mini([{"id": "1", "text": TEXT, "rules": _rules("not_paid_yet")}], definitions=definitions)
    ledger = [{"rule": "test-doc:1/a", "period": 2022, "amount": "10万元"}]
    evaluation = run(engine, {"social_insurance_staff": 60}, ledger=ledger)
    assert evaluation.rule("1/a").status is Status.NOT_ELIGIBLE  # paid under 1/a before
    assert evaluation.rule("1/b").status is Status.ELIGIBLE  # nothing paid under 1/b
