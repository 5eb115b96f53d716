"""Cases check every field of a result, instalments and successive years; failures say expected vs actual."""

from __future__ import annotations

import textwrap
from pathlib import Path

from policy_tree import POLICY, write_tree

from huiqi.cases import PROVISION_FIELDS, RULE_FIELDS, run_all
from huiqi.engine.evaluate import Engine
from huiqi.engine.results import STATUS_LABELS, ProvisionResult, RuleResult, Status
from huiqi.policy.base import PolicyBase

INSTALMENTS = POLICY.replace(
    "benefit: {form: fixed, amount: 50万元}",
    "benefit: {form: fixed, amount: 50万元}\n"
    "        once: true\n"
    "        payer: 市财政\n"
    "        instalments: [{share: 60%, label: 认定后拨付}, {share: 40%, label: 次年考核后拨付}]",
)
PROFILE = """\
    profile:
      entity_type: enterprise
      region: [苏州市]
      facts: {paid_in_capital: 1000万元}
"""


def _body(text: str) -> str:
    """A case's indented YAML lines (written at any indentation in the test)."""
    return textwrap.indent(textwrap.dedent(text), "    ")


def _run(tmp_path: Path, cases: str) -> list[str]:
    root = write_tree(tmp_path, INSTALMENTS)
    (root / "test-doc" / "cases").mkdir()
    (root / "test-doc" / "cases" / "c.yaml").write_text(cases, "utf-8")
    outcomes = run_all(Engine(PolicyBase.load(root)))
    return [failure for outcome in outcomes for failure in outcome.failures]


def test_instalments_and_every_field_pass_when_right(tmp_path: Path) -> None:
    cases = (
        "cases:\n  - name: 达到门槛\n    as_of: 2024-06-30\n"
        + PROFILE
        + _body(
            """\
        expect:
          - rule: 1/r
            status: eligible
            amount: 50万元
            amount_kind: certain
            is_ceiling: false
            is_floor: false
            reason: 符合条件
            recipient: enterprise
            payer: 市财政
            missing: []
            defaults_used: []
            excluded_by: null
            suggestion: null
            calculation: [金额：50万元]
            instalments:
              - {label: 认定后拨付, share: 60%, amount: 30万元}
              - {label: 次年考核后拨付, share: 40%, amount: 20万元}
          - {provision: "1", status: eligible, amount: 50万元, amount_kind: certain, is_ceiling: false, lead_unit: null}
    """
        )
    )
    assert _run(tmp_path, cases) == []


def test_failures_say_what_was_expected_and_what_came(tmp_path: Path) -> None:
    cases = (
        "cases:\n  - name: 写错的期望\n    as_of: 2024-06-30\n"
        + PROFILE
        + _body(
            """\
        expect:
          - rule: 1/r
            amout: 50万元
            amount_kind: ceiling
            payer: 区财政
            instalments:
              - {label: 认定后拨付, share: 50%, amount: 25万元}
              - {label: 次年考核后拨付, share: 50%, amount: 25万元}
          - {provision: "1", tier: [t1]}
    """
        )
    )
    failures = _run(tmp_path, cases)
    assert failures == [
        "规则 1/r: 未知的期望字段 'amout'；是否应为 amount？（可用：" + "、".join(RULE_FIELDS) + "）",
        "规则 1/r: 金额性质应为上限（最高），实际为确定金额",
        "规则 1/r: 出资方应为 '区财政'，实际为 '市财政'",
        "规则 1/r: 第1期金额应为 25万元；第1期比例应为 50%；第2期金额应为 25万元；第2期比例应为 50%，"
        "实际为：认定后拨付 60% 30万元；次年考核后拨付 40% 20万元",
        "条款 1: 条款结果没有 tier 字段（它属于规则结果）",
    ]


def test_a_wrong_number_of_instalments_is_reported(tmp_path: Path) -> None:
    cases = (
        "cases:\n  - name: 期数\n    as_of: 2024-06-30\n"
        + PROFILE
        + "    expect:\n      - {rule: 1/r, instalments: [{amount: 50万元}]}\n"
    )
    assert _run(tmp_path, cases) == [
        "规则 1/r: 应分 1 期拨付，实际为 2 期（认定后拨付 60% 30万元；次年考核后拨付 40% 20万元）"
    ]


def test_a_case_over_years_carries_what_was_paid(tmp_path: Path) -> None:
    cases = (
        "cases:\n  - name: 一次性：次年不再给予\n"
        + PROFILE
        + _body(
            """\
        years:
          - period: 2023
            expect: [{rule: 1/r, status: eligible, amount: 50万元}]
          - period: 2024
            expect: [{rule: 1/r, status: eligible, amount: 50万元}]
    """
        )
    )
    assert _run(tmp_path, cases) == [
        f"2024年度：规则 1/r: 状态应为 eligible（{STATUS_LABELS[Status.ELIGIBLE]}），"
        "实际为 not_eligible（一次性奖励，台账显示已经领取）",
        "2024年度：规则 1/r: 金额应为 50万元，实际为 无",
    ]


def test_an_unknown_case_key_is_refused(tmp_path: Path) -> None:
    cases = (
        "cases:\n  - name: 拼错\n    as_of: 2024-06-30\n    readigns: {a: b}\n"
        + PROFILE
        + ("    expect: [{rule: 1/r, status: eligible}]\n")
    )
    failures = _run(tmp_path, cases)
    assert len(failures) == 1 and failures[0].startswith("未知的案例字段 'readigns'；是否应为 readings？"), failures


def test_every_result_field_can_be_checked() -> None:
    """A new field on a result must become checkable in cases (or be listed here as not a result of the rules)."""
    # (``_json`` is the written JSON of a result shared by every evaluation: a cache, not a result of the rules)
    not_checked = {"document", "provision", "rule", "label", "quote", "span", "trace", "amount_fen", "_json"}
    rule_fields = set(RuleResult.__dataclass_fields__) - not_checked
    assert rule_fields <= set(RULE_FIELDS) | {"amount"}, rule_fields - set(RULE_FIELDS)
    provision_fields = set(ProvisionResult.__dataclass_fields__) - not_checked - {"number", "heading", "kind", "rules"}
    assert provision_fields <= set(PROVISION_FIELDS), provision_fields - set(PROVISION_FIELDS)
