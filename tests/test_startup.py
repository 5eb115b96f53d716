"""Start-up stays fast: the command line imports what a command needs when it runs, not before.

``huiqi --help`` took about 1.3 s of CPU when the CLI imported SQLAlchemy, the platform, pyarrow and the
policy loader eagerly; the heavy libraries are now imported inside the commands. These tests check which
modules are loaded (in a fresh interpreter), never a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "fastapi", "starlette", "uvicorn", "duckdb", "pandas", "pyarrow", "matplotlib", "pyspark")

PROBE = """
import json, sys
sys.argv = ["huiqi", *json.loads(sys.argv[1])]
import huiqi.cli
if sys.argv[1:]:
    try:
        huiqi.cli.app()
    except SystemExit:
        pass
print("\\n" + json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _loaded(*args: str) -> set[str]:
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=120, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_library() -> None:
    loaded = _loaded()
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert "pydantic" not in loaded  # the policy loader waits for a command that reads policies


def test_help_loads_no_heavy_library() -> None:
    for args in (("--help",), ("serve", "--help"), ("simulate", "--help"), ("db", "--help")):
        loaded = _loaded(*args)
        assert not loaded & set(HEAVY), (args, sorted(loaded & set(HEAVY)))


def test_evaluate_loads_neither_the_platform_nor_the_population_engine() -> None:
    loaded = _loaded("evaluate", "examples/profiles/suzhou-software-firm.yaml", "--as-of", "2024-06-30")
    assert "pydantic" in loaded  # it did evaluate
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
