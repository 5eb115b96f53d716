"""Every example a user is shown runs: each ``huiqi`` line of README.md's shell blocks and each ``例：`` line
of every command's ``--help``.

They run in order in one scratch directory (``examples/`` linked in, a copy of the policy base as
``$HUIQI_POLICIES`` so an example that writes policy files cannot touch the checkout); an example fails on a
non-zero exit, a traceback, or — for an evaluation — a date that does not fit the example data. ``serve``
is started, asked for ``/health`` and stopped. Not run: lines with a ``…`` placeholder (a template to fill
in) and ``--engine spark`` (Spark's start-up; the same command runs in tests/population/test_cli.py).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import typer

from huiqi.cli import app

ROOT = Path(__file__).resolve().parents[1]
HUIQI = Path(sys.executable).parent / "huiqi"
_ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
_EXAMPLE = re.compile(r"例：(.+?)(?:\s{2,}（.*)?$")

#: what an interactive example reads on stdin
STDIN = {
    "users": "Zhang-San-2024!pw\nZhang-San-2024!pw\n",
    "ask": "不清楚\n" * 300,
}


def readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            words = [w for w in line.split() if not _ENV_ASSIGNMENT.match(w)]
            if words and words[0].removeprefix(".venv/bin/") == "huiqi":
                lines.append(line)
    return lines


def help_examples() -> list[str]:
    lines: list[str] = []

    def walk(command: object) -> None:
        for line in (getattr(command, "help", None) or "").splitlines():
            match = _EXAMPLE.search(line.strip())
            if match:
                lines.append(match.group(1).strip())
        for sub in (getattr(command, "commands", None) or {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    # what the other examples read comes first
    return sorted(lines, key=lambda line: 0 if " population " in f" {line} " else 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(args: list[str], cwd: Path, env: dict[str, str]) -> str | None:
    """Start ``huiqi serve`` on a free port, wait for /health, stop it; a problem as text, else None."""
    if "--port" in args:
        at = args.index("--port")
        del args[at : at + 2]
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own entry point
        [*args, "--port", str(port)], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    problem = None
    try:
        deadline = time.monotonic() + 90
        while problem is None:
            if server.poll() is not None:
                problem = "exited"
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    problem = "no answer on /health within 90 s"
                time.sleep(0.3)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    if problem or "Traceback" in output:
        return f"{problem or 'traceback'}:\n{output[-3000:]}"
    return None


def _run(line: str, cwd: Path, env: dict[str, str]) -> str | None:
    """Run one example line; a problem as text, else None."""
    words = shlex.split(line)
    run_env = dict(env)
    while words and _ENV_ASSIGNMENT.match(words[0]):
        key, value = words.pop(0).split("=", 1)
        run_env[key] = value
    args = [str(HUIQI), *words[1:]]
    if words[1:2] == ["serve"]:
        return _serve(args, cwd, run_env)
    done = subprocess.run(  # noqa: S603 - our own entry point
        args, cwd=cwd, env=run_env, input=STDIN.get(words[1], ""), capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    if done.returncode != 0 or "Traceback" in output:
        return f"exit {done.returncode}:\n{output[-3000:]}"
    if words[1] == "evaluate" and ("档案的年度数据最晚为" in output or "未指定 --as-of" in output):
        return f"the example's date does not fit its data:\n{output[:1500]}"
    return None


def runnable(line: str) -> bool:
    return "…" not in line and "--engine spark" not in line


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    work = tmp_path_factory.mktemp("examples")
    (work / "examples").symlink_to(ROOT / "examples")
    shutil.copytree(ROOT / "policies", work / "policy-base")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUIQI_")}
    env.update({"HUIQI_POLICIES": str(work / "policy-base"), "COLUMNS": "120"})
    return work, env


def test_the_examples_are_found() -> None:
    readme, helps = readme_examples(), help_examples()
    assert len(readme) >= 20 and len(helps) >= 20
    assert any("firm.yaml" in line for line in readme)
    assert all(line.split()[0].endswith("huiqi") or _ENV_ASSIGNMENT.match(line) for line in readme + helps)


def test_every_readme_example_runs(scratch: tuple[Path, dict[str, str]]) -> None:
    work, env = scratch
    failures = [f"{line}\n  → {problem}" for line in readme_examples() if runnable(line)
                for problem in [_run(line, work, env)] if problem]  # fmt: skip
    assert not failures, "\n\n".join(failures)


def test_every_help_example_runs(scratch: tuple[Path, dict[str, str]]) -> None:
    work, env = scratch
    failures = [f"{line}\n  → {problem}" for line in help_examples() if runnable(line)
                for problem in [_run(line, work, env)] if problem]  # fmt: skip
    assert not failures, "\n\n".join(failures)


def test_evaluate_says_which_date_it_used_and_when_the_data_do_not_reach_it() -> None:
    from typer.testing import CliRunner

    example = str(ROOT / "examples" / "profiles" / "suzhou-software-firm.yaml")
    today = CliRunner().invoke(app, ["evaluate", example, "--include-drafts"])
    assert today.exit_code == 0, today.output
    assert "未指定 --as-of：评价日为今天" in today.stdout
    assert "档案的年度数据最晚为2023年度" in today.stdout and "--as-of 2024-06-30" in today.stdout
    dated = CliRunner().invoke(app, ["evaluate", example, "--include-drafts", "--as-of", "2024-06-30"])
    assert "评价日：2024-06-30 · 评价年度：2023" in dated.stdout
    assert "未指定" not in dated.stdout and "最晚为" not in dated.stdout
    as_json = CliRunner().invoke(app, ["evaluate", example, "--format", "json"])
    assert as_json.stdout.lstrip().startswith("{") and "未指定 --as-of" in as_json.stderr
