"""Spans written by the tool (huiqi policies spans), and where texts differ when they do not match."""

from __future__ import annotations

from pathlib import Path

from policy_tree import POLICY, write_tree
from typer.testing import CliRunner

from huiqi.cli import app
from huiqi.policy import normalise
from huiqi.policy.base import PolicyBase
from huiqi.policy.spans import plan, write

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _without_spans(policy: str) -> str:
    """The policy with the provision's span removed, the rule's span wrong and a comment to keep."""
    return (
        policy.replace("    span: [0, 33]\n", "")
        .replace("span: [4, 32]", "span: [3, 30]")
        .replace("provisions:\n", "provisions:  # 条款按原文顺序\n")
    )


def test_spans_are_filled_in_and_repaired_keeping_comments(tmp_path: Path) -> None:
    root = write_tree(tmp_path, _without_spans(POLICY))
    assert PolicyBase.load(root, strict=False).errors  # the model needs the span
    report = plan(root / "test-doc")
    assert [(i.path, i.old, i.new) for i in report.changes] == [
        ("provisions[0]", None, (0, 33)),
        ("provisions[0].rules[0]", (3, 30), (4, 32)),
    ]
    assert write(report) == 2
    text = (root / "test-doc" / "policy.yaml").read_text("utf-8")
    assert "provisions:  # 条款按原文顺序" in text
    assert text == POLICY.replace("provisions:\n", "provisions:  # 条款按原文顺序\n")
    assert PolicyBase.load(root, strict=False).errors == []
    assert plan(root / "test-doc").changes == []


def test_a_flow_mapping_gets_its_span_too(tmp_path: Path) -> None:
    source = "附件\n第一条 对实缴注册资本不低于1000万元的企业，给予50万元奖励。\n"
    policy = POLICY.replace("span: [0, 33]", "span: [3, 36]").replace("span: [4, 32]", "span: [7, 35]")
    policy += "omitted:\n  - {quote: 附件, reason: 附件标记}\n"
    root = write_tree(tmp_path, policy, source=source)
    assert write(plan(root / "test-doc")) == 1
    assert "  - {quote: 附件, reason: 附件标记, span: [0, 2]}" in (root / "test-doc" / "policy.yaml").read_text("utf-8")
    assert PolicyBase.load(root, strict=False).errors == []


def test_a_quote_not_in_the_text_shows_the_closest_passage_and_the_differences(tmp_path: Path) -> None:
    policy = POLICY.replace("quote: 对实缴注册资本不低于1000万元的企业，", "quote: 对实缴注册资本不低于100万元的企业,")
    root = write_tree(tmp_path, policy)
    (item,) = plan(root / "test-doc").problems
    assert item.path == "provisions[0].rules[0]"
    assert "最接近的是 source.txt[4:32]" in item.problem
    assert "引文无，原文为“0”" in item.problem and "引文为“,”，原文为“，”" in item.problem
    # validate says the same
    errors = [e.message for e in PolicyBase.load(root, strict=False).errors]
    assert any("最接近的是 source.txt[4:32]" in e for e in errors), errors


def test_the_command_reports_then_writes(tmp_path: Path) -> None:
    root = write_tree(tmp_path, _without_spans(POLICY))
    runner = CliRunner()
    first = runner.invoke(app, ["policies", "spans", "--policies", str(root)])
    assert first.exit_code == 1, first.output
    assert "provisions[0]：span （未填写） → [0, 33]" in first.output
    assert "2 处 span 需要填写或修正：加 --write 写入 policy.yaml" in first.output
    second = runner.invoke(app, ["policies", "spans", "test-doc", "--write", "--policies", str(root)])
    assert second.exit_code == 0 and "已写入 2 处 span" in second.output
    third = runner.invoke(app, ["policies", "spans", "--policies", str(root)])
    assert third.exit_code == 0 and "✔ 全部 2 处引文的 span 正确" in third.output
    unknown = runner.invoke(app, ["policies", "spans", "no-such-doc", "--policies", str(root)])
    assert unknown.exit_code == 2 and "没有编号为 'no-such-doc' 的文件；现有：test-doc" in unknown.output


def test_a_normalised_source_that_does_not_match_says_where(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        POLICY.replace("source: {seed: none}", "source: {seed: none, normalisation: [strip_trailing_whitespace]}"),
    )
    original = "第一条 对实缴注册资本不低于1000万元的企业，给予50万元奖励。  \n第二条 其他。\n"
    (root / "test-doc" / "original.txt").write_text(original, "utf-8")
    (root / "test-doc" / "source.txt").write_text(
        "第一条 对实缴注册资本不低于1000万元的企业，给予50万元奖励。\n第二条 另外。\n", "utf-8"
    )
    errors = [e.message for e in PolicyBase.load(root, strict=False).errors]
    assert any("最早的不同在 source.txt 第2行第5列：按规范化步骤应为“其他。⏎”，实际为“另外。⏎”" in e for e in errors), (
        errors
    )


def test_every_normaliser_is_listed_in_the_authoring_guide() -> None:
    guide = (DOCS / "authoring.md").read_text("utf-8")
    for name in normalise.NORMALISERS:
        assert f"| `{name}` |" in guide, name


def test_a_null_span_is_filled_in(tmp_path: Path) -> None:
    root = write_tree(tmp_path, POLICY.replace("span: [0, 33]", "span: null  # 待填").replace("span: [4, 32]", "span:"))
    assert write(plan(root / "test-doc")) == 2
    text = (root / "test-doc" / "policy.yaml").read_text("utf-8")
    assert "    span: [0, 33]  # 待填\n" in text and "        span: [4, 32]\n" in text
    assert PolicyBase.load(root, strict=False).errors == []
