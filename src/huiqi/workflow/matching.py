"""政策找企业: when a call opens, evaluate the registry for its provisions and tell every entity that
qualifies, or nearly does (a ``Notice`` on its desk, and a webhook for a government messaging system).

How the registry is evaluated (docs/platform.md, "政策找企业"):

1. **Who may hear of it.** Entities of a type some rule of the call's provisions applies to; an entity that
   follows topics or regions (``Subscription``) only when the call matches one of each kind it follows
   (``subscription_matches``); one that follows nothing hears of everything.
2. **The population engine decides.** Their facts in force and award ledgers become the population tables
   (``huiqi.compile.tables.profiles_to_tables``), loaded into an in-process DuckDB and evaluated by the
   document's compiled query for the call's period, evaluation date and readings — the same query
   ``huiqi population simulate`` runs. Per entity and rule of the call's provisions it gives the status
   and amount: *eligible* / *needs_review* is **qualifies** (amount and ceiling flag from the query);
   *excluded* and *not_applicable* are not told.
3. **The scalar engine explains** the others, which the query cannot: for a rule that *needs_information*
   it lists the facts to supply (``需补充：营业收入（2023年）``); for one that is *not_eligible* it counts the
   unmet conditions (``unmet_conditions``) and, when exactly one is unmet, says what would meet it (the
   engine's nearest way to qualify).

**Nearly** (接近符合), precisely: no rule of the provision qualifies, and some rule either needs only
facts the registry lacks (status *needs_information*: nothing registered contradicts it), or is
*not_eligible* with exactly one unmet condition (``unmet_conditions``), no unknown one, and that condition
a threshold the engine can say how to reach (its nearest way to qualify changes one fact: ``若营业收入（2023年）
达到1亿元（现为0.9亿元），可获200万元``). A yes/no condition that fails (未入选百强, 非软件企业) is not
“nearly”: there is no figure to reach, and telling every firm of every list it is not on would bury the
notices that matter. The notice carries that rule's lacking items (the fewest of the provision's rules,
then the smaller amount: nothing is oversold) and the amount it would give.

A notice's key is ``call:<id>:<provision>``: matching again tells nothing twice (the unique key of
``notices``), a notice already read stays read.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.engine.evaluate import Options
from huiqi.engine.profile import Profile, parse_profile
from huiqi.engine.results import AmountKind, RuleResult, Status, Trace
from huiqi.errors import HuiqiError, ProfileError
from huiqi.regions import canonical_region
from huiqi.store.entities import in_force, raw_profile
from huiqi.store.errors import InvalidInput, NotFound
from huiqi.store.models import Application, Award, Call, Entity, Fact, Notice, Subscription
from huiqi.workflow.policy import PolicyEngine, ledger_of

if TYPE_CHECKING:
    from huiqi.store.db import Database
    from huiqi.workflow.webhooks import WebhookConfig

QUALIFYING = (Status.ELIGIBLE, Status.NEEDS_REVIEW)
#: At most this many lacking items are kept on a notice (the rest are summed up as “等N项”).
MAX_LACKING = 6


@dataclass(frozen=True)
class Target:
    """What the registry is matched against: a call (its provisions, period, date, readings, deadline), or a
    document just published (all its provisions with rules, as of today, no deadline)."""

    call_id: int | None
    title: str
    document_id: str
    provisions: tuple[str, ...]
    period: int
    as_of: dt.date | None  # None: the day of matching
    readings: dict[str, str]
    deadline: dt.date | None

    @property
    def key_prefix(self) -> str:
        return f"call:{self.call_id}" if self.call_id is not None else f"document:{self.document_id}"


def target_of_call(call: Call) -> Target:
    return Target(call.id, call.title, call.document_id, tuple(call.provisions), call.period, call.as_of,
                  dict(call.readings or {}), call.closes_on)  # fmt: skip


def target_of_document(policy: PolicyEngine, document_id: str, *, today: dt.date) -> Target:
    """A published document as a target: refused unless it is in force today (a draft, 征求意见稿, is not
    published; an expired or repealed one tells nobody anything)."""
    from huiqi.policy.status import Status as DocumentStatus
    from huiqi.policy.status import document_status

    try:
        loaded = policy.base.document(document_id)
    except HuiqiError as exc:
        raise NotFound(exc.message) from None
    meta = loaded.policy.document
    status = document_status(meta, today)
    if status is not DocumentStatus.IN_FORCE:
        raise InvalidInput(f"文件“{meta.title}”今天的状态是{status.value}，不通知：正式发布并生效后再运行",
                           where="document")  # fmt: skip
    provisions = tuple(p.id for p in loaded.policy.provisions if p.rules)
    return Target(None, meta.title, document_id, provisions, today.year - 1, today, {}, None)


# -- subscriptions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallTopics:
    """What a call is about, for subscriptions: its topic texts and the path of its region."""

    texts: tuple[str, ...]  # call title, document title and short title, document type, provision headings
    region_path: tuple[str, ...]  # the document's jurisdiction from the province down (江苏省, 苏州市)


def call_topics(call: Call | Target, policy: PolicyEngine) -> CallTopics:
    document = policy.base.document(call.document_id).policy
    meta = document.document
    texts = [call.title, meta.title, meta.short_title or "", meta.type.value]
    for provision in document.provisions:
        if provision.id in call.provisions:
            texts += [provision.heading or "", *(rule.label for rule in provision.rules)]
    return CallTopics(tuple(t for t in texts if t), region_path(meta.jurisdiction.region))


def region_path(name: str) -> tuple[str, ...]:
    """A region name and the divisions above it (苏州市 → 江苏省, 苏州市); the name alone when unknown."""
    try:
        return canonical_region([name], where="region", error=HuiqiError)
    except HuiqiError:
        return (name,)


def canonical_follow(kind: str, value: str) -> str:
    """The value to store for a followed topic or region (a region by its official name), or InvalidInput."""
    value = value.strip()
    if kind == "topic":
        if len(value) < 2 or len(value) > 30:
            raise InvalidInput("主题应为2至30个字，如“软件”“集成电路”“人才”", where="value")
        return value
    if kind == "region":
        if not value:
            raise InvalidInput("请填写地区，如“苏州市”“江苏省”", where="value")
        try:
            path = canonical_region([value], where="value", error=HuiqiError)
        except HuiqiError as exc:
            raise InvalidInput(exc.message, where="value") from None
        return path[-1]
    raise InvalidInput("关注类型应为主题或地区", where="kind")


def subscription_matches(follows: Iterable[tuple[str, str]], topics: CallTopics) -> bool:
    """Whether an entity following ``(kind, value)`` pairs hears of a call: nothing followed hears of all;
    otherwise, for each kind it follows, one value must match — a topic occurring in the call's texts, a
    region on the path of the document's jurisdiction (following 江苏省 hears of Suzhou's calls) or below
    it (following 苏州市 hears of Jiangsu's)."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, value in follows:
        by_kind[kind].append(value)
    if "topic" in by_kind and not any(t in text for t in by_kind["topic"] for text in topics.texts):
        return False
    if "region" in by_kind:
        jurisdiction = topics.region_path[-1] if topics.region_path else ""
        if not any(r in topics.region_path or jurisdiction in region_path(r) for r in by_kind["region"]):
            return False
    return True


# -- the nearness of one rule --------------------------------------------------------------------


def _unmet(trace: Trace) -> tuple[int, int]:
    """(unmet, unknown) conditions under one trace node: an ``all`` adds its members', an ``any`` takes
    its nearest member's (one met member meets it), a ``not`` or a leaf that fails is one."""
    if trace.kind in ("all", "tier") and trace.children:
        pairs = [_unmet(c) for c in trace.children]
        return sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    if trace.kind == "any" and trace.children:
        if trace.result is True:
            return 0, 0
        return min((_unmet(c) for c in trace.children), key=lambda p: (p[0] + p[1], p[0]))
    if trace.kind == "note":
        return 0, 0
    return (1, 0) if trace.result is False else (0, 1) if trace.result is None else (0, 0)


def unmet_conditions(rule: RuleResult) -> tuple[int, int]:
    """(unmet, unknown) conditions of a rule: those of its conditions, plus, when no tier is reached, those of
    its nearest tier."""
    unmet = unknown = 0
    tiers = [t for t in rule.trace if t.kind == "tier"]
    for node in rule.trace:
        if node.kind != "tier":
            a, b = _unmet(node)
            unmet, unknown = unmet + a, unknown + b
    if tiers and not any(t.result is True for t in tiers):
        a, b = min((_unmet(t) for t in tiers), key=lambda p: (p[0] + p[1], p[0]))
        unmet, unknown = unmet + a, unknown + b
    return unmet, unknown


@dataclass
class Finding:
    """What one entity is told of one provision."""

    match: str  # qualifies | nearly
    amount_fen: int | None
    amount_kind: str  # certain | ceiling | ""
    lacking: list[str] = field(default_factory=list)
    summary: str = ""


def _kind(amount_fen: int | None, *, is_ceiling: bool) -> str:
    if amount_fen is None:
        return ""
    return AmountKind.CEILING.value if is_ceiling else AmountKind.CERTAIN.value


def nearness(rule: RuleResult) -> Finding | None:
    """A rule's finding when it nearly qualifies (see the module docstring), else None."""
    if rule.status is Status.NEEDS_INFORMATION:
        lacking = [f"需补充：{m.label()}" for m in rule.missing] or [rule.reason]
        return Finding("nearly", rule.amount_fen, _kind(rule.amount_fen, is_ceiling=rule.is_ceiling), lacking,
                       rule.label)  # fmt: skip
    if rule.status is not Status.NOT_ELIGIBLE:
        return None
    unmet, unknown = unmet_conditions(rule)
    suggestion = rule.suggestion
    if unmet != 1 or unknown or suggestion is None or len(suggestion.changes) != 1:
        return None  # a yes/no condition that fails (未入选百强) is not “nearly”: no figure to reach
    return Finding("nearly", suggestion.amount_fen, _kind(suggestion.amount_fen, is_ceiling=suggestion.is_ceiling),
                   [suggestion.text], rule.label)  # fmt: skip


def _best(findings: list[Finding]) -> Finding | None:
    """The nearest of a provision's nearly rules: fewest lacking items, then the smaller amount (a firm missing
    its revenue is not promised the 50亿元 tier's 2,000万元 when the 1亿元 tier needs the same fact)."""
    if not findings:
        return None
    return min(findings, key=lambda f: (len(f.lacking), f.amount_fen if f.amount_fen is not None else 0))


# -- matching a call -------------------------------------------------------------------------------


@dataclass
class MatchReport:
    """What one matching run did."""

    call_id: int | None  # None: a document's matching
    considered: int = 0  # entities of a type the call is for, whose subscriptions let them hear of it
    skipped: list[str] = field(default_factory=list)  # entities whose registered facts cannot be evaluated
    qualifies: int = 0  # notices found this run (new or already there)
    nearly: int = 0
    new_notice_ids: list[int] = field(default_factory=list)
    population_ms: float = 0.0  # building the tables and running the compiled query
    explain_ms: float = 0.0  # the scalar engine's explanations


def _types_of(call: Target, policy: PolicyEngine) -> set[str]:
    types: set[str] = set()
    for provision in policy.base.document(call.document_id).policy.provisions:
        if provision.id in call.provisions:
            for rule in provision.rules:
                types.update([rule.applies_to] if isinstance(rule.applies_to, str) else rule.applies_to)
    return types


def _audience(session: Session, call: Target, policy: PolicyEngine) -> list[Entity]:
    types = _types_of(call, policy)
    topics = call_topics(call, policy)
    follows: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for sub in session.scalars(select(Subscription)):
        follows[sub.entity_id].append((sub.kind, sub.value))
    jurisdiction = policy.base.document(call.document_id).policy.document.jurisdiction.region
    entities = session.scalars(select(Entity).where(Entity.entity_type.in_(sorted(types))).order_by(Entity.id))
    # The document's query reaches an entity whose region names its jurisdiction, or is unknown; the others
    # are not even turned into profiles (a city's call does not read the whole country's registry).
    return [
        e
        for e in entities
        if (not e.region or jurisdiction in e.region) and subscription_matches(follows.get(e.id, []), topics)
    ]


@dataclass(frozen=True)
class RuleVerdict:
    """One rule's result for one entity, as the compiled query gives it."""

    rule: str
    label: str
    status: Status
    amount_fen: int | None
    is_ceiling: bool


def registry_profiles(
    session: Session, entities: list[Entity], policy: PolicyEngine
) -> tuple[list[tuple[str, Profile]], list[str]]:
    """What ``entity_profile`` builds for one entity, for many at once: the facts in force (``in_force``, one
    query per 500 entities instead of one per entity) and the award ledger of those that have awards.

    Returns (entity id as text, profile) and, for entities whose registered facts cannot be evaluated, why.
    """
    facts: dict[int, list[Fact]] = defaultdict(list)
    ids = [e.id for e in entities]
    for start in range(0, len(ids), 500):
        rows = session.scalars(select(Fact).where(Fact.entity_id.in_(ids[start : start + 500])).order_by(Fact.id))
        for row in in_force(rows):
            facts[row.entity_id].append(row)
    awarded = set(session.scalars(select(Award.entity_id).distinct()))
    profiles: list[tuple[str, Profile]] = []
    skipped: list[str] = []
    for entity in entities:
        mine = sorted(facts[entity.id], key=lambda f: (f.key, f.year or 0))  # as current_facts orders them
        try:
            profile = parse_profile(raw_profile(entity, mine), policy.base.catalogue, where="registry")
        except ProfileError as exc:
            skipped.append(f"{entity.name}：登记的事实无法用于评估：{exc.message}")
            continue
        if entity.id in awarded:
            profile.ledger = ledger_of(session, entity.id)
        profiles.append((str(entity.id), profile))
    return profiles, skipped


def classify_population(
    profiles: list[tuple[str, Profile]], call: Target, policy: PolicyEngine, *, as_of: dt.date
) -> dict[str, dict[str, list[RuleVerdict]]]:
    """The population engine's verdict: per entity id and provision of the call, each rule's
    rule's verdict — only entities and rules the document reaches."""
    from huiqi.compile.document import CODE_STATUS  # DuckDB and Arrow load only when a call is matched
    from huiqi.compile.duckdb_runner import DuckDBRunner
    from huiqi.compile.tables import profiles_to_tables

    entities, history, ledger = profiles_to_tables(profiles, policy.base.catalogue, period=call.period)
    runner = DuckDBRunner(policy.engine)
    try:
        runner.load_arrow(entities, history, ledger)
        query, table = runner.evaluate(call.document_id, period=call.period, as_of=as_of, readings=dict(call.readings))
    finally:
        runner.connection.close()
    wanted = [c for c in query.rules if c.provision in call.provisions]
    verdict: dict[str, dict[str, list[RuleVerdict]]] = {}
    for row in table.select(
        ["entity_id", *(c.status for c in wanted), *(c.amount for c in wanted if c.amount)]
    ).to_pylist():
        per: dict[str, list[RuleVerdict]] = defaultdict(list)
        for c in wanted:
            status = CODE_STATUS[int(row[c.status])]
            if status is not Status.NOT_APPLICABLE:
                amount = row[c.amount] if c.amount else None
                per[c.provision].append(RuleVerdict(c.rule, c.label, status, None if amount is None else int(amount),
                                                    c.is_ceiling))  # fmt: skip
        if per:
            verdict[row["entity_id"]] = dict(per)
    return verdict


def _qualifying(rules: list[RuleVerdict]) -> Finding | None:
    """A provision's finding from the query when some rule qualifies: the sum of the qualifying rules'
    amounts, a ceiling if one of them is (a sum with a bound in it is a bound)."""
    good = [r for r in rules if r.status in QUALIFYING]
    if not good:
        return None
    amounts = [r.amount_fen for r in good if r.amount_fen is not None]
    total = sum(amounts) if amounts else None
    ceiling = any(r.is_ceiling or r.status is Status.NEEDS_REVIEW for r in good if r.amount_fen is not None)
    return Finding("qualifies", total, _kind(total, is_ceiling=ceiling), summary="、".join(r.label for r in good))


def match_call(session: Session, *, call: Call, policy: PolicyEngine, today: dt.date | None = None) -> MatchReport:
    """Evaluate the registry for ``call`` and write the notices (see the module docstring); returns the report.

    Runs in the caller's transaction; notices already there are left as they are.
    """
    return match_target(session, target=target_of_call(call), policy=policy, today=today)


def match_target(
    session: Session, *, target: Target, policy: PolicyEngine, today: dt.date | None = None
) -> MatchReport:
    """``match_call`` for any target (a call, or a document just published)."""
    call = target
    today = today or beijing.today()
    as_of = call.as_of or today
    report = MatchReport(call_id=call.call_id)
    started = time.perf_counter()
    audience = _audience(session, call, policy)
    profiles, report.skipped = registry_profiles(session, audience, policy)
    by_key = {str(e.id): e for e in audience}
    report.considered = len(profiles)
    try:
        verdict = classify_population(profiles, call, policy, as_of=as_of) if profiles else {}
    except HuiqiError as exc:  # the document's rules or readings cannot be evaluated: said, not a traceback
        raise InvalidInput(f"无法按本批次的条款评估登记信息：{exc.message}", where=exc.where) from None
    report.population_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    profile_of = dict(profiles)
    findings: dict[tuple[str, str], Finding] = {}
    for entity_key, per in verdict.items():
        explain: list[str] = []
        for provision, rules in per.items():
            found = _qualifying(rules)
            if found is not None:
                findings[(entity_key, provision)] = found
            elif any(r.status in (Status.NEEDS_INFORMATION, Status.NOT_ELIGIBLE) for r in rules):
                explain.append(provision)
        if explain:
            options = Options(as_of=as_of, period=call.period, documents=(call.document_id,),
                              readings=dict(call.readings))  # fmt: skip
            try:
                evaluation = policy.engine.evaluate(profile_of[entity_key], options)
            except HuiqiError as exc:
                raise InvalidInput(f"无法按本批次的条款评估登记信息：{exc.message}", where=exc.where) from None
            for provision in explain:
                near = [n for r in evaluation.rules() if r.provision == provision and (n := nearness(r))]
                best = _best(near)
                if best is not None:
                    findings[(entity_key, provision)] = best
    report.explain_ms = (time.perf_counter() - started) * 1000
    headings = provision_headings(call, policy)
    told = select(Notice.entity_id, Notice.key)
    if call.call_id is not None:
        told = told.where(Notice.call_id == call.call_id)
    else:
        told = told.where(Notice.call_id.is_(None), Notice.document_id == call.document_id)
    existing = {(e, k) for e, k in session.execute(told)}
    new: list[Notice] = []
    for (entity_key, provision), found in sorted(findings.items(), key=lambda kv: (int(kv[0][0]), kv[0][1])):
        entity = by_key[entity_key]
        if found.match == "qualifies":
            report.qualifies += 1
        else:
            report.nearly += 1
        key = f"{call.key_prefix}:{provision}"
        if (entity.id, key) in existing:
            continue
        lacking = found.lacking[:MAX_LACKING]
        if len(found.lacking) > MAX_LACKING:
            lacking.append(f"等{len(found.lacking)}项")
        summary = "：".join(x for x in (headings.get(provision, provision), found.summary) if x)
        new.append(Notice(entity_id=entity.id, key=key, call_id=call.call_id, document_id=call.document_id,
                          provision_id=provision, match=found.match, amount_fen=found.amount_fen,
                          amount_kind=found.amount_kind, deadline=call.deadline, lacking=lacking,
                          summary=summary[:500], delivery="in_app", delivery_attempts=0))  # fmt: skip
    session.add_all(new)
    session.flush()  # one batch; a notice another run wrote meanwhile fails it (see match_committed)
    report.new_notice_ids = [n.id for n in new]
    return report


def provision_headings(call: Call | Target, policy: PolicyEngine) -> dict[str, str]:
    out = {}
    for provision in policy.base.document(call.document_id).policy.provisions:
        if provision.id in call.provisions:
            out[provision.id] = " ".join(p for p in (provision.number, provision.heading) if p) or provision.id
    return out


def match_call_id(session: Session, *, call_id: int, policy: PolicyEngine, today: dt.date | None = None) -> MatchReport:
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"未找到申报批次 {call_id}")
    return match_call(session, call=call, policy=policy, today=today)


# -- what an official sees ------------------------------------------------------------------------


@dataclass(frozen=True)
class CallReach:
    """How many entities a call's matching told, and how many of them applied."""

    told: int  # entities told (qualifies or nearly)
    qualifies: int
    nearly: int
    read: int  # entities that opened at least one of their notices
    applied: int  # told entities with a submitted application to the call
    applied_total: int  # every submitted application to the call (told or not)
    failed_deliveries: int  # notices the webhook could not deliver


def call_reach(session: Session, call_id: int) -> CallReach:
    rows = session.execute(select(Notice.entity_id, Notice.match, Notice.read_at, Notice.delivery)
                           .where(Notice.call_id == call_id)).all()  # fmt: skip
    match_of: dict[int, str] = {}
    read: set[int] = set()
    for entity_id, match, read_at, _delivery in rows:
        if match == "qualifies" or entity_id not in match_of:
            match_of[entity_id] = match
        if read_at is not None:
            read.add(entity_id)
    submitted = set(session.scalars(select(Application.entity_id).where(
        Application.call_id == call_id, Application.submitted_at.is_not(None))))  # fmt: skip
    values = list(match_of.values())
    return CallReach(told=len(match_of), qualifies=values.count("qualifies"), nearly=values.count("nearly"),
                     read=len(read), applied=len(submitted & set(match_of)), applied_total=len(submitted),
                     failed_deliveries=sum(1 for r in rows if r[3] == "failed"))  # fmt: skip


@dataclass(frozen=True)
class ToldRow:
    """One entity told of a call, as the official's list shows it."""

    entity_id: int
    name: str
    uscc: str | None
    provisions: tuple[str, ...]
    match: str  # qualifies when any of its notices does
    read: bool
    applied: bool


def told_entities(session: Session, call_id: int, *, limit: int = 500) -> list[ToldRow]:
    """The entities told of a call (qualifying first, then by name), with whether they read and applied."""
    rows = session.execute(select(Notice.entity_id, Notice.provision_id, Notice.match, Notice.read_at)
                           .where(Notice.call_id == call_id).order_by(Notice.id)).all()  # fmt: skip
    grouped: dict[int, dict[str, Any]] = {}
    for entity_id, provision, match, read_at in rows:
        item = grouped.setdefault(entity_id, {"provisions": [], "match": match, "read": False})
        item["provisions"].append(provision)
        if match == "qualifies":
            item["match"] = "qualifies"
        item["read"] = item["read"] or read_at is not None
    submitted = set(session.scalars(select(Application.entity_id).where(
        Application.call_id == call_id, Application.submitted_at.is_not(None))))  # fmt: skip
    entities = {e.id: e for e in session.scalars(select(Entity).where(Entity.id.in_(list(grouped))))} if grouped else {}
    out = [ToldRow(entity_id, entities[entity_id].name, entities[entity_id].uscc, tuple(item["provisions"]),
                   item["match"], item["read"], entity_id in submitted)
           for entity_id, item in grouped.items() if entity_id in entities]  # fmt: skip
    out.sort(key=lambda r: (r.match != "qualifies", r.name))
    return out[:limit]


# -- what an entity sees --------------------------------------------------------------------------


def notices_for(session: Session, entity_id: int, *, limit: int | None = None) -> list[Notice]:
    """An entity's notices: unread first, then the newest."""
    query = (
        select(Notice)
        .where(Notice.entity_id == entity_id)
        .order_by(Notice.read_at.is_not(None), Notice.created_at.desc(), Notice.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def unread_count(session: Session, entity_id: int) -> int:
    query = select(func.count()).select_from(Notice).where(Notice.entity_id == entity_id, Notice.read_at.is_(None))
    return int(session.scalar(query) or 0)


def mark_read(session: Session, *, entity_id: int, notice_id: int | None, now: dt.datetime) -> int:
    """Mark one notice of the entity (or all of them, ``notice_id`` None) read; returns how many changed.

    Another entity's notice is NotFound, never touched."""
    query = select(Notice).where(Notice.entity_id == entity_id, Notice.read_at.is_(None))
    if notice_id is not None:
        notice = session.get(Notice, notice_id)
        if notice is None or notice.entity_id != entity_id:
            raise NotFound("未找到该通知")
        query = query.where(Notice.id == notice_id)
    changed = 0
    for notice in session.scalars(query):
        notice.read_at = now
        changed += 1
    return changed


def follows_of(session: Session, entity_id: int) -> list[Subscription]:
    return list(session.scalars(select(Subscription).where(Subscription.entity_id == entity_id)
                                .order_by(Subscription.kind, Subscription.id)))  # fmt: skip


def follow(session: Session, *, entity_id: int, kind: str, value: str) -> Subscription:
    """Follow a topic or region (the same one twice is refused with a message)."""
    canonical = canonical_follow(kind, value)
    existing = session.scalar(select(Subscription).where(Subscription.entity_id == entity_id,
                                                         Subscription.kind == kind, Subscription.value == canonical))  # fmt: skip
    if existing is not None:
        label = "主题" if kind == "topic" else "地区"
        raise InvalidInput(f"已经关注了{label}“{canonical}”", where="value")
    if len(follows_of(session, entity_id)) >= 50:
        raise InvalidInput("最多关注50个主题和地区，请先取消一些", where="value")
    subscription = Subscription(entity_id=entity_id, kind=kind, value=canonical)
    session.add(subscription)
    session.flush()
    return subscription


def unfollow(session: Session, *, entity_id: int, subscription_id: int) -> None:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.entity_id != entity_id:
        raise NotFound("未找到该关注")
    session.delete(subscription)
    session.flush()


def notice_json(notice: Notice, *, entity: Entity, call: Call | None) -> dict[str, Any]:
    """A notice as the webhook sends it (amounts in fen and as Chinese text; a ceiling is marked)."""
    from huiqi.money import format_cn

    amount_text = None
    if notice.amount_fen is not None:
        prefix = "最高" if notice.amount_kind == "ceiling" else ""
        amount_text = prefix + format_cn(notice.amount_fen)
    return {
        "schema": "huiqi.notice/1",
        "id": notice.id,
        "key": notice.key,
        "entity": {"id": entity.id, "name": entity.name, "uscc": entity.uscc},
        "call": None if call is None else {"id": call.id, "title": call.title},
        "document": notice.document_id,
        "provision": notice.provision_id,
        "match": notice.match,
        "amount_fen": notice.amount_fen,
        "amount_kind": notice.amount_kind or None,
        "amount_text": amount_text,
        "deadline": None if notice.deadline is None else notice.deadline.isoformat(),
        "lacking": list(notice.lacking or []),
        "summary": notice.summary,
    }


# -- one run: match in a transaction, then deliver ------------------------------------------------


def match_committed(
    database: Database,
    policy: PolicyEngine,
    call_id: int | None = None,
    *,
    document_id: str | None = None,
    today: dt.date | None = None,
) -> MatchReport:
    """Match a call (or, with ``document_id``, a document just published) in its own transaction, committed.

    Two runs at once (the background run after opening and a 重新匹配) may both try to write the same notice:
    the unique key refuses the second, which then runs once more and finds it told."""
    for attempt in range(2):
        try:
            with database.transaction() as session:
                if call_id is not None:
                    return match_call_id(session, call_id=call_id, policy=policy, today=today)
                assert document_id is not None, "a call or a document"
                target = target_of_document(policy, document_id, today=today or beijing.today())
                return match_target(session, target=target, policy=policy, today=today)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def notify_call(
    database: Database,
    policy: PolicyEngine,
    call_id: int | None,
    *,
    document_id: str | None = None,
    webhook: WebhookConfig | None = None,
    today: dt.date | None = None,
) -> MatchReport:
    """Match a call, or a document just published (``match_committed``), then deliver the new notices by
    webhook when one is configured (``huiqi.workflow.webhooks.WebhookConfig``) and try again the failed
    deliveries of the same call or document. What the CLI and the API's background task run."""
    report = match_committed(database, policy, call_id, document_id=document_id, today=today)
    if webhook is not None:
        deliver_pending(database, webhook, call_id, report.new_notice_ids, document_id=document_id)
    return report


def deliver_pending(
    database: Database,
    webhook: WebhookConfig,
    call_id: int | None,
    new_ids: list[int],
    *,
    document_id: str | None = None,
) -> None:
    """Deliver a run's new notices and try again those of the call (or document) whose delivery failed before."""
    from huiqi.workflow.webhooks import deliver, failed_notice_ids

    ids = list(dict.fromkeys([*new_ids, *failed_notice_ids(database, call_id, document_id=document_id)]))
    if ids:
        deliver(database, webhook, ids)


def webhook_of(settings: Any) -> WebhookConfig | None:
    """The webhook configuration of the service settings, or None when no URL is set."""
    from huiqi.workflow.webhooks import WebhookConfig

    if not getattr(settings, "webhook_url", None):
        return None
    return WebhookConfig(url=settings.webhook_url, secret=settings.webhook_secret or "",
                         timeout_s=settings.webhook_timeout_s)  # fmt: skip


def notify_in_background(database: Database, policy: PolicyEngine, call_id: int, settings: Any) -> None:
    """``notify_call`` for a background task: a failure is logged, never raised into the server."""
    import logging

    try:
        notify_call(database, policy, call_id, webhook=webhook_of(settings))
    except Exception:  # a background task has nobody to answer: log it, the official can 重新匹配
        logging.getLogger("huiqi.matching").exception("政策找企业：批次 %s 匹配失败", call_id)
