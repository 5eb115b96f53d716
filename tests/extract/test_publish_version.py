"""huiqi publish --version-of: a reviewed draft becomes a new version of a policy already in the base (the
current one moves into ``versions/`` with its dates), what changed is shown, evaluations as of a day use the
version in force that day; the refusals are in Chinese."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from typer.testing import CliRunner

from huiqi.cli import app
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile
from huiqi.extract.publish import set_document_fields
from huiqi.policy.base import PolicyBase

from .amendment import AMENDED, OLD_POLICY, OLD_SOURCE, write_base


def said(result: object) -> str:
    """What a command printed, its lines joined (the terminal wraps long messages)."""
    return str(getattr(result, "output", "")).replace("\n", "")


def review(draft: Path) -> None:
    """What the reviewer does to the draft: the region of the document it amends, the issuer, marks removed."""
    for path in (draft / "policy.yaml", draft.parent / "_facts" / f"{draft.name}.yaml"):
        text = path.read_text(encoding="utf-8")
        text = text.replace("region: 全国\n    level: nation", "region: 苏州市\n    level: city")
        text = text.replace("issuers: []", "issuers: [测试局]")
        lines = [line if line.startswith("#") else line.replace("extract 草稿，待审核", "已审核")
                 for line in text.splitlines()]  # fmt: skip
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def amount(base: PolicyBase, on: dt.date, capital: str) -> tuple[str, int | None, str]:
    engine = Engine(base)
    profile = parse_profile({"entity_type": "enterprise", "region": ["江苏省", "苏州市"],
                             "facts": {"paid_in_capital": capital}}, engine.catalogue)  # fmt: skip
    result = engine.evaluate(profile, Options(as_of=on, documents=("test-doc",)))
    rule = result.documents[0].provisions[0].rules[0]
    return rule.status.value, rule.amount_fen, base.in_force("test-doc", on).policy.document.title


def test_a_draft_is_published_as_a_new_version_and_evaluations_use_the_version_in_force(tmp_path: Path) -> None:
    root = write_base(tmp_path)
    (tmp_path / "amend.txt").write_text(AMENDED, encoding="utf-8")
    runner = CliRunner()
    drafts = tmp_path / "drafts"
    made = runner.invoke(app, ["extract", str(tmp_path / "amend.txt"), "--out", str(drafts), "--id", "amend"])
    assert made.exit_code == 0, made.output
    draft = drafts / "amend"
    review(draft)
    args = ["publish", str(draft), "--reviewer", "张三", "--approver", "李四", "--policies", str(root)]

    unknown = runner.invoke(app, [*args, "--version-of", "no-such-doc"])
    assert unknown.exit_code == 1 and "政策库中没有编号为 no-such-doc 的文件" in said(unknown)
    assert "test-doc" in said(unknown)  # the known ids are listed
    early = runner.invoke(app, [*args, "--version-of", "test-doc", "--effective-from", "2021-01-01"])
    assert early.exit_code == 1 and "应晚于 test-doc 现行版本（2021）的施行日期 2021-01-01" in said(early)
    bad_day = runner.invoke(app, [*args, "--version-of", "test-doc", "--effective-from", "2024-13-01"])
    assert bad_day.exit_code == 2 and "YYYY-MM-DD" in said(bad_day)
    # an old case dated after the new start would now test the new version: refused, the base untouched
    clash = runner.invoke(app, [*args, "--version-of", "test-doc", "--effective-from", "2022-01-01"])
    assert clash.exit_code == 1 and "案例未通过" in said(clash) and "as_of 改到新版本施行之前" in said(clash)
    assert not (root / "test-doc" / "versions").exists()
    assert (root / "test-doc" / "policy.yaml").read_text(encoding="utf-8") == OLD_POLICY
    # dates that overlap: the current version runs to the end of 2024
    overlapping = OLD_POLICY.replace(
        "effective_from: 2021-01-01", "effective_from: 2021-01-01\n  effective_to: 2024-12-31"
    )
    (root / "test-doc" / "policy.yaml").write_text(overlapping, encoding="utf-8")
    overlap = runner.invoke(app, [*args, "--version-of", "test-doc"])
    assert overlap.exit_code == 1 and "日期重叠" in said(overlap) and "effective_to 改为 2023-12-31" in said(overlap)
    (root / "test-doc" / "policy.yaml").write_text(OLD_POLICY, encoding="utf-8")

    # a dry run checks everything and shows the changes, and leaves the base as it was
    trial = runner.invoke(app, [*args, "--version-of", "test-doc", "--dry-run"])
    assert trial.exit_code == 0, trial.output
    assert "试运行，政策库未改动" in said(trial) and "金额：50万元 → 80万元" in trial.output
    assert not (root / "test-doc" / "versions").exists()
    assert (root / "test-doc" / "policy.yaml").read_text(encoding="utf-8") == OLD_POLICY
    assert runner.invoke(app, [*args, "--dry-run"]).exit_code == 2  # only with --version-of

    done = runner.invoke(app, [*args, "--version-of", "test-doc"])
    assert done.exit_code == 0, done.output
    out = done.output
    assert "已发布为 test-doc 的新版本 2024年修订（自 2024-01-01 施行" in out
    assert "原版本 2021 移入" in out and "施行至 2023-12-31" in out
    assert "test-doc：2021 → 2024年修订" in out
    assert "[修改] 规则 1/r1：金额：50万元 → 80万元" in out
    assert "删除条件：paid_in_capital >= 1000万元" in out and "新增条件：paid_in_capital >= 800万元" in out
    assert "[新增] 条款 2" in out

    base = PolicyBase.load(root)  # strict: the base with both versions loads without error
    versions = base.versions_of("test-doc")
    assert [base.version_label(v) for v in versions] == ["2021", "2024年修订"]
    old_meta = versions[0].policy.document
    assert (old_meta.effective_from, old_meta.effective_to) == (dt.date(2021, 1, 1), dt.date(2023, 12, 31))
    assert versions[1].policy.document.amends == "2021"
    archived = (root / "test-doc" / "versions" / "2021" / "policy.yaml").read_text(encoding="utf-8")
    assert archived.startswith("# 手写的政策文件：注释应在归档后保留")  # edited in place, not rewritten
    assert (root / "test-doc" / "versions" / "2021" / "source.txt").read_text(encoding="utf-8") == OLD_SOURCE
    # as of a day before the new version: the 2021 version; from its first day: the amendment
    assert amount(base, dt.date(2023, 12, 31), "1000万元") == ("eligible", 50_000_000, "测试文件")
    assert amount(base, dt.date(2023, 12, 31), "900万元")[0] == "not_eligible"
    assert amount(base, dt.date(2024, 1, 1), "800万元")[:2] == ("eligible", 80_000_000)
    assert amount(base, dt.date(2024, 1, 1), "799.99万元")[0] == "not_eligible"
    record = yaml.safe_load((root / "test-doc" / "PUBLISHED.yaml").read_text(encoding="utf-8"))
    assert (record["reviewed_by"], record["approved_by"], record["version_of"]) == ("张三", "李四", "test-doc")
    assert (record["version"], record["amends"]) == ("2024年修订", "2021")
    assert any("金额：50万元 → 80万元" in c for c in record["changes"])
    assert not (root / "_facts" / "test-doc.2024-01-01.yaml").exists()  # the draft proposed no fact
    # the old case (2022) and the draft's cases (dated 2025-06-30, in the new version) all pass
    cases = runner.invoke(app, ["cases", "--policies", str(root)])
    assert cases.exit_code == 0, cases.output
    diff = runner.invoke(app, ["policies", "diff", "test-doc", "--policies", str(root)])
    assert diff.exit_code == 0 and "金额：50万元 → 80万元" in diff.output
    again = runner.invoke(app, [*args, "--version-of", "test-doc"])  # not twice: the same start date
    assert again.exit_code == 1 and "应晚于 test-doc 现行版本（2024年修订）的施行日期 2024-01-01" in said(again)
    # amended once more: the second version is archived under its own name, three versions in order
    third = runner.invoke(app, [*args, "--version-of", "test-doc", "--effective-from", "2026-01-01"])
    assert third.exit_code == 0, third.output
    base = PolicyBase.load(root)
    assert [base.version_label(v) for v in base.versions_of("test-doc")] == ["2021", "2024年修订", "2026年修订"]
    assert base.versions_of("test-doc")[1].policy.document.effective_to == dt.date(2025, 12, 31)
    assert amount(base, dt.date(2025, 6, 30), "800万元")[:2] == ("eligible", 80_000_000)


def test_set_document_fields_keeps_comments_and_replaces_nested_values() -> None:
    text = "# 头\ndocument:\n  id: a  # 编号\n  effective_to:\n    - x\n  title: T\nprovisions: []\n"
    out = set_document_fields(text, {"id": "b", "effective_to": dt.date(2024, 1, 1), "version": "2024年修订"})
    assert out == (
        '# 头\ndocument:\n  id: "b"\n  effective_to: 2024-01-01\n  title: T\n  version: "2024年修订"\nprovisions: []\n'
    )
