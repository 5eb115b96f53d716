"""The policy calculator's next question: ask only the fact that decides the most of what is undecided.

The calculator starts from an entity type and a region, with no facts. Each step evaluates the answers
so far with the engine's three-valued logic; a rule that cannot be decided is *needs information*, and
the ``Unknown`` values it met name exactly the facts (and years) it still needs — a fact behind a member
that is already false in an ``all``, or true in an ``any``, is not among them. Those facts, less the ones
already answered (including 不清楚), are the open questions. When there is none, no remaining answer can
change any result and the calculator stops.

The measure that orders the open questions (documented in docs/evaluation.md):

1. the number of undecided provisions that one answer to the fact can settle by itself: the fact is the
   only unknown of a condition every qualifying entity must meet (the whole condition, or a member of its
   ``all``), so the answer that fails it makes the rule not eligible whatever else is answered;
2. then the number of undecided provisions whose *eligibility* (the rule's conditions) depends on the fact;
3. then the number of undecided provisions that depend on it at all (conditions or amount);
4. then the money at stake: the largest amount or ceiling already known for each of those provisions;
5. then the order in which the policy base states the provisions, the fact's key and its year — so the
   same answers always give the same next question.

Eligibility comes first because a fact in a failing condition settles the rule whatever its amount: the
amount's facts are asked only while they can still matter. Besides the facts a rule misses, three more kinds
are open: a tier not yet known that could pay more than the tier reached (``highest`` mode); a yes/no fact
the engine took at its catalogue default (未填写时默认) while the other answer would change the rule; and the
year before the earliest one answered of a fact read by ``first_reached`` / ``max_before`` (首次达到), while a
figure for it could change the rule (the engine judges "never before" on the years it is given).

Answers are parsed by the same code as profile facts (``parse_profile``): units 元/万元/亿元, dates,
是/否, the catalogue's choices, counts; errors are the profile's Chinese messages, placed at the question.
"不清楚" is always accepted: the fact stays unknown and its rules stay *needs information* — never 0.

Annual facts are asked one year at a time (营业收入（2023年）): the year is the one the rule reads
(the assessed year, the year before for 首次达到, each year of a 落户3年内 window).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from huiqi.errors import ProfileError
from huiqi.expr import ast
from huiqi.expr.ast import Type
from huiqi.expr.parser import parse
from huiqi.facts.catalogue import ENTITY_LABELS, Catalogue, EntityType, Fact, Period
from huiqi.money import MONEY_UNITS, format_cn
from huiqi.policy.models import condition_texts

from .conditions import CompiledCondition
from .env import Env
from .evaluate import Engine, Options
from .memo import Memo, facts_key
from .profile import Profile, parse_profile
from .results import DocumentResult, Evaluation, RuleResult, Status
from .ruleset import CompiledRule
from .values import display, is_unknown

#: What a user writes (or picks) when a fact is not known; the fact then stays unknown.
UNSURE = "不清楚"
_UNSURE_WORDS = frozenset({UNSURE, "不知道", "unknown", "unsure"})
#: What a user answers to a several-choice question when none applies (the empty set).
NONE_OF_THEM = "无"
#: The money units a question offers, the usual one first.
MONEY_CHOICES = ("万元", "元", "亿元")
#: Statuses that no answer can change (a provision with one of these is settled).
FINAL = frozenset({Status.ELIGIBLE, Status.NEEDS_REVIEW, Status.EXCLUDED, Status.NOT_ELIGIBLE, Status.NOT_APPLICABLE})

FactYear = tuple[str, int | None]

#: How much a fact weighs for one undecided rule (see ``Questionnaire._open_facts``).
AMOUNT, ELIGIBILITY, ALONE = 1, 2, 3


@dataclass(frozen=True, slots=True)
class FactRef:
    """What a question asks: a fact, and the year for annual facts (``revenue@2023``)."""

    fact: str
    year: int | None = None

    @property
    def key(self) -> str:
        """The question's key in answers, URLs and forms: ``fact`` or ``fact@year``."""
        return self.fact if self.year is None else f"{self.fact}@{self.year}"

    @classmethod
    def parse(cls, key: str) -> FactRef:
        """Read ``fact`` or ``fact@year``.

        >>> FactRef.parse("revenue@2023")
        FactRef(fact='revenue', year=2023)
        """
        fact, _, year = str(key).partition("@")
        if not year:
            return cls(fact)
        try:
            return cls(fact, int(year))
        except ValueError:
            raise ProfileError(
                f"问题编号 {key!r} 的年份应为四位数字，如 revenue@2023", where=f"answers.{key}"
            ) from None


@dataclass(frozen=True, slots=True)
class Decides:
    """A provision a question helps decide."""

    document: str
    document_title: str
    provision: str
    number: str | None
    heading: str | None

    @property
    def label(self) -> str:
        """``第3条 支持企业做大做强`` (the document's own numbering)."""
        number = self.number or self.provision
        number = number.rstrip("．.、 ")
        head = f"第{number}条" if number.isdigit() else number
        return f"{head} {self.heading}".strip() if self.heading else head

    def to_json(self) -> dict[str, Any]:
        return {"document": self.document, "document_title": self.document_title, "provision": self.provision,
                "label": self.label}  # fmt: skip


@dataclass
class Question:
    """One open question: what it asks, why, and what answer it accepts."""

    ref: FactRef
    fact: Fact
    decides: list[Decides]
    alone: int  # undecided provisions whose eligibility one answer to it can settle
    eligibility: int  # undecided provisions whose conditions depend on it
    undecided: int  # undecided provisions that depend on it at all
    at_stake_fen: int  # the largest known amount or ceiling of each of those provisions, summed
    order: int  # where the first of those provisions stands in the policy base

    @property
    def key(self) -> str:
        return self.ref.key

    @property
    def label(self) -> str:
        """``营业收入（2023年）``."""
        return self.fact.name if self.ref.year is None else f"{self.fact.name}（{self.ref.year}年）"

    @property
    def kind(self) -> str:
        """money · number · bool · date · choice (one of ``choices``) · choices (any of them) · text."""
        kind = self.fact.type
        if kind is Type.SET:
            return "choices" if self.fact.values else "text_list"
        if kind is Type.TEXT:
            return "choice" if self.fact.values else "text"
        return kind.value

    @property
    def choices(self) -> list[str]:
        if self.fact.type is Type.BOOL:
            return ["是", "否"]
        return list(self.fact.values or [])

    @property
    def units(self) -> list[str]:
        return list(MONEY_CHOICES) if self.fact.type is Type.MONEY else []

    @property
    def why(self) -> str:
        """Why it is asked, in Chinese: which provisions of which documents it decides.

        Grouped by document: ``决定：《苏州市…》第1条 加大招商引资力度、第2条 …``.
        """
        groups: dict[str, list[str]] = {}
        for decided in self.decides:
            groups.setdefault(decided.document_title, []).append(decided.label)
        parts = [f"《{title}》{'、'.join(labels)}" for title, labels in groups.items()]
        return ("决定：" if self.eligibility else "影响金额：") + "；".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "fact": self.ref.fact,
            "year": self.ref.year,
            "label": self.label,
            "kind": self.kind,
            "unit": self.fact.unit,
            "units": self.units,
            "choices": self.choices,
            "definition": self.fact.definition,
            "why": self.why,
            "decides": [d.to_json() for d in self.decides],
            "measure": {"alone": self.alone, "eligibility": self.eligibility, "undecided": self.undecided,
                        "at_stake": format_cn(self.at_stake_fen) if self.at_stake_fen else None},
            "unsure": UNSURE,
        }  # fmt: skip


@dataclass
class Answer:
    """One answer given: the value typed, its meaning, and whether it still matters to a result."""

    ref: FactRef
    label: str
    raw: Any
    value: Any  # typed as in a profile, or ``None`` for 不清楚
    unsure: bool
    shown: str
    relevant: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"key": self.ref.key, "label": self.label, "value": self.shown, "unsure": self.unsure,
                "relevant": self.relevant}  # fmt: skip


@dataclass
class Step:
    """Where a calculator session stands: the results so far and the next question (None when done)."""

    evaluation: Evaluation
    question: Question | None
    open: list[Question]
    answers: list[Answer]
    profile: Profile
    catalogue: Catalogue
    #: provisions whose result an unasked fact could still change
    undecided: int = 0

    @property
    def done(self) -> bool:
        return self.question is None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "huiqi.questions/1",
            "done": self.done,
            "next": self.question.to_json() if self.question else None,
            "open": [q.key for q in self.open],
            "undecided_provisions": self.undecided,
            "answers": [a.to_json() for a in self.answers],
            "profile": profile_json(self.profile, self.catalogue),
            "evaluation": self.evaluation.to_json(),
        }


@dataclass
class _Need:
    provisions: set[tuple[str, str]] = field(default_factory=set)
    eligibility: set[tuple[str, str]] = field(default_factory=set)
    alone: set[tuple[str, str]] = field(default_factory=set)


class Questionnaire:
    """The calculator's logic over one engine: parse answers, evaluate, pick the next question."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.catalogue = engine.catalogue
        self._rules: dict[str, CompiledRule] = {r.ref: r for d in engine.documents.values() for r in d.rules}
        self._order: dict[tuple[str, str], int] = {}
        for document in engine.documents.values():
            for provision in document.loaded.policy.provisions:
                self._order[(document.loaded.id, provision.id)] = len(self._order)
        self._titles = {doc_id: d.loaded.policy.document.title for doc_id, d in engine.documents.items()}
        self._fact_order = {key: index for index, key in enumerate(self.catalogue.facts)}
        #: fact → the documents whose rules read it (what re-evaluating an answer needs)
        self._documents_of: dict[str, set[str]] = {}
        #: rule → the facts it reads; document → the facts its rules read (the keys of the memos below)
        self._rule_facts: dict[str, tuple[str, ...]] = {}
        #: rule → the annual facts it reads every earlier year of (``first_reached``, ``max_before``)
        self._history: dict[str, tuple[str, ...]] = {}
        self._document_facts: dict[str, set[str]] = {doc_id: set() for doc_id in engine.documents}
        for rule in self._rules.values():
            facts, history = _references(rule)
            self._rule_facts[rule.ref] = tuple(sorted(facts))
            if history:
                self._history[rule.ref] = tuple(sorted(history))
            self._document_facts[rule.document.id].update(facts)
            for key in facts:
                self._documents_of.setdefault(key, set()).add(rule.document.id)
        self._read_by: dict[str, tuple[str, ...]] = {d: tuple(sorted(f)) for d, f in self._document_facts.items()}
        # Memos (see ``huiqi.engine.memo``): a session re-sends every answer at each step, and an answer
        # changes what only the documents and rules reading its fact compute. Each key holds everything the
        # result depends on, so the memos never change an answer (tests/engine/test_questions.py checks it).
        self._parsed: Memo[tuple[Any, ...], tuple[Any, str]] = Memo(20_000)
        self._plans: Memo[tuple[Any, ...], tuple[tuple[str, ...], tuple[dict[str, str], ...]]] = Memo(256)
        self._document_results: Memo[tuple[Any, ...], DocumentResult] = Memo(20_000)
        self._open: Memo[tuple[Any, ...], tuple[tuple[FactRef, int], ...]] = Memo(50_000)

    def parse_answers(
        self, entity_type: str, answers: Mapping[str, Any], *, money_unit: str | None = None
    ) -> tuple[EntityType, list[Answer]]:
        """Check every answer as a profile fact would be checked; 不清楚 is kept as unknown."""
        kind = entity_type_of(entity_type)
        parsed: list[Answer] = []
        for key, raw in answers.items():
            ref = FactRef.parse(key)
            fact = self.catalogue.get(ref.fact)
            if fact is None:
                raise ProfileError(f"没有这个问题：{key!r}（未知的事实）", where=f"answers.{key}")
            if (fact.period is Period.ANNUAL) != (ref.year is not None):
                wanted = "需要年份，如 " + f"{ref.fact}@2023" if fact.period is Period.ANNUAL else "不带年份"
                raise ProfileError(f"{fact.name}的问题编号{wanted}", where=f"answers.{key}")
            label = fact.name if ref.year is None else f"{fact.name}（{ref.year}年）"
            if is_unsure(raw):
                parsed.append(Answer(ref, label, raw, None, True, UNSURE))
                continue
            memo_key = (key, type(raw), raw, kind, money_unit) if isinstance(raw, str | int | float) else None
            known = self._parsed.get(memo_key) if memo_key is not None else None
            if known is None:
                value = _parse_one(fact, ref, raw, kind, money_unit)
                known = (value, display(value, fact.type))
                if memo_key is not None:
                    self._parsed.put(memo_key, known)
            parsed.append(Answer(ref, label, raw, known[0], False, known[1]))
        return kind, parsed

    def evaluate(self, profile: Profile, options: Options) -> Evaluation:
        """``Engine.evaluate``, each document's result reused while the facts its rules read, the entity
        type, the region and the options are the same (a profile with a ledger is evaluated whole)."""
        if profile.ledger:
            return self.engine.evaluate(profile, options)
        readings = tuple(sorted(options.readings.items()))
        plan_key = (options.as_of, options.documents, readings, options.include_drafts, options.include_expired)
        plan = self._plans.get(plan_key)
        if plan is None:  # which documents are evaluated and which skipped depends on the options alone
            bare = self.engine.evaluate(
                Profile(profile.entity_type, {}), dataclasses.replace(options, suggestions=False)
            )
            plan = (tuple(d.document for d in bare.documents), tuple(bare.skipped))
            self._plans.put(plan_key, plan)
        period = options.period if options.period is not None else options.as_of.year - 1
        context = (profile.entity_type, profile.region, options.as_of, period, readings, options.any_jurisdiction,
                   options.suggestions)  # fmt: skip
        found: dict[str, DocumentResult] = {}
        keys: dict[str, tuple[Any, ...]] = {}
        for doc_id in plan[0]:
            try:
                keys[doc_id] = (doc_id, context, facts_key(profile.facts, self._read_by[doc_id]))
            except TypeError:
                continue
            known = self._document_results.get(keys[doc_id])
            if known is not None:
                found[doc_id] = known
        missing = tuple(doc_id for doc_id in plan[0] if doc_id not in found)
        if missing:
            fresh = self.engine.evaluate(profile, dataclasses.replace(options, documents=missing))
            for result in fresh.documents:
                found[result.document] = result
                if result.document in keys:
                    self._document_results.put(keys[result.document], result)
        entity = {"entity_type": profile.entity_type.value, "name": profile.name, "uscc": profile.uscc,
                  "region": list(profile.region)}  # fmt: skip
        return Evaluation(entity=entity, as_of=options.as_of, period=period,
                          documents=[found[doc_id] for doc_id in plan[0]], skipped=[dict(s) for s in plan[1]])  # fmt: skip

    def step(
        self,
        entity_type: str,
        region: Iterable[str],
        answers: Mapping[str, Any],
        options: Options,
        *,
        money_unit: str | None = None,
        relevance: bool = False,
    ) -> Step:
        """Evaluate the answers so far and choose the next question.

        ``relevance`` also marks each answer that no longer changes any result (one evaluation per answer:
        the web page uses it to hide questions that no longer matter).
        """
        kind, parsed = self.parse_answers(entity_type, answers, money_unit=money_unit)
        period = options.period if options.period is not None else options.as_of.year - 1
        profile = Profile(entity_type=kind, facts=_facts(parsed), region=tuple(r for r in region if r))
        evaluation = self.evaluate(profile, options)
        asked = {a.ref for a in parsed}
        needs = self._needs(evaluation, profile, options, period)
        wanted = {where for need in needs.values() for where in need.provisions}
        amounts = {  # the largest amount or ceiling known of each provision a question bears on
            (document.document, provision.provision): max((r.amount_fen for r in provision.rules if r.amount_fen),
                                                          default=0)
            for document in evaluation.documents
            for provision in document.provisions
            if (document.document, provision.provision) in wanted
        }  # fmt: skip
        questions = [self._question(ref, need, amounts) for ref, need in needs.items() if ref not in asked]
        questions.sort(key=lambda q: (-q.alone, -q.eligibility, -q.undecided, -q.at_stake_fen, q.order,
                                      self._fact_order.get(q.ref.fact, 0), -(q.ref.year or 0)))  # fmt: skip
        open_provisions = {p for ref, need in needs.items() if ref not in asked for p in need.provisions}
        if relevance:
            self._mark_relevance(parsed, profile, options, evaluation, needs)
        return Step(evaluation, questions[0] if questions else None, questions, parsed, profile, self.catalogue,
                    undecided=len(open_provisions))  # fmt: skip

    def _needs(self, evaluation: Evaluation, profile: Profile, options: Options, period: int) -> dict[FactRef, _Need]:
        """Every fact (and year) that could still change a result, with the provisions it bears on."""
        env = Env(facts=profile.facts, period=period, as_of=options.as_of,
                  readings=self.engine.resolve_readings(options.readings), region=profile.region,
                  quarter=options.quarter)  # fmt: skip
        context = (profile.entity_type, profile.region, options.as_of, period, tuple(sorted(env.readings.items())))
        needs: dict[FactRef, _Need] = {}
        for document in evaluation.documents:
            for provision in document.provisions:
                where = (document.document, provision.provision)
                for result in provision.rules:
                    for ref, weight in self._open_facts_memo(result, profile, env, period, context):
                        need = needs.setdefault(ref, _Need())
                        need.provisions.add(where)
                        if weight >= ELIGIBILITY:
                            need.eligibility.add(where)
                        if weight >= ALONE:
                            need.alone.add(where)
        return needs

    def _open_facts_memo(
        self, result: RuleResult, profile: Profile, env: Env, period: int, context: tuple[Any, ...]
    ) -> tuple[tuple[FactRef, int], ...]:
        """``_open_facts``, reused while the rule's result and the facts the rule reads are the same."""
        if result.status is Status.NOT_APPLICABLE or result.ref not in self._rules:
            return ()
        try:
            facts = facts_key(profile.facts, self._rule_facts[result.ref])
        except TypeError:
            return tuple(self._open_facts(result, profile, env, period))
        key = (result.ref, result.status, result.amount_fen, tuple((m.fact, m.year) for m in result.missing),
               tuple(result.defaults_used), context, facts)  # fmt: skip
        known = self._open.get(key)
        if known is None:
            known = tuple(self._open_facts(result, profile, env, period))
            self._open.put(key, known)
        return known

    def _open_facts(self, result: RuleResult, profile: Profile, env: Env, period: int) -> list[tuple[FactRef, int]]:
        """The facts a rule result still waits for, each with its weight: ``ALONE`` where one answer can
        settle the rule's eligibility (it is the only unknown of a condition every qualifying entity must
        meet), ``ELIGIBILITY`` where the conditions wait for it with others, ``AMOUNT`` where only the amount does."""
        rule = self._rules.get(result.ref)
        if rule is None or result.status is Status.NOT_APPLICABLE:
            return []
        env.rule_key, env.provision_key = rule.ledger_ref, rule.provision_ref
        found: list[tuple[FactRef, int]] = []
        if result.status is Status.NEEDS_INFORMATION:
            condition: frozenset[FactYear] = frozenset()
            alone: set[FactYear] = set()
            if rule.condition is not None:
                value = rule.condition.value(env)
                if is_unknown(value):
                    condition = value.missing
                    alone = _settling(rule.condition, env, condition, self.catalogue)
            for pair in {(m.fact, m.year) for m in result.missing}:
                ref = self._normal(pair, period)
                if ref is not None and ref.fact in self.catalogue:
                    weight = ALONE if pair in alone else ELIGIBILITY if pair in condition else AMOUNT
                    found.append((ref, weight))
        elif (
            result.status in (Status.ELIGIBLE, Status.NEEDS_REVIEW)
            and rule.benefit.tiers
            and (rule.benefit.mode or "highest") == "highest"
        ):
            # The engine pays the highest tier reached; a tier still unknown could be higher than it.
            found.extend(self._pending_tiers(rule, result, env, period))
        found.extend(self._defaults_that_matter(rule, result, profile, env))
        if rule.ref in self._history:
            found.extend(self._earlier_years(rule, profile, env, period))
        return found

    def _earlier_years(self, rule: CompiledRule, profile: Profile, env: Env, period: int) -> list[tuple[FactRef, int]]:
        """首次达到 and the like read every year before the assessed one, and the engine judges "never before"
        on the earlier years it is given (``max_before``). So the year before the earliest one given stays a
        question while a figure for it could change the rule — back to the year the entity was established
        (when known); an answer 不清楚 to it stops going further back."""
        found: list[tuple[FactRef, int]] = []
        baseline: RuleResult | None = None
        established = env.facts.get("established_on")
        for key in self._history[rule.ref]:
            series = env.facts.get(key)
            if not isinstance(series, dict) or not any(y is not None and y < period for y in series):
                continue  # no earlier year: the engine itself waits for the year before the period (Unknown)
            year = period - 1
            while year in series:
                year -= 1
            if isinstance(established, dt.date) and year < established.year:
                continue
            if baseline is None:
                baseline = self.engine.evaluate_rule(rule, profile, env, suggestions=False)
            weight = 0
            for probe in _probes(self.catalogue[key], env.as_of):
                trial = env.with_facts({**env.facts, key: {**series, year: probe}})
                other = self.engine.evaluate_rule(rule, profile, trial, suggestions=False)
                if other.status is not baseline.status:
                    weight = max(weight, ALONE if other.status is Status.NOT_ELIGIBLE else ELIGIBILITY)
                elif other.amount_fen != baseline.amount_fen:
                    weight = max(weight, AMOUNT)
            if weight:
                found.append((FactRef(key, year), weight))
        return found

    def _defaults_that_matter(
        self, rule: CompiledRule, result: RuleResult, profile: Profile, env: Env
    ) -> list[tuple[FactRef, int]]:
        """A yes/no fact left to its catalogue default (未填写时默认) is still a question while the other answer
        would change the rule's result: the calculator asks it rather than assume it."""
        found: list[tuple[FactRef, int]] = []
        for key in result.defaults_used:
            fact = self.catalogue.get(key)
            if fact is None or fact.type is not Type.BOOL or fact.period is Period.ANNUAL:
                continue
            trial = env.with_facts({**env.facts, key: not fact.default})
            other = self.engine.evaluate_rule(rule, profile, trial, suggestions=False)
            if (other.status, other.amount_fen) != (result.status, result.amount_fen):
                found.append((FactRef(key), ELIGIBILITY))
        return found

    def _pending_tiers(
        self, rule: CompiledRule, result: RuleResult, env: Env, period: int
    ) -> list[tuple[FactRef, int]]:
        best = result.amount_fen or 0
        found: list[tuple[FactRef, int]] = []
        for tier in rule.benefit.tiers:
            value = tier.when.value(env)
            amount = tier.amount(env)
            if not is_unknown(value):
                continue
            if not is_unknown(amount) and amount <= best:
                continue  # reaching it would not give more than what is reached already
            missing = value.missing | (amount.missing if is_unknown(amount) else frozenset())
            for pair in missing:
                ref = self._normal(pair, period)
                if ref is not None and ref.fact in self.catalogue:
                    found.append((ref, AMOUNT))
        return found

    def _normal(self, pair: FactYear, period: int) -> FactRef | None:
        key, year = pair
        fact = self.catalogue.get(key)
        if fact is None:
            return None  # 所在地区: chosen at the start, not a question
        if fact.type is Type.ITEMS or fact.period is Period.QUARTERLY:
            return None  # lists and quarterly figures come from a profile or the registry, not one answer at a time
        if fact.period is Period.ANNUAL:
            return FactRef(key, period if year is None else year)
        return FactRef(key)

    def _question(self, ref: FactRef, need: _Need, amounts: dict[tuple[str, str], int]) -> Question:
        """``amounts``: the largest known amount or ceiling of each provision of the evaluation."""
        provisions = sorted(need.provisions, key=lambda p: self._order.get(p, 0))
        decides = []
        for document_id, provision_id in provisions:
            stated = self.engine.documents[document_id].loaded.provision(provision_id)
            decides.append(Decides(document_id, self._titles[document_id], provision_id, stated.number,
                                   stated.heading))  # fmt: skip
        return Question(
            ref=ref,
            fact=self.catalogue[ref.fact],
            decides=decides,
            alone=len(need.alone),
            eligibility=len(need.eligibility),
            undecided=len(need.provisions),
            at_stake_fen=sum(amounts.get(where, 0) for where in need.provisions),
            order=self._order.get(provisions[0], 0) if provisions else 0,
        )

    def _mark_relevance(
        self, parsed: list[Answer], profile: Profile, options: Options, evaluation: Evaluation,
        needs: dict[FactRef, _Need],
    ) -> None:  # fmt: skip
        """An answer matters when taking it back would change a result — a status, an amount, or what is still
        missing; 不清楚 matters while a rule waits on that fact. Only the documents whose rules read the fact
        are evaluated again."""
        evaluated = {d.document for d in evaluation.documents}
        baselines: dict[tuple[str, ...], Any] = {}
        for answer in parsed:
            if answer.unsure:
                answer.relevant = answer.ref in needs
                continue
            documents = tuple(sorted(evaluated & self._documents_of.get(answer.ref.fact, set())))
            if not documents:
                answer.relevant = False
                continue
            quick = dataclasses.replace(options, suggestions=False, explain=False, documents=documents)
            if documents not in baselines:
                baselines[documents] = self.engine.outcomes(profile, quick)
            without = dataclasses.replace(profile, facts=_facts([a for a in parsed if a is not answer]))
            answer.relevant = self.engine.outcomes(without, quick) != baselines[documents]


def _settling(
    condition: CompiledCondition, env: Env, missing: frozenset[FactYear], catalogue: Catalogue
) -> set[FactYear]:
    """The facts that settle a condition by themselves: for some answer to the fact alone the condition is
    false, whatever the other answers — tried with a few probe answers per fact (``_probes``)."""
    found: set[FactYear] = set()
    for key, year in missing:
        fact = catalogue.get(key)
        if fact is None:
            continue
        for probe in _probes(fact, env.as_of):
            facts = dict(env.facts)
            if fact.period is Period.ANNUAL:
                facts[key] = {**(facts.get(key) or {}), (env.period if year is None else year): probe}
            elif fact.period is Period.QUARTERLY:
                facts[key] = {**(facts.get(key) or {}), (env.period if year is None else year, env.quarter): probe}
            else:
                facts[key] = probe
            trial = env.with_facts(facts)
            value = condition.value(trial)
            if value is False:
                found.add((key, year))
                break
    return found


def _probes(fact: Fact, as_of: dt.date) -> list[Any]:
    """Answers at the ends of what a fact can be: one of them fails a condition on it if any answer does
    (for the thresholds and memberships conditions are written with)."""
    kind = fact.type
    if kind is Type.BOOL:
        return [False, True]
    if kind in (Type.MONEY, Type.NUMBER):
        return [0, 10**15]
    if kind is Type.DATE:
        return [dt.date(1900, 1, 1), as_of]
    if kind is Type.SET:
        return [frozenset(), frozenset(fact.values or ())]
    return [*(fact.values or ()), ""]


def is_unsure(raw: Any) -> bool:
    """Whether an answer means "not known" (不清楚)."""
    return isinstance(raw, str) and raw.strip() in _UNSURE_WORDS


def entity_type_of(value: str) -> EntityType:
    """The entity type of a calculator session, with a Chinese error listing the choices."""
    try:
        return EntityType(value)
    except ValueError:
        allowed = "、".join(f"{e.value}（{ENTITY_LABELS[e.value]}）" for e in EntityType)
        raise ProfileError(f"主体类型 {value!r} 无效：可用 {allowed}", where="entity_type") from None


def _parse_one(fact: Fact, ref: FactRef, raw: Any, kind: EntityType, money_unit: str | None) -> Any:
    """One answer through the profile parser, so it is checked exactly like a profile fact."""
    value: Any = raw
    if fact.type is Type.SET and isinstance(raw, str):  # "CMMI3、ITSS"; 无 is the empty set, not 不清楚
        parts = [part.strip() for part in raw.replace("，", "、").replace(",", "、").split("、") if part.strip()]
        value = [] if parts == [NONE_OF_THEM] else parts
    if fact.type is Type.MONEY and isinstance(raw, int | float) and not isinstance(raw, bool):
        value = str(raw)
    written: Any = {str(ref.year): value} if ref.year is not None else value
    raw_profile: dict[str, Any] = {"entity_type": kind.value, "facts": {ref.fact: written}}
    if money_unit is not None:
        if money_unit not in MONEY_UNITS:
            raise ProfileError(f"金额单位 {money_unit!r} 无效：可用 元、万元、亿元", where=f"answers.{ref.key}")
        raw_profile["money_unit"] = money_unit
    try:
        profile = parse_profile(raw_profile, _single(fact), where="answers")
    except ProfileError as exc:
        raise ProfileError(exc.message, where=f"answers.{ref.key}") from None
    parsed = profile.facts[ref.fact]
    return parsed[ref.year] if ref.year is not None else parsed


def _single(fact: Fact) -> Catalogue:
    return Catalogue({fact.key: fact})


def _facts(answers: list[Answer]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for answer in answers:
        if answer.unsure:
            continue
        if answer.ref.year is None:
            facts[answer.ref.fact] = answer.value
        else:
            facts.setdefault(answer.ref.fact, {})[answer.ref.year] = answer.value
    return facts


def profile_json(profile: Profile, catalogue: Catalogue) -> dict[str, Any]:
    """The answers as a profile in the format of ``huiqi evaluate`` (money as 元, annual facts by year).

    >>> from huiqi.facts.catalogue import Catalogue, Fact
    >>> fact = Fact(key="revenue", name="营业收入", type="money", period="annual", entity=["enterprise"], definition="")
    >>> profile_json(Profile(EntityType.ENTERPRISE, {"revenue": {2023: 135 * 10**8}}), Catalogue({"revenue": fact}))
    {'entity_type': 'enterprise', 'region': [], 'facts': {'revenue': {'2023': '135000000.00元'}}}
    """
    from huiqi.money import format_yuan

    def one(key: str, value: Any) -> Any:
        fact = catalogue.get(key)
        if fact is not None and fact.type is Type.MONEY:
            return f"{format_yuan(value)}元"
        if isinstance(value, frozenset):
            return sorted(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Fraction):
            return _decimal_text(value)
        return value

    facts: dict[str, Any] = {}
    for key, value in profile.facts.items():
        if isinstance(value, dict):
            facts[key] = {str(year): one(key, item) for year, item in value.items()}
        else:
            facts[key] = one(key, value)
    return {"entity_type": profile.entity_type.value, "region": list(profile.region), "facts": facts}


def _decimal_text(value: Fraction) -> str:
    """An exact number as the decimal a profile accepts back (``0.125``); a value with no finite decimal
    keeps 12 places (inputs are typed as decimals, so that does not happen for answers).

    >>> _decimal_text(Fraction(1, 8)), _decimal_text(Fraction(56))
    ('0.125', '56')
    """
    if value.denominator == 1:
        return str(value.numerator)
    quotient = Decimal(value.numerator) / Decimal(value.denominator)
    return format(quotient.quantize(Decimal(1).scaleb(-12)).normalize(), "f")


#: The history functions that read the years before the assessed one (and, with none, the establishment date).
HISTORY_FUNCTIONS = frozenset({"first_reached", "first_exceeded", "max_before"})


def rule_facts(rule: CompiledRule) -> frozenset[str]:
    """Every catalogue fact a rule references (conditions, amounts, tiers, caps, definitions, readings):
    what a static application form would ask for this rule. A rule reading earlier years (``first_reached``,
    ``max_before``) also reads the establishment date (no earlier year when founded in the assessed year)."""
    return _references(rule)[0]


def history_facts(rule: CompiledRule) -> frozenset[str]:
    """The annual facts a rule reads through ``first_reached`` / ``max_before`` (every year before the period)."""
    return _references(rule)[1]


def _references(rule: CompiledRule) -> tuple[frozenset[str], frozenset[str]]:
    scope = rule.document.scope
    texts: list[str] = []
    benefit = rule.rule.benefit
    texts.extend(
        str(v) for v in (benefit.amount, benefit.base, benefit.rate, benefit.ceiling, benefit.index) if v is not None
    )
    for tier in benefit.tiers or []:
        texts.append(str(tier.amount))
        texts.extend(condition_texts(tier.when))
    for step in benefit.steps or []:
        texts.append(str(step.rate))
    texts.extend(str(cap.amount) for cap in rule.rule.caps)
    texts.extend(str(part.share) for part in rule.rule.instalments)
    if rule.rule.conditions is not None:
        texts.extend(condition_texts(rule.rule.conditions))
    found: set[str] = set()
    history: set[str] = set()
    seen: set[str] = set()
    pending: list[ast.Node] = [parse(text) for text in texts]
    while pending:
        node = pending.pop()
        pending.extend(ast.children(node))
        if isinstance(node, ast.Call) and node.func in HISTORY_FUNCTIONS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Name) and first.id in rule.catalogue:
                history.add(first.id)
        if not isinstance(node, ast.Name) or node.id in seen:
            continue
        name = node.id
        seen.add(name)
        if name in rule.catalogue:
            found.add(name)
        elif name in scope.definitions:
            pending.append(scope.definitions[name])
        elif name in scope.reading_names:
            pending.extend(scope.reading_names[name][1].values())
    if history and "established_on" in rule.catalogue:
        found.add("established_on")
    return frozenset(found), frozenset(history)
