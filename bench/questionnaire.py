"""How many questions the policy calculator asks, against a static form, and how fast it chooses them.

Draws applicant profiles from the population generator (``huiqi.population.generate``, the same
distributions as ``huiqi population generate``: 5% of each fact blank), then for each one runs a calculator
session: the region is the profile's, every question is answered from the profile (a blank fact is
answered 不清楚), until the calculator stops (no remaining answer can change any result).

Reports, over the profiles with at least one applicable rule:
  * questions asked until the calculator stops: median, p95, max;
  * the static form: every fact the applicable rules reference (``rule_facts``), counted once per fact
    (a yearly fact is one row of the form, however many years it asks) — the conservative comparison;
  * the share of sessions where every applicable provision ends with a final status (not needs-information);
  * that the decided results equal the full profile's evaluation (a check, not a figure);
  * the baseline: the same count for a questioner that knows the answers (``--oracle`` profiles), which
    shows how many facts the profiles themselves need to settle their provisions;
  * time to choose the next question (one ``Questionnaire.step``: evaluation + choice), p50 / p99 of the
    wall-clock time and of the thread's CPU time (the machine's load average is printed beside them: on
    shared cores the wall-clock p99 is mostly waiting for a core), and the same with the relevance marks the
    web page asks for;
  * page render times of the web calculator (first page, a question, the results, the PDF) when the web
    package is importable.

Usage: python bench/questionnaire.py [--n 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.questions import Questionnaire, profile_json, rule_facts
from huiqi.engine.results import Status
from huiqi.locations import default_policies_dir
from huiqi.policy.base import PolicyBase
from huiqi.population.generate import generate_chunk, rule_refs
from huiqi.population.profiles import tables_to_profiles

AS_OF = dt.date(2024, 6, 30)
PERIOD = 2023


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def answer(truth: dict[str, Any], key: str) -> Any:
    fact, _, year = key.partition("@")
    value = truth.get(fact, "不清楚")
    if isinstance(value, dict):
        value = value.get(year, "不清楚")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--relevance", type=int, default=200, help="profiles also timed with relevance marks")
    parser.add_argument("--oracle", type=int, default=150,
                        help="profiles also run by a questioner that knows the answers (the baseline)")  # fmt: skip
    args = parser.parse_args()

    base = PolicyBase.load(default_policies_dir())
    engine = Engine(base)
    calculator = Questionnaire(engine)
    facts_of = {r.ref: rule_facts(r) for d in engine.documents.values() for r in d.rules}
    rng = np.random.default_rng(args.seed)
    tables = generate_chunk(base.catalogue, rule_refs(engine), start=0, size=args.n, years=5, period=PERIOD, rng=rng)
    profiles = tables_to_profiles(*tables, base.catalogue)
    options = Options(as_of=AS_OF, period=PERIOD, include_drafts=True)

    asked: list[int] = []
    static: list[int] = []
    ratios: list[float] = []
    final = 0
    mismatches = 0
    step_ms: list[float] = []
    step_cpu_ms: list[float] = []  # the thread's CPU time: what the step costs, whatever else the machine runs
    gc.collect()
    gc.freeze()
    for _entity_id, profile in profiles:
        profile = type(profile)(profile.entity_type, profile.facts, profile.region)  # the calculator has no ledger
        truth = profile_json(profile, base.catalogue)["facts"]
        answers: dict[str, Any] = {}
        while True:
            started, cpu = time.perf_counter(), time.thread_time()
            step = calculator.step(profile.entity_type.value, profile.region, answers, options)
            step_ms.append((time.perf_counter() - started) * 1000)
            step_cpu_ms.append((time.thread_time() - cpu) * 1000)
            if step.question is None:
                break
            answers[step.question.key] = answer(truth, step.question.key)
        applicable = [r for r in step.evaluation.rules() if r.status is not Status.NOT_APPLICABLE]
        if not applicable:
            continue
        form = set().union(*(facts_of[r.ref] for r in applicable))
        asked.append(len(answers))
        static.append(len(form))
        ratios.append(len(answers) / len(form))
        if all(r.status is not Status.NEEDS_INFORMATION for r in applicable):
            final += 1
        full = engine.evaluate(profile, options)
        for result in step.evaluation.rules():
            if result.status is not Status.NEEDS_INFORMATION:
                other = full.rule(result.ref)
                mismatches += (other.status, other.amount_fen) != (result.status, result.amount_fen)

    oracle = oracle_counts(calculator, profiles[: args.oracle], options, base.catalogue, facts_of)

    relevance_ms: list[float] = []
    for _entity_id, profile in profiles[: args.relevance]:
        truth = profile_json(profile, base.catalogue)["facts"]
        answers = {}
        while True:
            started = time.perf_counter()
            step = calculator.step(profile.entity_type.value, profile.region, answers, options, relevance=True)
            relevance_ms.append((time.perf_counter() - started) * 1000)
            if step.question is None:
                break
            answers[step.question.key] = answer(truth, step.question.key)

    print(f"profiles drawn: {len(profiles)} (seed {args.seed}); with at least one applicable rule: {len(asked)}")
    print(f"questions asked until the calculator stops: median {statistics.median(asked):g}, "
          f"p95 {percentile(asked, 0.95):g}, max {max(asked)}")  # fmt: skip
    print(f"static form (facts the applicable rules reference): median {statistics.median(static):g}, "
          f"p95 {percentile(static, 0.95):g}, max {max(static)}")  # fmt: skip
    print(f"ratio asked / static form: median {statistics.median(ratios):.2f} (target ≤ 0.33), "
          f"p95 {percentile(ratios, 0.95):.2f}")  # fmt: skip
    if oracle:
        print(f"baseline — a questioner that knows the answers (each step asks the open question whose true answer "
              f"leaves the fewest open questions), same first {len(oracle)} profiles: asked median "
              f"{statistics.median(a for a, _ in oracle):g} against static median "
              f"{statistics.median(s for _, s in oracle):g}, ratio median "
              f"{statistics.median(a / s for a, s in oracle):.2f}; the calculator on the same profiles: ratio median "
              f"{statistics.median(ratios[: len(oracle)]):.2f}")  # fmt: skip
    print(f"sessions ending with every applicable provision final: {final}/{len(asked)} "
          f"({final / len(asked):.0%}; the rest answered 不清楚 to a fact a rule needs)")  # fmt: skip
    print(f"decided results differing from the full profile's evaluation: {mismatches}")
    print(f"time to choose the next question (one step): p50 {percentile(step_ms, 0.5):.2f} ms, "
          f"p99 {percentile(step_ms, 0.99):.2f} ms over {len(step_ms)} steps (target p99 ≤ 20 ms); "
          f"CPU time p50 {percentile(step_cpu_ms, 0.5):.2f} ms, p99 {percentile(step_cpu_ms, 0.99):.2f} ms; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"one step with relevance marks (web page): p50 {percentile(relevance_ms, 0.5):.2f} ms, "
          f"p99 {percentile(relevance_ms, 0.99):.2f} ms over {len(relevance_ms)} steps")  # fmt: skip
    render_times()


def remaining(step: Any) -> tuple[int, int]:
    """What is still open after a step: the open questions, then the undecided provisions."""
    return len(step.open), step.undecided


def oracle_counts(
    calculator: Questionnaire, profiles: Sequence[Any], options: Options, catalogue: Any, facts_of: dict[Any, Any]
) -> list[tuple[int, int]]:
    """(questions asked, static form) per profile with an applicable rule, for a questioner that knows the
    answers: of the open questions, each step asks the one whose true answer leaves the fewest open
    questions (then the fewest undecided provisions). No questioner can know the answers, so this is a bound
    a real questionnaire is measured against: when even it needs more than a third of the static form, the
    profiles themselves need that many facts to settle their provisions."""
    counts = []
    for _entity_id, profile in profiles:
        profile = type(profile)(profile.entity_type, profile.facts, profile.region)
        truth = profile_json(profile, catalogue)["facts"]
        answers: dict[str, Any] = {}
        while True:
            step = calculator.step(profile.entity_type.value, profile.region, answers, options)
            if step.question is None:
                break
            chosen = min((q.key for q in step.open), key=lambda key, known=answers, truth=truth, profile=profile: (
                remaining(calculator.step(profile.entity_type.value, profile.region,
                                          {**known, key: answer(truth, key)}, options))))  # fmt: skip
            answers[chosen] = answer(truth, chosen)
        applicable = [r for r in step.evaluation.rules() if r.status is not Status.NOT_APPLICABLE]
        if applicable:
            counts.append((len(answers), len(set().union(*(facts_of[r.ref] for r in applicable)))))
    return counts


def render_times(rounds: int = 30) -> None:
    """Server-side time of the calculator's pages, through the ASGI app (no network)."""
    try:
        import tempfile
        from pathlib import Path

        from fastapi.testclient import TestClient

        from huiqi.api.app import create_app
        from huiqi.api.config import Settings
        from huiqi.web import calculator  # noqa: F401 - the pages must exist
    except ImportError as exc:
        print(f"page render times: skipped ({exc})")
        return
    folder = Path(tempfile.mkdtemp())
    settings = Settings.from_env({}, environment="test", database_url=f"sqlite:///{folder / 'bench.db'}",
                                 first_admin_password="bench-Password-1")  # noqa: S106 # fmt: skip
    client = TestClient(create_app(settings))
    state = "entity_type=enterprise&region=江苏省 苏州市&as_of=2024-06-30&drafts=1"
    answered = (state + "&a.registered_city=苏州市&a.main_business_software=是&a.in_miit_software_statistics=是"
                "&a.revenue@2023=1.35亿元&a.social_insurance_staff=56")  # fmt: skip
    pages = {
        "calculator start": "/calculator",
        "first question": f"/calculator/session?{state}",
        "question after 5 answers": f"/calculator/session?{answered}",
        "question (htmx fragment)": f"/calculator/session?{answered}",
        "printable result": f"/calculator/print?{answered}",
        "result PDF": f"/calculator/result.pdf?{answered}",
    }
    for label, url in pages.items():
        headers = {"HX-Request": "true"} if "htmx" in label else {}
        times = []
        for _ in range(rounds if "PDF" not in label else 5):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code, response.text[:300])
        print(f"page {label}: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")


if __name__ == "__main__":
    main()
