"""The calculator's next question: asks what decides, stops when nothing can change, 不清楚 stays unknown."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import MiniFactory
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import load_profile_file
from huiqi.engine.questions import FactRef, Questionnaire, Step, profile_json, rule_facts
from huiqi.engine.results import Status
from huiqi.errors import ProfileError
from huiqi.policy.base import default_policies_dir

SUZHOU = ("江苏省", "苏州市", "苏州工业园区")
OPTIONS = Options(as_of=dt.date(2024, 6, 30), include_drafts=True)
EXAMPLE = default_policies_dir().parent / "examples" / "profiles" / "suzhou-software-firm.yaml"


@pytest.fixture(scope="module")
def calculator(seed_engine: Engine) -> Questionnaire:
    return Questionnaire(seed_engine)


def _session(
    calculator: Questionnaire, truth: dict[str, Any], region: tuple[str, ...] = SUZHOU
) -> tuple[Step, dict[str, Any]]:
    """Answer every question from ``truth`` (a profile's facts in ``profile_json`` form) until the calculator stops."""
    answers: dict[str, Any] = {}
    for _ in range(200):
        step = calculator.step("enterprise", region, answers, OPTIONS)
        if step.done:
            return step, answers
        question = step.question
        assert question is not None
        value = truth.get(question.ref.fact, "不清楚")
        if isinstance(value, dict):
            value = value.get(str(question.ref.year), "不清楚")
        assert question.key not in answers, "a question answered is never asked again"
        answers[question.key] = value
    raise AssertionError("the calculator did not stop")


def test_first_question_is_the_fact_most_provisions_wait_for(calculator: Questionnaire) -> None:
    step = calculator.step("enterprise", SUZHOU, {}, OPTIONS)
    question = step.question
    assert question is not None
    # every rule of Suzhou's 第1–3条 needs the registered city; no other fact is in as many conditions
    assert question.key == "registered_city"
    assert question.eligibility == 3
    assert all(q.eligibility <= 3 for q in step.open)
    assert "第1条 加大招商引资力度" in question.why and question.why.startswith("决定：《苏州市")


def test_a_failed_condition_makes_the_rest_of_its_rule_irrelevant(calculator: Questionnaire) -> None:
    before = calculator.step("enterprise", SUZHOU, {"registered_city": "苏州市"}, OPTIONS)
    assert "paid_in_capital" in {q.key for q in before.open}
    # 以软件开发为主营业务 is a condition of 第1条, 第2条 and 3/revenue-milestone: "否" decides them, and the
    # facts only they read (实缴注册资本, 社保员工数, 落户日期) are no longer asked
    after = calculator.step(
        "enterprise", SUZHOU, {"registered_city": "苏州市", "main_business_software": "否"}, OPTIONS
    )
    open_keys = {q.key for q in after.open}
    assert not open_keys & {"paid_in_capital", "social_insurance_staff", "settled_on"}
    assert "revenue@2023" in open_keys  # 3/key-growth (营业收入高增长) still reads it
    decided = [after.evaluation.rule(f"suzhou-software-cluster:{ref}") for ref in ("1/capital", "1/revenue", "2/new-firm",
                                                                                "3/revenue-milestone")]  # fmt: skip
    assert all(r.status is Status.NOT_ELIGIBLE for r in decided)


def test_unsure_leaves_the_rule_needing_information_never_zero(calculator: Questionnaire) -> None:
    answers = {"registered_city": "苏州市", "main_business_software": "是", "in_miit_software_statistics": "是",
               "revenue@2023": "不清楚"}  # fmt: skip
    step = calculator.step("enterprise", SUZHOU, answers, OPTIONS)
    milestone = step.evaluation.rule("suzhou-software-cluster:3/revenue-milestone")
    assert milestone.status is Status.NEEDS_INFORMATION
    assert milestone.amount_fen != 0
    assert [m.fact for m in milestone.missing] == ["revenue"]
    assert "revenue@2023" not in {q.key for q in step.open}
    assert next(a for a in step.answers if a.ref.key == "revenue@2023").unsure


def test_a_session_stops_with_the_results_of_the_full_profile(calculator: Questionnaire, seed_engine: Engine) -> None:
    profile = load_profile_file(EXAMPLE, seed_engine.catalogue)
    truth = profile_json(profile, seed_engine.catalogue)["facts"]
    step, answers = _session(calculator, truth)
    full = seed_engine.evaluate(profile, OPTIONS)
    decided = [r for r in step.evaluation.rules() if r.status is not Status.NEEDS_INFORMATION]
    assert decided
    for result in decided:  # what the calculator decided, it decided as the whole profile does
        other = full.rule(result.ref)
        assert (result.status, result.amount_fen) == (other.status, other.amount_fen), result.ref
    # still undecided only where the profile itself does not know
    for result in step.evaluation.rules():
        if result.status is Status.NEEDS_INFORMATION:
            assert full.rule(result.ref).status is Status.NEEDS_INFORMATION
    static = set().union(*(rule_facts(r) for r in seed_engine.documents["suzhou-software-cluster"].rules
                           if "enterprise" in r.applies_to))  # fmt: skip
    assert len(answers) < len(static)
    assert step.undecided == 0 and step.open == []


def test_answers_are_checked_like_profile_facts(calculator: Questionnaire) -> None:
    with pytest.raises(ProfileError) as money:
        calculator.step("enterprise", SUZHOU, {"paid_in_capital": "三千万"}, OPTIONS)
    assert money.value.where == "answers.paid_in_capital"
    assert "无法识别的金额" in money.value.message
    with pytest.raises(ProfileError) as bare:
        calculator.step("enterprise", SUZHOU, {"paid_in_capital": "3000"}, OPTIONS)
    assert "缺少单位" in bare.value.message
    with pytest.raises(ProfileError) as boolean:
        calculator.step("enterprise", SUZHOU, {"main_business_software": "也许"}, OPTIONS)
    assert "是/否" in boolean.value.message
    with pytest.raises(ProfileError) as choice:
        calculator.step("enterprise", SUZHOU, {"first_version_software_level": "区级"}, OPTIONS)
    assert "无效取值" in choice.value.message
    with pytest.raises(ProfileError) as date:
        calculator.step("enterprise", SUZHOU, {"settled_on": "2022年3月"}, OPTIONS)
    assert "YYYY-MM-DD" in date.value.message
    with pytest.raises(ProfileError) as year:
        calculator.step("enterprise", SUZHOU, {"revenue": "1亿元"}, OPTIONS)
    assert "revenue@2023" in year.value.message
    with pytest.raises(ProfileError) as entity:
        calculator.step("company", SUZHOU, {}, OPTIONS)
    assert "主体类型" in entity.value.message


def test_money_units_give_the_same_fen(calculator: Questionnaire) -> None:
    values = set()
    for written in ("0.3亿元", "3000万元", "30,000,000元"):
        _, answers = calculator.parse_answers("enterprise", {"paid_in_capital": written})
        values.add(answers[0].value)
    assert values == {3_000_000_000}
    _, bare = calculator.parse_answers("enterprise", {"paid_in_capital": "3000"}, money_unit="万元")
    assert bare[0].value == 3_000_000_000


def test_same_answers_same_question(calculator: Questionnaire) -> None:
    answers = {"registered_city": "苏州市", "main_business_software": "是"}
    keys = {calculator.step("enterprise", SUZHOU, answers, OPTIONS).question.key for _ in range(3)}  # type: ignore[union-attr]
    assert len(keys) == 1


def test_an_answer_made_irrelevant_by_a_later_one_is_marked(calculator: Questionnaire) -> None:
    answers = {"registered_city": "苏州市", "main_business_software": "是", "in_miit_software_statistics": "是",
               "revenue@2023": "1.35亿元", "revenue@2022": "4800万元", "operating_stably": "是",
               "in_provincial_key_software_pool": "否"}  # fmt: skip
    step = calculator.step("enterprise", SUZHOU, answers, OPTIONS, relevance=True)
    assert next(a for a in step.answers if a.ref.key == "in_provincial_key_software_pool").relevant
    # 入选省培育库 或 入选市重点库: once the second is 是, the first no longer changes anything
    step = calculator.step("enterprise", SUZHOU, {**answers, "in_suzhou_key_software_pool": "是"}, OPTIONS,
                           relevance=True)  # fmt: skip
    relevance = {a.ref.key: a.relevant for a in step.answers}
    assert relevance["in_provincial_key_software_pool"] is False
    assert relevance["in_suzhou_key_software_pool"] is True


def test_a_higher_tier_still_unknown_keeps_its_fact_open(mini: MiniFactory) -> None:
    engine = mini([{"id": "2", "text": "营业收入达到2000万元的给予50万元；社保员工达到50人的给予100万元。", "rules": [
        {"id": "tiers", "benefit": {"form": "tiers", "mode": "highest", "tiers": [
            {"id": "a", "when": "revenue >= 2000万元", "amount": "50万元"},
            {"id": "b", "when": "social_insurance_staff >= 50", "amount": "100万元"}]}}]}])  # fmt: skip
    calculator = Questionnaire(engine)
    step = calculator.step("enterprise", ["苏州市"], {"revenue@2023": "3000万元"}, OPTIONS)
    assert step.evaluation.rule("2/tiers").status is Status.ELIGIBLE  # the engine pays tier a already
    assert step.question is not None and step.question.key == "social_insurance_staff"
    done = calculator.step(
        "enterprise", ["苏州市"], {"revenue@2023": "3000万元", "social_insurance_staff": 60}, OPTIONS
    )
    assert done.done and done.evaluation.rule("2/tiers").amount_fen == 100_000_000


def test_annual_facts_are_asked_per_year(calculator: Questionnaire) -> None:
    answers = {"registered_city": "苏州市", "main_business_software": "是", "in_miit_software_statistics": "是",
               "revenue@2023": "1.35亿元", "social_insurance_staff": 56}  # fmt: skip
    step = calculator.step("enterprise", SUZHOU, answers, OPTIONS)
    keys = {q.key for q in step.open}
    assert "revenue@2022" in keys  # 首次达到 reads the year before
    question = next(q for q in step.open if q.key == "revenue@2022")
    assert question.label == "营业收入（2022年）" and question.kind == "money" and question.units[0] == "万元"
    assert FactRef.parse("revenue@2022") == FactRef("revenue", 2022)


def test_rule_facts_names_every_fact_of_a_rule(seed_engine: Engine) -> None:
    capital = next(r for r in seed_engine.documents["suzhou-software-cluster"].rules if r.ref.endswith("1/capital"))
    facts = rule_facts(capital)
    assert {"paid_in_capital", "registered_city", "main_business_software"} <= facts
    assert all(f in seed_engine.catalogue for f in facts)


def test_step_json_names_the_next_question(calculator: Questionnaire) -> None:
    data = calculator.step("enterprise", SUZHOU, {"registered_city": "苏州市"}, OPTIONS).to_json()
    assert data["schema"] == "huiqi.questions/1" and data["done"] is False
    assert data["next"]["key"] == "main_business_software" or data["next"]["kind"] == "bool"
    assert data["next"]["unsure"] == "不清楚"
    assert data["profile"]["facts"] == {"registered_city": "苏州市"}


def test_region_outside_every_document_asks_nothing(calculator: Questionnaire) -> None:
    step = calculator.step("enterprise", ("北京市",), {}, OPTIONS)
    assert step.done
    assert all(r.status is Status.NOT_APPLICABLE for r in step.evaluation.rules())


def test_doctests() -> None:
    import doctest

    import huiqi.engine.questions

    assert doctest.testmod(huiqi.engine.questions).failed == 0


def test_a_fact_left_at_its_default_is_asked_while_it_could_change_the_result(mini: MiniFactory) -> None:
    other = {"key": "got_other_support", "name": "已享受同类支持", "type": "bool", "entity": ["enterprise"],
             "definition": "同一事项已享受其他同类政策支持。", "default": False}  # fmt: skip
    engine = mini([{"id": "1", "text": "社保员工达到20人且未享受同类支持的，给予10万元。", "rules": [
        {"id": "r", "conditions": {"all": ["social_insurance_staff >= 20", "not got_other_support"]},
         "benefit": {"form": "fixed", "amount": "10万元"}}]}], facts=[other])  # fmt: skip
    calculator = Questionnaire(engine)
    step = calculator.step("enterprise", ["苏州市"], {"social_insurance_staff": 30}, OPTIONS)
    assert step.evaluation.rule("1/r").status is Status.ELIGIBLE  # the engine takes the default (未享受)
    assert step.question is not None and step.question.key == "got_other_support"
    assert calculator.step("enterprise", ["苏州市"], {"social_insurance_staff": 10}, OPTIONS).done  # decided anyway
    answered = calculator.step(
        "enterprise", ["苏州市"], {"social_insurance_staff": 30, "got_other_support": "是"}, OPTIONS
    )
    assert answered.done and answered.evaluation.rule("1/r").status is Status.NOT_ELIGIBLE


def test_a_fact_that_settles_a_rule_alone_comes_before_one_that_needs_company(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "营业收入与实缴资本合计达到1亿元、且社保员工达到20人的，给予10万元。", "rules": [
        {"id": "r", "conditions": {"all": ["revenue + paid_in_capital >= 1亿元", "social_insurance_staff >= 20"]},
         "benefit": {"form": "fixed", "amount": "10万元"}}]}])  # fmt: skip
    step = Questionnaire(engine).step("enterprise", ["苏州市"], {}, OPTIONS)
    # 社保员工数 alone can fail the rule; neither 营业收入 nor 实缴资本 can without the other
    assert step.question is not None and step.question.key == "social_insurance_staff"
    assert step.question.alone == 1 and step.open[1].alone == 0


def _fingerprint(step: Step) -> str:
    import json

    data = step.to_json()
    data["relevant"] = [a.relevant for a in step.answers]
    data["questions"] = [q.to_json() for q in step.open]
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)


def test_the_memos_never_change_a_step(seed_engine: Engine) -> None:
    """A questionnaire that has served other sessions (its memos full) answers every step exactly as a new one:
    the same results, open questions, next question and relevance marks — across entity types, regions,
    dates and options."""
    warm = Questionnaire(seed_engine)
    folder = EXAMPLE.parent
    later = Options(as_of=dt.date(2025, 6, 30), include_drafts=True)
    plain = Options(as_of=dt.date(2024, 6, 30))
    steps = 0
    for path in sorted(folder.glob("*.yaml")):
        profile = load_profile_file(path, seed_engine.catalogue)
        truth = profile_json(profile, seed_engine.catalogue)["facts"]
        kind = profile.entity_type.value
        for options in (OPTIONS, plain):
            answers: dict[str, Any] = {}
            for _ in range(60):
                step = warm.step(kind, profile.region, answers, options, relevance=True)
                cold = Questionnaire(seed_engine).step(kind, profile.region, answers, options, relevance=True)
                assert _fingerprint(step) == _fingerprint(cold), (path.name, answers)
                steps += 1
                if step.question is None:
                    break
                value = truth.get(step.question.ref.fact, "不清楚")
                if isinstance(value, dict):
                    value = value.get(str(step.question.ref.year), "不清楚")
                answers[step.question.key] = value
            # the same answers elsewhere, later, or with one taken back: nothing reused that should not be
            for region, when in (((), options), (("广东省", "广州市"), options), (profile.region, later)):
                step = warm.step(kind, region, answers, when)
                assert _fingerprint(step) == _fingerprint(Questionnaire(seed_engine).step(kind, region, answers, when))
            for key in list(answers)[:3]:
                fewer = {k: v for k, v in answers.items() if k != key}
                step = warm.step(kind, profile.region, fewer, options)
                cold = Questionnaire(seed_engine).step(kind, profile.region, fewer, options)
                assert _fingerprint(step) == _fingerprint(cold)
    assert steps > 40


XINJIANG = ("新疆维吾尔自治区", "乌鲁木齐市")
ONLY_XINJIANG = Options(as_of=dt.date(2024, 6, 30), documents=("xinjiang-2017-software",))


def test_first_reached_asks_the_earlier_years_while_one_could_show_it_was_reached_before(
    calculator: Questionnaire,
) -> None:
    """首次突破5000万元: the engine judges "never before" on the earlier years it is given, so the calculator
    keeps asking the year before the earliest one answered while a figure for it could change the rule —
    the bench found sessions decided on two years that a profile's earlier years contradicted."""
    answers: dict[str, Any] = {"is_software_info_service_enterprise": "是", "revenue@2023": "5924万元",
                               "revenue@2022": "3960万元", "in_leading_enterprise_pool": "否"}  # fmt: skip
    step = calculator.step("enterprise", XINJIANG, answers, ONLY_XINJIANG)
    assert "revenue@2021" in {q.key for q in step.open}
    earlier = next(q for q in step.open if q.key == "revenue@2021")
    assert any(d.provision == "21" for d in earlier.decides)
    # 2020 above 5000万元: not the first time — the rule the two years alone made eligible is not
    answers |= {"revenue@2021": "3514万元", "revenue@2020": "5336万元"}
    step = calculator.step("enterprise", XINJIANG, answers, ONLY_XINJIANG)
    assert step.evaluation.rule("xinjiang-2017-software:21/revenue-5000w").status is Status.NOT_ELIGIBLE
    assert "revenue@2019" not in {q.key for q in step.open}
    # no year before the entity was established is asked; 不清楚 stops going further back
    founded = {**answers, "established_on": "2022-01-10"}
    del founded["revenue@2021"], founded["revenue@2020"]
    step = calculator.step("enterprise", XINJIANG, founded, ONLY_XINJIANG)
    assert "revenue@2021" not in {q.key for q in step.open}
    unsure = {**answers, "revenue@2020": "不清楚"}
    step = calculator.step("enterprise", XINJIANG, unsure, ONLY_XINJIANG)
    assert not {q.key for q in step.open} & {"revenue@2020", "revenue@2019"}


def test_a_session_ends_with_the_full_profiles_decided_results(calculator: Questionnaire, seed_engine: Engine) -> None:
    """The two cases bench/questionnaire.py found: a firm that first crossed 5000万元 (Xinjiang) or 10亿元
    (Guangzhou) years before the two the calculator used to ask."""
    cases = [
        (XINJIANG, {"is_software_info_service_enterprise": True, "in_leading_enterprise_pool": False,
                    "revenue": {"2019": "77083741.92元", "2020": "53359604.86元", "2021": "35140387.64元",
                                "2022": "39600457.19元", "2023": "59237647.56元"}}),
        (("广东省", "广州市"), {"is_software_it_service_enterprise": True, "settled_on": "2017-08-13",
                              "revenue": {"2019": "1070295549.93元", "2020": "1043705925.19元",
                                          "2021": "793654988.42元", "2022": "974492798.12元",
                                          "2023": "1420861044.91元"}}),
    ]  # fmt: skip
    from huiqi.engine.profile import parse_profile

    for region, facts in cases:
        step, _ = _session(calculator, facts, region)
        full = seed_engine.evaluate(parse_profile({"facts": facts, "region": list(region)}, seed_engine.catalogue),
                                    OPTIONS)  # fmt: skip
        for result in step.evaluation.rules():
            if result.status is not Status.NEEDS_INFORMATION:
                other = full.rule(result.ref)
                assert (other.status, other.amount_fen) == (result.status, result.amount_fen), result.ref
