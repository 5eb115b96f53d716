"""Evaluate one entity against the policy base, with a full explanation of every rule.

The steps for one rule, in order: who it applies to (entity type, jurisdiction), its conditions
(three-valued, traced), 一次性 and duration against the ledger, the benefit form, the caps, and whether
the amount is a promise, a ceiling, or left to officials. Then, per document, non-duplication keeps the
combination that gives the applicant most.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from huiqi.errors import EvaluationError
from huiqi.expr.render import render
from huiqi.facts.catalogue import ENTITY_LABELS, Catalogue, Period
from huiqi.money import format_cn, round_half_up
from huiqi.policy.base import PolicyBase
from huiqi.policy.models import KIND_LABELS, DocumentStatus
from huiqi.policy.status import Status as DayStatus
from huiqi.policy.status import document_status, evaluated_by_default

from .conditions import ANY_LABEL
from .crossdup import compute_conflicts, find_conflict
from .env import Env
from .nearest import suggest
from .profile import Profile
from .results import (
    STATUS_ORDER,
    DocumentResult,
    Evaluation,
    Missing,
    Outcome,
    ProvisionResult,
    RuleResult,
    Status,
    Trace,
    amount_text,
    kind_of,
)
from .ruleset import CompiledBenefit, CompiledDocument, CompiledRule, compile_base, compile_document, format_rate
from .values import Unknown, display, is_unknown, merge_unknown


@dataclass
class Options:
    """What the caller asks for."""

    as_of: dt.date
    period: int | None = None
    #: the assessed quarter (1–4) within ``period``, for rules paid by quarter (按季度兑现)
    quarter: int | None = None
    documents: tuple[str, ...] = ()
    readings: dict[str, str] = field(default_factory=dict)
    include_drafts: bool = False
    include_expired: bool = False
    any_jurisdiction: bool = False
    suggestions: bool = True
    #: False: statuses and amounts only (no condition traces, no calculation steps, no hints, no readings), for searches
    #: that evaluate many variants of one entity — the same rules, the same results, less to build
    explain: bool = True


class Engine:
    """The scalar engine over one loaded policy base (compiles every rule once)."""

    def __init__(self, base: PolicyBase) -> None:
        self.base = base
        self.catalogue: Catalogue = base.catalogue
        self.documents: dict[str, CompiledDocument] = compile_base(base)
        #: the earlier versions of amended documents, compiled when first asked for (``in_force``)
        self._earlier: dict[int, CompiledDocument] = {}
        self._not_applicable: dict[tuple[str, str, str], RuleResult] = {}
        self._out_of_region: dict[tuple[Any, ...], list[ProvisionResult]] = {}
        #: the documents, flags and rules of each set of options evaluated (``_plan_of``)
        self._plans: dict[tuple[Any, ...], _Plan] = {}
        #: a set of missing facts (and the quarter) → the facts as results list them, and the reason that names them
        self._missing_cache: dict[tuple[frozenset[tuple[str, int | None]], int | None], tuple[list[Missing], str]] = {}
        #: every document's readings at their defaults (built on first use, copied for each evaluation)
        self._default_readings: dict[str, str] | None = None
        #: per loaded document (by identity): rule reference → awards under other documents that rule it out
        self._conflicts = {id(d.loaded): d.conflicts for d in self.documents.values()}
        #: payments recorded under a reading's variant rule count for the rule it shares a ledger with
        self._ledger_alias = {
            r.ref: r.ledger_ref for d in self.documents.values() for r in d.rules if r.ref != r.ledger_ref
        }

    def in_force(self, document_id: str, on: dt.date) -> CompiledDocument:
        """The compiled version of a document in force on a day (docs/authoring.md "Versions")."""
        current = self.documents[document_id]
        if document_id not in self.base.versions:
            return current
        loaded = self.base.in_force(document_id, on)
        if loaded is current.loaded:
            return current
        compiled = self._earlier.get(id(loaded))
        if compiled is None:
            compiled = self._earlier[id(loaded)] = compile_document(loaded, self.catalogue)
            compiled.conflicts = compute_conflicts({**self.documents, document_id: compiled})[document_id]
            self._conflicts[id(loaded)] = compiled.conflicts
        return compiled

    def resolve_readings(self, overrides: dict[str, str]) -> dict[str, str]:
        """Defaults of every document, overridden by ``key=value`` or ``document:key=value``."""
        if self._default_readings is None:
            self._default_readings = {
                f"{doc_id}:{key}": reading.default
                for doc_id, document in self.documents.items()
                for key, reading in document.readings.items()
            }
        resolved = dict(self._default_readings)
        for name, value in overrides.items():
            targets = [k for k in resolved if k == name or k.split(":", 1)[1] == name]
            if not targets:
                known = "、".join(sorted(resolved)) or "（无）"
                raise EvaluationError(f"未知的口径 {name!r}；现有口径：{known}", where="--reading")
            for target in targets:
                doc_id, key = target.split(":", 1)
                options = [o.value for o in self.documents[doc_id].readings[key].options]
                if value not in options:
                    raise EvaluationError(
                        f"口径 {target} 没有选项 {value!r}；可选：{'、'.join(options)}", where="--reading"
                    )
                resolved[target] = value
        return resolved

    def evaluate(self, profile: Profile, options: Options) -> Evaluation:
        """Evaluate a profile against the selected documents."""
        plan = self._plan_of(options)
        env_of = self._environments(profile, options, plan)
        results = [self._evaluate_document(entry, profile, env_of(), options) for entry in plan.documents]
        entity = {
            "entity_type": profile.entity_type.value,
            "name": profile.name,
            "uscc": profile.uscc,
            "region": list(profile.region),
        }
        return Evaluation(entity=entity, as_of=options.as_of, period=plan.period, documents=results,
                          skipped=[dict(s) for s in plan.skipped], quarter=options.quarter)  # fmt: skip

    def outcomes(self, profile: Profile, options: Options) -> list[Outcome]:
        """Each rule's status, amount and missing facts, as ``evaluate`` decides them, and nothing else.

        The same documents, rules, order and results as ``evaluate(...).rules()`` (``tests/engine/
        test_outcomes.py`` proves it), without the explanation (``options.explain`` is taken as False) and
        without the provision and document results around them: what a search that evaluates many
        variants of one entity compares (the calculator's relevance marks, ``bench/evaluate_one.py``).
        Each rule is decided by the same steps as ``evaluate_rule`` into a small ``_Verdict`` instead of a
        ``RuleResult``; a rule that does not apply (another entity type, outside the jurisdiction) gives the
        outcome the plan holds for it.
        """
        lean = dataclasses.replace(options, explain=False, suggestions=False) if options.explain else options
        plan = self._plan_of(lean)
        env_of = self._environments(profile, lean, plan)
        entity = profile.entity_type.value
        found: list[Outcome] = []
        for entry in plan.documents:
            jurisdiction = _jurisdiction(entry.region, profile, lean.any_jurisdiction)
            if jurisdiction[0] is False:
                found += entry.not_applicable
                continue
            env = env_of()
            verdicts: list[_Verdict | None] = []
            for rule in entry.rules:
                if entity not in rule.applies_to:
                    verdicts.append(None)
                    continue
                verdict = _Verdict(rule)
                self._decide(rule, env, verdict, jurisdiction)
                verdicts.append(verdict)
            if entry.exclusions:
                _apply_exclusions(entry.document, entry.exclusions, [v for v in verdicts if v is not None], env)
            found += [
                blank if v is None else Outcome(blank.ref, v.status, v.amount_fen,
                                                tuple([(m.fact, m.year) for m in v.missing]) if v.missing else (),
                                                blank.is_ceiling)
                for v, blank in zip(verdicts, entry.not_applicable, strict=True)
            ]  # fmt: skip
        return found

    def _plan_of(self, options: Options) -> _Plan:
        """The documents an evaluation with these options reads, in order, with their flags and the rules
        selected by the readings; those left out with the reason. It depends on the options alone: made once
        per set of options and shared read-only by every entity evaluated with them."""
        cache_key = (options.as_of, options.period, options.documents, tuple(sorted(options.readings.items())),
                     options.include_drafts, options.include_expired)  # fmt: skip
        plan = self._plans.get(cache_key)
        if plan is not None:
            return plan
        period = options.period if options.period is not None else options.as_of.year - 1
        readings = self.resolve_readings(options.readings)
        documents: list[_DocumentPlan] = []
        skipped: list[dict[str, str]] = []
        for doc_id in options.documents or tuple(self.documents):
            if doc_id not in self.documents:
                raise EvaluationError(
                    f"没有编号为 {doc_id!r} 的文件；现有：{'、'.join(self.documents)}", where="--document"
                )
            document = self.in_force(doc_id, options.as_of)
            for key, reading in document.readings.items():  # a reading only an earlier version has: its default
                readings.setdefault(f"{doc_id}:{key}", reading.default)
            flags, skip = _document_flags(document, options, explicit=bool(options.documents))
            if skip:
                skipped.append({"document": doc_id, "reason": skip})
                continue
            rules = _selected_rules(document, readings)
            documents.append(_DocumentPlan(
                document=document, flags=flags, rules=rules, region=document.loaded.policy.document.jurisdiction.region,
                exclusions=_active_exclusions(document, readings),
                not_applicable=[Outcome(r.ref, Status.NOT_APPLICABLE, None, (), r.is_ceiling) for r in rules],
                provisions=_provision_slots(document, rules),
            ))  # fmt: skip
        if len(self._plans) > 256:  # a few hundred bytes each; a server sees a handful of option sets
            self._plans.clear()
        plan = self._plans[cache_key] = _Plan(period, readings, documents, skipped)
        return plan

    def _environments(self, profile: Profile, options: Options, plan: _Plan) -> Callable[[], Env]:
        """Makes each document's environment for one entity: its facts (a single annual value is the assessed
        year's), the ledger (payments under a reading's variant rule under the rule they share a ledger with)."""
        facts = _resolve_current_year(profile.facts, plan.period)
        ledger = tuple(
            dataclasses.replace(e, rule=self._ledger_alias[e.rule]) if e.rule in self._ledger_alias else e
            for e in profile.ledger
        )

        def make() -> Env:
            return Env(facts=facts, period=plan.period, as_of=options.as_of, ledger=ledger, readings=plan.readings,
                       region=profile.region, quarter=options.quarter, explain=options.explain)  # fmt: skip

        return make

    def _evaluate_document(self, entry: _DocumentPlan, profile: Profile, env: Env, options: Options) -> DocumentResult:
        document = entry.document
        meta = document.loaded.policy.document
        jurisdiction = _jurisdiction(entry.region, profile, options.any_jurisdiction)
        if jurisdiction[0] is False:
            # Outside the jurisdiction every rule is not applicable, for the same reason: the results depend
            # on the document, the entity type, that reason, the document's readings and whether the results
            # carry them (``explain``) alone. Built once,
            # shared read-only (a firm's base holds several other cities' documents: 0.23 of 0.54 ms).
            key = (meta.id, meta.version or "", profile.entity_type.value, jurisdiction[1], env.explain,
                   tuple(env.readings.get(k) for k in document.reading_refs))  # fmt: skip
            provisions = self._out_of_region.get(key)
            if provisions is None:
                if len(self._out_of_region) > 1_000:  # about 10 KB each: 10 MB at most
                    self._out_of_region.clear()
                provisions = self._out_of_region[key] = [
                    p.share() for p in self._provisions(entry, profile, env, options, jurisdiction)
                ]
        else:
            provisions = self._provisions(entry, profile, env, options, jurisdiction)
        return DocumentResult(
            document=meta.id, title=meta.title, status=meta.status.value, flags=entry.flags, provisions=provisions
        )

    def _provisions(
        self, entry: _DocumentPlan, profile: Profile, env: Env, options: Options,
        jurisdiction: tuple[bool | None, str],
    ) -> list[ProvisionResult]:  # fmt: skip
        """Every provision's result, its rules evaluated."""
        suggestions = options.suggestions and options.explain
        entity = profile.entity_type
        shared = entry.inapplicable.get(entity)
        if shared is None:  # each rule's shared result where it does not apply to this type of entity
            shared = entry.inapplicable[entity] = [
                None if entity in rule.applies_to else self.evaluate_rule(rule, profile, env) for rule in entry.rules
            ]
        results = [
            self.evaluate_rule(rule, profile, env, jurisdiction, suggestions=suggestions) if blank is None else blank
            for rule, blank in zip(entry.rules, shared, strict=True)
        ]
        if entry.exclusions:
            _apply_exclusions(entry.document, entry.exclusions, results, env)
        return [
            slot if type(slot) is ProvisionResult
            else _provision_result(slot[0], slot[1], [results[i] for i in slot[2]])
            for slot in entry.provisions
        ]  # fmt: skip

    def evaluate_rule(
        self,
        rule: CompiledRule,
        profile: Profile,
        env: Env,
        jurisdiction: tuple[bool | None, str] = (True, ""),
        *,
        suggestions: bool = True,
    ) -> RuleResult:
        """Evaluate one rule for one entity."""
        entity = profile.entity_type  # a StrEnum: it is the string ``applies_to`` holds
        if entity not in rule.applies_to:
            # Read-only and the same for every entity of this type: built once, shared.
            key = (rule.ref, rule.document.policy.document.version or "", entity)
            cached = self._not_applicable.get(key)
            if cached is None:
                cached = _blank(rule, env, with_readings=False)
                cached.status = Status.NOT_APPLICABLE
                wanted = "或".join(ENTITY_LABELS[e] for e in rule.applies_to)
                cached.reason = f"本规则适用于{wanted}，当前主体为{ENTITY_LABELS[entity]}"
                self._not_applicable[key] = cached.share()
            return cached
        result = _blank(rule, env, with_readings=env.explain)
        outcome = self._decide(rule, env, result, jurisdiction)
        if (
            suggestions
            and outcome is not None
            and result.status is Status.NOT_ELIGIBLE
            and outcome.thresholds is not None
        ):
            ledger_note = outcome.thresholds

            def trial(trial_env: Env) -> tuple[Any, int | None, bool]:
                probe = _blank(rule, trial_env, with_readings=False)
                trial_env.rule_key, trial_env.provision_key = rule.ledger_ref, rule.provision_ref
                self._run(rule, trial_env, probe, _Outcome())
                return probe.status.value, probe.amount_fen, probe.is_ceiling

            result.suggestion = suggest(rule, env, ledger_note, trial)
        return result

    def _decide(
        self, rule: CompiledRule, env: Env, result: _Result, jurisdiction: tuple[bool | None, str]
    ) -> _Outcome | None:
        """Decide a rule for an entity it applies to, into ``result``: outside the jurisdiction it does not
        apply; otherwise its steps (``_run``), and where the entity's region is not known the result waits on
        it. The outcome of the steps (None outside the jurisdiction) is what hints start from."""
        in_region, region_text = jurisdiction
        if in_region is False:
            result.status = Status.NOT_APPLICABLE
            result.reason = region_text
            return None
        env.rule_key, env.provision_key = rule.ledger_ref, rule.provision_ref
        if env.defaults_used:  # the defaults the previous rule used (most rules use none: the set is kept)
            env.defaults_used = set()
        outcome = _Outcome()
        self._run(rule, env, result, outcome)
        if in_region is None:
            result.trace.insert(0, Trace("leaf", region_text, None))
            if result.status in (Status.ELIGIBLE, Status.NEEDS_REVIEW, Status.NEEDS_INFORMATION):
                result.status = Status.NEEDS_INFORMATION
                result.reason = "需补充所在地区"
                result.missing.insert(0, Missing("region", "所在地区"))
        if env.defaults_used:
            result.defaults_used = sorted(env.defaults_used)
        return outcome

    def _run(self, rule: CompiledRule, env: Env, result: _Result, outcome: _Outcome) -> None:
        unknown: Unknown | None = None
        condition = rule.condition
        if condition is not None:
            if env.explain:
                value, trace = condition.evaluate(env)
                result.trace.append(trace)
                if value is False:
                    result.status = Status.NOT_ELIGIBLE
                    result.reason = "不满足条件：" + "；".join(_failed_labels(trace))
                    outcome.thresholds = condition.failing_thresholds(env)
                    return
            else:  # amounts only: no trace, no hints
                value = condition.value(env)
                if value is False:
                    result.status = Status.NOT_ELIGIBLE
                    result.reason = "不满足条件"
                    return
            if type(value) is Unknown:
                unknown = value
        if env.ledger and self._paid_before(rule, env, result):  # with nothing paid, nothing here can decide
            return
        amount = self._benefit(rule, env, result, outcome)
        if type(amount) is Unknown:
            unknown = amount if unknown is None else unknown | amount
        if unknown is not None:
            result.status = Status.NEEDS_INFORMATION
            missing = unknown.missing
            cached = self._missing_cache.get((missing, env.quarter))
            if cached is None:  # the same sets of missing facts recur across rules and entities
                if len(self._missing_cache) > 10_000:
                    self._missing_cache.clear()
                listed = _missing(unknown, self.catalogue, env.quarter)
                cached = self._missing_cache[(missing, env.quarter)] = (
                    listed, "需补充：" + "、".join(m.label() for m in listed)
                )  # fmt: skip
            result.missing, result.reason = list(cached[0]), cached[1]
            if amount is not None and type(amount) is not Unknown:
                result.amount_fen = round_half_up(amount)
            return
        if outcome.not_reached:
            result.status = Status.NOT_ELIGIBLE
            result.reason = outcome.not_reached
            return
        if amount is not None:
            amount = _apply_caps(rule, env, amount, result)
            if amount is None:
                result.status = Status.NOT_ELIGIBLE
                return
            fen = round_half_up(amount)
            if fen <= 0:
                result.status = Status.NOT_ELIGIBLE
                result.reason = result.reason or "按规定计算的金额为0"
                result.amount_fen = 0
                return
            result.amount_fen = fen
            result.instalments = _instalments(rule, env, fen)
        if rule.benefit.review:
            result.status = Status.NEEDS_REVIEW
            result.reason = (
                "符合条件；具体金额由主管部门审核确定"
                + (f"，最高{format_cn(result.amount_fen)}" if result.amount_fen else "")
                if rule.benefit.form != "none" or result.amount_fen
                else "符合条件；金额由主管部门审核确定（原文未规定金额）"
            )
            return
        result.status = Status.ELIGIBLE
        if rule.benefit.form == "none" and result.amount_fen is None:
            result.reason = "符合条件（本项只判断资格，不涉及金额）"
            return
        result.reason = (
            "符合条件"
            + ("（金额为上限）" if rule.is_ceiling else "")
            + ("（金额为下限，不低于）" if result.is_floor else "")
            + (
                f"（计算结果超过上限，按上限{format_cn(outcome.capped)}给予）"
                if outcome.capped is not None and not rule.is_ceiling and result.amount_fen == outcome.capped
                else ""
            )
        )

    def _paid_before(self, rule: CompiledRule, env: Env, result: _Result) -> bool:
        """Whether what the ledger shows paid decides the rule (into ``result``): 一次性 already received, a
        payment under another document that rules it out (non-duplication), or its years of support used up."""
        if rule.rule.once and env.paid(rule=rule.ledger_ref) > 0:
            result.status = Status.NOT_ELIGIBLE
            result.reason = "一次性奖励，台账显示已经领取"
            return True
        found = find_conflict(self._conflicts[id(rule.document)].get(rule.ref), env.ledger, env.period, env.readings)
        if found:
            conflict, entry = found
            result.status = Status.EXCLUDED
            result.excluded_by = f"{conflict.declared_by}:non_duplication"
            matter = f"同一事项（{conflict.matter}）" if conflict.matter else "同类政策"
            result.reason = (
                f"台账显示{entry.period}年度已享受《{conflict.title}》第{conflict.provision}项“{conflict.label}”"
                f"{format_cn(entry.amount_fen)}，与本项属{matter}；原文：“{conflict.quote}”"
            )
            return True
        if (
            rule.rule.duration is not None
            and env.paid_years(rule.ledger_ref) >= rule.rule.duration.max_years
            and env.paid(rule=rule.ledger_ref, period=env.period) == 0
        ):
            result.status = Status.NOT_ELIGIBLE
            result.reason = (
                f"已连续支持{env.paid_years(rule.ledger_ref)}年，达到“不超过{rule.rule.duration.max_years}年”的上限"
            )
            return True
        return False

    def _benefit(self, rule: CompiledRule, env: Env, result: _Result, outcome: _Outcome) -> Any:
        benefit = rule.benefit
        calc = result.calculation
        if benefit.form == "none":
            return None
        if benefit.form in ("fixed", "formula"):
            assert benefit.amount is not None
            amount = benefit.amount(env)
            if env.explain and not is_unknown(amount):
                calc.append(_amount_steps(benefit, env, amount))
        elif benefit.form == "rate":
            assert benefit.base is not None and benefit.rate is not None
            base, rate = benefit.base(env), benefit.rate(env)
            if is_unknown(base) or is_unknown(rate):
                return merge_unknown(base, rate)
            amount = base * rate  # exact: an int or a Fraction (a whole number stays an int, far cheaper)
            if amount < 0:
                amount = 0
            if env.explain:
                calc.append(
                    f"{benefit.base_label} {format_cn(base)} × {format_rate(Fraction(rate))} = {format_cn(amount)}"
                )
        elif benefit.form == "schedule":
            amount = self._schedule(rule, env, calc, outcome)
        elif benefit.form == "per_item":
            amount = _per_item(rule, env, calc, outcome)
        else:
            amount = self._tiers(rule, env, result, outcome)
        if is_unknown(amount) or amount is None:
            return amount
        if benefit.ceiling is not None:
            ceiling = benefit.ceiling(env)
            if is_unknown(ceiling):
                return ceiling
            if amount > ceiling:
                if env.explain:
                    calc.append(f"超过上限{format_cn(ceiling)}，按上限计：{format_cn(ceiling)}")
                amount = ceiling
                outcome.capped = ceiling
            elif env.explain:
                calc.append(f"未超过上限{format_cn(ceiling)}")
        return amount

    def _schedule(self, rule: CompiledRule, env: Env, calc: list[str], outcome: _Outcome) -> Any:
        benefit = rule.benefit
        assert benefit.index is not None and benefit.base is not None
        index = benefit.index(env)
        if is_unknown(index):
            return index
        for first, last, rate_fn in benefit.steps:
            if first <= index <= last:
                base, rate = benefit.base(env), rate_fn(env)
                if is_unknown(base) or is_unknown(rate):
                    return merge_unknown(base, rate)
                amount = Fraction(base) * Fraction(rate)
                if env.explain:
                    calc.append(
                        f"{benefit.index_label} = 第{index}年，属第{first}至{last}年：{benefit.base_label} {format_cn(base)} × "
                        f"{format_rate(Fraction(rate))} = {format_cn(amount)}"
                    )
                return amount
        outcome.not_reached = f"{benefit.index_label} = 第{index}年，不在支持年限内"
        return None

    def _tiers(self, rule: CompiledRule, env: Env, result: _Result, outcome: _Outcome) -> Any:
        benefit = rule.benefit
        reached: list[tuple[str, str, Fraction]] = []
        pending: list[Unknown] = []
        unreached: list[Any] = []  # the conditions of the tiers not reached: what a hint would move
        paid_tiers = env.paid_tiers(rule.ledger_ref)
        for tier in benefit.tiers:
            amount = tier.amount(env)
            if env.explain:
                value, trace = tier.when.evaluate(env)
                amount_text = "缺失" if is_unknown(amount) else format_cn(amount)
                result.trace.append(Trace("tier", f"档次“{tier.label}”：{amount_text}", trace.result, children=[trace]))
            else:
                value = tier.when.value(env)
            if is_unknown(value) or is_unknown(amount):
                pending.append(merge_unknown(value, amount))
            elif value:
                reached.append((tier.id, tier.label, amount))
            else:
                unreached.append(tier.when)
        mode = benefit.mode or "highest"
        if mode == "each":
            due = [(i, label, a) for i, label, a in reached if i not in paid_tiers]
            if pending and not due:
                return merge_unknown(*pending)
            if not due:
                outcome.not_reached = "各档次均未达到或已领取"
                outcome.thresholds = _first_fix(unreached, env)
                return None
            result.tier = [i for i, _, _ in due]
            total = sum(a for _, _, a in due)
            if env.explain:
                calc_parts = " + ".join(f"{label} {format_cn(a)}" for _, label, a in due)
                result.calculation.append(f"逐档给予（每档一次）：{calc_parts} = {format_cn(total)}")
            if env.explain and paid_tiers:
                result.calculation.append("已领取档次不再给予：" + "、".join(sorted(paid_tiers)))
            return total
        if not reached:
            if pending:
                return merge_unknown(*pending)
            outcome.not_reached = "未达到任何档次"
            outcome.thresholds = _first_fix(unreached, env)
            return None
        best_id, best_label, best = max(reached, key=lambda item: item[2])
        result.tier = [best_id]
        if mode == "top_up":
            already = env.paid(rule=rule.ledger_ref)
            if env.explain:
                result.calculation.append(
                    f"进档补差：已达最高档“{best_label}” {format_cn(best)} − 本条已领取 {format_cn(already)} = {format_cn(max(best - already, Fraction(0)))}"
                )
            if best - already <= 0:
                outcome.not_reached = f"已按不低于“{best_label}”档的金额领取，无差额可补"
                outcome.thresholds = _first_fix(unreached, env)
                return None
            return best - already
        if best_id in paid_tiers:
            outcome.not_reached = f"“{best_label}”档已领取"
            outcome.thresholds = _first_fix(unreached, env)
            return None
        if env.explain:
            result.calculation.append(f"按达到的最高档“{best_label}”：{format_cn(best)}")
        return best


def _first_fix(conditions: list[Any], env: Env) -> Any:
    """The thresholds to move for the first of ``conditions`` a numeric move can make true (None: none can), as
    hints need them; without an explanation there are no hints, and nothing is computed."""
    if not env.explain:
        return None
    return next((found for when in conditions if (found := when.failing_thresholds(env))), None)


def _amount_steps(benefit: CompiledBenefit, env: Env, amount: Any) -> str:
    """A fixed or formula amount with its steps: the expression in words, then with the values put in,
    then the result ("新增就业人数 × 3万元 = 7 × 3万元 = 21万元")."""
    if benefit.amount_node is None:
        return f"金额：{format_cn(amount)}"
    values = {name: display(reader(env), kind) for name, reader, kind in benefit.amount_names}
    substituted = render(benefit.amount_node, lambda name: values.get(name, name))
    return f"金额：{benefit.amount_label} = {substituted} = {format_cn(amount)}"


@dataclass(slots=True)
class _Outcome:
    not_reached: str = ""
    thresholds: Any = None
    #: the benefit's own ceiling, when the computed amount exceeded it
    capped: Fraction | int | None = None


@dataclass(frozen=True)
class _DocumentPlan:
    """One document of an evaluation's plan: what does not depend on the entity."""

    document: CompiledDocument
    flags: list[str]
    #: the rules under the readings in force, in order
    rules: list[CompiledRule]
    #: the jurisdiction's region
    region: str
    #: each rule's outcome where it does not apply (another entity type, outside the jurisdiction), in order
    not_applicable: list[Outcome]
    #: the exclusion groups (不重复享受) in force under the readings
    exclusions: tuple[Any, ...]
    #: each provision of the document, in order: its rules' positions in ``rules`` (with the provision), or, for
    #: a provision without rules under these readings, its result, which never changes (built once, shared)
    provisions: list[Any]
    #: per type of entity, each rule's result where it does not apply to that type (shared read-only), else None
    inapplicable: dict[str, list[RuleResult | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Plan:
    """The documents an evaluation reads with one set of options (``Engine._plan_of``), shared read-only."""

    period: int
    #: every document's readings, the options' overrides applied
    readings: dict[str, str]
    documents: list[_DocumentPlan]
    skipped: list[dict[str, str]]


class _Result(Protocol):
    """What deciding a rule writes: a ``RuleResult``, or a ``_Verdict`` where only the outcome is wanted."""

    label: str
    status: Status
    reason: str
    amount_fen: int | None
    is_ceiling: bool
    is_floor: bool
    tier: list[str]
    calculation: list[str]
    trace: list[Trace]
    missing: list[Missing]
    defaults_used: list[str]
    instalments: list[dict[str, Any]]
    excluded_by: str | None

    @property
    def key(self) -> str: ...

    @property
    def amount_text(self) -> str: ...


class _Verdict:
    """A rule's result as ``Engine.outcomes`` needs it: what the steps decide, without the explanation's
    fields around it (a fifth of the cost of a ``RuleResult``)."""

    __slots__ = ("amount_fen", "calculation", "defaults_used", "excluded_by", "instalments", "is_ceiling", "is_floor",
                 "key", "label", "missing", "reason", "status", "tier", "trace")  # fmt: skip

    def __init__(self, rule: CompiledRule) -> None:
        self.key: str = rule.key
        self.label: str = rule.rule.label
        self.status = Status.NOT_ELIGIBLE
        self.reason = ""
        self.amount_fen: int | None = None
        self.is_ceiling: bool = rule.is_ceiling
        self.is_floor: bool = rule.rule.benefit.is_floor
        self.tier: list[str] = []
        self.calculation: list[str] = []
        self.trace: list[Trace] = []
        self.missing: list[Missing] = []
        self.defaults_used: list[str] = []
        self.instalments: list[dict[str, Any]] = []
        self.excluded_by: str | None = None

    @property
    def amount_text(self) -> str:
        return amount_text(
            self.amount_fen, kind_of(self.amount_fen, is_ceiling=self.is_ceiling, is_floor=self.is_floor)
        )


def _selected_rules(document: CompiledDocument, readings: dict[str, str]) -> list[CompiledRule]:
    """The document's rules under the readings in force (a rule that exists only under another reading is left out)."""
    return [r for r in document.rules if not r.when_reading or all(readings.get(k) == v for k, v in r.when_reading)]


def _blank(rule: CompiledRule, env: Env, *, with_readings: bool = True) -> RuleResult:
    """A rule's result before it is decided: what the rule itself says (``CompiledRule.result_fields``) and, for
    an explanation, the readings it was evaluated under."""
    result = RuleResult(*rule.result_fields)
    if with_readings and rule.reading_meta:
        document = rule.document.id
        result.readings = [
            {"key": key, "value": (value := env.readings.get(f"{document}:{key}", default)), "label": labels[value],
             "question": question, "default": default}
            for key, question, default, labels in rule.reading_meta
        ]  # fmt: skip
    return result


def _resolve_current_year(facts: dict[str, Any], period: int) -> dict[str, Any]:
    """Annual facts given as one value (``{None: v}``) belong to the assessed year."""
    resolved = {}
    for key, value in facts.items():
        if isinstance(value, dict) and None in value:
            value = {period: value[None], **{y: v for y, v in value.items() if y is not None}}
        resolved[key] = value
    return resolved


def _document_flags(document: CompiledDocument, options: Options, *, explicit: bool) -> tuple[list[str], str]:
    """The document's flags on the evaluation day, and why it is skipped ("" when it is evaluated).

    Whether it is evaluated by default is ``huiqi.policy.status`` (the one rule the CLI, API and pages use)."""
    meta = document.loaded.policy.document
    status = document_status(meta, options.as_of)
    if status is DayStatus.IN_FORCE:
        return [], ""
    if status is DayStatus.DRAFT:
        flag = "征求意见稿：尚未正式施行，结果仅供参考"
        skip = "征求意见稿，默认不参与评估（使用 --include-drafts 或 --document 指定）"
    elif meta.status is not DocumentStatus.IN_FORCE:  # declared 已废止 / 已失效
        flag = f"文件状态：{meta.status.value}"
        skip = f"{meta.status.value}，默认不参与评估（使用 --include-expired 或 --document 指定）"
    elif status is DayStatus.NOT_YET:
        start = meta.effective_from or meta.issue_date
        assert start is not None
        flag = skip = f"评价日早于施行日 {start.isoformat()}"
    else:
        assert meta.effective_to is not None
        flag = f"已过有效期（至 {meta.effective_to.isoformat()}）"
        skip = f"{flag}，默认不参与评估（使用 --include-expired 或 --document 指定）"
    included = explicit or evaluated_by_default(
        meta, options.as_of, include_drafts=options.include_drafts, include_expired=options.include_expired
    )
    return [flag], "" if included else skip


def _jurisdiction(region: str, profile: Profile, any_jurisdiction: bool) -> tuple[bool | None, str]:
    if any_jurisdiction:
        return True, ""
    if not profile.region:
        return None, f"属地：本文件适用于{region}，档案未填写所在地区"
    if region in profile.region:
        return True, ""
    return False, f"属地不符：本文件适用于{region}，主体所在地区为{'·'.join(profile.region)}"


def _failed_labels(trace: Trace) -> list[str]:
    """What did not hold, as a clerk reads it: the failed leaves of an ``all``; for an unmet ``any``, that
    none of its members holds; for a ``not``, that what must not hold does."""
    if trace.result is not False:
        return []
    if trace.kind == "leaf":
        return [trace.label]
    if trace.kind == "all":
        return [label for child in trace.children for label in _failed_labels(child)]
    if trace.kind == "any" and trace.label == ANY_LABEL:
        return ["以下条件均不满足：" + "、".join(child.label for child in trace.children)]
    if trace.kind == "not" and trace.children and trace.label == f"非：{trace.children[0].label}":
        return [f"{trace.children[0].label}（本项要求不满足此条件）"]
    return [trace.label]


_SPECIAL_NAMES = {"region": "所在地区", "quarter": "评价季度（按季度兑现的规则须指定季度，如 2024Q2）"}


def _missing(unknown: Unknown, catalogue: Catalogue, quarter: int | None = None) -> list[Missing]:
    found = []
    for key, year in sorted(unknown.missing, key=lambda item: (item[0], item[1] or 0)):
        fact = catalogue.get(key)
        quarterly = fact is not None and fact.period is Period.QUARTERLY and year is not None
        found.append(Missing(key, fact.name if fact else _SPECIAL_NAMES.get(key, key), year,
                             quarter if quarterly else None))  # fmt: skip
    return found


def _apply_caps(rule: CompiledRule, env: Env, amount: Fraction | int, result: _Result) -> Fraction | int | None:
    """Apply the rule's caps against the ledger, each worded for what it holds back: a cumulative cap is
    what one entity may get in all (from this rule, or from the whole provision), a per-year cap what this
    rule may pay it for one assessed year."""
    for scope, over, cap_fn in rule.caps:
        cap = cap_fn(env)
        if scope == "cumulative":
            provision = over == "provision"
            already = env.paid(provision=rule.provision_ref) if provision else env.paid(rule=rule.ledger_ref)
            name = f"{'本条' if provision else '本规则'}累计上限{format_cn(cap)}（每个主体{'，本条各项合计' if provision else ''}）"
            paid = f"{'本条' if provision else '本规则'}已累计领取{format_cn(already)}"
            full = f"已达{name}：{paid}"
        elif scope == "per_quarter":
            already = env.paid(rule=rule.ledger_ref, period=env.period, quarter=env.quarter)
            name = f"每季度上限{format_cn(cap)}"
            paid = f"{env.period}年第{env.quarter}季度本规则已领取{format_cn(already)}"
            full = f"{env.period}年第{env.quarter}季度已领满{name}"
        else:
            already = env.paid(rule=rule.ledger_ref, period=env.period)
            name = f"每年上限{format_cn(cap)}"
            paid = f"{env.period}年度本规则已领取{format_cn(already)}"
            full = f"{env.period}年度已领满{name}"
        remaining = cap - already
        if env.explain:
            result.calculation.append(f"{name}：{paid}，尚可领取{format_cn(max(remaining, 0))}")
        if remaining <= 0:
            result.reason = full
            return None
        if amount > remaining:
            if env.explain:
                result.calculation.append(
                    f"{format_cn(amount)}超过尚可领取的{format_cn(remaining)}，按{format_cn(remaining)}计"
                )
            amount = remaining
    return amount


def _item_name(item: dict[str, Any], index: int) -> str:
    """How the explanation names an item: its number and its text fields (名称、级别)."""
    texts = [str(v) for v in item.values() if isinstance(v, str)]
    return f"第{index}项" + (f"（{'，'.join(texts)}）" if texts else "")


def _per_item(rule: CompiledRule, env: Env, calc: list[str], outcome: _Outcome) -> Any:
    """按项目计算: each item of the list fact that counts, its amount capped by the first item cap that holds
    and rounded to the fen, explained item by item; the sum is the rule's amount (caps per entity follow)."""
    benefit = rule.benefit
    assert benefit.items is not None and benefit.amount is not None
    items = env.facts.get(benefit.items)
    if items is None:
        return Unknown(frozenset({(benefit.items, None)}))
    total = 0
    counted = 0
    pending: list[Unknown] = []
    try:
        for index, item in enumerate(items, start=1):
            env.item = item
            name = _item_name(item, index)
            if benefit.where is not None:
                holds = benefit.where.value(env)
                if is_unknown(holds):
                    pending.append(holds)
                    continue
                if not holds:
                    if env.explain:
                        calc.append(f"{name}：不计入（不满足：{benefit.where.label}）")
                    continue
            amount = benefit.amount(env)
            if is_unknown(amount):
                pending.append(amount)
                continue
            amount = max(Fraction(amount), Fraction(0))
            line = f"{name}：{_amount_steps(benefit, env, amount)}" if env.explain else ""
            unknown_cap = False
            for when, cap_fn, _text in benefit.item_caps:
                applies = when.value(env)
                if is_unknown(applies):
                    pending.append(applies)
                    unknown_cap = True
                    break
                if applies:
                    cap = cap_fn(env)
                    if is_unknown(cap):
                        pending.append(cap)
                        unknown_cap = True
                        break
                    if amount > cap:
                        line += f"，超过单项上限{format_cn(cap)}（{when.label}），按{format_cn(cap)}计"
                        amount = Fraction(cap)
                    else:
                        line += f"，未超过单项上限{format_cn(cap)}（{when.label}）"
                    break
            if unknown_cap:
                continue
            fen = round_half_up(amount)
            if env.explain:
                calc.append(f"{line}，计{format_cn(fen)}")
            total += fen
            counted += 1
    finally:
        env.item = None
    if pending:
        return merge_unknown(*pending)
    if counted == 0:
        outcome.not_reached = f"没有符合条件的{benefit.items_label}项目"
        return None
    if env.explain:
        calc.append(f"{counted}项合计：{format_cn(total)}")
    return Fraction(total)


def _instalments(rule: CompiledRule, env: Env, fen: int) -> list[dict[str, Any]]:
    """Split an amount by the rule's shares (rounding differences go to the last instalment), each in its
    budget year — the evaluation's year plus the instalment's offset — with what it waits on."""
    if not rule.instalments:
        return []
    from huiqi.money import format_yuan

    parts = []
    paid = 0
    for index, part_rule in enumerate(rule.instalments):
        share = Fraction(part_rule.share(env))
        part = fen - paid if index == len(rule.instalments) - 1 else round_half_up(fen * share)
        paid += part
        waits = part_rule.waits_on()
        parts.append({"label": part_rule.label, "share": format_rate(share), "amount": format_yuan(part),
                      "year": env.as_of.year + part_rule.year, "conditions": "；".join(waits),
                      "reports_submitted": part_rule.reports_submitted})  # fmt: skip
    return parts


def _active_exclusions(document: CompiledDocument, readings: dict[str, str]) -> tuple[Any, ...]:
    """The document's exclusion groups in force under the readings."""
    doc_id = document.loaded.id
    return tuple(
        e for e in document.exclusions if all(readings.get(f"{doc_id}:{k}") == v for k, v in e.when_reading.items())
    )


def _apply_exclusions(
    document: CompiledDocument, active: tuple[Any, ...], results: Sequence[_Result], env: Env
) -> None:
    """不重复享受 within the document: of the eligible members of the groups in force (``active``), keep the
    combination that gives the applicant most (counting the members the ledger shows paid); the others are
    excluded."""
    if not active:
        return
    index = {r.key: r for r in results if r.status is Status.ELIGIBLE}
    members = sorted({ref for e in active for ref in e.rules if ref in index})
    if not members:
        return
    # Rules already paid (in the ledger) use up their group's allowance: 不重复享受 holds across years.
    ledger_of = document.ledger_refs
    paid_before = (
        {ref for e in active for ref in e.rules if env.paid(rule=ledger_of.get(ref, "")) > 0} if env.ledger else set()
    )
    groups = [(frozenset(e.rules), e.max) for e in active]

    def allowed(chosen: Iterable[str]) -> bool:
        taken = set(chosen) | paid_before
        return all(len(taken & rules) <= most for rules, most in groups)

    best: tuple[int, tuple[str, ...]] = (-1, ())
    if len(members) <= 16:
        for size in range(len(members), -1, -1):
            for combo in itertools.combinations(members, size):
                if allowed(combo):
                    total = sum(index[ref].amount_fen or 0 for ref in combo)
                    if total > best[0]:
                        best = (total, combo)
    else:  # greedy by amount for very large groups
        chosen: list[str] = []
        for ref in sorted(members, key=lambda r: -(index[r].amount_fen or 0)):
            if allowed([*chosen, ref]):
                chosen.append(ref)
        best = (0, tuple(chosen))
    kept = set(best[1])
    for ref in members:
        if ref in kept:
            continue
        result = index[ref]
        exclusion = next(e for e in active if ref in e.rules)
        keepers = [k for k in kept if k in exclusion.rules]
        kept_text = "、".join(f"{index[k].label}（{index[k].amount_text}）" for k in keepers)
        earlier = [k for k in paid_before if k in exclusion.rules and k != ref]
        result.status = Status.EXCLUDED
        result.excluded_by = exclusion.id
        parts = [exclusion.reason]
        if earlier:
            parts.append(f"台账显示已享受：{'、'.join(sorted(earlier))}")
        if kept_text:
            parts.append(f"已保留对申请人更有利的：{kept_text}")
        result.reason = "；".join(parts)


_RANK = {status: index for index, status in enumerate(STATUS_ORDER)}


def _provision_slots(document: CompiledDocument, rules: list[CompiledRule]) -> list[Any]:
    """``_DocumentPlan.provisions``: for each provision, its fixed fields (``_provision_head``), its lead unit and
    the positions of its rules among ``rules``; or, where it has none, its result."""
    document_id = document.loaded.policy.document.id
    positions: dict[str, list[int]] = {}
    for index, rule in enumerate(rules):
        positions.setdefault(rule.provision.id, []).append(index)
    return [
        (_provision_head(document_id, provision), provision.lead_unit, tuple(positions[provision.id]))
        if provision.id in positions
        else _rule_less_result(document_id, provision)
        for provision in document.loaded.policy.provisions
    ]  # fmt: skip


#: document, provision, number, heading, kind, quote, span
_ProvisionHead = tuple[str, str, str | None, str | None, str, str, tuple[int, int]]


def _provision_head(document: str, provision: Any) -> _ProvisionHead:
    """What a provision's result starts with, in ``ProvisionResult``'s order: document, provision, number,
    heading, kind, quote, span."""
    return (document, provision.id, provision.number, provision.heading, provision.kind.value, provision.quote,
            provision.span)  # fmt: skip


def _rule_less_result(document: str, provision: Any) -> ProvisionResult:
    """The result of a provision without rules under the readings in force: it never changes."""
    reason = (
        f"本条为{KIND_LABELS[provision.kind.value]}条款，不直接产生可计算的奖补"
        if not provision.rules
        else "按当前口径，本条没有适用的规则"
    )
    return ProvisionResult(*_provision_head(document, provision), Status.NOT_APPLICABLE, reason, [], None, False,
                           provision.lead_unit).share()  # fmt: skip


def _provision_result(head: _ProvisionHead, lead_unit: str | None, rules: list[RuleResult]) -> ProvisionResult:
    """A provision's result from its rules' (at least one): the best status among them, and the sum of what
    they give."""
    if len(rules) == 1:  # most provisions: the rule's own status, reason and amount
        rule = rules[0]
        counts = rule.amount_fen is not None and (rule.status is Status.ELIGIBLE or rule.status is Status.NEEDS_REVIEW)
        return ProvisionResult(*head, rule.status, rule.reason, rules, rule.amount_fen if counts else None,
                               counts and rule.is_ceiling, lead_unit,
                               counts and not rule.is_ceiling and rule.is_floor)  # fmt: skip
    # The amount of the provision and whether it is a bound come from the same rules: the eligible ones' sum,
    # where a ceiling in it makes it a ceiling; else the highest bound of those left to officials. A certain
    # amount stays certain when a rule beside it is left to officials.
    best, best_rank = rules[0], _RANK[rules[0].status]
    amount: int | None = None
    is_ceiling = is_floor = False
    review: RuleResult | None = None
    for rule in rules:
        rank = _RANK[rule.status]
        if rank < best_rank:
            best, best_rank = rule, rank
        fen = rule.amount_fen
        if fen is None:
            continue
        if rule.status is Status.ELIGIBLE:
            amount = fen if amount is None else amount + fen
            is_ceiling = is_ceiling or rule.is_ceiling
            is_floor = is_floor or rule.is_floor
        elif rule.status is Status.NEEDS_REVIEW and (review is None or fen > (review.amount_fen or 0)):
            review = rule
    if amount is None and review is not None:
        amount, is_ceiling, is_floor = review.amount_fen, review.is_ceiling, review.is_floor
    return ProvisionResult(*head, best.status, best.reason, rules, amount, is_ceiling, lead_unit,
                           not is_ceiling and is_floor)  # fmt: skip
