"""Which facts a set of documents reads: the columns a population load needs.

A population's entity table has one column per non-annual fact of the whole catalogue and its history one
per annual fact; a document reads a few of them. Loading only those (``DuckDBRunner.load_parquet(folder,
facts=...)``) skips the Parquet columns of other documents' facts, mostly null, which were most of the
loading time (docs/population.md, "Against the peers").

The set is read from the documents' own texts — every rule's conditions, benefit figures, tiers, steps and
caps, every definition and every reading option they name, followed through definitions and readings — so
it covers every reading and every assessed year at once. A fact missing from it would make the compiled
query name a column the table lacks, an error, never a silent wrong result; the parity tests compare a
pruned load with a full one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from huiqi.engine.ruleset import CompiledDocument
from huiqi.errors import HuiqiError
from huiqi.expr import ast
from huiqi.expr.parser import parse
from huiqi.facts.catalogue import Catalogue, Period
from huiqi.policy.models import Rule

#: facts the compiled queries read without a document naming them: the year of founding decides the largest
#: revenue before a year the entity did not exist (``max_before``, ``first_reached``)
IMPLIED = ("established_on",)


def _rule_texts(rule: Rule) -> list[str]:
    """Every text of a rule that may be an expression: each string (and number) in its conditions, benefit
    (amount, base, rate, ceiling, index, tiers, steps, items, whatever the form), caps and instalments.
    Labels and quotes are read too and simply fail to parse or name no fact: an extra column costs little,
    a missing one would be an error."""
    texts: list[str] = []
    pending: list[Any] = [rule.model_dump(exclude={"label", "quote", "span", "note", "units_quote"})]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
        elif isinstance(value, str):
            texts.append(value)
    return texts


def _names(text: str) -> list[str]:
    try:
        return ast.names(parse(text))
    except HuiqiError:
        return []  # a label, a mode, an id: not an expression


def facts_read(documents: Iterable[CompiledDocument], catalogue: Catalogue) -> set[str]:
    """The catalogue facts (entity and annual) the documents' rules can read, under any reading."""
    found: set[str] = {key for key in IMPLIED if key in catalogue}
    for document in documents:
        scope = document.loaded.scope
        pending = [name for rule in document.rules for text in _rule_texts(rule.rule) for name in _names(text)]
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in catalogue:
                found.add(name)
            elif name in scope.definitions:
                pending.extend(ast.names(scope.definitions[name]))
            elif name in scope.reading_names:
                for node in scope.reading_names[name][1].values():
                    pending.extend(ast.names(node))
    return found


def split_facts(facts: Iterable[str], catalogue: Catalogue) -> tuple[set[str], set[str]]:
    """(entity facts, annual facts) of a set of fact keys; keys the catalogue does not hold are left out."""
    entity: set[str] = set()
    annual: set[str] = set()
    for key in facts:
        if key in catalogue:
            (annual if catalogue[key].period is Period.ANNUAL else entity).add(key)
    return entity, annual
