"""``huiqi ask``: the calculator in a terminal — asks, re-asks a bad answer, goes back, saves a profile."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from huiqi.cli import app

ARGS = ["ask", "--region", "江苏省 苏州市", "--as-of", "2024-06-30", "-d", "suzhou-software-cluster"]


def _run(lines: list[str], *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*ARGS, *extra], input="\n".join(lines) + "\n")
    return result.exit_code, result.output


def test_asks_what_decides_and_stops_when_nothing_can_change(tmp_path: Path) -> None:
    saved = tmp_path / "firm.yaml"
    # 苏州市, not a software firm: 第1条, 第2条 and the milestone award settle; the rest answered 不清楚
    code, output = _run(["苏州市", "否"] + ["不清楚"] * 20, "--save", str(saved))
    assert code == 0, output
    assert "问题 1" in output and "登记注册地（地级市）" in output
    assert "为什么问：决定：《苏州市" in output
    assert "已无可改变结果的问题" in output
    # decided by 否 before they were ever asked (the results table after the questions may quote them)
    asked = output.split("已无可改变结果的问题")[0]
    assert "实缴注册资本" not in asked and "纳入工信部软件统计" not in asked
    profile = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert profile["facts"] == {"registered_city": "苏州市", "main_business_software": False}
    evaluated = CliRunner().invoke(
        app, ["evaluate", str(saved), "-d", "suzhou-software-cluster", "--as-of", "2024-06-30"]
    )
    assert evaluated.exit_code == 0, evaluated.output


def test_a_bad_answer_is_asked_again_in_chinese() -> None:
    code, output = _run(["苏州市", "是", "是", "很多人", "结束"])  # the 4th question: 缴纳社保员工数
    assert code == 0, output
    assert "缴纳社保员工数应为数值" in output and "请重新填写" in output
    assert output.count("问题 4") == 2


def test_back_changes_the_previous_answer_and_json_is_the_step() -> None:
    code, output = _run(["苏州市", "否", "返回", "是", "结束"], "--format", "json")
    assert code == 0, output
    data = json.loads(output[output.index("{\n") :])
    assert data["schema"] == "huiqi.questions/1"
    assert data["profile"]["facts"]["main_business_software"] is True


def test_ask_is_in_the_help() -> None:
    result = CliRunner().invoke(app, ["ask", "--help"])
    assert result.exit_code == 0 and "不清楚" in result.output
