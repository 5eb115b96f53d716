"""Lists of items in SQL (``per_item`` benefits, docs/authoring.md §5): one aggregate per rule over the items.

A list fact is a column of ``LIST(STRUCT(field …))`` on the entity table. For a rule paying per item, a CTE
unnests the list of every reachable entity (``UNNEST`` in DuckDB, ``EXPLODE`` once transpiled for Spark),
computes each item exactly as the scalar engine does — whether it counts (``where``), its amount, the cap
of the first ``item_caps`` entry that holds, rounded half up to the fen — and sums per entity:

- ``<p>_pis``: the fen of the items counted; ``<p>_pic``: how many were counted;
- ``<p>_piu``: how many could not be decided (a field missing): the rule then needs information.

The rule's state is then unknown (the list itself missing, or an item undecided), not reached (no item
counted, as "没有符合条件的…项目") or ok with the sum as its amount; caps per entity follow as for any rule.
"""

from __future__ import annotations

from typing import Any

from huiqi.engine.ruleset import CompiledRule
from huiqi.expr.parser import parse
from huiqi.facts.catalogue import Catalogue

from .sql import NoTranslation, SqlContext, quote_ident, translate
from .tables import ROW_KEY

#: the alias of the item being computed, a struct column
ITEM = "_it"


def _item_sql(ctx: SqlContext, text: str | int, fields: dict[str, str]) -> str:
    """An expression over ``item_<field>`` and the entity's columns, translated where the item is in scope:
    nothing is hoisted into per-entity columns (they would not see the item) and definitions are inlined."""
    saved = (ctx.item_fields, ctx.shared, ctx.definition_columns)
    ctx.item_fields, ctx.shared, ctx.definition_columns = fields, None, None
    try:
        return translate(parse(str(text)), ctx)
    finally:
        ctx.item_fields, ctx.shared, ctx.definition_columns = saved


def _condition_sql(ctx: SqlContext, condition: Any, fields: dict[str, str]) -> str:
    """A condition as written in policy.yaml (string, {expr}, {all}, {any}, {not}), three-valued."""
    if isinstance(condition, bool):
        return "TRUE" if condition else "FALSE"
    if isinstance(condition, str | int):
        return _item_sql(ctx, condition, fields)
    keys = set(condition) - {"__lines__", "label"}
    if keys == {"expr"}:
        return _item_sql(ctx, condition["expr"], fields)
    if keys == {"all"} or keys == {"any"}:
        (key,) = keys
        joiner = " AND " if key == "all" else " OR "
        return "(" + joiner.join(_condition_sql(ctx, member, fields) for member in condition[key]) + ")"
    if keys == {"not"}:
        return f"(NOT {_condition_sql(ctx, condition['not'], fields)})"
    raise NoTranslation(f"无法翻译为 SQL 的条件写法：{sorted(keys)}")  # pragma: no cover


def per_item_benefit(
    ctx: SqlContext, catalogue: Catalogue, rule: CompiledRule, p: str, ctes: dict[str, str]
) -> tuple[str, str]:
    """(state, amount) of a per_item benefit; the CTE aggregating its items is added to ``ctes``."""
    from huiqi.compile.document import _NOT_REACHED, _OK, _UNKNOWN  # the state codes of the rule stages

    benefit = rule.rule.benefit
    assert benefit.items is not None and benefit.amount is not None
    fact = catalogue[benefit.items]
    fields = {f"item_{f.key}": f"{ITEM}.{quote_ident(f.key)}" for f in fact.fields or []}
    where = "TRUE" if benefit.where is None else _condition_sql(ctx, benefit.where, fields)
    amount = _item_sql(ctx, benefit.amount, fields)
    value = f"(CASE WHEN ({amount}) < 0 THEN 0 ELSE ({amount}) END)"
    capped = ["CASE", f"WHEN ({amount}) IS NULL THEN NULL"]  # LEAST skips NULLs: an unknown amount stays unknown
    for cap in benefit.item_caps or []:
        when = _condition_sql(ctx, cap.when, fields)
        limit = _item_sql(ctx, cap.amount, fields)
        capped.append(
            f"WHEN ({when}) IS NULL THEN NULL WHEN ({when}) THEN "
            f"(CASE WHEN ({limit}) IS NULL THEN NULL ELSE LEAST({value}, {limit}) END)"
        )
    capped.append(f"ELSE {value} END")
    fen = f"CAST(FLOOR(({' '.join(capped)}) + 0.5) AS BIGINT)"  # ≥ 0: half up
    key = quote_ident(ROW_KEY)
    ctes[p] = (
        f"{p}_items AS (SELECT {key}, SUM(CASE WHEN _w IS TRUE THEN _f END) AS {p}_pis, "
        f"COUNT(CASE WHEN _w IS TRUE AND _f IS NOT NULL THEN 1 END) AS {p}_pic, "
        f"COUNT(CASE WHEN _w IS NULL OR (_w AND _f IS NULL) THEN 1 END) AS {p}_piu "
        f"FROM (SELECT {key}, ({where}) AS _w, (CASE WHEN ({where}) IS TRUE THEN {fen} END) AS _f "
        f"FROM (SELECT *, UNNEST({quote_ident(fact.key)}) AS {ITEM} FROM base)) GROUP BY {key})"
    )
    listed = quote_ident(fact.key)
    state = (
        f"(CASE WHEN {listed} IS NULL OR COALESCE({p}_piu, 0) > 0 THEN {_UNKNOWN} "
        f"WHEN COALESCE({p}_pic, 0) = 0 THEN {_NOT_REACHED} ELSE {_OK} END)"
    )
    return state, f"COALESCE({p}_pis, 0)"


def per_item_ctes(ctes: dict[str, str]) -> tuple[list[str], str]:
    """The item CTEs and the relation joining them to ``base`` (its name), or none and ``base``."""
    if not ctes:
        return [], "base"
    key = quote_ident(ROW_KEY)
    joins = " ".join(f"LEFT JOIN {p}_items USING ({key})" for p in ctes)
    return [*ctes.values(), f"base_items AS (SELECT * FROM base {joins})"], "base_items"
