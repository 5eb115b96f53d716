"""The plan of an evaluation (the documents, their flags and the rules the readings select) depends on the options
alone: the engine makes it once per set of options and shares it. An engine that has evaluated with many sets of
options gives, for each, exactly what a fresh engine gives — full evaluation and outcomes alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from test_out_of_region import alternative_readings

from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import Profile, load_profile_file
from huiqi.policy.base import PolicyBase

ROOT = Path(__file__).resolve().parents[2]
BASE = PolicyBase.load()


def _firm() -> Profile:
    return load_profile_file(ROOT / "examples" / "profiles" / "suzhou-software-firm.yaml", BASE.catalogue)


def _json(engine: Engine, profile: Profile, options: Options) -> str:
    return json.dumps(engine.evaluate(profile, options).to_json(), ensure_ascii=False, sort_keys=True, default=str)


def _option_sets(engine: Engine) -> list[Options]:
    alternative = alternative_readings(engine)
    day = dt.date(2024, 6, 30)
    return [
        Options(as_of=day),
        Options(as_of=day, include_drafts=True, include_expired=True),
        Options(as_of=day, include_drafts=True, readings=alternative),
        Options(as_of=day, period=2022),
        Options(as_of=dt.date(2016, 1, 1), include_drafts=True),  # before most documents took effect
        Options(as_of=day, documents=("suzhou-software-cluster",)),
        Options(as_of=day, documents=("suzhou-software-cluster", "guangzhou-software"), any_jurisdiction=True),
        Options(as_of=day, include_drafts=True, explain=False),
    ]


def test_a_warm_engine_gives_what_a_fresh_one_gives_for_every_set_of_options() -> None:
    warm = Engine(BASE)
    firm = _firm()
    sets = _option_sets(warm)
    assert len({json.dumps(sorted(o.readings.items())) for o in sets}) == 2
    for _ in range(2):  # the second round reads every plan from the engine's cache
        for options in sets:
            fresh = Engine(BASE)
            assert _json(warm, firm, options) == _json(fresh, firm, options), options
            assert warm.outcomes(firm, options) == fresh.outcomes(firm, options), options


def test_what_is_left_out_depends_on_the_day() -> None:
    engine = Engine(BASE)
    firm = _firm()
    early = engine.evaluate(firm, Options(as_of=dt.date(2016, 1, 1), include_drafts=True))
    late = engine.evaluate(firm, Options(as_of=dt.date(2024, 6, 30), include_drafts=True))
    assert {s["document"] for s in early.skipped} - {s["document"] for s in late.skipped}
    # the skipped list handed out is the caller's own: changing it leaves the next evaluation alone
    early.skipped.clear()
    again = engine.evaluate(firm, Options(as_of=dt.date(2016, 1, 1), include_drafts=True))
    assert again.skipped and [d.document for d in again.documents] == [d.document for d in early.documents]


def test_a_shared_result_writes_the_json_it_would_write_unshared() -> None:
    """Results shared by every evaluation (a rule that does not apply to the type of entity, a provision without
    rules, a document outside the jurisdiction) write their JSON once; each caller gets its own copy."""
    engine = Engine(BASE)
    firm = _firm()
    day = dt.date(2024, 6, 30)
    for options in (Options(as_of=day), Options(as_of=day, include_drafts=True, any_jurisdiction=True)):
        evaluation = engine.evaluate(firm, options)
        provisions = [p for d in evaluation.documents for p in d.provisions]
        rules = [r for p in provisions for r in p.rules]
        shared = [p for p in provisions if p._json is not None]
        assert shared and any(r._json is not None for r in rules), options
        for provision in shared:
            unshared = dataclasses.replace(provision, rules=[dataclasses.replace(r) for r in provision.rules])
            assert unshared._json is None and all(r._json is None for r in unshared.rules)
            assert provision.to_json() == unshared.to_json()
        for rule in rules:
            assert rule.to_json() == dataclasses.replace(rule).to_json()
        mine = shared[0].to_json()
        mine["status"] = "changed"
        assert shared[0].to_json()["status"] != "changed"
