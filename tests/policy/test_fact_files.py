"""Fact files: a policy extends a fact to another entity type; rules only use facts their entities can have."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from policy_tree import POLICY, write_tree

from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile
from huiqi.engine.results import Status
from huiqi.policy.base import PolicyBase, default_policies_dir
from huiqi.present import facts_markdown

INSTITUTION = POLICY.replace("applies_to: enterprise", "applies_to: institution")
EXTEND = """\
extend:
  - key: paid_in_capital
    entity: [institution]
    definition: 事业单位法人证书记载的开办资金。
"""


def _messages(base: PolicyBase) -> list[str]:
    return [f"{e.where}: {e.message}" for e in base.errors]


def test_a_rule_using_a_fact_its_entity_cannot_have_is_refused(tmp_path: Path) -> None:
    root = write_tree(tmp_path, INSTITUTION)
    errors = _messages(PolicyBase.load(root, strict=False))
    assert len(errors) == 1, errors
    assert (
        "规则 1/r 适用于高校院所（institution），但它用到的事实 paid_in_capital（实缴注册资本）只适用于企业、园区运营主体"
        in errors[0]
    )
    assert "extend: [{key: paid_in_capital, entity: [institution]}]" in errors[0]
    assert errors[0].startswith(f"{root / 'test-doc' / 'policy.yaml'}:")


def test_facts_reached_through_a_definition_are_checked(tmp_path: Path) -> None:
    policy = INSTITUTION.replace("conditions: paid_in_capital >= 1000万元", "conditions: big") + (
        "definitions:\n  - {name: big, label: 规模大, expr: 'revenue >= 1亿元'}\n"
    )
    errors = _messages(PolicyBase.load(write_tree(tmp_path, policy), strict=False))
    assert len(errors) == 1 and "事实 revenue（营业收入）只适用于企业" in errors[0], errors


def test_every_type_of_a_list_is_checked(tmp_path: Path) -> None:
    policy = POLICY.replace("applies_to: enterprise", "applies_to: [enterprise, talent]")
    errors = _messages(PolicyBase.load(write_tree(tmp_path, policy), strict=False))
    assert len(errors) == 1 and "适用于人才（talent）" in errors[0], errors


def test_a_policy_fact_file_extends_a_core_fact_to_another_entity(tmp_path: Path) -> None:
    root = write_tree(tmp_path, INSTITUTION, facts={"test-doc.yaml": EXTEND})
    base = PolicyBase.load(root)
    fact = base.catalogue["paid_in_capital"]
    assert [e.value for e in fact.entity] == ["enterprise", "park_operator", "institution"]
    assert fact.extended_in == ["test-doc.yaml"] and fact.definition.endswith(
        "对高校院所：事业单位法人证书记载的开办资金。"
    )
    # the core file is untouched and the extension reaches profiles and the engine
    assert (
        "institution"
        not in (default_policies_dir() / "_facts" / "core.yaml")
        .read_text("utf-8")
        .split("key: paid_in_capital")[1]
        .split("- key:")[0]
    )
    engine = Engine(base)
    profile = parse_profile(
        {"entity_type": "institution", "region": ["苏州市"], "facts": {"paid_in_capital": "1200万元"}},
        base.catalogue,
    )
    result = engine.evaluate(profile, Options(as_of=dt.date(2024, 6, 30)))
    assert result.rule("test-doc:1/r").status is Status.ELIGIBLE
    assert "test-doc.yaml" in facts_markdown([fact])


def test_a_bad_extension_is_explained(tmp_path: Path) -> None:
    facts = """\
    extend:
      - {key: paid_in_captal, entity: [institution]}
      - {key: revenue, entity: [enterprise]}
      - {key: revenue, entity: [school]}
    """
    errors = _messages(PolicyBase.load(write_tree(tmp_path, facts={"test-doc.yaml": facts}), strict=False))
    text = "\n".join(errors)
    assert len(errors) == 3, text
    assert "extend 的事实 'paid_in_captal' 不在事实目录中；是否应为 paid_in_capital？" in text
    assert "事实 revenue（营业收入）已适用于企业，无需扩展" in text
    assert "extend[2].entity[0]：应为 enterprise、park_operator" in text


def test_the_facts_page_shows_the_type_the_catalogue_writes() -> None:
    base = PolicyBase.load(default_policies_dir())
    row = next(line for line in facts_markdown(list(base.catalogue)).splitlines() if "`social_insurance_staff`" in line)
    assert "| count |" in row


def test_fact_options_that_would_not_act_are_refused(tmp_path: Path) -> None:
    facts = """\
    facts:
      - {key: lab_count, name: 实验室数, type: count, values: ['1', '2'], entity: [enterprise], definition: 数量}
      - {key: lab_kind, name: 实验室类别, type: enum, entity: [enterprise], definition: 类别}
      - {key: lab_area, name: 实验室面积, type: number, default: 0, entity: [enterprise], definition: 面积}
    """
    errors = _messages(PolicyBase.load(write_tree(tmp_path, facts={"test-doc.yaml": facts}), strict=False))
    text = "\n".join(errors)
    assert len(errors) == 3, text
    assert "facts[0]：values 只用于 text、enum 或 set 类事实（count 类事实的取值不受它限制）" in text
    assert "facts[1]：type: enum 需要 values" in text
    assert "facts[2]：default 只能用于 bool 类事实" in text
