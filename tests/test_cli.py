"""The command line, driven as a clerk would: outputs, the JSON schema, and clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from huiqi.cli import app
from huiqi.policy.base import default_policies_dir

runner = CliRunner()

GZ_FIRM = """
entity_type: enterprise
name: 广州某软件有限公司
uscc: 91440101MA5CY12340
region: [广东省, 广州市]
facts:
  is_software_it_service_enterprise: true
  revenue: {2022: 8000万元, 2023: 1.2亿元}
"""


def _profile(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _valid_gz_profile(tmp_path: Path) -> Path:
    # a checksum-valid 统一社会信用代码
    from stdnum.cn import uscc

    body = "91440101MA5CY1234"
    code = body + uscc.calc_check_digit(body)
    return _profile(tmp_path, GZ_FIRM.replace("91440101MA5CY12340", code))


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("evaluate", "policies", "facts", "validate", "cases", "demo"):
        assert command in result.output


def test_evaluate_json_has_the_documented_schema(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(_valid_gz_profile(tmp_path)), "--format", "json", "--as-of", "2024-06-30",
                                 "--document", "guangzhou-software"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "huiqi.evaluation/2"
    assert data["period"] == 2023
    (document,) = data["documents"]
    assert "征求意见稿" in document["flags"][0]
    rules = [r for p in document["provisions"] for r in p["rules"]]
    for key in ("document", "provision", "quote", "status", "amount", "is_ceiling", "trace"):
        assert all(key in r for r in rules)
    assert all(isinstance(p["quote"], str) and p["quote"] for p in document["provisions"])
    eligible = [r for r in rules if r["status"] == "eligible"]
    assert eligible and all(r["amount"] is not None and "." in r["amount"] for r in eligible)
    # Every Guangzhou amount is a ceiling: nothing is certain, and the ceilings are summed apart.
    assert all(r["amount_kind"] == "ceiling" and r["amount_label"].startswith("最高") for r in eligible)
    assert "total_eligible" not in data and data["totals"]["certain"] == "0.00"
    assert data["totals"]["ceiling_rules"] == len(eligible) == document["totals"]["ceiling_rules"]


def test_drafts_are_skipped_unless_asked(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["evaluate", str(_valid_gz_profile(tmp_path)), "--format", "json", "--as-of", "2024-06-30"]
    )
    data = json.loads(result.stdout)
    assert "guangzhou-software" not in [d["document"] for d in data["documents"]]
    assert any(s["document"] == "guangzhou-software" and "征求意见稿" in s["reason"] for s in data["skipped"])


def test_table_output_names_status_and_amount(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["evaluate", str(_valid_gz_profile(tmp_path)), "--as-of", "2024-06-30", "--include-drafts"]
    )
    assert result.exit_code == 0, result.output
    assert "符合" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GZ_FIRM, "统一社会信用代码"),
        ("entity_type: enterprise\nfacts:\n  revenu: 1万元\n", "未知的事实 'revenu'"),
        ("entity_type: enterprise\nfacts:\n  revenue: -5万元\n", "不能为负数"),
        ("entity_type: enterprise\nfacts:\n  settled_on: 2023/03/01\n", "YYYY-MM-DD"),
        ("entity_type: enterprise\nfacts:\n  paid_in_capital: 1200\n", "缺少单位"),
        ("entity_type: company\n", "entity_type"),
    ],
)
def test_bad_profiles_get_a_clear_error_naming_the_field(tmp_path: Path, text: str, message: str) -> None:
    result = runner.invoke(app, ["evaluate", str(_profile(tmp_path, text)), "--as-of", "2024-06-30"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_bad_reading_and_bad_date_are_refused(tmp_path: Path) -> None:
    path = _valid_gz_profile(tmp_path)
    result = runner.invoke(app, ["evaluate", str(path), "--reading", "nonsense=1"])
    assert result.exit_code == 2 and "未知的口径" in result.stderr
    result = runner.invoke(app, ["evaluate", str(path), "--as-of", "30/06/2024"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output + result.stderr


def test_facts_json_lists_the_catalogue() -> None:
    result = runner.invoke(app, ["facts", "--format", "json"])
    facts = json.loads(result.stdout)
    revenue = next(f for f in facts if f["key"] == "revenue")
    assert revenue["name"] == "营业收入" and revenue["type"] == "money" and revenue["period"] == "annual"
    assert all({"key", "name", "type", "unit", "period", "entity", "definition"} <= set(f) for f in facts)


def test_policies_list_and_show() -> None:
    listed = runner.invoke(app, ["policies", "list", "--format", "json"])
    assert {d["id"] for d in json.loads(listed.stdout)} >= {"xinjiang-2017-software", "zhejiang-software-bases"}
    shown = runner.invoke(app, ["policies", "show", "zhejiang-software-bases", "--format", "json"])
    assert json.loads(shown.stdout)["document"]["doc_number"] == "浙经信软件〔2015〕495号"
    missing = runner.invoke(app, ["policies", "show", "nope"])
    assert missing.exit_code == 2 and "没有编号为" in missing.stderr


def test_validate_passes_on_the_seed_base() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "全部通过检查" in result.output


def _copy_base(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), target)
    return target


def test_validate_reports_a_malformed_policy_as_file_and_line(tmp_path: Path) -> None:
    root = _copy_base(tmp_path)
    path = root / "zhejiang-software-bases" / "policy.yaml"
    text = path.read_text("utf-8")
    path.write_text(
        text.replace("rank <= 15", "rank <= 15万元", 1)
        if "rank <= 15" in text
        else text.replace("kind: procedure", "kind: nonsense", 1),
        "utf-8",
    )
    result = runner.invoke(app, ["validate", "--policies", str(root)])
    assert result.exit_code == 1
    assert f"{path}:" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.stderr


def test_validate_reports_yaml_syntax_errors_with_line(tmp_path: Path) -> None:
    root = _copy_base(tmp_path)
    path = root / "urumqi-reply-2009" / "policy.yaml"
    lines = path.read_text("utf-8").split("\n")
    lines.insert(5, "  broken: [unclosed")
    path.write_text("\n".join(lines), "utf-8")
    result = runner.invoke(app, ["validate", "--policies", str(root)])
    assert result.exit_code == 1
    assert "YAML 语法错误" in result.stderr


def test_validate_catches_a_quote_that_drifted_from_the_source(tmp_path: Path) -> None:
    root = _copy_base(tmp_path)
    source = root / "xinjiang-2017-software" / "source.txt"
    source.write_text(source.read_text("utf-8").replace("90%", "80%"), "utf-8")
    result = runner.invoke(app, ["validate", "--policies", str(root)])
    assert result.exit_code == 1
    assert "不一致" in result.stderr
