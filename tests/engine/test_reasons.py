"""Reasons and near-miss hints read right: an unmet any(), the threshold's own unit, no invented amounts."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import yaml
from rich.console import Console

from conftest import MiniFactory, run
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile
from huiqi.engine.results import Status
from huiqi.present import rule_explanation

ROOT = Path(__file__).resolve().parents[2]

RATIO_FACT = {"key": "rd_ratio", "name": "研发投入占比", "type": "number", "unit": "%", "period": "annual",
              "entity": ["enterprise"], "definition": "研发投入占营业收入的比例"}  # fmt: skip


def test_an_unmet_any_says_that_none_of_its_members_holds(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "高新技术企业或专精特新企业给予10万元。", "rules": [
        {"id": "r", "conditions": {"any": ["revenue >= 1亿元", "social_insurance_staff >= 50"]},
         "benefit": {"form": "fixed", "amount": "10万元"}}]}])  # fmt: skip
    result = run(engine, {"revenue": "3000万元", "social_insurance_staff": 10}).rule("1/r")
    assert result.status is Status.NOT_ELIGIBLE
    assert result.reason.startswith("不满足条件：以下条件均不满足：")
    assert "之一满足" not in result.reason


def test_an_unmet_not_says_what_must_not_hold(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "营业收入未达1亿元的给予10万元。", "rules": [
        {"id": "r", "conditions": {"not": "revenue >= 1亿元"}, "benefit": {"form": "fixed", "amount": "10万元"}}]}])  # fmt: skip
    result = run(engine, {"revenue": "2亿元"}).rule("1/r")
    assert "本项要求不满足此条件" in result.reason and "非：" not in result.reason


def test_a_strict_bound_is_passed_not_reached_by_a_fen(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "营业收入超过5000万元的给予20万元。", "rules": [
        {"id": "r", "conditions": "revenue > 5000万元", "benefit": {"form": "fixed", "amount": "20万元"}}]}])  # fmt: skip
    result = run(engine, {"revenue": "4000万元"}).rule("1/r")
    assert result.suggestion is not None
    assert "营业收入（2023年）超过5000万元（现为4000万元），可获20万元" in result.suggestion.text
    assert "0.01" not in result.suggestion.text and "50000000" not in result.suggestion.text


def test_current_value_is_shown_in_the_unit_of_the_threshold(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "营业收入达50亿元以上的给予最高2000万元。", "rules": [
        {"id": "r", "conditions": "revenue >= 50亿元",
         "benefit": {"form": "fixed", "amount": "2000万元", "is_ceiling": True}}]}])  # fmt: skip
    result = run(engine, {"revenue": "53000万元"}).rule("1/r")
    assert result.suggestion is not None
    assert result.suggestion.text == "若营业收入（2023年）达到50亿元（现为5.3亿元），可获最高2000万元"
    assert result.suggestion.changes[0]["relation"] == "达到"


def test_percentages_and_counts_keep_their_units(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "研发投入占比不低于5%且社保人数不少于50人的给予10万元。", "rules": [
        {"id": "r", "conditions": "rd_ratio >= 5% and social_insurance_staff >= 50",
         "benefit": {"form": "fixed", "amount": "10万元"}}]}], facts=[RATIO_FACT])  # fmt: skip
    result = run(engine, {"rd_ratio": "4.5%", "social_insurance_staff": 30}).rule("1/r")
    assert result.suggestion is not None
    text = result.suggestion.text
    assert "研发投入占比（2023年）达到5%（现为4.5%）" in text
    assert "缴纳社保员工数达到50人（现为30人）" in text
    assert "0.05" not in text and "0.045" not in text
    rows = result.trace[0].input_rows()
    assert {"name": "rd_ratio", "label": "研发投入占比", "value": "4.5%"} in rows
    assert {"name": "social_insurance_staff", "label": "缴纳社保员工数", "value": "30人"} in rows


def test_a_qualification_rule_promises_no_amount(seed_engine: Engine) -> None:
    raw = yaml.safe_load((ROOT / "examples" / "profiles" / "zhejiang-county.yaml").read_text("utf-8"))
    raw["facts"]["county_software_scale_rank"] = 18
    profile = parse_profile(raw, seed_engine.catalogue)
    options = Options(as_of=dt.date(2017, 6, 30), documents=("zhejiang-software-bases",))
    evaluation = seed_engine.evaluate(profile, options)
    qualification = next(r for r in evaluation.rules() if r.provision == "二.1")
    assert qualification.status is Status.NOT_ELIGIBLE and qualification.suggestion is not None
    text = qualification.suggestion.text
    assert "降至15（现为18）" in text
    assert text.endswith("即符合本项条件（本项只判断资格，不涉及金额）")
    assert "金额由审核确定" not in text and "可获" not in text


def test_eligible_qualification_rule_says_no_amount_is_involved(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "可申报示范基地。", "rules": [
        {"id": "r", "benefit": {"form": "none", "review": False}}]}])  # fmt: skip
    assert run(engine, {}).rule("1/r").reason == "符合条件（本项只判断资格，不涉及金额）"


def test_the_explanation_tree_marks_an_unmet_any_as_none_holding(mini: MiniFactory) -> None:
    engine = mini([{"id": "1", "text": "营业收入达1亿元或社保人数达50人的给予10万元。", "rules": [
        {"id": "r", "conditions": {"any": ["revenue >= 1亿元", "social_insurance_staff >= 50"]},
         "benefit": {"form": "fixed", "amount": "10万元"}}]}])  # fmt: skip
    result = run(engine, {"revenue": "3000万元", "social_insurance_staff": 10}).rule("1/r")
    buffer = io.StringIO()
    Console(file=buffer, width=160, color_system=None).print(rule_explanation(result))
    assert "✘ 以下条件之一满足（均不满足）" in buffer.getvalue()
