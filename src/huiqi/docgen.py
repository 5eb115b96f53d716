"""Pages of docs/ generated from the code and the policy base, so they cannot drift (a test compares)."""

from __future__ import annotations

from typing import Any

import typer

from huiqi.policy.base import PolicyBase


def cli_reference(app: typer.Typer) -> str:
    """docs/cli.md: every command with its help and options, from the Typer app itself."""
    root = typer.main.get_command(app)
    lines = [
        "# Command line reference",
        "",
        "Generated from the command definitions (`python -m huiqi.docgen cli > docs/cli.md`); a test fails when",
        "it is out of date. Every command also answers `--help`.",
        "",
    ]

    # Typer ships its own Click: walk the command tree by its attributes rather than Click's classes.
    def walk(command: Any, path: list[str]) -> None:
        if getattr(command, "commands", None):
            for name in sorted(command.commands):
                walk(command.commands[name], [*path, name])
            return
        lines.append(f"## `{' '.join(path)}`")
        lines.append("")
        lines.append((command.help or "").strip())
        lines.append("")
        rows = []
        for param in command.params:
            if param.param_type_name == "argument":
                rows.append(f"| `{param.name.upper() if param.name else ''}` | argument | |")
            elif param.param_type_name == "option" and param.name != "help":
                default = "" if param.default in (None, False, [], ()) else f"`{param.default}`"
                rows.append(f"| `{', '.join(param.opts)}` | {(param.help or '').strip()} | {default} |")
        if rows:
            lines.extend(["| option | meaning | default |", "|---|---|---|", *rows, ""])

    walk(root, ["huiqi"])
    return "\n".join(lines).rstrip() + "\n"


def readings_reference(base: PolicyBase) -> str:
    """docs/readings.md: every recorded ambiguity (口径) of every document, its options and default."""
    lines = [
        "# Readings (口径): the interpretations chosen where the texts are ambiguous",
        "",
        "Generated from the policy files (`python -m huiqi.docgen readings > docs/readings.md`); a test fails",
        "when it is out of date. Switch any reading with `huiqi evaluate … --reading KEY=VALUE`.",
        "",
    ]
    for document in base.documents.values():
        readings = document.policy.readings
        if not readings:
            continue
        lines.append(f"## {document.policy.document.title} (`{document.id}`)")
        lines.append("")
        for reading in readings:
            where = f"（第 {reading.provision} 条款）" if reading.provision else ""
            lines.append(f"### `{reading.key}` {where}")
            lines.append("")
            lines.append(reading.question.strip())
            if reading.quote:
                lines.append(f"> {reading.quote.strip()}")
            lines.append("")
            for option in reading.options:
                mark = " **（默认）**" if option.value == reading.default else ""
                lines.append(f"- `{option.value}`{mark}: {option.label.strip()}")
            if reading.rationale:
                lines.append("")
                lines.append(f"理由：{' '.join(reading.rationale.split())}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:  # pragma: no cover - exercised through the docs test
    import sys

    from huiqi.cli import app

    page = sys.argv[1] if len(sys.argv) > 1 else ""
    if page == "cli":
        sys.stdout.write(cli_reference(app))
    elif page == "readings":
        sys.stdout.write(readings_reference(PolicyBase.load()))
    else:
        sys.stderr.write("usage: python -m huiqi.docgen cli|readings\n")
        raise SystemExit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
