"""Which facts a set of documents reads: the columns a population load needs.

A population's entity table has one column per non-annual fact of the whole catalogue and its history one
per annual fact; a document reads a few of them. Loading only those (``DuckDBRunner.load_parquet(folder,
facts=...)``) skips the Parquet columns of other documents' facts, mostly null, which were most of the
loading time (docs/population.md, "Against the peers").

The set is read from the documents' own texts — every rule's conditions, benefit figures, tiers, steps,
items, caps and instalments, followed through definitions and every reading option — so it covers every
reading and every assessed year at once. A fact missing from it would make the compiled
query name a column the table lacks, an error, never a silent wrong result; the parity tests compare a
pruned load with a full one.
"""

from __future__ import annotations

from collections.abc import Iterable

from huiqi.engine.ruleset import CompiledDocument
from huiqi.facts.catalogue import Catalogue, Period
from huiqi.policy.base import facts_over_years, facts_used

#: facts the compiled queries read without a document naming them: the year of founding decides the largest
#: revenue before a year the entity did not exist (``max_before``, ``first_reached``)
IMPLIED = ("established_on",)


def facts_read(documents: Iterable[CompiledDocument], catalogue: Catalogue) -> set[str]:
    """The catalogue facts (entity and annual) the documents' rules can read, under any reading: for each
    rule, what ``huiqi.policy.base.facts_used`` finds (the same walk ``validate`` checks entity types with)."""
    found: set[str] = {key for key in IMPLIED if key in catalogue}
    for document in documents:
        scope = document.loaded.scope
        for rule in document.rules:
            found.update(facts_used(rule.rule, scope))
    return found


def annual_over_years(documents: Iterable[CompiledDocument], catalogue: Catalogue) -> set[str]:
    """The annual facts the documents' rules can read at a year other than the assessed one, under any reading
    (``huiqi.policy.base.facts_over_years``): of the history, every other annual fact is needed at the assessed
    year only."""
    found: set[str] = set()
    for document in documents:
        scope = document.loaded.scope
        for rule in document.rules:
            found.update(facts_over_years(rule.rule, scope))
    return {key for key in found if key in catalogue and catalogue[key].period is Period.ANNUAL}


def split_facts(facts: Iterable[str], catalogue: Catalogue) -> tuple[set[str], set[str]]:
    """(entity facts, annual facts) of a set of fact keys; keys the catalogue does not hold are left out."""
    entity: set[str] = set()
    annual: set[str] = set()
    for key in facts:
        if key in catalogue:
            (annual if catalogue[key].period is Period.ANNUAL else entity).add(key)
    return entity, annual
