"""Every case next to every policy passes through the scalar engine."""

from __future__ import annotations

import pytest

from huiqi.cases import load_cases, run_case
from huiqi.engine.evaluate import Engine
from huiqi.policy.base import PolicyBase, default_policies_dir

_ENGINE = Engine(PolicyBase.load(default_policies_dir()))
_CASES = load_cases(_ENGINE)


def test_there_are_cases_for_every_document_with_rules() -> None:
    with_rules = {d for d, doc in _ENGINE.documents.items() if any(p.rules for p in doc.loaded.policy.provisions)}
    with_cases = {c.document for c in _CASES}
    assert with_rules <= with_cases


def test_every_computable_rule_has_a_case() -> None:
    mentioned = set()
    for case in _CASES:
        for expect in case.raw.get("expect") or []:
            if "rule" in expect:
                mentioned.add(f"{case.document}:{expect['rule']}")
    missing = [r.ref for d in _ENGINE.documents.values() for r in d.rules if r.ref not in mentioned]
    assert missing == []


@pytest.mark.parametrize("case", _CASES, ids=[f"{c.document}:{c.file.name}:{c.line}" for c in _CASES])
def test_case(case: object) -> None:
    outcome = run_case(_ENGINE, case)  # type: ignore[arg-type]
    assert outcome.passed, f"{outcome.where} {outcome.name}: " + "; ".join(outcome.failures)
