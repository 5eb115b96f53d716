"""What a loaded population holds, as far as the document queries can leave work out because of it.

A document query tests, for every row, whether the entity type is one its rules apply to and whether the
region lies in the document's jurisdiction (or is unknown). On a registry of one city and one entity type
those tests are the same for every row, and they are not free: the region filter in particular cuts the
rows DuckDB passes on into slices, and every expression after it runs slower on slices (measured on the
peer benchmark: the conditions of nine rules cost 0.014 s on a million whole rows, 0.085 s behind the
filter). ``PopulationShape`` records the distinct entity types of the loaded entity table and, for each
jurisdiction asked about, how many rows lie inside it, have no region, or lie outside; ``build_document_query`` then leaves out

- the region filter when no entity lies outside the jurisdiction (every row is reached anyway);
- the "region unknown" status test when no reached entity has an unknown region;
- the applicability test of rules whose entity types include every type present;
- the ledger aggregates of rules no row of the ledger names (what was paid, the years and tiers paid, the
  awards that rule a rule out): they are NULL for every entity, and a query that needs none has no ledger
  grouping and no join with it. A registry's ledger usually names few of the rules (and a first year's none).

Each of these is a test whose outcome the shape decides for every row, so the results are the same as
without the shape (``tests/compile/test_shape.py`` checks it on mixed and uniform populations). The shape
belongs to the tables it was read from: the DuckDB runner reads it after each load and never reuses it
for other tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

#: rows whose region list contains a region, whose region is unknown (null or empty), and the rest
RegionCounts = tuple[int, int, int]


@dataclass
class PopulationShape:
    """The entity types of an entity table, and how its rows split over a document's jurisdiction.

    ``count_regions`` counts the rows for one region (the runner asks its database: one pass over the
    region column, 0.015 s for a million entities, only for the jurisdictions the documents evaluated
    have); each region is counted once.
    """

    types: frozenset[str | None]
    count_regions: Callable[[str], RegionCounts]
    #: the rule references the ledger names (its ``rule`` column); None when not known
    ledger_rules: frozenset[str] | None = None
    #: several regions counted in one pass (``count``); None: one by one
    count_many: Callable[[list[str]], dict[str, RegionCounts]] | None = None
    _regions: dict[str, RegionCounts] = field(default_factory=dict)

    def paid_under(self, ref: str) -> bool:
        """Whether the ledger may hold awards under a rule (``<document>:<provision>/<rule>``), or under a
        provision's rules (``<document>:<provision>/``, with the slash); true when the ledger is not known."""
        if self.ledger_rules is None:
            return True
        if ref.endswith("/"):
            return any(rule.startswith(ref) for rule in self.ledger_rules)
        return ref in self.ledger_rules

    def count(self, regions: Iterable[str]) -> None:
        """Count the regions not counted yet in one pass where the runner can (``count_many``): the
        jurisdictions of the documents a run is about to query, which would otherwise each read the region
        column (four of them at 10,000,000 entities: 0.94–0.99 → 0.42 s)."""
        wanted = [region for region in dict.fromkeys(regions) if region not in self._regions]
        if len(wanted) > 1 and self.count_many is not None:
            self._regions.update(self.count_many(wanted))

    def region_counts(self, region: str) -> RegionCounts:
        """Rows whose region list contains ``region``, whose region is unknown (null or empty), and the rest:
        the same split as the query's ``CASE WHEN array_length(region) > 0 THEN list_contains(region, …) END``."""
        if region not in self._regions:
            self._regions[region] = self.count_regions(region)
        return self._regions[region]

    def all_of_types(self, types: Iterable[str]) -> bool:
        """Whether every row's entity type is one of ``types`` (a null type passes the query's test too:
        ``NOT (NULL IN (…))`` is null, which no WHEN takes)."""
        return self.types <= {*types, None}
