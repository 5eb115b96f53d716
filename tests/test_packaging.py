"""A wheel installed outside the checkout works: the policy base, the fact catalogue and the examples ship
inside the package, and every kind of command runs from a directory that is not the checkout.

The wheel is built offline (``--no-build-isolation``, the dev extra's setuptools) from a copy of the
sources, installed without dependencies into a fresh virtual environment that borrows the test
environment's installed libraries (a ``.pth`` line: the checkout's own editable huiqi is not reachable
through it, and the test checks which huiqi runs). ``pip check`` then proves the wheel's declared
dependencies are all satisfied. About 20 s of CPU (under a minute of wall time on the shared 2-core machine).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "src", "policies", "examples")


def _run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter and the installed entry point
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{output}"
    assert "Traceback" not in output, output
    return output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(the fresh venv's bin/, a working directory outside the checkout, the environment to run in)."""
    tmp = tmp_path_factory.mktemp("wheel")
    tree = tmp / "src-copy"
    tree.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(source, tree / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUIQI_", "PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", tmp / "dist", "."], tree, env, 300)
    (wheel,) = (tmp / "dist").glob("huiqi-*.whl")

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp, env)
    python = venv / "bin" / "python"
    _run([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel], tmp, env, 300)
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp, env).strip())
    (purelib / "zz_borrowed_libraries.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    _run([*pip, "--python", python, "check"], tmp, env)

    work = tmp / "elsewhere"
    work.mkdir()
    where = _run([python, "-c", "import huiqi.locations as l; print(l.__file__); print(l.default_policies_dir())"],
                 work, env)  # fmt: skip
    module, policies = where.split()
    assert Path(module).is_relative_to(venv), f"the installed huiqi must run, not the checkout's: {module}"
    assert Path(policies) == purelib / "huiqi" / "_data" / "policies"
    return venv / "bin", work, env


def test_the_wheel_ships_the_policy_base_and_validates_it(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, work, env = installed
    output = _run([bin_dir / "huiqi", "validate"], work, env)
    assert "全部通过检查" in output


def test_the_wheel_evaluates_a_shipped_example(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, work, env = installed
    output = _run([bin_dir / "huiqi", "examples"], work, env)
    example = next(line.split()[-1] for line in output.splitlines() if line.endswith("suzhou-software-firm.yaml"))
    assert Path(example).is_file()
    output = _run([bin_dir / "huiqi", "evaluate", example, "--include-drafts", "--as-of", "2024-06-30"], work, env)
    assert "苏州示例工业软件有限公司" in output and "符合" in output
    output = _run([bin_dir / "huiqi", "demo"], work, env)
    assert "xinjiang-talent.yaml" in output


def test_the_wheel_migrates_a_database(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, work, env = installed
    output = _run([bin_dir / "huiqi", "db", "upgrade", "--database", f"sqlite:///{work / 'upgrade.db'}"], work, env)
    assert "数据库已是最新版本" in output


def test_the_wheel_serves(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, work, env = installed
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - the installed entry point
        [bin_dir / "huiqi", "serve", "--port", str(port), "--database", f"sqlite:///{work / 'serve.db'}"],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "huiqi serve did not answer /health within 90 s"
                time.sleep(0.3)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Traceback" not in output, output


def test_make_run_installs_the_runtime_and_make_test_the_dev_extra(tmp_path: Path) -> None:
    """`make run` needs no test tools and no Spark (a 575 MB venv, not 1.4 GB); `make test` installs them."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv = tmp_path / "venv"

    def plan(target: str) -> str:
        make = shutil.which("make") or "make"
        done = subprocess.run(  # noqa: S603 - a dry run (-n): nothing is installed
            [make, "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return done.stdout

    run = plan("run")
    assert "pip install --quiet -e .\n" in run and "[dev]" not in run
    assert f"{venv}/bin/huiqi serve" in run
    test = plan("test")
    assert "pip install --quiet -e '.[dev]'" in test and f"{venv}/bin/pytest" in test
