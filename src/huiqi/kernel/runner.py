"""Compile and run a document's kernel; give back the wide result the document's SQL query gives.

The generated source is written once to a cache folder (``$HUIQI_KERNEL_CACHE``, else
``~/.cache/huiqi/kernels``) under a name derived from its text, and numba caches the machine code beside it:
the first run of a document compiles it (2 s for the peer's nine rules, about 10 s for Xinjiang's 30), later
runs in any process load it. A cache folder that cannot be written falls back to one in the temporary folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from huiqi.compile.document import DocumentQuery, RuleColumns
from huiqi.compile.facts import annual_over_years
from huiqi.compile.tables import ROW_KEY
from huiqi.engine.evaluate import Engine

from .codegen import NO_AMOUNT, KernelSource, generate
from .inputs import Inputs, NoKernel, split_history

EPOCH = dt.date(1970, 1, 1)
T = TypeVar("T")
_COMPILED: dict[str, Callable[..., None]] = {}
_LOCK = threading.Lock()
#: the threads that run the slices of a kernel, started once (starting two threads per call cost about a
#: fifth of the peer kernel's time)
_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="huiqi-kernel")
#: the threads that make several documents' inputs and code side by side (``prepare``): Arrow, numpy and the
#: decoders release the GIL while they read columns
_PREPARE = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="huiqi-kernel-inputs")


def available() -> bool:
    """Whether numba is installed (the kernel's one dependency beyond numpy)."""
    return importlib.util.find_spec("numba") is not None


def cache_folder() -> Path:
    folder = os.environ.get("HUIQI_KERNEL_CACHE")
    return Path(folder) if folder else Path.home() / ".cache" / "huiqi" / "kernels"


def compiled(source: KernelSource) -> Callable[..., None]:
    """The kernel function of a generated source (imported from the cache folder, compiled on first call)."""
    digest = hashlib.sha256(source.source.encode()).hexdigest()[:20]
    with _LOCK:
        if digest not in _COMPILED:
            if not available():
                raise NoKernel("未安装 numba（pip install 'huiqi[kernel]'）：由 SQL 计算")
            path = _write(source.source, f"k_{digest}.py")
            spec = importlib.util.spec_from_file_location(f"huiqi_kernel_{digest}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # numba's cache finds the kernel's globals through its module
            spec.loader.exec_module(module)
            _COMPILED[digest] = getattr(module, source.name)
        return _COMPILED[digest]


def _write(text: str, name: str) -> Path:
    """The source file in the cache folder (written once, atomically), or in the temporary folder where the
    cache folder cannot be written."""
    for folder in (cache_folder(), Path(tempfile.gettempdir()) / f"huiqi-kernels-{os.getuid()}"):
        path = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                temporary = path.with_suffix(f".{os.getpid()}.tmp")
                temporary.write_text(text, encoding="utf-8")
                temporary.replace(path)
            return path
        except OSError:
            continue
    raise NoKernel("无法写入编译内核的缓存目录（HUIQI_KERNEL_CACHE 与临时目录均不可写）：由 SQL 计算")


class KernelRun:
    """One document's kernel over one population's inputs."""

    def __init__(
        self, engine: Engine, document: str, inputs: Inputs, *, readings: dict[str, str],
        any_jurisdiction: bool, quarter: int | None = None,
    ) -> None:  # fmt: skip
        self.inputs = inputs
        self.source = generate(
            engine.documents[document], engine.catalogue, inputs, readings=engine.resolve_readings(readings),
            any_jurisdiction=any_jurisdiction, quarter=quarter,
        )  # fmt: skip
        self.query = DocumentQuery(
            document=document, sql="",
            rules=[RuleColumns(ref=r.ref, provision=r.provision.id, rule=r.rule.id, label=r.rule.label,
                               is_ceiling=r.is_ceiling, status=f"r{i}_s", amount=f"r{i}_m" if has else None)
                   for i, (r, has) in enumerate(zip(self.source.rules, self.source.amounts, strict=True))],
        )  # fmt: skip

    def arguments(self) -> list[Any]:
        args: list[Any] = []
        for spec in self.source.inputs:
            args.extend(self.inputs.get(spec))
        return args

    def region_ok(self) -> np.ndarray:
        """Per row: 1 in the jurisdiction, 0 outside, -1 unknown (every row 1 for any jurisdiction)."""
        if self.source.region is None:
            return np.ones(self.inputs.rows, dtype=np.int8)
        values, known = self.inputs.get(("in_region", self.source.region))
        return np.where(known, values.astype(np.int8), np.int8(-1)).astype(np.int8)

    def compute(self, key_start: int | None = None, *, bitmaps: bool = True) -> Computed:
        """Every rule's status and amount for the rows the document reaches, as the kernel writes them; where
        ``key_start`` is given (the row key of the inputs' first entity: a slice's first row in the registry),
        each row's key; with ``bitmaps``, the amount columns' validity bitmaps for Arrow (``table``)."""
        region = self.region_ok()
        # the rows the document reaches (not known to be outside its jurisdiction): the kernel runs over them
        # only and writes each result at its place among them, so nothing is taken out afterwards
        outside = region == 0
        reached = np.flatnonzero(~outside) if outside.any() else None
        rows, count = self.inputs.rows if reached is None else len(reached), len(self.source.rules)
        # one contiguous row of the output per rule: each becomes an Arrow column without a copy
        status = np.empty((count, rows), dtype=np.int8)  # status codes 0–6: a byte each
        amount = np.empty((count, rows), dtype=np.int64)
        overflow = np.zeros(rows, dtype=np.bool_)
        kernel = compiled(self.source)
        arguments = (*self.arguments(), reached, region, status, amount, overflow)
        # the assessed year, the evaluation date and the first year of the history: arguments, not constants, so
        # that one compiled kernel serves every scenario
        scenario = (self.inputs.period, (self.inputs.as_of - EPOCH).days, self.inputs.series_start())
        # numba releases the GIL in the kernel: slices of the rows run in threads, one per core. Slices of at least
        # 16,000 rows (up to eight per core), taken by the threads as they come free, so that a core slowed by
        # something else leaves its share to the others (peer, 1,000,000 rows: 59 → 53 ms against one slice
        # per core). Every core from 10,000 rows: a document reaching a third of a slice of 250,000 entities ran
        # on one core when that took 50,000 rows a core (the seed base's kernels, a slice: 0.107–0.127 → 0.074 s)
        workers = max(1, min(os.cpu_count() or 1, rows // 10_000))
        # (one part on one core: with one core and 128,000 rows or more, two parts were made and one was run)
        parts = 1 if workers == 1 else max(workers, min(8 * workers, rows // 16_000))
        # each part starts at a multiple of 8 rows, so that the threads packing validity bitmaps write other bytes
        bounds = [rows * part // parts // 8 * 8 for part in range(parts)] + [rows]
        from numba.core.errors import NumbaError

        from . import encode

        # the amount columns' validity bitmaps, packed by each thread over the rows it has just written
        priced = np.array([i for i, c in enumerate(self.query.rules) if c.amount is not None], dtype=np.int64)
        packed = np.empty((len(priced) if bitmaps else 0, (rows + 7) // 8), dtype=np.uint8)
        nulls = np.zeros((parts, len(priced)), dtype=np.int64)

        def part(number: int) -> None:
            start, stop = bounds[number], bounds[number + 1]
            kernel(*arguments, start, stop, *scenario)
            if bitmaps:
                encode.validity(amount, priced, NO_AMOUNT, packed, nulls[number], start, stop)

        try:
            if workers == 1:
                part(0)
            else:
                list(_POOL.map(part, range(parts)))
        except NumbaError as exc:  # a construct the generator writes but numba cannot type: SQL instead
            raise NoKernel(f"numba 未能编译本文件的内核（{type(exc).__name__}）：由 SQL 计算") from exc
        if overflow.any():
            raise NoKernel(f"{int(overflow.sum())} 行的数值超出 64 位整数的精确范围：由 SQL 计算")
        keys = None
        if key_start is not None:
            keys = (np.arange(rows, dtype=np.int32) if reached is None else reached.astype(np.int32)) + np.int32(
                key_start
            )
        return Computed(reached, rows, status, amount, priced, keys,
                        packed if bitmaps else None, nulls.sum(axis=0) if bitmaps else None)  # fmt: skip

    def run(self, key_start: int | None = None) -> pa.Table:
        """The wide result: ``entity_id``, each rule's status code and amount, for the rows the document reaches;
        where ``key_start`` is given (as ``compute``'s), the row key ``_k`` of each result beside its id (or in
        its place, for entities read without their ids: ``read_keyed``'s ``ids``)."""
        return self.table(self.compute(key_start))

    def table(self, computed: Computed) -> pa.Table:
        """The wide result of a computation with bitmaps (``run``)."""
        assert computed.bitmaps is not None and computed.nulls is not None
        rows = computed.rows
        reached = computed.reached
        columns: dict[str, pa.Array | pa.ChunkedArray] = {}
        if "entity_id" in self.inputs.entities.column_names:
            ids = self.inputs.entities["entity_id"]
            columns["entity_id"] = ids if reached is None else ids.take(reached)
        elif computed.keys is None:
            raise ValueError("the entities were read without their ids: give the slice's first row key")
        if computed.keys is not None:
            columns[ROW_KEY] = pa.array(computed.keys)
        packed = {
            index: (computed.bitmaps[k], int(computed.nulls[k])) for k, index in enumerate(computed.priced.tolist())
        }
        for index, columns_of in enumerate(self.query.rules):
            columns[columns_of.status] = pa.array(computed.status[index])  # no copy
            if columns_of.amount is not None:
                # the amounts as they are behind the packed bitmap: no copy of the values (``pa.array(m, mask=…)``
                # copied every column: 14 of the peer's 80 ms, against 6 with numpy packing the bitmaps)
                bits, nulls_of = packed[index]
                bitmap = pa.py_buffer(bits) if nulls_of else None
                columns[columns_of.amount] = pa.Array.from_buffers(
                    pa.int64(), rows, [bitmap, pa.py_buffer(computed.amount[index])], null_count=nulls_of
                )
        return pa.table(columns)


@dataclass(frozen=True)
class Computed:
    """A kernel's output over the rows it reached (``reached``: their rows among the inputs', None for all)."""

    reached: np.ndarray | None
    rows: int
    #: (rules, rows): each rule's status code and amount (``NO_AMOUNT`` where none)
    status: np.ndarray
    amount: np.ndarray
    #: the rules that can have an amount (their indices)
    priced: np.ndarray
    #: each row's key (``_k``), where a first key was given
    keys: np.ndarray | None
    #: the amount columns' validity bitmaps and counts of nulls, in the order of ``priced``, where made
    bitmaps: np.ndarray | None
    nulls: np.ndarray | None


def prepare(
    engine: Engine, documents: list[str], inputs: Inputs, *, readings: dict[str, str], any_jurisdiction: bool,
    quarter: int | None = None,
) -> dict[str, KernelRun | NoKernel]:  # fmt: skip
    """Each document's kernel over ``inputs``, its inputs and code made in threads side by side (an input two
    documents read is read once); a document the kernel does not compile gets its ``NoKernel``. On two cores
    the seed base's four documents are prepared in about half the time one after another takes."""

    def make(document: str) -> KernelRun | NoKernel:
        try:
            return KernelRun(engine, document, inputs, readings=readings, any_jurisdiction=any_jurisdiction,
                             quarter=quarter)  # fmt: skip
        except NoKernel as exc:
            return exc

    return dict(zip(documents, _PREPARE.map(make, documents), strict=True))


def run_all(
    runs: dict[str, KernelRun | NoKernel], make: Callable[[KernelRun], T] | None = None
) -> Iterator[tuple[str, T | pa.Table | NoKernel]]:  # fmt: skip
    """Each document's wide result, or why the kernel refused it, in the order of ``runs``: the documents run
    side by side in the threads of ``prepare``, so that one's region, ids and columns are made while another's
    kernel runs on every core (the seed base's four documents over 1,000,000 entities in slices of 250,000,
    ``bench/population.py``: the kernels' part of a run 0.40 → 0.26 s with the parts of 10,000 rows in
    ``KernelRun.run``). A result is given
    as soon as it and those before it are done, so the caller can store one while the next is computed.
    ``make``: what each run gives (in its thread), its wide result (``KernelRun.run``) where None."""

    def result(run: KernelRun | NoKernel) -> T | pa.Table | NoKernel:
        if isinstance(run, NoKernel):
            return run
        try:
            return run.run() if make is None else make(run)
        except NoKernel as exc:
            return exc

    futures = deque((document, _PREPARE.submit(result, run)) for document, run in runs.items())
    while futures:  # each future let go as its result is given, so that a result stored is not kept here
        document, future = futures.popleft()
        yield document, future.result()


def evaluate(
    engine: Engine, document: str, entities: pa.Table, history: pa.Table, ledger: pa.Table, *, period: int,
    as_of: dt.date, readings: dict[str, str] | None = None, any_jurisdiction: bool = False, quarter: int | None = None,
    split: bool = True,
) -> tuple[DocumentQuery, pa.Table]:  # fmt: skip
    """One document over Arrow tables: its columns and wide result, as ``DuckDBRunner.evaluate``; ``NoKernel``
    when the kernel does not compile it. ``split``: the history's annual facts that no rule of the document reads
    at another year are read from the assessed year's rows apart, as ``huiqi simulate`` reads them
    (``split_history``); else every one from the whole history."""
    current = None
    if split:
        over_years = annual_over_years([engine.documents[document]], engine.catalogue)
        history, current = split_history(history, period, over_years)
    inputs = Inputs(entities, history, engine.catalogue, period, as_of, ledger, current=current)
    run = KernelRun(engine, document, inputs, readings=readings or {},
                    any_jurisdiction=any_jurisdiction, quarter=quarter)  # fmt: skip
    return run.query, run.run()
