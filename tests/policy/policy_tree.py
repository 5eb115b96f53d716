"""A policy base written from YAML text in a temporary folder, for tests of what authors see."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

from huiqi.policy.base import default_policies_dir

SOURCE = "第一条 对实缴注册资本不低于1000万元的企业，给予50万元奖励。\n"

#: A valid one-rule policy file; tests break it on purpose.
POLICY = """\
document:
  id: test-doc
  title: 测试文件
  issuers: [测试局]
  jurisdiction: {region: 苏州市, level: city}
  type: 政策措施
  status: 现行有效
  source: {seed: none}
provisions:
  - id: "1"
    kind: computable
    quote: 第一条 对实缴注册资本不低于1000万元的企业，给予50万元奖励。
    span: [0, 33]
    rules:
      - id: r
        label: 奖励
        quote: 对实缴注册资本不低于1000万元的企业，给予50万元奖励
        span: [4, 32]
        applies_to: enterprise
        conditions: paid_in_capital >= 1000万元
        benefit: {form: fixed, amount: 50万元}
"""

PolicyTree = Callable[..., Path]


def write_tree(tmp_path: Path, policy: str = POLICY, source: str = SOURCE, facts: dict[str, str] | None = None) -> Path:
    """Write ``policies/`` with the core fact catalogue, one document and optional extra fact files."""
    root = tmp_path / "policies"
    if root.exists():
        shutil.rmtree(root)
    (root / "_facts").mkdir(parents=True)
    shutil.copy(default_policies_dir() / "_facts" / "core.yaml", root / "_facts" / "core.yaml")
    for name, text in (facts or {}).items():
        (root / "_facts" / name).write_text(textwrap.dedent(text), "utf-8")
    folder = root / "test-doc"
    folder.mkdir()
    (folder / "source.txt").write_text(source, "utf-8")
    (folder / "policy.yaml").write_text(textwrap.dedent(policy), "utf-8")
    return root
