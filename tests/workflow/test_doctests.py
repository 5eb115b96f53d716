"""The examples in the workflow's docstrings (rounding, allocation, aggregation, 公示 days) hold."""

from __future__ import annotations

import doctest

import pytest

from huiqi.store import entities
from huiqi.workflow import budget, calls, holidays, proposals, publicity, review


@pytest.mark.parametrize(
    "module", [budget, calls, holidays, proposals, publicity, review, entities], ids=lambda m: m.__name__
)
def test_docstring_examples(module: object) -> None:
    failures, tried = doctest.testmod(module)  # type: ignore[arg-type]
    assert tried > 0 and failures == 0
