"""A policy base with one policy (test-doc, in force from 2021-01-01, 50万元 from 1000万元 of paid-in capital, one
case of 2022) and the text of its amendment (80万元 from 800万元, in force from 2024-01-01): what publishing a
draft as a new version is tested on, from the CLI and from the web review screen."""

from __future__ import annotations

import shutil
from pathlib import Path

from huiqi.locations import default_policies_dir
from huiqi.policy.base import PolicyBase

OLD_SOURCE = "第一条 对实缴注册资本不低于1000万元的企业，给予50万元奖励。\n"
OLD_POLICY = """\
# 手写的政策文件：注释应在归档后保留
document:
  id: test-doc
  title: 测试文件
  issuers: [测试局]
  jurisdiction: {region: 苏州市, level: city}
  type: 政策措施
  status: 现行有效
  effective_from: 2021-01-01
  source: {seed: none}
provisions:
  - id: "1"
    kind: computable
    quote: 第一条 对实缴注册资本不低于1000万元的企业，给予50万元奖励。
    span: [0, 33]
    rules:
      - id: r1
        label: 奖励
        quote: 对实缴注册资本不低于1000万元的企业，给予50万元奖励
        span: [4, 32]
        applies_to: enterprise
        conditions: paid_in_capital >= 1000万元
        benefit: {form: fixed, amount: 50万元}
"""
OLD_CASES = """\
cases:
  - name: 2022年：1000万元得50万元
    as_of: 2022-06-30
    profile: {entity_type: enterprise, region: [江苏省, 苏州市], facts: {paid_in_capital: 1000万元}}
    expect: [{rule: 1/r1, status: eligible, amount: 50万元}]
"""
AMENDED = """某市支持企业发展办法（2024年修订）
第一条 对实缴注册资本不低于800万元的企业，给予80万元奖励。
第二条 本办法自2024年1月1日起施行。
"""


def write_base(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    (root / "_facts").mkdir(parents=True)
    shutil.copy(default_policies_dir() / "_facts" / "core.yaml", root / "_facts" / "core.yaml")
    (root / "test-doc" / "cases").mkdir(parents=True)
    (root / "test-doc" / "policy.yaml").write_text(OLD_POLICY, encoding="utf-8")
    (root / "test-doc" / "source.txt").write_text(OLD_SOURCE, encoding="utf-8")
    (root / "test-doc" / "cases" / "cases.yaml").write_text(OLD_CASES, encoding="utf-8")
    assert PolicyBase.load(root).documents["test-doc"]
    return root
