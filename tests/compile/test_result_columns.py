"""A document query's result holds a status column for every rule and an amount column only for the rules that
can have an amount: a review whose amount officials decide has none, and a column of NULLs is not written."""

from __future__ import annotations

import datetime as dt

import numpy as np

from huiqi.compile.duckdb_runner import DuckDBRunner
from huiqi.engine.evaluate import Engine
from huiqi.policy.base import PolicyBase, default_policies_dir
from huiqi.population.generate import generate_chunk, rule_refs

ENGINE = Engine(PolicyBase.load(default_policies_dir()))


def test_rules_without_an_amount_have_no_amount_column() -> None:
    runner = DuckDBRunner(ENGINE)
    rng = np.random.default_rng(3)
    runner.load_arrow(*generate_chunk(ENGINE.catalogue, rule_refs(ENGINE), start=0, size=50, years=3, period=2023,
                                      rng=rng))  # fmt: skip
    query, table = runner.evaluate("xinjiang-2017-software", period=2023, as_of=dt.date(2024, 6, 30))
    none = [c for c in query.rules if c.amount is None]
    some = [c for c in query.rules if c.amount is not None]
    assert none and some  # the document has review rules with no amount, and rules that pay one
    columns = set(table.column_names)
    assert all(c.status in columns for c in query.rules)
    assert all(c.amount in columns for c in some) and not any(f"{c.status[:-2]}_m" in columns for c in none)
    # readers take the amount through amount_sql: a NULL of the amount's type where there is no column
    sql = ", ".join(c.amount_sql("t") for c in query.rules)
    rows = runner.connection.execute(f"SELECT {sql} FROM ({query.sql}) t").fetchall()
    assert len(rows) == table.num_rows
    for row in rows:
        assert all(row[i] is None for i, c in enumerate(query.rules) if c.amount is None)
    review = ENGINE.documents["xinjiang-2017-software"]
    refs = {c.ref for c in none}
    assert all(r.rule.benefit.form == "none" or r.benefit.review for r in review.rules if r.ref in refs)
