"""Population engine benchmark: a synthetic registry through all five documents on DuckDB (and Spark).

Steps, each timed:
  1. generate N entities × Y years of history (reused from out/bench-N-Y-S if already there);
  2. load the Parquet files into DuckDB (keyed tables: the entities copied into a table);
  3. evaluate every document: one compiled query per document, every rule's status and amount for every
     entity the document reaches, materialised as DuckDB tables;
  4. the floor, in the same run: hand-written DuckDB SQL for the same rules (bench/floor.py: amounts of
     eligible rules only — no statuses, no unknowns, no readings, no non-duplication choice), over the same
     tables. Steps 3 and 4 alternate --repeat times; the median of each is compared;
  5. the load ``huiqi simulate`` uses, entities left in their file (``copy_entities=False``: each query
     decodes the columns it reads), and the same evaluation over it, in the same run: load, evaluation and
     their sum beside the copy's;
  6. the compiled kernel (huiqi.kernel, when numba is installed), as ``huiqi simulate --engine kernel`` runs
     it: the load of step 5, then --repeat + 1 runs that each take the registry a slice of entities at a
     time, read the slice (entities from their file, history and ledger from the keyed tables; the next
     slice read in a thread while this one runs), make every document's inputs (years aligned, history
     maxima, ledger aggregates) and code, the documents side by side, and run the kernels, the documents
     side by side again; the first (it compiles the kernels or loads them from their cache) is reported
     apart, the median of the others beside the floor, reading included and without it (the reading timed
     alone, slice after slice, in each round). The floor is run again just before each of these runs, over the
     tables of step 2, and the kernel set beside the median of those runs (the machine's speed moves between
     the steps of one run), and again over the kernel's own connection (the entities in their file, the
     history and ledger in the keyed tables the kernel reads: the floor reading what the kernel reads); with
     --no-floor-beside-kernel, beside the floor of step 4;
  7. optionally Spark local mode on a smaller population (--spark N).

Prints wall time, entities per second, peak memory (RSS) and the ratio to the floor.
Usage: python bench/population.py [--n 1000000] [--years 5] [--seed 7] [--spark 100000] [--threads 2]
       python bench/population.py --n 10000000 --memory-limit 6GB --repeat 1 --no-floor-beside-kernel
       (DuckDB spills beyond the limit; the floor's tables are closed before step 5 rather than kept)
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
from floor import FLOOR_SQL, floor_table, run_floor  # the hand-written floor beside this script

from huiqi.compile.duckdb_runner import DuckDBRunner
from huiqi.compile.facts import facts_read
from huiqi.engine.evaluate import Engine
from huiqi.policy.base import PolicyBase
from huiqi.population.generate import generate

ROOT = Path(__file__).resolve().parents[1]
PERIOD = 2023
AS_OF = dt.date(2024, 6, 30)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(label: str, seconds: float, n: int) -> None:
    print(f"{label:<58} {seconds:8.2f} s   {n / seconds:12,.0f} entities/s   peak RSS {peak_rss_mb():8.0f} MB")


def timed(label: str, fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    report(label, seconds, n)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="alternate compiled and floor runs this many times")
    parser.add_argument("--spark", type=int, default=0, help="also run Spark local mode on this many entities")
    parser.add_argument("--memory-limit", default="8GB", help="DuckDB's memory limit; beyond it DuckDB spills to disk")
    parser.add_argument("--floor-beside-kernel", action=argparse.BooleanOptionalAction, default=True,
                        help="run the floor again before each run of step 6 (the copied tables kept open meanwhile: "
                             "--no-floor-beside-kernel at 10,000,000 keeps the peak memory to one connection)")  # fmt: skip
    args = parser.parse_args()
    engine = Engine(PolicyBase.load())
    folder = ROOT / "out" / f"bench-{args.n}-{args.years}-{args.seed}"
    if not (folder / "ledger.parquet").exists():
        timed(f"generate {args.n:,} × {args.years} years", lambda: generate(
            engine, folder, n=args.n, years=args.years, seed=args.seed, period=PERIOD), args.n)  # fmt: skip
    spill = tempfile.TemporaryDirectory(prefix="huiqi-bench-")
    con = duckdb.connect(
        config={"threads": args.threads, "memory_limit": args.memory_limit, "temp_directory": spill.name}
    )
    runner = DuckDBRunner(engine, con)
    facts = facts_read(engine.documents.values(), engine.catalogue)  # what huiqi simulate loads (with two more)
    copy_load = timed(f"load Parquet into DuckDB (keyed tables, the {len(facts)} facts read)",
                      lambda: runner.load_parquet(folder, facts=facts), args.n)  # fmt: skip
    readings = engine.resolve_readings({})
    documents = [d for d, compiled in engine.documents.items() if compiled.rules]
    rules = sum(len(runner.query(d, period=PERIOD, as_of=AS_OF, readings=readings).rules) for d in documents)
    floor_documents = [d for d in documents if d in FLOOR_SQL]

    compiled_times: list[float] = []
    floor_times: list[float] = []
    per_document: dict[str, list[float]] = {d: [] for d in documents}
    per_floor: dict[str, list[float]] = {d: [] for d in floor_documents}
    for _ in range(args.repeat):
        start = time.perf_counter()
        for document in documents:
            t = time.perf_counter()
            runner.evaluate_all([document], period=PERIOD, as_of=AS_OF, readings=readings)
            per_document[document].append(time.perf_counter() - t)
        compiled_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for document in floor_documents:
            t = time.perf_counter()
            run_floor(con, [document])
            per_floor[document].append(time.perf_counter() - t)
        floor_times.append(time.perf_counter() - start)
    compiled = statistics.median(compiled_times)
    floor = statistics.median(floor_times)
    report(f"all {len(documents)} documents with rules ({rules} rules), compiled, median", compiled, args.n)
    report(f"  floor: the same rules hand-written ({len(floor_documents)} documents), median", floor, args.n)
    print(f"  runs: compiled {', '.join(f'{t:.2f}' for t in compiled_times)} s; "
          f"floor {', '.join(f'{t:.2f}' for t in floor_times)} s")  # fmt: skip
    for document in documents:
        mine = statistics.median(per_document[document])
        theirs = statistics.median(per_floor[document]) if document in per_floor else None
        ratio = f"{mine / theirs:5.2f}×" if theirs else "    —"
        floor_text = f"{theirs:6.2f} s" if theirs else "     —  "
        print(f"    {document:<28} compiled {mine:6.2f} s   floor {floor_text}   ratio {ratio}")
    totals(con, runner)
    print(f"ratio compiled / floor, all documents: {compiled / floor:.2f}×   "
          f"all documents: {compiled:.2f} s for {args.n:,} entities")  # fmt: skip
    beside = (lambda: run_floor(con, floor_documents)) if args.floor_beside_kernel else None
    if beside is None:
        con.close()
    in_file(engine, folder, facts, documents, readings, args, (copy_load, compiled), spill.name)
    kernel(engine, folder, facts, documents, args, floor, spill.name, beside)
    con.close()
    if args.spark:
        spark_bench(engine, args)


def in_file(
    engine: Engine, folder: Path, facts: set[str], documents: list[str], readings: dict[str, str],
    args: argparse.Namespace, copied: tuple[float, float], spill: str,
) -> None:  # fmt: skip
    """Step 5: the entities left in their file, as ``huiqi simulate`` loads them, beside the copy."""
    con = duckdb.connect(config={"threads": args.threads, "memory_limit": args.memory_limit, "temp_directory": spill})
    runner = DuckDBRunner(engine, con)
    load = timed("load, entities left in their file (as huiqi simulate loads)",
                 lambda: runner.load_parquet(folder, facts=facts, copy_entities=False), args.n)  # fmt: skip
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        runner.evaluate_all(documents, period=PERIOD, as_of=AS_OF, readings=readings)
        times.append(time.perf_counter() - start)
    evaluation = statistics.median(times)
    report("  all documents over them, median", evaluation, args.n)
    print(f"  load + evaluation: entities in their file {load:.2f} + {evaluation:.2f} = {load + evaluation:.2f} s; "
          f"copied {copied[0]:.2f} + {copied[1]:.2f} = {sum(copied):.2f} s "
          f"(runs over the file: {', '.join(f'{t:.2f}' for t in times)} s)")  # fmt: skip
    con.close()


def kernel(
    engine: Engine, folder: Path, facts: set[str], documents: list[str], args: argparse.Namespace, floor: float,
    spill: str, beside: Callable[[], None] | None = None,
) -> None:  # fmt: skip
    """Step 6: the compiled kernel over the same registry, beside the floor.

    As ``huiqi simulate --engine kernel`` runs it: a slice of ``KERNEL_SLICE`` entities at a time, each slice's
    entities read from their file and its history and ledger from keyed tables loaded as in step 5
    (``read_keyed``), the next slice read in a thread while this one runs (``read_ahead``); then every
    document's inputs and code made from them, and the documents' kernels run side by side (``run_all``). The
    first run (which also compiles the kernels or loads them from their cache, and is the first to touch that
    much memory) is reported apart; the median of the --repeat runs after it is set beside the floor's median.
    Each run is timed whole (reading included, as a user waits for it) and in parts: the time spent waiting for
    a slice's tables, making inputs and code, and running the kernels. In each round the reading is also timed
    alone, slice after slice, for the ratio of loading and reading to the evaluation; and, where ``beside`` is
    given, the floor is run again just before, so that the kernel's runs are set beside the floor's runs of the
    same minutes (this machine's speed moves by a tenth or more between the steps of one run), and once more over
    the kernel's own connection: the floor reading what the kernel reads (its floor tables dropped after each
    run)."""
    import gc

    from huiqi.compile.facts import annual_over_years
    from huiqi.kernel.inputs import Inputs, NoKernel, RowGroups, Tables, read_ahead, read_keyed, slices
    from huiqi.kernel.runner import available, prepare, run_all
    from huiqi.population.session import KERNEL_KEEP_BYTES, KERNEL_SLICE

    if not available():
        print("compiled kernel: numba is not installed (pip install -e '.[kernel]'), skipped")
        return
    con = duckdb.connect(config={"threads": args.threads, "memory_limit": args.memory_limit, "temp_directory": spill})
    load = timed("compiled kernel: load as huiqi simulate loads (keyed history and ledger)",
                 lambda: DuckDBRunner(engine, con).load_parquet(folder, facts=facts, copy_entities=False), args.n)  # fmt: skip
    ranges = slices(folder, KERNEL_SLICE)
    cursor = con.cursor()  # the reader thread's own connection, as huiqi simulate's
    # as huiqi simulate reads them: of the history, the assessed year's rows of the facts read at that year only
    over_years = annual_over_years((engine.documents[d] for d in documents), engine.catalogue)

    def read(connection: duckdb.DuckDBPyConnection, rows: tuple[int, int], kept: RowGroups | None = None) -> Tables:
        # as huiqi simulate reads them: results keyed by their rows, the text ids not read
        return read_keyed(connection, folder, facts, rows, period=PERIOD, over_years=over_years, kept=kept,
                          ids=False)  # fmt: skip

    whole_times, read_times, waited_times, prepared_times, kernel_times, floor_times = [], [], [], [], [], []
    kept_times: list[float] = []  # runs over the slices kept from the first, as a session's later runs take them

    def one_run(tables: Iterator[Tables], *, keeping: bool = False) -> tuple[float, float, float, float]:
        """One run over the slices ``tables`` gives: (whole, waiting for the tables, inputs and code, kernels);
        ``keeping``: the tables kept for the runs after, where they fit (``KERNEL_KEEP_BYTES``)."""
        nonlocal kept_tables
        waited = prepared = ran = 0.0
        denominators: dict[str, int] = {}
        collected: list[Tables] | None = [] if keeping else None
        begun = time.perf_counter()
        for rows in ranges:
            start = time.perf_counter()
            slice_tables = next(tables)
            middle = time.perf_counter()
            entities, history, ledger, current = slice_tables
            if collected is not None:
                collected.append(slice_tables)
            inputs = Inputs(entities, history, engine.catalogue, PERIOD, AS_OF, ledger, denominators=denominators,
                            current=current)  # fmt: skip
            runs = prepare(engine, documents, inputs, readings={}, any_jurisdiction=False)
            end = time.perf_counter()
            for document, result in run_all(runs, lambda run, first=rows[0]: run.run(first)):
                if isinstance(result, NoKernel):
                    refused[document] = result.message
            waited += middle - start
            prepared += end - middle
            ran += time.perf_counter() - end
            denominators = inputs.dens
            del inputs, runs, entities, history, ledger, current, slice_tables
        whole = time.perf_counter() - begun
        if collected is not None:
            size = sum(t.get_total_buffer_size() for tables_ in collected for t in tables_ if t is not None)
            kept_tables = collected if size <= KERNEL_KEEP_BYTES else None
        return whole, waited, prepared, ran

    kept_tables: list[Tables] | None = None
    file_floor_times: list[float] = []  # the floor over the kernel's own sources (entities in their file)
    floor_documents = [d for d in documents if d in FLOOR_SQL]
    refused: dict[str, str] = {}
    for _ in range(args.repeat + 1):
        if beside is not None:
            start = time.perf_counter()
            beside()
            floor_times.append(time.perf_counter() - start)
            gc.collect()
            start = time.perf_counter()
            run_floor(con, floor_documents)
            file_floor_times.append(time.perf_counter() - start)
            con.execute("; ".join(f"DROP TABLE {floor_table(d)}" for d in floor_documents))
            gc.collect()
        start = time.perf_counter()
        for rows in ranges:
            read(con, rows)
        read_times.append(time.perf_counter() - start)
        gc.collect()
        kept = RowGroups()  # as huiqi simulate's run: the entities' row group the next slice starts in
        whole, waited, prepared, ran = one_run(read_ahead(lambda rows, kept=kept: read(cursor, rows, kept), ranges),
                                               keeping=not whole_times)  # fmt: skip
        whole_times.append(whole)
        waited_times.append(waited)
        prepared_times.append(prepared)
        kernel_times.append(ran)
        gc.collect()
        if kept_tables is not None and len(whole_times) > 1:  # over the slices kept from the first run
            kept_times.append(one_run(iter(kept_tables))[0])
            gc.collect()
    cursor.close()
    for document, reason in refused.items():
        print(f"  kernel: {document} left to SQL: {reason}")
    read_median = statistics.median(read_times[1:])
    whole = statistics.median(whole_times[1:])
    inputs_median, kernels_median = statistics.median(prepared_times[1:]), statistics.median(kernel_times[1:])
    totals_ = [a + b for a, b in zip(prepared_times[1:], kernel_times[1:], strict=True)]
    evaluation = statistics.median(totals_)
    print(f"compiled kernel, {len(ranges)} slice(s) of up to {KERNEL_SLICE:,} entities: first run {whole_times[0]:.2f} s "
          f"(inputs and code {prepared_times[0]:.2f} s, kernels {kernel_times[0]:.2f} s, compiling or loading "
          f"them); reading the slices alone {read_median:.2f} s (median)")  # fmt: skip
    print(f"  a run, reading included (the next slice read while this one runs), median of {args.repeat}: "
          f"{whole:.2f} s (runs {', '.join(f'{t:.2f}' for t in whole_times[1:])} s); waiting for a slice's tables "
          f"{statistics.median(waited_times[1:]):.2f} s, inputs and code {inputs_median:.2f} s, kernels "
          f"{kernels_median:.2f} s")  # fmt: skip
    if kept_times:
        print(f"  a run over the slices kept from the first (as a session's next run of the same year takes them, "
              f"where they fit in {KERNEL_KEEP_BYTES / 2**30:.0f} GiB), median of {len(kept_times)}: "
              f"{statistics.median(kept_times):.2f} s (runs {', '.join(f'{t:.2f}' for t in kept_times)} s)")  # fmt: skip
    if floor_times:  # the floor of these minutes, its runs alternating with the kernel's
        floor = statistics.median(floor_times[1:])
        print(f"  the floor again, each run just before a run of the kernel: median {floor:.2f} s "
              f"(runs {', '.join(f'{t:.2f}' for t in floor_times[1:])} s)")  # fmt: skip
    print(f"  ÷ floor ({floor:.2f} s): the run, reading included, {whole / floor:.2f}×; inputs and code + kernels "
          f"{evaluation / floor:.2f}×; kernels {kernels_median / floor:.2f}×; load + reading ÷ inputs and code + "
          f"kernels {(load + read_median) / evaluation:.2f}×"
          + (f"; the run over the slices kept {statistics.median(kept_times) / floor:.2f}×" if kept_times else "")
          + f"; peak RSS {peak_rss_mb():.0f} MB")  # fmt: skip
    if file_floor_times:  # the floor reading what the kernel reads: the entities from their file, the keyed tables
        in_file = statistics.median(file_floor_times[1:])
        print(f"  the floor over the kernel's own sources (entities in their file, the same keyed history and "
              f"ledger), each run just before a run of the kernel: median {in_file:.2f} s (runs "
              f"{', '.join(f'{t:.2f}' for t in file_floor_times[1:])} s); the run, reading included, ÷ it "
              f"{whole / in_file:.2f}×")  # fmt: skip
    con.close()


def totals(con: duckdb.DuckDBPyConnection, runner: DuckDBRunner) -> None:
    """Eligible results and money of the last compiled run, summed exactly in DuckDB."""
    for document in ("suzhou-software-cluster",):
        query = runner.query(document, period=PERIOD, as_of=AS_OF)
        table = "result_" + document.replace("-", "_")
        eligible = con.execute(
            "SELECT " + " + ".join(f"count(*) FILTER (WHERE {r.status} = 0)" for r in query.rules) + f" FROM {table}"
        ).fetchone()
        money = con.execute(
            "SELECT " + " + ".join(f"coalesce(sum({r.amount_sql()}) FILTER (WHERE {r.status} = 0), 0)" for r in query.rules)
            + f" FROM {table}"
        ).fetchone()  # fmt: skip
        print(f"{document}: {eligible[0] if eligible else 0:,} eligible rule results, "
              f"total {money[0] if money else 0:,} fen (int64 fen, summed as 128-bit integers)")  # fmt: skip


def spark_bench(engine: Engine, args: argparse.Namespace) -> None:
    from huiqi.compile.spark_runner import SparkRunner, spark_session, to_spark_sql

    folder = ROOT / "out" / f"bench-{args.spark}-{args.years}-{args.seed}"
    if not (folder / "ledger.parquet").exists():
        generate(engine, folder, n=args.spark, years=args.years, seed=args.seed, period=PERIOD)
    start = time.perf_counter()
    session = spark_session(f"local[{args.threads}]")
    session.sparkContext.setLogLevel("ERROR")
    print(f"spark start-up {time.perf_counter() - start:8.2f} s")
    runner = SparkRunner(engine, session)
    runner.load_parquet(folder)
    readings = engine.resolve_readings({})

    def evaluate_all() -> None:
        for document in engine.documents:
            query = DuckDBRunner(engine).query(document, period=PERIOD, as_of=AS_OF, readings=readings)
            session.sql(to_spark_sql(query.sql)).write.mode("overwrite").format("noop").save()

    timed(f"all documents, Spark local[{args.threads}], {args.spark:,} entities", evaluate_all, args.spark)
    session.stop()


if __name__ == "__main__":
    main()
