"""The examples in the docstrings of the authoring modules run."""

from __future__ import annotations

import doctest

import pytest

import huiqi.policy.messages
import huiqi.policy.normalise
import huiqi.policy.textdiff
import huiqi.suggest

MODULES = [huiqi.suggest, huiqi.policy.messages, huiqi.policy.textdiff, huiqi.policy.normalise]


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_doctests(module: object) -> None:
    failures, tried = doctest.testmod(module)  # type: ignore[arg-type]
    assert tried > 0 and failures == 0
