"""Amounts only (``Options(explain=False)``, issue 13): without condition traces, calculation steps and hints
the engine gives every rule the same status and amount as with the full explanation — over every case of
every seed document and the fixture policies with lists of items and quarters."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from huiqi.cases import load_cases
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile
from huiqi.policy.yamlio import strip_lines


def _both(engine: Engine, case_raw: dict[str, object], document: str) -> tuple[list[object], list[object]]:
    raw = strip_lines(dict(case_raw))
    profile = parse_profile(raw["profile"], engine.catalogue, where="profile", document=document)
    as_of = raw.get("as_of") or dt.date(2024, 6, 30)
    options = Options(as_of=as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of)),
                      period=raw.get("period"), documents=(document,), any_jurisdiction=bool(raw.get("any_jurisdiction")),
                      readings={f"{document}:{k}": str(v) for k, v in dict(raw.get("readings") or {}).items()})  # fmt: skip
    full = engine.evaluate(profile, options)
    quick = engine.evaluate(profile, dataclasses.replace(options, explain=False))
    if raw.get("quarter"):
        return [], []
    return (
        [(r.ref, r.status, r.amount_fen) for r in full.rules()],
        [(r.ref, r.status, r.amount_fen) for r in quick.rules()],
    )


def test_every_seed_case_gives_the_same_statuses_and_amounts(seed_engine: Engine) -> None:
    compared = 0
    for case in load_cases(seed_engine):
        raw = case.raw
        if not isinstance(raw, dict) or "profile" not in raw or "years" in raw or "quarters" in raw:
            continue
        full, quick = _both(seed_engine, raw, case.document)
        assert quick == full, case.name
        compared += len(full)
    assert compared > 1000


def test_without_explanation_there_is_no_trace_and_no_hint(seed_engine: Engine) -> None:
    raw = {"entity_type": "enterprise", "region": ["江苏省", "苏州市"],
           "facts": {"registered_city": "苏州市", "main_business_software": True, "in_miit_software_statistics": True,
                     "revenue": {2022: "4800万元", 2023: "9000万元"}}}  # fmt: skip
    profile = parse_profile(raw, seed_engine.catalogue)
    options = Options(as_of=dt.date(2024, 6, 30), documents=("suzhou-software-cluster",), include_drafts=True)
    quick = seed_engine.evaluate(profile, dataclasses.replace(options, explain=False))
    full = seed_engine.evaluate(profile, options)
    assert all(not r.trace and r.suggestion is None and not r.calculation for r in quick.rules())
    assert any(r.suggestion is not None for r in full.rules()) and any(r.calculation for r in full.rules())
    # what is kept is the same: statuses, amounts, tiers reached and the reasons
    assert [(r.status, r.amount_fen, r.tier, r.reason) for r in quick.rules()] == [
        (r.status, r.amount_fen, r.tier, r.reason) for r in full.rules()
    ]


@pytest.mark.parametrize("name", ["test_per_item", "test_quarterly"])
def test_the_new_constructs_agree_too(name: str, tmp_path: object) -> None:
    import importlib
    from pathlib import Path

    from huiqi.policy.base import PolicyBase

    module = importlib.import_module(name)
    build = module.items_base if name == "test_per_item" else module.quarterly_base
    engine = Engine(PolicyBase.load(build(Path(str(tmp_path)) / "policies")))
    document = "sz-test-items" if name == "test_per_item" else "sz-test-quarterly"
    for case in load_cases(engine, document):
        raw = case.raw
        if "quarters" in raw or "quarter" in raw:
            continue
        full, quick = _both(engine, raw, document)
        assert quick == full, case.name
