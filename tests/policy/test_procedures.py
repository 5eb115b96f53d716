"""The procedure as data (docs/authoring.md "Procedure"): a policy file's ``procedures:`` block is checked and
every mistake is said in Chinese at its line; what it states becomes the fields of a call."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from policy_tree import POLICY, write_tree

from huiqi.policy.base import PolicyBase
from huiqi.policy.procedure import describe, procedure_of, stated_call_fields

_ENGLISH = re.compile(r"Field required|Input should|Extra inputs|valid|permitted|Value error")

SOURCE = (
    "第一条 对实缴注册资本不低于1000万元的企业，给予50万元奖励。\n"
    "第二条 企业向区工信局申报，区工信局审核后报市工信局，市工信局组织专家评审，每年评选不超过10家。"
    "评审结果公示5个工作日。获奖企业每年6月底前报送绩效报告。奖励资金由市财政安排，工业园区由园区财政承担。\n"
)

PROCEDURE = """\
procedures:
  - id: award
    label: 落户奖励的申报与评审
    provisions: ["1"]
    applicant: {entity: enterprise, who: 企业, provision: "2", quote: 企业向区工信局申报}
    route:
      - {level: county, unit: 区工信局, action: 审核后报市工信局, provision: "2", quote: 区工信局审核后报市工信局}
      - {level: city, unit: 市工信局, action: 组织专家评审, provision: "2", quote: 市工信局组织专家评审}
    review: {mode: expert, provision: "2", quote: 市工信局组织专家评审}
    quotas:
      - {year: 2024, category: 落户企业, count: 10, rule: 1/r, provision: "2", quote: 每年评选不超过10家}
    publicity: {days: 5, day_kind: working, provision: "2", quote: 评审结果公示5个工作日}
    reports: {due: ["06-30"], provision: "2", quote: 获奖企业每年6月底前报送绩效报告}
    funding:
      payer: 市财政
      quote: 奖励资金由市财政安排
      exceptions:
        - {region: 苏州工业园区, payer: 园区财政, quote: 工业园区由园区财政承担}
"""

SECOND = """\
  - id: "2"
    kind: procedure
    quote: 第二条 企业向区工信局申报，区工信局审核后报市工信局，市工信局组织专家评审，每年评选不超过10家。评审结果公示5个工作日。获奖企业每年6月底前报送绩效报告。奖励资金由市财政安排，工业园区由园区财政承担。
    span: [34, 135]
"""


def _tree(tmp_path: Path, procedure: str = PROCEDURE) -> Path:
    policy = POLICY + SECOND + procedure
    return write_tree(tmp_path, policy, SOURCE)


def _errors(root: Path) -> list[str]:
    base = PolicyBase.load(root, strict=False)
    return [f"{e.where}: {e.message}" for e in base.errors]


def test_a_stated_procedure_loads_and_gives_the_fields_of_a_call(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert _errors(root) == []
    policy = PolicyBase.load(root).document("test-doc").policy
    procedure = procedure_of(policy, ["1"])
    assert procedure is not None and procedure_of(policy, ["2"]) is None
    stated = stated_call_fields(procedure, period=2024, readings={})
    assert {k: v.value for k, v in stated.items()} == {
        "review_mode": "expert", "quota": 10, "publicity_days": 5, "publicity_day_kind": "working",
        "report_due": ["06-30"], "payer": "市财政",
    }  # fmt: skip
    assert "quota" not in stated_call_fields(procedure, period=2025, readings={})  # a year it does not state
    lines = {heading: words for heading, words, _ in describe(procedure)}
    assert lines["资金来源例外"] == "苏州工业园区申报的项目：园区财政" and lines["公示"] == "5天（工作日）"


def test_every_mistake_in_a_procedure_is_said_in_chinese_at_its_line(tmp_path: Path) -> None:
    structural = PROCEDURE.replace("mode: expert", "mode: committee").replace('due: ["06-30"]', 'due: ["06-31"]')
    errors = _errors(_tree(tmp_path, structural))
    text = "\n".join(errors)
    assert len(errors) == 2 and not _ENGLISH.search(text), text
    assert "procedures[0].review.mode" in text and "none" in text and "competitive" in text  # the valid modes
    assert "procedures[0].reports.due" in text and "6月没有31日" in text
    semantic = (
        PROCEDURE.replace("count: 10, rule: 1/r", "count: 10, rule: 1/x")  # a rule that does not exist
        .replace("quote: 评审结果公示5个工作日", "quote: 评审结果公示7个工作日")  # not the text
        .replace("region: 苏州工业园区, payer", "region: 苏洲市, payer")  # not a place
        .replace('provisions: ["1"]', 'provisions: ["1", "9"]')  # no such provision
    )
    errors = _errors(_tree(tmp_path, semantic))
    text = "\n".join(errors)
    assert len(errors) == 4 and not _ENGLISH.search(text), text
    assert "名额对应的规则 '1/x' 不存在" in text
    assert "quote 的引文在条款 2 的引文中找不到" in text
    assert "苏州市" in text  # the nearest official name for 苏洲市
    assert "程序所属条款 '9' 不存在" in text
    assert all(re.search(r"policy\.yaml:\d+", e) for e in errors), text


def test_procedure_rules_across_fields(tmp_path: Path) -> None:
    both = PROCEDURE.replace("day_kind: working,", "day_kind: working, reading: days,")
    assert any("day_kind 与 reading 只能写一个" in e for e in _errors(_tree(tmp_path, both)))
    neither = PROCEDURE.replace("day_kind: working,", "")
    assert any("公示须写明 day_kind" in e for e in _errors(_tree(tmp_path, neither)))
    twice = PROCEDURE.replace(
        "      - {year: 2024, category: 落户企业",
        "      - {year: 2024, category: 落户企业, count: 3, quote: 每年评选不超过10家}\n      - {year: 2024, category: 落户企业",
    )
    assert any("名额重复：2024年“落户企业”" in e for e in _errors(_tree(tmp_path, twice)))
    ruleless = PROCEDURE.replace('provisions: ["1"]', 'provisions: ["2"]').replace("rule: 1/r, ", "")
    assert any("条款 2 没有规则，不能据以发布申报批次" in e for e in _errors(_tree(tmp_path, ruleless)))
    unknown_reading = PROCEDURE.replace("day_kind: working,", "reading: nothing,")
    assert any("不存在的口径 'nothing'" in e for e in _errors(_tree(tmp_path, unknown_reading)))


def test_zhejiang_states_its_programme(tmp_path: Path) -> None:
    policy = PolicyBase.load().document("zhejiang-software-bases").policy
    procedure = procedure_of(policy, ["七.1"])
    assert procedure is not None
    assert [step.level for step in procedure.route] == ["county", "county", "city", "province"]
    assert {(q.category, q.count) for q in procedure.quota_for(2016)} == {
        ("示范基地", 4),
        ("特色基地", 5),
        ("创业基地", 5),
    }
    assert procedure.quota_for(2017) == []  # the text gives 2016's plan only
    stated = stated_call_fields(procedure, period=2016, readings={"publicity_days": "working"})
    assert stated["publicity_day_kind"].value == "working" and stated["quota"].value == 14
    assert stated["closes_on"].value == dt.date(2015, 12, 31)
    assert procedure.funding is not None and procedure.funding.exceptions[0].payer == "宁波市财政"
