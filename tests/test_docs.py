"""Docs that cannot drift: generated pages match, every command and fact is documented."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from huiqi.cli import app
from huiqi.docgen import cli_reference, readings_reference
from huiqi.policy.base import PolicyBase

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_up_to_date() -> None:
    assert (DOCS / "cli.md").read_text("utf-8") == cli_reference(app), (
        "regenerate: python -m huiqi.docgen cli > docs/cli.md"
    )


def test_readings_reference_is_up_to_date(seed_base: PolicyBase) -> None:
    expected = readings_reference(seed_base)
    assert (DOCS / "readings.md").read_text("utf-8") == expected, (
        "regenerate: python -m huiqi.docgen readings > docs/readings.md"
    )


def test_facts_page_is_up_to_date() -> None:
    result = CliRunner().invoke(app, ["facts", "--format", "markdown"])
    assert (DOCS / "facts.md").read_text("utf-8") == result.stdout, (
        "regenerate: huiqi facts --format markdown > docs/facts.md"
    )


def test_every_command_answers_help() -> None:
    for command in (
        ["evaluate"],
        ["demo"],
        ["facts"],
        ["validate"],
        ["cases"],
        ["policies", "list"],
        ["policies", "show"],
    ):
        result = CliRunner().invoke(app, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "例" in result.output or "用法：" in result.output


def test_readme_gives_the_test_command_ci_runs() -> None:
    readme = (DOCS.parent / "README.md").read_text("utf-8")
    ci = (DOCS.parent / ".ci" / "run").read_text("utf-8")
    assert "make test" in readme and "make test" in ci
    assert "make run" in readme
