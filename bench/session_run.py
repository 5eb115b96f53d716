"""A scenario of every document over a registry, as ``huiqi simulate`` runs it: DuckDB against the kernel.

Opens a ``PopulationSession`` on a synthetic registry (``out/bench-N-Y-S``, generated if missing) and times
its load and one ``run`` of the seed base's documents (drafts included), each engine in a process of its own
so that its peak memory is its own, the engines taking turns ``--repeat`` times:

- ``duckdb``: every document's compiled query inside DuckDB (the default engine, the baseline);
- ``kernel``: the compiled kernel (``--engine kernel``), the registry read a slice of ``--slice`` entities
  at a time (``huiqi.population.session.KERNEL_SLICE`` by default).

Each process then runs the same scenario a second time in the same session, as a reform's second run does (the
kernel reads nothing then where its slices were kept: ``KERNEL_KEEP_BYTES``), timed as ``again`` and checked
row for row against the first.

Both write the same long table of results, which the script checks by its row count and total money. Peak
memory is the process's resident set sampled every 50 ms (with DuckDB's ``--memory-limit``).

    python bench/session_run.py --n 1000000
    python bench/session_run.py --n 10000000 --repeat 1 --memory-limit 5GB
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PERIOD = 2023
AS_OF = dt.date(2024, 6, 30)


def resident() -> int:
    """The process's resident set in bytes (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * 4096


def one(folder: Path, engine_name: str, memory_limit: str, size: int) -> dict[str, Any]:
    """One engine's load and run, in this process."""
    from huiqi.engine.evaluate import Engine
    from huiqi.policy.base import PolicyBase
    from huiqi.population.pipeline import needed_facts
    from huiqi.population.session import PopulationSession, Scenario
    from huiqi.population.simulate import select_documents

    engine = Engine(PolicyBase.load())
    documents = select_documents(engine, [], include_drafts=True)
    peak = [resident()]

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], resident())
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    start = time.perf_counter()
    with PopulationSession(folder, engine, memory_limit=memory_limit, facts=needed_facts(engine, None, None),
                           kernel=engine_name == "kernel", kernel_slice=size) as session:  # fmt: skip
        loaded = time.perf_counter()
        session.run(engine, documents, Scenario(as_of=AS_OF, period=PERIOD), name="run")
        ran = time.perf_counter()
        # the same scenario again, as a reform's second run (the kernel's slices kept from the first where they fit)
        session.run(engine, documents, Scenario(as_of=AS_OF, period=PERIOD), name="again")
        again = time.perf_counter() - ran
        rows, money = session.connection.execute("SELECT count(*), sum(amount_fen)::VARCHAR FROM run").fetchall()[0]
        same = session.connection.execute(
            "SELECT count(*) FROM (SELECT * FROM run EXCEPT ALL SELECT * FROM again)").fetchall()[0][0]  # fmt: skip
        fallbacks = dict(session.kernel_fallbacks)
    return {"load": loaded - start, "run": ran - loaded, "again": again, "differ": same, "rows": rows, "money": money,
            "peak": peak[0], "fallbacks": fallbacks}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2, help="each engine this many times, taking turns")
    parser.add_argument("--memory-limit", default="5GB", help="DuckDB's memory limit")
    parser.add_argument("--slice", type=int, default=0, help="the kernel's entities per slice (0: the default)")
    parser.add_argument("--one", choices=["duckdb", "kernel"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = ROOT / "out" / f"bench-{args.n}-{args.years}-{args.seed}"
    from huiqi.population.session import KERNEL_SLICE

    size = args.slice or KERNEL_SLICE
    if args.one:
        print(json.dumps(one(folder, args.one, args.memory_limit, size)))
        return
    if not (folder / "ledger.parquet").exists():
        from huiqi.engine.evaluate import Engine
        from huiqi.policy.base import PolicyBase
        from huiqi.population.generate import generate

        print(f"generating {args.n:,} × {args.years} years in {folder}", flush=True)
        generate(Engine(PolicyBase.load()), folder, n=args.n, years=args.years, seed=args.seed, period=PERIOD)
    results: dict[str, list[dict[str, Any]]] = {"duckdb": [], "kernel": []}
    for _ in range(args.repeat):
        for name in results:
            command = [sys.executable, __file__, "--one", name, "--n", str(args.n), "--years", str(args.years),
                       "--seed", str(args.seed), "--memory-limit", args.memory_limit, "--slice", str(size)]  # fmt: skip
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
            results[name].append(json.loads(out.strip().splitlines()[-1]))
            got = results[name][-1]
            print(
                f"  {name:<7} load {got['load']:6.2f} s  run {got['run']:7.2f} s  again {got['again']:7.2f} s  "
                f"peak RSS {int(got['peak']) / 2**30:5.2f} GB",
                flush=True,
            )
    print(
        f"{args.n:,} entities × {args.years} years, DuckDB memory limit {args.memory_limit}, "
        f"kernel slices of {size:,} entities; medians of {args.repeat}:"
    )
    medians = {}
    for name, runs in results.items():
        load = statistics.median(float(r["load"]) for r in runs)
        run = statistics.median(float(r["run"]) for r in runs)
        again = statistics.median(float(r["again"]) for r in runs)
        peak = max(int(r["peak"]) for r in runs) / 2**30
        medians[name], medians[f"{name} again"] = run, again
        fallbacks = runs[-1]["fallbacks"]
        if any(r["differ"] for r in runs):
            print(f"{name}: the second run's results DIFFER from the first's")
        print(f"{name:<7} load {load:6.2f} s  run {run:7.2f} s  again {again:7.2f} s  peak RSS {peak:5.2f} GB  "
              f"results {runs[-1]['rows']:,}  money {runs[-1]['money']} fen" + (f"  left to SQL: {fallbacks}" if fallbacks else ""))  # fmt: skip
    same = {(r["rows"], r["money"]) for runs in results.values() for r in runs}
    print(
        f"kernel run ÷ DuckDB run: {medians['kernel'] / medians['duckdb']:.2f}×, the second run "
        f"{medians['kernel again'] / medians['duckdb again']:.2f}×; "
        f"results {'identical in count and money' if len(same) == 1 else 'DIFFERENT: ' + repr(same)}"
    )


if __name__ == "__main__":
    main()
