"""``Engine.outcomes`` (issue 13): each rule's status, amount and missing facts without the explanation and the
results around them — the same documents, rules, order and values as ``Engine.evaluate(...).rules()`` with the
full explanation, over every case of every seed document, every document at once in and out of a
jurisdiction, and the fixture policies with lists of items."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from huiqi.cases import load_cases
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import Profile, load_profile_file, parse_profile
from huiqi.engine.results import Evaluation, Outcome, Status
from huiqi.policy.yamlio import strip_lines

ROOT = Path(__file__).resolve().parents[2]


def _expected(evaluation: Evaluation) -> list[Outcome]:
    return [
        Outcome(r.ref, r.status, r.amount_fen, tuple((m.fact, m.year) for m in r.missing), r.is_ceiling)
        for r in evaluation.rules()
    ]


def _case(engine: Engine, raw: dict[str, object], document: str) -> tuple[Profile, Options]:
    raw = strip_lines(dict(raw))
    profile = parse_profile(raw["profile"], engine.catalogue, where="profile", document=document)
    as_of = raw.get("as_of") or dt.date(2024, 6, 30)
    options = Options(as_of=as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of)),
                      period=raw.get("period"), documents=(document,), any_jurisdiction=bool(raw.get("any_jurisdiction")),
                      quarter=raw.get("quarter"),  # type: ignore[arg-type]
                      readings={f"{document}:{k}": str(v) for k, v in dict(raw.get("readings") or {}).items()})  # fmt: skip
    return profile, options


def test_every_seed_case_gives_what_the_full_evaluation_gives(seed_engine: Engine) -> None:
    compared = needing_information = 0
    for case in load_cases(seed_engine):
        raw = case.raw
        if not isinstance(raw, dict) or "profile" not in raw or "years" in raw or "quarters" in raw:
            continue
        profile, options = _case(seed_engine, raw, case.document)
        expected = _expected(seed_engine.evaluate(profile, options))
        assert seed_engine.outcomes(profile, options) == expected, case.name
        compared += len(expected)
        needing_information += sum(1 for o in expected if o.missing)
    assert compared > 1000 and needing_information > 50


@pytest.mark.parametrize("any_jurisdiction", [False, True])
@pytest.mark.parametrize("profile_file", ["suzhou-software-firm.yaml", "guangzhou-software-firm.yaml"])
def test_every_document_at_once_in_and_out_of_its_jurisdiction(
    seed_engine: Engine, profile_file: str, any_jurisdiction: bool
) -> None:
    profile = load_profile_file(ROOT / "examples" / "profiles" / profile_file, seed_engine.catalogue)
    options = Options(as_of=dt.date(2024, 6, 30), include_drafts=True, include_expired=True,
                      any_jurisdiction=any_jurisdiction)  # fmt: skip
    expected = _expected(seed_engine.evaluate(profile, options))
    for _ in range(2):  # the second time, the documents outside the jurisdiction come from the cache
        assert seed_engine.outcomes(profile, options) == expected
    statuses = {o.status for o in expected}
    assert Status.ELIGIBLE in statuses and Status.NOT_APPLICABLE in statuses
    # a changed fact changes the outcomes, as it changes the evaluation
    changed = dataclasses.replace(profile, facts={**profile.facts, "social_insurance_staff": 3})
    assert seed_engine.outcomes(changed, options) == _expected(seed_engine.evaluate(changed, options))


def test_documents_left_out_are_left_out_as_evaluate_leaves_them(seed_engine: Engine) -> None:
    profile = load_profile_file(ROOT / "examples" / "profiles" / "suzhou-software-firm.yaml", seed_engine.catalogue)
    options = Options(as_of=dt.date(2024, 6, 30))  # drafts and expired documents left out
    evaluation = seed_engine.evaluate(profile, options)
    assert evaluation.skipped
    assert seed_engine.outcomes(profile, options) == _expected(evaluation)
    with pytest.raises(Exception, match="没有编号为"):
        seed_engine.outcomes(profile, dataclasses.replace(options, documents=("no-such-document",)))


def test_lists_of_items_agree_too(tmp_path: Path) -> None:
    from test_per_item import items_base

    from huiqi.policy.base import PolicyBase

    engine = Engine(PolicyBase.load(items_base(tmp_path / "policies")))
    compared = 0
    for case in load_cases(engine, "sz-test-items"):
        profile, options = _case(engine, case.raw, "sz-test-items")
        expected = _expected(engine.evaluate(profile, options))
        assert engine.outcomes(profile, options) == expected, case.name
        compared += len(expected)
    assert compared >= 4
