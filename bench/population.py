"""Population engine benchmark: a synthetic registry through all five documents on DuckDB (and Spark).

Steps, each timed:
  1. generate N entities × Y years of history (reused from out/bench-N-Y-S if already there);
  2. load the Parquet files into DuckDB;
  3. evaluate every document: one compiled query per document, every rule's status and amount for every
     entity, materialised;
  4. the floor, in the same run: hand-written DuckDB SQL for the Suzhou measures' money rules (amounts
     only — no statuses, no unknowns, no readings), against the compiled Suzhou query over the same rows;
  5. optionally Spark local mode on a smaller population (--spark N).

Prints wall time, entities per second, peak memory (RSS) and the ratio to the floor.
Usage: python bench/population.py [--n 1000000] [--years 5] [--seed 7] [--spark 100000] [--threads 2]
       python bench/population.py --n 10000000 --views --memory-limit 6GB     # larger than memory: streams
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from pathlib import Path

import duckdb

from huiqi.compile.duckdb_runner import DuckDBRunner
from huiqi.engine.evaluate import Engine
from huiqi.policy.base import PolicyBase
from huiqi.population.generate import generate

ROOT = Path(__file__).resolve().parents[1]
PERIOD = 2023
AS_OF = dt.date(2024, 6, 30)

# Hand-written SQL for the Suzhou money rules (items 1, 2, 3, 5): the floor a compiler competes with.
FLOOR_SUZHOU = """
CREATE OR REPLACE TEMP TABLE floor_result AS
WITH h0 AS (SELECT entity_id, revenue, software_revenue FROM history WHERE year = 2023),
     h1 AS (SELECT entity_id, software_revenue AS sw_prev, revenue AS rev_prev FROM history WHERE year = 2022),
     hb AS (SELECT entity_id, MAX(revenue) AS rev_maxb FROM history WHERE year < 2023 GROUP BY entity_id),
     b AS (SELECT * FROM entities LEFT JOIN h0 USING (entity_id) LEFT JOIN h1 USING (entity_id) LEFT JOIN hb USING (entity_id)),
     sw AS (SELECT *, registered_city = '苏州市' AND main_business_software AND in_miit_software_statistics AS sz FROM b)
SELECT entity_id,
  CASE WHEN sz AND is_industrial_software_enterprise AND newly_introduced_independent_entity
        AND paid_in_capital >= 1000000000 AND social_insurance_staff >= 50
       THEN LEAST(paid_in_capital * 0.05, 100000000) END AS capital,
  CASE WHEN sz AND (newly_established_in_suzhou OR spun_off_digital_business) THEN
       CASE WHEN social_insurance_staff >= 50 AND revenue >= 500000000 THEN 100000000
            WHEN social_insurance_staff >= 20 AND revenue >= 200000000 THEN 50000000 END END AS new_firm,
  CASE WHEN sz THEN
       CASE WHEN revenue >= 100000000000 AND rev_maxb < 100000000000 THEN 500000000
            WHEN revenue >= 50000000000 AND rev_maxb < 50000000000 THEN 300000000
            WHEN revenue >= 10000000000 AND rev_maxb < 10000000000 THEN 200000000 END END AS milestone,
  CASE WHEN (in_provincial_key_software_pool OR in_suzhou_key_software_pool) AND operating_stably
        AND revenue > rev_prev * 1.5 THEN 100000000 END AS key_growth,
  CASE WHEN digital_economy_park_level IN ('市级', '省级', '国家级') AND software_revenue > sw_prev
       THEN LEAST((software_revenue - sw_prev) * 0.002, 100000000) END AS digital_park,
  CASE WHEN software_famous_park_level IN ('省级', '国家级') AND software_revenue > sw_prev
       THEN LEAST((software_revenue - sw_prev) * 0.001, 300000000) END AS famous_park
FROM sw
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, fn: object, n: int) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds:8.2f} s   {n / seconds:12,.0f} entities/s   peak RSS {peak_rss_mb():8.0f} MB")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--spark", type=int, default=0, help="also run Spark local mode on this many entities")
    parser.add_argument("--memory-limit", default="8GB")
    parser.add_argument(
        "--views", action="store_true", help="read the Parquet files as views (streaming) instead of loading them"
    )
    args = parser.parse_args()
    engine = Engine(PolicyBase.load())
    folder = ROOT / "out" / f"bench-{args.n}-{args.years}-{args.seed}"
    if not (folder / "ledger.parquet").exists():
        timed(f"generate {args.n:,} × {args.years} years", lambda: generate(
            engine, folder, n=args.n, years=args.years, seed=args.seed, period=PERIOD), args.n)  # fmt: skip
    con = duckdb.connect(config={"threads": args.threads, "memory_limit": args.memory_limit})
    runner = DuckDBRunner(engine, con)

    def load() -> None:
        if args.views:
            runner.load_parquet(folder)
            return
        for name in ("entities", "history", "ledger"):
            con.execute(
                f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet('{folder / (name + '.parquet')}')"
            )

    timed("open Parquet as views" if args.views else "load Parquet into DuckDB", load, args.n)
    readings = engine.resolve_readings({})
    queries = {d: runner.query(d, period=PERIOD, as_of=AS_OF, readings=readings) for d in engine.documents}
    rules = sum(len(q.rules) for q in queries.values())

    def evaluate_all() -> None:
        runner.evaluate_all(list(queries), period=PERIOD, as_of=AS_OF, readings=readings)

    total = timed(f"all {len(queries)} documents ({rules} rules), DuckDB", evaluate_all, args.n)
    suzhou = queries["suzhou-software-cluster"]
    compiled = timed(f"  compiled Suzhou query ({len(suzhou.rules)} rules, statuses)",
                     lambda: con.execute(f"CREATE OR REPLACE TEMP TABLE sz AS {suzhou.sql}"), args.n)  # fmt: skip
    floor = timed("  floor: hand-written Suzhou money rules (6, amounts)", lambda: con.execute(FLOOR_SUZHOU), args.n)
    eligible = con.execute(
        "SELECT " + " + ".join(f"count(*) FILTER (WHERE {r.status} = 0)" for r in suzhou.rules) + " FROM sz"
    ).fetchone()
    money = con.execute(
        "SELECT " + " + ".join(f"coalesce(sum({r.amount}) FILTER (WHERE {r.status} = 0), 0)" for r in suzhou.rules)
        + " FROM sz"
    ).fetchone()  # fmt: skip
    print(
        f"Suzhou: {eligible[0] if eligible else 0:,} eligible rule results, total {money[0] if money else 0:,} fen (int64)"
    )
    print(
        f"ratio compiled Suzhou / floor: {compiled / floor:.2f}×   all documents: {total:.2f} s for {args.n:,} entities"
    )
    if args.spark:
        spark_bench(engine, args)


def spark_bench(engine: Engine, args: argparse.Namespace) -> None:
    from huiqi.compile.spark_runner import SparkRunner, spark_session, to_spark_sql

    folder = ROOT / "out" / f"bench-{args.spark}-{args.years}-{args.seed}"
    if not (folder / "ledger.parquet").exists():
        generate(engine, folder, n=args.spark, years=args.years, seed=args.seed, period=PERIOD)
    start = time.perf_counter()
    session = spark_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    print(f"spark start-up {time.perf_counter() - start:8.2f} s")
    runner = SparkRunner(engine, session)
    runner.load_parquet(folder)
    readings = engine.resolve_readings({})

    def evaluate_all() -> None:
        for document in engine.documents:
            query = DuckDBRunner(engine).query(document, period=PERIOD, as_of=AS_OF, readings=readings)
            session.sql(to_spark_sql(query.sql)).write.mode("overwrite").format("noop").save()

    timed(f"all documents, Spark local[2], {args.spark:,} entities", evaluate_all, args.spark)
    session.stop()


if __name__ == "__main__":
    main()
