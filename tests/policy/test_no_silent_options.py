"""Every option the loader accepts acts, or is refused with a message (issue 10, point 16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_tree import POLICY, write_tree

from huiqi.policy.base import PolicyBase

RULE_BENEFIT = "benefit: {form: fixed, amount: 50万元}"
SCHEDULE = (
    "benefit:\n          form: schedule\n          index: years_since(established_on)\n          base: paid_in_capital\n"
    "          steps: [{years: [1, 5], rate: 90%}, {years: [5, 10], rate: 60%}]"
)
TIERS = (
    "benefit:\n          form: tiers\n          mode: highest\n          tiers:\n"
    "            - {id: t1, when: 'paid_in_capital >= 1000万元', amount: 50万元}\n"
    "            - {id: t1, when: 'paid_in_capital >= 2000万元', amount: 80万元}"
)

CASES = {
    "per_year cap over a provision": (
        RULE_BENEFIT + "\n        caps: [{scope: per_year, amount: 30万元, over: provision}]",
        "caps[0]：scope: per_year 的上限按本规则当年已领取的金额计算，over: provision 不起作用",
    ),
    "a field the form does not read": (
        "benefit: {form: fixed, amount: 50万元, base: paid_in_capital, mode: each}",
        "benefit：form 为 fixed 时不使用字段 base、mode（会被忽略）",
    ),
    "a ceiling flag without an amount": (
        "benefit: {form: none, is_ceiling: true}",
        "benefit：form: none 没有金额，is_ceiling / is_floor 不起作用",
    ),
    "ceiling and floor at once": (
        "benefit: {form: fixed, amount: 50万元, is_ceiling: true, is_floor: true}",
        "is_ceiling（上限）与 is_floor（下限）不能同时为 true",
    ),
    "a floor decided by officials": (
        "benefit: {form: fixed, amount: 50万元, review: true, is_floor: true}",
        "review: true 时金额由主管部门审核确定，is_floor 不起作用",
    ),
    "overlapping steps": (SCHEDULE, "steps 的年份 [5, 10] 与 [1, 5] 重叠：后一段永远不会适用"),
    "steps backwards": (SCHEDULE.replace("[5, 10]", "[10, 6]"), "steps 的 years [10, 6] 应为 [起始年, 结束年]"),
    "exclusive_group on a rule": (
        RULE_BENEFIT + "\n        exclusive_group: g1",
        "rules[0]：exclusive_group 不起作用：不得重复享受请写在文件的 exclusions 中",
    ),
    "a duration on a one-off rule": (
        RULE_BENEFIT + "\n        once: true\n        duration: {max_years: 3}",
        "once: true（一次性）时规则只支付一次，duration 不起作用",
    ),
    "instalments without an amount": (
        "benefit: {form: none}\n        instalments: [{share: 50%, label: 一期}, {share: 50%, label: 二期}]",
        "form: none 没有金额，instalments 不起作用",
    ),
    "instalments not adding up": (
        RULE_BENEFIT + "\n        instalments: [{share: 50%, label: 一期}, {share: 30%, label: 二期}]",
        "instalments 各期比例之和应为 100%，现为 80%",
    ),
    "a units quote not in the provision": (
        RULE_BENEFIT + "\n        units_quote: （责任单位：市工信局）",
        "units_quote 的引文在所属条款的引文中找不到",
    ),
    "a repeated tier id": (TIERS, "档次编号 't1' 重复"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_an_option_that_would_do_nothing_is_refused(tmp_path: Path, case: str) -> None:
    written, message = CASES[case]
    assert RULE_BENEFIT in POLICY
    base = PolicyBase.load(write_tree(tmp_path, POLICY.replace(RULE_BENEFIT, written)), strict=False)
    texts = [e.message for e in base.errors]
    assert any(message in text for text in texts), texts


def test_an_exclusion_that_can_never_bind_is_refused(tmp_path: Path) -> None:
    policy = POLICY + 'exclusions:\n  - {id: x, rules: ["1/r", "1/r2"], max: 2, reason: 不重复享受}\n'
    base = PolicyBase.load(write_tree(tmp_path, policy), strict=False)
    assert any("max 为 2，而互斥组只有 2 条规则：这一限制永远不会生效" in e.message for e in base.errors)


def test_a_reading_quote_must_be_in_the_text(tmp_path: Path) -> None:
    policy = POLICY + (
        "readings:\n  - key: k\n    question: 问？\n    quote: 原文没有这句话\n    default: a\n"
        "    options: [{value: a, label: 甲}, {value: b, label: 乙}]\n"
    )
    base = PolicyBase.load(write_tree(tmp_path, policy), strict=False)
    assert [e.message for e in base.errors] == ["quote 的引文在原文（source.txt）中找不到：引文应逐字摘自原文"]


def test_the_options_that_act_still_load(tmp_path: Path) -> None:
    written = RULE_BENEFIT + (
        "\n        caps: [{scope: per_year, amount: 30万元}, {scope: cumulative, amount: 90万元, over: provision}]"
        "\n        duration: {max_years: 3}"
        "\n        instalments: [{share: 60%, label: 一期}, {share: 40%, label: 二期}]"
    )
    base = PolicyBase.load(write_tree(tmp_path, POLICY.replace(RULE_BENEFIT, written)), strict=False)
    assert base.errors == []
