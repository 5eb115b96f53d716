"""A document outside the entity's region: its results are built once per document, entity type, reason and
readings, and shared — an engine that has evaluated other entities gives exactly what a fresh one gives."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import Profile, load_profile_file
from huiqi.engine.results import Status
from huiqi.policy.base import PolicyBase

ROOT = Path(__file__).resolve().parents[2]
BASE = PolicyBase.load()


def _profiles() -> list[Profile]:
    return [load_profile_file(path, BASE.catalogue) for path in sorted((ROOT / "examples" / "profiles").glob("*.yaml"))]


def _json(engine: Engine, profile: Profile, options: Options) -> str:
    return json.dumps(engine.evaluate(profile, options).to_json(), ensure_ascii=False, sort_keys=True, default=str)


def alternative_readings(engine: Engine) -> dict[str, str]:
    """Every document's readings, each set to an option other than its default."""
    return {
        f"{doc}:{key}": option.value
        for doc, document in engine.documents.items()
        for key, reading in document.readings.items()
        for option in reading.options
        if option.value != reading.default
    }


def test_a_warm_engine_gives_what_a_fresh_one_gives() -> None:
    warm = Engine(BASE)
    profiles = _profiles()
    # the same firm moved to other cities and left without a region, under default and alternative readings
    moved = [dataclasses.replace(profiles[0], region=r) for r in (("广东省", "广州市"), ("浙江省", "杭州市"), ())]
    alternative = alternative_readings(warm)
    cases = [(p, Options(as_of=dt.date(2024, 6, 30), include_drafts=True)) for p in [*profiles, *moved]]
    cases += [(p, Options(as_of=dt.date(2024, 6, 30), include_drafts=True, readings=alternative)) for p in profiles]
    for _ in range(2):  # the second round reads every out-of-region document from the shared results
        for profile, options in cases:
            assert _json(warm, profile, options) == _json(Engine(BASE), profile, options)


def test_other_cities_documents_are_not_applicable_with_the_reason() -> None:
    engine = Engine(BASE)
    suzhou = next(p for p in _profiles() if "苏州市" in p.region and p.entity_type.value == "enterprise")
    evaluation = engine.evaluate(suzhou, Options(as_of=dt.date(2024, 6, 30), include_drafts=True))
    guangzhou = next(d for d in evaluation.documents if d.document == "guangzhou-software")
    rules = [r for p in guangzhou.provisions for r in p.rules]
    assert rules and all(r.status is Status.NOT_APPLICABLE for r in rules)
    assert any("属地不符：本文件适用于广州市" in r.reason for r in rules)
    again = engine.evaluate(suzhou, Options(as_of=dt.date(2024, 6, 30), include_drafts=True))
    assert next(d for d in again.documents if d.document == "guangzhou-software").provisions is guangzhou.provisions
