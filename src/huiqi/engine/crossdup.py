"""不得重复享受 across documents: which awards under other documents of the base rule out a rule.

A document's ``non_duplication.excludes`` (docs/authoring.md §7a) names the other documents it does not
stack with — by id, or by level, region and kind (同类政策). Two rules conflict when one of their documents
declares the other and, under ``same_matter``, both carry the same ``matter`` (同一事项). The clause binds
both ways: "本文件与其他同类政策不得重复享受" forbids taking the other after this one as much as this one
after the other, so the conflict is recorded on the rules of both documents.

An award conflicts when it was paid in the assessed year or, under 同一事项, in any year when either rule
is 一次性 (``once``: a one-off award for a matter is the same matter whenever it was paid). Awards under documents
outside the policy base cannot be recognised here; a document keeps its applicant's pledge for those.

This is the one definition both engines read: the scalar engine (``huiqi.engine.evaluate``) and the
population engine's SQL (``huiqi.compile.document``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from huiqi.policy.models import CrossExclusion, Document

from .env import LedgerEntry

if TYPE_CHECKING:  # ruleset holds the conflicts it is given; this module only reads compiled rules
    from .ruleset import CompiledDocument, CompiledRule


@dataclass(frozen=True, slots=True)
class Conflict:
    """An award under another document's rule that rules this rule out."""

    ledger_ref: str  # the other rule's ledger key
    document: str
    title: str
    provision: str  # the provision's id (二.4), as the policy base and the explanation name it
    label: str
    any_year: bool  # a one-off matter: an award in any year conflicts
    declared_by: str  # the document whose clause says so
    quote: str  # that clause, verbatim
    matter: str | None
    #: ("<document>:<reading key>", option) the clause holds under
    when_reading: tuple[tuple[str, str], ...] = ()

    def holds(self, readings: Mapping[str, str]) -> bool:
        """Whether the clause is in effect under these readings."""
        return all(readings.get(key) == value for key, value in self.when_reading)

    def matches(self, entry: LedgerEntry, period: int) -> bool:
        """Whether a ledger entry is an award this conflict names."""
        return entry.rule == self.ledger_ref and entry.amount_fen > 0 and (self.any_year or entry.period == period)


def _covers(exclusion: CrossExclusion, own: Document, other: Document) -> bool:
    if other.id in exclusion.documents:
        return True
    if exclusion.level is None and exclusion.region is None and not exclusion.same_kind:
        return False
    return (
        (exclusion.level is None or other.jurisdiction.level == exclusion.level)
        and (exclusion.region is None or other.jurisdiction.region == exclusion.region)
        and (not exclusion.same_kind or bool(set(own.kinds) & set(other.kinds)))
    )


def _pays(rule: CompiledRule) -> bool:
    """A rule that grants support (an amount, or one officials fix), not one that only decides eligibility."""
    return rule.rule.benefit.form != "none" or rule.rule.benefit.review


def compute_conflicts(documents: Mapping[str, CompiledDocument]) -> dict[str, dict[str, list[Conflict]]]:
    """Per document id, per rule reference: the awards under other documents that rule the rule out."""
    found: dict[str, dict[str, list[Conflict]]] = {doc_id: {} for doc_id in documents}
    for declaring in documents.values():
        meta = declaring.loaded.policy.document
        if meta.non_duplication is None:
            continue
        for exclusion in meta.non_duplication.excludes:
            when = tuple((f"{meta.id}:{k}", v) for k, v in sorted(exclusion.when_reading.items()))
            for other in documents.values():
                other_meta = other.loaded.policy.document
                if other_meta.id == meta.id or not _covers(exclusion, meta, other_meta):
                    continue
                for mine in declaring.rules:
                    for theirs in other.rules:
                        if not (_pays(mine) and _pays(theirs)):
                            continue
                        if exclusion.same_matter and (
                            mine.rule.matter is None or mine.rule.matter != theirs.rule.matter
                        ):
                            continue
                        any_year = exclusion.same_matter and (mine.rule.once or theirs.rule.once)
                        pairs = ((mine, theirs, other), (theirs, mine, declaring))
                        for rule, against, against_document in pairs:
                            against_meta = against_document.loaded.policy.document
                            found[rule.document.id].setdefault(rule.ref, []).append(
                                Conflict(
                                    ledger_ref=against.ledger_ref,
                                    document=against_meta.id,
                                    title=against_meta.short_title or against_meta.title,
                                    provision=against.provision.id,
                                    label=against.rule.label,
                                    any_year=any_year,
                                    declared_by=meta.id,
                                    quote=meta.non_duplication.quote,
                                    matter=mine.rule.matter if exclusion.same_matter else None,
                                    when_reading=when,
                                )
                            )
    return found


def attach_conflicts(documents: Mapping[str, CompiledDocument]) -> None:
    """Fill ``conflicts`` of every document of a compiled base."""
    for doc_id, conflicts in compute_conflicts(documents).items():
        documents[doc_id].conflicts = conflicts


def find_conflict(
    conflicts: list[Conflict] | None, ledger: tuple[LedgerEntry, ...], period: int, readings: Mapping[str, str]
) -> tuple[Conflict, LedgerEntry] | None:
    """The first award in the ledger that rules the rule out, with the conflict that names it."""
    if not conflicts or not ledger:
        return None
    for conflict in conflicts:
        if not conflict.holds(readings):
            continue
        for entry in ledger:
            if conflict.matches(entry, period):
                return conflict, entry
    return None
