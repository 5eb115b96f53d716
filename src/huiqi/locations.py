"""Where huiqi finds its policy base and its example files, in a checkout and in an installed package.

Three places, first found wins:

1. ``$HUIQI_POLICIES`` — a policy base of one's own (its examples are not looked up there);
2. the source checkout (an editable install, or running from ``src/``): ``policies/`` and ``examples/``
   next to ``pyproject.toml``;
3. the copy shipped inside the package (``huiqi/_data/policies`` and ``huiqi/_data/examples``), which the
   build puts there (``setup.py``), so a wheel installed anywhere works.

Standard library only: the command line imports this before it knows which command runs.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parents[1]  # src/huiqi → the repository root
PACKAGED_DATA = _PACKAGE / "_data"


def _checkout() -> Path | None:
    """The repository root when this module runs from a source checkout, else None."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "policies").is_dir():
        return _CHECKOUT
    return None


def default_policies_dir() -> Path:
    """``$HUIQI_POLICIES``, else the checkout's ``policies/``, else the policy base shipped in the package."""
    configured = os.environ.get("HUIQI_POLICIES")
    if configured:
        return Path(configured)
    checkout = _checkout()
    if checkout is not None:
        return checkout / "policies"
    return PACKAGED_DATA / "policies"


def default_examples_dir() -> Path:
    """The example profiles, reforms and budgets: the checkout's ``examples/``, else the packaged copy."""
    checkout = _checkout()
    if checkout is not None:
        return checkout / "examples"
    return PACKAGED_DATA / "examples"


def missing_base_message(root: Path) -> str:
    """Why ``root`` is not a policy base and what to do (zh-CN)."""
    configured = os.environ.get("HUIQI_POLICIES")
    if configured and Path(configured) == root:
        return (
            f"环境变量 HUIQI_POLICIES 指向的政策库目录 {root} 不存在：请改为正确的目录，或删除该变量以使用自带的政策库"
        )
    return f"找不到政策库目录 {root}：请用 --policies 指定政策库目录，或设置环境变量 HUIQI_POLICIES"
