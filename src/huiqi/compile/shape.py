"""What a loaded population holds, as far as the document queries can leave work out because of it.

A document query tests, for every row, whether the entity type is one its rules apply to and whether the
region lies in the document's jurisdiction (or is unknown). On a registry of one city and one entity type
those tests are the same for every row, and they are not free: the region filter in particular cuts the
rows DuckDB passes on into slices, and every expression after it runs slower on slices (measured on the
peer benchmark: the conditions of nine rules cost 0.014 s on a million whole rows, 0.085 s behind the
filter). ``PopulationShape`` records the distinct entity types and region lists of the loaded entity
table with their counts; ``build_document_query`` then leaves out

- the region filter when no entity lies outside the jurisdiction (every row is reached anyway);
- the "region unknown" status test when no reached entity has an unknown region;
- the applicability test of rules whose entity types include every type present.

Each of these is a test whose outcome the shape decides for every row, so the results are the same as
without the shape (``tests/compile/test_shape.py`` checks it on mixed and uniform populations). The shape
belongs to the tables it was read from: the DuckDB runner reads it after each load and never reuses it
for other tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class PopulationShape:
    """The distinct (entity type, region list) pairs of an entity table, with their row counts."""

    #: (entity_type or None, region list or None, rows)
    groups: tuple[tuple[str | None, tuple[str | None, ...] | None, int], ...]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str | None, list[str | None] | None, int]]) -> PopulationShape:
        return cls(tuple((kind, None if region is None else tuple(region), int(n)) for kind, region, n in rows))

    def region_counts(self, region: str) -> tuple[int, int, int]:
        """Rows whose region list contains ``region``, whose region is unknown (null or empty), and the rest.

        The same test as the query's ``CASE WHEN array_length(region) > 0 THEN list_contains(region, …) END``.
        """
        inside = unknown = outside = 0
        for _, names, rows in self.groups:
            if not names:
                unknown += rows
            elif region in names:
                inside += rows
            else:
                outside += rows
        return inside, unknown, outside

    def all_of_types(self, types: Iterable[str]) -> bool:
        """Whether every row's entity type is one of ``types`` (a null type passes the query's test too:
        ``NOT (NULL IN (…))`` is null, which no WHEN takes)."""
        allowed = set(types)
        return all(kind is None or kind in allowed for kind, _, _ in self.groups)
