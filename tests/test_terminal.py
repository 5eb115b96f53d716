"""The terminal shows what the user needs: tables wrap instead of cutting fact keys and rule names, at 80
and at 160 columns; and the command-line framework's own words (Usage, Options, errors) are Chinese."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from huiqi.cli import app

ROOT = Path(__file__).resolve().parents[1]
HUIQI = Path(sys.executable).parent / "huiqi"
EXAMPLE = str(ROOT / "examples" / "profiles" / "suzhou-software-firm.yaml")
ENGLISH = ("Usage", "Options", "Commands", "Arguments", "Show this message", "Invalid value", "Missing argument",
           "Missing option", "No such command", "No such option", "Try '", "for help", "Error", "[default",
           "[required]", "Got unexpected", "requires an argument", "Input should", "is not one of")  # fmt: skip


def _huiqi(*args: str, columns: int = 160) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUIQI_")} | {"COLUMNS": str(columns)}
    return subprocess.run(  # noqa: S603 - our own entry point
        [str(HUIQI), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _column(output: str, index: int) -> str:
    """Everything printed in one column of the tables, joined: a folded cell joins back to its text."""
    cells = [line.split("│")[index].strip() for line in output.splitlines() if line.startswith("│")]
    return "".join(cells)


@pytest.mark.parametrize("columns", [80, 160])
def test_fact_keys_are_never_cut(columns: int) -> None:
    keys = [fact["key"] for fact in json.loads(_huiqi("facts", "--format", "json").stdout)]
    shown = _huiqi("facts", columns=columns)
    assert shown.returncode == 0, shown.stderr
    assert "…" not in shown.stdout
    assert _column(shown.stdout, 1) == "".join(keys)
    assert max(len(line) for line in shown.stdout.splitlines()) <= columns


@pytest.mark.parametrize("columns", [80, 160])
def test_rule_names_are_never_cut(columns: int) -> None:
    args = ("evaluate", EXAMPLE, "--as-of", "2024-06-30", "--include-drafts", "--all", "-d", "suzhou-software-cluster")
    data = json.loads(_huiqi(*args, "--format", "json").stdout)
    labels = [rule["label"] for document in data["documents"] for p in document["provisions"] for rule in p["rules"]]
    shown = _huiqi(*args, columns=columns)
    assert shown.returncode == 0, shown.stderr
    assert "…" not in shown.stdout
    assert _column(shown.stdout, 2) == "".join(labels)


def _no_english(text: str) -> None:
    found = [word for word in ENGLISH if word in text]
    assert not found, f"English framework words {found} in:\n{text}"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], ["用法：", "选项", "命令", "显示本帮助并退出。"]),
        (["evaluate", "--help"], ["用法：", "参数", "[必填]", "[默认：table]"]),
        (["evaluate", EXAMPLE, "--format", "xml"], ["'--format' / '-f' 的值无效：'xml' 不是可选的值", "查看帮助"]),
        (["evaluate"], ["缺少参数 'profile'。", "运行 'huiqi evaluate --help' 查看帮助。"]),
        (["evaluat"], ["没有命令 'evaluat'。是否应为 'evaluate'"]),
        (["evaluate", EXAMPLE, "--include-draft"], ["没有选项 --include-draft。是否应为 --include-drafts"]),
        (["evaluate", EXAMPLE, "extra"], ["多余的参数：extra"]),
        (["evaluate", EXAMPLE, "--as-of"], ["选项 '--as-of' 需要一个值。"]),
        (["population", "generate", "--n", "many"], ["'--n' 的值无效：应为整数"]),
        (["population", "generate", "--n", "0"], ["'--n' 的值无效：应不小于 1"]),
        (["db", "nothing"], ["没有命令 'nothing'。"]),
        (["serve", "--demo=1"], ["选项 '--demo' 不接受值。"]),
    ],
)
def test_the_frameworks_words_are_chinese_in_a_process(args: list[str], expected: list[str]) -> None:
    done = _huiqi(*args)
    output = done.stdout + done.stderr
    assert done.returncode == (0 if "--help" in args else 2), output
    for text in expected:
        assert text in output, output
    _no_english(output)
    assert "Traceback" not in output


def test_the_frameworks_words_are_chinese_through_the_cli_runner() -> None:
    runner = CliRunner()
    helped = runner.invoke(app, ["simulate", "--help"])
    assert helped.exit_code == 0 and "用法：" in helped.output and "显示本帮助并退出。" in helped.output
    _no_english(helped.output)
    wrong = runner.invoke(app, ["facts", "--format", "yaml"])
    assert wrong.exit_code == 2
    assert "'--format' / '-f' 的值无效" in wrong.output and "'yaml' 不是可选的值" in wrong.output
    _no_english(wrong.output)


def test_the_password_prompt_is_chinese(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["users", "create", "wang", "--role", "official", "--database", f"sqlite:///{tmp_path / 'u.db'}"],
        input="Zhang-San-2024!pw\n",
    )
    assert result.exit_code == 0, result.output
    assert "密码" in result.output and "Password" not in result.output


def _every_command(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted((getattr(group, "commands", None) or {}).items()):
        found.append((*path, name))
        found += _every_command(command, (*path, name))
    return found


def test_the_command_list_shows_each_first_sentence_whole_at_80_columns() -> None:
    from typer.main import get_command

    from huiqi.cli_zh import first_sentence

    shown = _huiqi("--help", columns=80)
    assert shown.returncode == 0, shown.stderr
    assert "…" not in shown.stdout
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80
    described: dict[str, str] = {}
    name = ""
    for line in shown.stdout.split("命令")[-1].splitlines():
        row = re.match(r"^│ (\S*)\s+(.*?)\s*│$", line)
        if row:
            name = row.group(1) or name
            described[name] = described.get(name, "") + row.group(2)
    for command_name, command in get_command(app).commands.items():  # type: ignore[attr-defined]
        sentence = first_sentence(command.help or "")
        assert sentence.endswith("。"), command_name
        assert re.sub(r"\s", "", described[command_name]) == re.sub(r"\s", "", sentence), command_name


def test_no_english_value_labels_in_any_help() -> None:
    from typer.main import get_command

    runner = CliRunner()
    for path in [(), *_every_command(get_command(app))]:
        helped = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
        assert helped.exit_code == 0, (path, helped.output)
        found = re.findall(r"<(?:bool|str|int|float|path|file|dir|list\[[^>]*\]|int range|datetime)>", helped.output)
        assert not found, (path, found)
        assert "…" not in helped.output.replace("://…", ""), (path, helped.output)  # an elided URL is the text's


def test_the_docstring_examples_of_the_chinese_framework_words_run() -> None:
    import doctest

    import huiqi.cli_zh

    failures, tried = doctest.testmod(huiqi.cli_zh)
    assert tried >= 3 and failures == 0


def _table_width(output: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in output.splitlines() if line[:1] in "┏┃┡│└┌"), default=0)


@pytest.mark.parametrize("columns", [None, 100, 160])
def test_ask_lays_out_its_results_at_the_width_evaluate_uses(columns: int | None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUIQI_") and k != "COLUMNS"}
    env |= {"COLUMNS": str(columns)} if columns else {}
    document = ["--as-of", "2024-06-30", "-d", "suzhou-software-cluster"]
    asked = subprocess.run(  # noqa: S603 - our own entry point, output piped (no terminal)
        [str(HUIQI), "ask", "--region", "江苏省 苏州市", *document], input="不清楚\n结束\n", env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    evaluated = subprocess.run(  # noqa: S603
        [str(HUIQI), "evaluate", EXAMPLE, "--include-drafts", *document], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert asked.returncode == 0 and evaluated.returncode == 0, asked.stderr + evaluated.stderr
    assert "…" not in asked.stdout
    # piped with no $COLUMNS both use 160 columns (Rich alone would take 80); else $COLUMNS
    assert _table_width(asked.stdout) == _table_width(evaluated.stdout) == (columns or 160)
