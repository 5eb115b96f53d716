"""The policy base as the platform sees it: one compiled engine per process, a version hash per
document, and the evaluation of a registered entity with its award ledger.

The version hash covers the document's policy file, its source text and the fact catalogue, so an
application frozen at submission says exactly which rules judged it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi.engine.env import LedgerEntry
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import Profile, parse_profile
from huiqi.engine.results import Evaluation
from huiqi.errors import EvaluationError, ProfileError
from huiqi.policy.base import LoadedDocument, PolicyBase, default_policies_dir
from huiqi.store.entities import current_facts, facts_used, raw_profile
from huiqi.store.errors import InvalidInput
from huiqi.store.models import Award, Entity


@dataclass
class PolicyEngine:
    """A loaded policy base and its engine (compiled once: loading takes a fraction of a second)."""

    base: PolicyBase
    engine: Engine

    def version(self, document_id: str, on: dt.date | None = None) -> str:
        """The version hash of the document (of the version in force on ``on`` when it was amended)."""
        if on is None or document_id not in self.base.versions:
            return _version(self.base.root, document_id)
        return version_hash(self.base.in_force(document_id, on).folder, self.base.root)

    def version_with_hash(self, document_id: str, digest: str) -> LoadedDocument | None:
        """The version of a document whose hash is ``digest`` (what an application froze), or None."""
        for version in self.base.versions_of(document_id):
            if version_hash(version.folder, self.base.root) == digest:
                return version
        return None

    def provision_ids(self, document_id: str) -> list[str]:
        return [p.id for p in self.base.document(document_id).policy.provisions]


@functools.cache
def policy_engine(root: Path | None = None) -> PolicyEngine:
    """The process-wide engine for a policy folder (``$HUIQI_POLICIES`` or the project's by default)."""
    base = PolicyBase.load(root or default_policies_dir())
    return PolicyEngine(base, Engine(base))


def _version(root: Path, document_id: str) -> str:
    return version_hash(root / document_id, root)


@functools.cache
def version_hash(folder: Path, root: Path) -> str:
    """SHA-256 of a version's policy file and text and the fact catalogue of the base at ``root``."""
    digest = hashlib.sha256()
    for path in [folder / "policy.yaml", folder / "source.txt", *sorted((root / "_facts").glob("*.yaml"))]:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def ledger_of(session: Session, entity_id: int) -> tuple[LedgerEntry, ...]:
    """The entity's awards that stand (not clawed back) as the engine's ledger.

    An award that reached several tiers at once is one amount: it is entered under its first tier and
    the other tiers are entered with 0, so the engine sees both the total paid and every tier reached.
    """
    entries: list[LedgerEntry] = []
    awards = session.scalars(
        select(Award).where(Award.entity_id == entity_id, Award.state != "clawed_back").order_by(Award.id)
    )
    for award in awards:
        tiers: list[str | None] = [*award.tiers] or [None]
        for index, tier in enumerate(tiers):
            amount = award.amount_fen if index == 0 else 0
            entries.append(LedgerEntry(rule=award.rule_ref, period=award.period, amount_fen=amount, tier=tier,
                                       quarter=award.quarter or None))  # fmt: skip
    return tuple(entries)


def ledger_json(ledger: tuple[LedgerEntry, ...]) -> list[dict[str, Any]]:
    """The ledger an evaluation read, as an application freezes it (for ``huiqi applications replay``)."""
    return [{"rule": e.rule, "period": e.period, "amount_fen": e.amount_fen, "tier": e.tier,
             **({"quarter": e.quarter} if e.quarter else {})} for e in ledger]  # fmt: skip


def entity_profile(session: Session, entity: Entity, policy: PolicyEngine) -> tuple[Profile, list[dict[str, Any]]]:
    """The entity's profile from the facts in force and its ledger, and those facts with provenance."""
    facts = current_facts(session, entity.id)
    try:
        profile = parse_profile(raw_profile(entity, facts), policy.base.catalogue, where="registry")
    except ProfileError as exc:
        raise InvalidInput(f"登记的事实无法用于评估：{exc.message}", where=exc.where) from None
    profile.ledger = ledger_of(session, entity.id)
    return profile, facts_used(facts)


def evaluate_entity(
    session: Session,
    *,
    entity: Entity,
    policy: PolicyEngine,
    documents: tuple[str, ...],
    as_of: dt.date,
    period: int | None,
    readings: dict[str, str] | None = None,
    quarter: int | None = None,
) -> tuple[Evaluation, list[dict[str, Any]]]:
    """Evaluate a registered entity against named documents (for a quarter of ``period`` when given), with
    its award ledger."""
    profile, used = entity_profile(session, entity, policy)
    options = Options(as_of=as_of, period=period, documents=documents, readings=dict(readings or {}),
                      quarter=quarter)  # fmt: skip
    try:
        return policy.engine.evaluate(profile, options), used
    except EvaluationError as exc:
        raise InvalidInput(exc.message, where=exc.where) from None
