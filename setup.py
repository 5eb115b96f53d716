"""Build hook: ship the policy base and the examples inside the package.

``policies/`` (the seed documents and the fact catalogue) and ``examples/`` live at the repository root,
where authors edit them. A wheel copies them to ``huiqi/_data/`` so that an installed huiqi finds them
(``huiqi.locations``); an editable install reads them from the checkout instead. Everything else about the
package is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("policies", "examples")


class BuildWithData(build_py):
    """``build_py`` that also copies ``policies/`` and ``examples/`` into ``huiqi/_data/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's own folders
        target = Path(self.build_lib) / "huiqi" / "_data"
        for name in SHIPPED:
            source = ROOT / name
            if not source.is_dir():
                raise SystemExit(f"missing {source}: the package ships it")
            shutil.copytree(
                source,
                target / name,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"),
            )


setup(cmdclass={"build_py": BuildWithData})
