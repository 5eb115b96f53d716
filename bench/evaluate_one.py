"""Time the evaluation of one entity against all five seed documents, with the full explanation.

Prints median and p99 latency for:
  * full      — every rule of every document (drafts and expired included, jurisdiction ignored so that
                every rule is evaluated for the entity), traces, suggestions, readings;
  * full+json — the same, serialised to the JSON schema by orjson, as the API and ``--format json`` write it;
  * no-hints  — without the "nearest way to qualify" re-evaluations;
  * in-region — jurisdiction respected (the other cities' rules are not applicable to a Suzhou firm);
  * amounts   — every rule, statuses and amounts only (``Options(explain=False)``: no condition traces, no
                hints), as the calculator's next-question search evaluates variants of one entity;
  * amounts-in-region — the same, jurisdiction respected;
  * outcomes / outcomes-in-region — ``Engine.outcomes``: each rule's status, amount and missing facts and
                nothing around them (no provision or document results), what the calculator's relevance
                marks compare;
  * floor     — a hand-written Python function computing the same profile's headline amounts
                (Suzhou 1/2/3, Guangzhou 5, Xinjiang 8) with no explanation: the baseline.

The measures are taken in blocks of 50 calls, in turn (each runs hot within its block), so that a slow
spell of the machine falls on all of them alike.

Usage: python bench/evaluate_one.py [--rounds N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import statistics
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import orjson

from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import load_profile_file
from huiqi.policy.base import PolicyBase

ROOT = Path(__file__).resolve().parents[1]
WAN = 1_000_000  # fen per 万元


def floor_baseline(facts: dict[str, object]) -> int:
    """Hand-coded amounts of the headline rules for a Suzhou firm: the floor any engine competes with."""
    paid_in = int(facts["paid_in_capital"])  # type: ignore[call-overload]
    staff = int(facts["social_insurance_staff"])  # type: ignore[call-overload]
    revenue: dict[int, Fraction] = facts["revenue"]  # type: ignore[assignment]
    now, before = revenue[2023], max(v for y, v in revenue.items() if y < 2023)
    total = 0
    if paid_in >= 1000 * WAN and staff >= 50:
        total += min(paid_in * 5 // 100, 100 * WAN)
    if staff >= 50 and now >= 5000 * WAN:
        total += 100 * WAN
    elif staff >= 20 and now >= 2000 * WAN:
        total += 50 * WAN
    for threshold, amount in ((10 * 10_000 * WAN, 500 * WAN), (5 * 10_000 * WAN, 300 * WAN), (10_000 * WAN, 200 * WAN)):
        if now >= threshold > before:
            total += amount
            break
    return total


def measure(fns: dict[str, Callable[[], object]], rounds: int, block: int = 50) -> dict[str, list[float]]:
    """Each function's timings in ms, in blocks taken in turn: ``block`` calls of one function, then of the
    next, until each has ``rounds``. Within a block a function runs hot, as in a search over variants of one
    entity; taking the blocks in turn spreads a slow spell of a noisy machine over every function alike."""
    for fn in fns.values():
        for _ in range(min(50, rounds)):
            fn()
    timings: dict[str, list[float]] = {name: [] for name in fns}
    while any(len(t) < rounds for t in timings.values()):
        for name, fn in fns.items():
            for _ in range(min(block, rounds - len(timings[name]))):
                start = time.perf_counter_ns()
                fn()
                timings[name].append((time.perf_counter_ns() - start) / 1e6)
    return timings


def report(name: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{name:<18} median {statistics.median(ordered):8.3f} ms   p99 {p99:8.3f} ms   ({len(ordered)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    start = time.perf_counter()
    base = PolicyBase.load()
    engine = Engine(base)
    print(f"load + compile policy base: {(time.perf_counter() - start) * 1000:.1f} ms "
          f"({len(engine.documents)} documents, {sum(len(d.rules) for d in engine.documents.values())} rules)")  # fmt: skip
    # The policy base is long-lived: move it out of the collector's generations, as a server would at start-up.
    gc.freeze()
    profile = load_profile_file(ROOT / "examples" / "profiles" / "suzhou-software-firm.yaml", base.catalogue)
    options = Options(as_of=dt.date(2024, 6, 30), include_drafts=True, include_expired=True, any_jurisdiction=True)
    quiet = Options(**{**options.__dict__, "suggestions": False})
    evaluation = engine.evaluate(profile, options)
    rules = evaluation.rules()
    print(
        f"one entity × all documents: {len(rules)} rule results, {sum(len(p.provisions) for p in evaluation.documents)} provisions"
    )
    local = Options(as_of=dt.date(2024, 6, 30), include_drafts=True, include_expired=True)
    amounts = Options(**{**options.__dict__, "explain": False})
    amounts_local = Options(**{**local.__dict__, "explain": False})
    fns: dict[str, Callable[[], object]] = {
        "full": lambda: engine.evaluate(profile, options),
        "full+json": lambda: orjson.dumps(engine.evaluate(profile, options).to_json()),
        "no-hints": lambda: engine.evaluate(profile, quiet),
        "in-region": lambda: engine.evaluate(profile, local),
        "amounts": lambda: engine.evaluate(profile, amounts),
        "amounts-in-region": lambda: engine.evaluate(profile, amounts_local),
        "outcomes": lambda: engine.outcomes(profile, amounts),
        "outcomes-in-region": lambda: engine.outcomes(profile, amounts_local),
        "floor": lambda: floor_baseline(profile.facts),
    }
    for name, timings in measure(fns, args.rounds).items():
        report(name, timings)


if __name__ == "__main__":
    main()
