"""A policy base with one amended document: version 2021 (50万元 from 1000万元 of paid-in capital) kept in
``versions/2021/``, and the current version 2024年修订 (80万元 from 800万元, a new provision), in force from
2024-01-01."""

from __future__ import annotations

import textwrap
from pathlib import Path

from policy_tree import POLICY, SOURCE, write_tree

OLD = POLICY.replace(
    "  source: {seed: none}\n",
    '  source: {seed: none}\n  effective_from: 2021-01-01\n  effective_to: 2023-12-31\n  version: "2021"\n',
)

NEW_SOURCE = "第一条 对实缴注册资本不低于800万元的企业，给予80万元奖励。\n第二条 本办法自2024年1月1日起施行。\n"
NEW = """\
document:
  id: test-doc
  title: 测试文件（2024年修订）
  issuers: [测试局]
  jurisdiction: {region: 苏州市, level: city}
  type: 政策措施
  status: 现行有效
  effective_from: 2024-01-01
  version: 2024年修订
  amends: "2021"
  source: {seed: none}
provisions:
  - id: "1"
    kind: computable
    quote: 第一条 对实缴注册资本不低于800万元的企业，给予80万元奖励。
    span: [0, 32]
    rules:
      - id: r
        label: 奖励
        quote: 对实缴注册资本不低于800万元的企业，给予80万元奖励
        span: [4, 31]
        applies_to: enterprise
        conditions: paid_in_capital >= 800万元
        benefit: {form: fixed, amount: 80万元}
  - id: "2"
    kind: meta
    quote: 第二条 本办法自2024年1月1日起施行。
    span: [33, 54]
"""


def write_versioned(tmp_path: Path, *, old: str = OLD, new: str = NEW) -> Path:
    """``policies/`` with test-doc in two versions."""
    root = write_tree(tmp_path, new, NEW_SOURCE)
    folder = root / "test-doc" / "versions" / "2021"
    folder.mkdir(parents=True)
    (folder / "policy.yaml").write_text(textwrap.dedent(old), "utf-8")
    (folder / "source.txt").write_text(SOURCE, "utf-8")
    return root
