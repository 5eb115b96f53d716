"""The compiled kernel (``huiqi.kernel``) gives every policy case the scalar engine's status and amount.

Every batch of cases runs through the kernel, ledgers included (一次性, 连续支持, 进档补差, caps, awards of
other documents that rule a rule out, 不重复享受 with awards paid before): none is refused.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from huiqi.compile.document import DocumentQuery
from huiqi.compile.parity import Batch, differences
from huiqi.kernel import runner
from huiqi.kernel.inputs import Inputs, NoKernel

from .test_case_parity import BATCHES, ENGINE

pytestmark = pytest.mark.skipif(not runner.available(), reason="numba is not installed")


@pytest.mark.parametrize("split", [True, False], ids=["assessed-year-apart", "whole-history"])
def test_the_kernel_matches_the_scalar_engine_on_every_case_it_compiles(split: bool) -> None:
    """Both ways of reading the history: the annual facts no rule reads at another year from the assessed year's
    rows apart (as ``huiqi simulate`` reads them), and every fact from the whole history."""
    ran: Counter[str] = Counter()
    refused: list[str] = []

    def run(
        batch: Batch, entities: pa.Table, history: pa.Table, ledger: pa.Table
    ) -> tuple[DocumentQuery, list[dict[str, Any]]]:
        query, table = runner.evaluate(ENGINE, batch.document, entities, history, ledger, period=batch.period,
                                       as_of=batch.as_of, readings=dict(batch.readings),
                                       any_jurisdiction=batch.any_jurisdiction, split=split)  # fmt: skip
        ran[batch.document] += 1
        return query, table.to_pylist()

    total, found = 0, []
    for batch, profiles in BATCHES.items():
        try:
            compared, diffs = differences(ENGINE, batch, profiles, run)
        except NoKernel as exc:
            refused.append(f"{batch.document}: {exc}")
            continue
        total += compared
        found += diffs
    assert found == []
    assert total > 1000
    assert set(ran) == {"suzhou-software-cluster", "guangzhou-software", "xinjiang-2017-software",
                        "zhejiang-software-bases"}  # fmt: skip
    assert refused == []


def test_numbers_are_read_over_the_smallest_exact_denominator() -> None:
    from decimal import Decimal

    from huiqi.compile.tables import NUMBER_TYPE

    staff = pa.array([Decimal("50"), Decimal("12.5"), None], type=NUMBER_TYPE)
    entities = pa.table({"entity_id": ["a", "b", "c"], "entity_type": ["enterprise"] * 3,
                         "region": [["江苏省", "苏州市"]] * 3, "social_insurance_staff": staff})  # fmt: skip
    history = pa.table({"entity_id": pa.array([], pa.string()), "year": pa.array([], pa.int32())})
    inputs = Inputs(entities, history, ENGINE.catalogue, 2023, dt.date(2024, 6, 30))
    values, known = inputs.get(("fact", "social_insurance_staff"))
    assert inputs.den(("fact", "social_insurance_staff")) == 10
    assert values.tolist() == [500, 125, 0] and known.tolist() == [True, True, False]
    whole = Inputs(entities.slice(0, 1), history, ENGINE.catalogue, 2023, dt.date(2024, 6, 30))
    assert whole.get(("fact", "social_insurance_staff"))[0].tolist() == [50]
    assert whole.den(("fact", "social_insurance_staff")) == 1
    # a later slice of the same population reads it over the denominator of the slice before: the same kernel
    after = Inputs(entities.slice(0, 1), history, ENGINE.catalogue, 2023, dt.date(2024, 6, 30),
                   denominators=dict(inputs.dens))  # fmt: skip
    assert after.get(("fact", "social_insurance_staff"))[0].tolist() == [500]
    assert after.den(("fact", "social_insurance_staff")) == 10


def test_a_registry_is_read_a_slice_of_entities_at_a_time(tmp_path: Any) -> None:
    """``slices`` cuts the entities at row-group starts where the groups are small; ``read_population`` of a
    slice gives its entities, and their history and ledger rows keyed from the slice's first row, as the rows
    of the whole registry read at once."""
    from huiqi.kernel.inputs import read_population, slices

    ids = [f"E{i:03d}" for i in range(50)]
    pq.write_table(pa.table({"entity_id": ids, "entity_type": ["enterprise"] * 50,
                             "region": [["江苏省", "苏州市"]] * 50}), tmp_path / "entities.parquet",
                   row_group_size=10)  # fmt: skip
    pq.write_table(pa.table({"entity_id": [i for i in reversed(ids) for _ in range(2)],
                             "year": [2022, 2023] * 50}), tmp_path / "history.parquet")  # fmt: skip
    pq.write_table(pa.table({"entity_id": ids[::7], "rule": ["d/p/r"] * 8, "period": [2022] * 8,
                             "amount_fen": [100] * 8, "tier": pa.nulls(8, pa.string())}),
                   tmp_path / "ledger.parquet")  # fmt: skip
    assert slices(tmp_path, 20) == [(0, 20), (20, 40), (40, 50)]
    assert slices(tmp_path, 24) == [(0, 20), (20, 40), (40, 50)]  # the group start nearest each bound
    assert slices(tmp_path, 7) == [(0, 7), (7, 14), (14, 21), (21, 28), (28, 35), (35, 42), (42, 49), (49, 50)]
    # groups no larger than a slice: every bound at a group start, however large the group against the slice
    assert slices(tmp_path, 15) == [(0, 10), (10, 20), (20, 30), (30, 40), (40, 50)]
    whole = read_population(tmp_path)
    for start, stop in slices(tmp_path, 7):
        entities, history, ledger, _ = read_population(tmp_path, rows=(start, stop))
        assert entities["entity_id"].to_pylist() == ids[start:stop]
        for part, table in ((history, whole[1]), (ledger, whole[2])):
            expected = [
                {**row, "_row": row["_row"] - start} for row in table.to_pylist() if start <= row["_row"] < stop
            ]
            assert sorted(part.to_pylist(), key=repr) == sorted(expected, key=repr)
        assert history.num_rows == 2 * (stop - start)  # two years each
        assert ledger.num_rows == sum(1 for row in range(start, stop) if row % 7 == 0)  # every seventh entity
    # the same slices taken from a runner's keyed tables, as ``huiqi simulate`` takes them
    import duckdb

    from huiqi.compile.duckdb_runner import DuckDBRunner
    from huiqi.kernel.inputs import read_keyed

    con = duckdb.connect()
    DuckDBRunner(ENGINE, con).load_parquet(tmp_path, copy_entities=False)
    for rows in slices(tmp_path, 7):
        direct, keyed = read_population(tmp_path, rows=rows), read_keyed(con, tmp_path, None, rows)
        assert keyed[0].to_pylist() == direct[0].to_pylist()
        for mine, theirs in zip(keyed[1:3], direct[1:3], strict=True):
            names = theirs.column_names
            assert sorted(mine.select(names).to_pylist(), key=repr) == sorted(theirs.to_pylist(), key=repr)
        # without the text ids (``huiqi simulate`` keys each result by its row): the same columns but the ids
        bare = read_keyed(con, tmp_path, None, rows, ids=False)
        assert bare.entities.to_pylist() == keyed.entities.drop_columns(["entity_id"]).to_pylist()
    con.close()


def test_a_cache_folder_that_cannot_be_written_falls_back_to_the_temporary_folder(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("HUIQI_KERNEL_CACHE", str(blocked / "kernels"))
    path = runner._write("# a kernel\n", "k_test.py")
    assert path.read_text() == "# a kernel\n"
    assert not str(path).startswith(str(blocked))


def test_dates_are_counted_as_the_calendar_counts_them() -> None:
    """Years, whole years since and the same day years later, from days since 1970, against ``datetime`` and the
    scalar engine's ``add_years`` (29 February included), for every day of 1896–2104 and before 1970."""
    import numpy as np

    from huiqi.engine.compiler import add_years
    from huiqi.kernel import decode

    first, last = dt.date(1896, 1, 1), dt.date(2104, 12, 31)
    days = np.arange((first - runner.EPOCH).days, (last - runner.EPOCH).days + 1, dtype=np.int64)
    known = np.ones(len(days), dtype=np.bool_)
    known[::97] = False  # unknown dates read 0
    dates = [runner.EPOCH + dt.timedelta(days=int(d)) for d in days]
    out = np.empty(len(days), dtype=np.int64)
    decode.years(days, known, out)
    assert out.tolist() == [d.year if k else 0 for d, k in zip(dates, known, strict=True)]
    as_of = dt.date(2024, 2, 29)
    decode.years_since(days, known, as_of.year, as_of.month, as_of.day, out)
    expected = [as_of.year - d.year - ((d.month, d.day) > (as_of.month, as_of.day)) if k else 0
                for d, k in zip(dates, known, strict=True)]  # fmt: skip
    assert out.tolist() == expected
    for count in (1, 3, -4):
        decode.add_years(days, known, count, out)
        assert out.tolist() == [(add_years(d, count) - runner.EPOCH).days if k else 0
                                for d, k in zip(dates, known, strict=True)]  # fmt: skip


def test_columns_are_decoded_from_arrow_as_arrow_reads_them() -> None:
    """Money, counts, decimals, yes/no and dates in several chunks, sliced and with nulls, decoded in one pass
    each: the values Arrow's own conversion gives, 0 where unknown."""
    from decimal import Decimal

    import numpy as np

    from huiqi.compile.tables import NUMBER_TYPE
    from huiqi.expr.ast import Type
    from huiqi.kernel.inputs import _decode

    def decoded(column: pa.Array | pa.ChunkedArray, kind: Type) -> tuple[list[Any], list[bool], int]:
        """Each chunk read whole into its rows (the entities' path) and through indices (the history's): the
        same values either way."""
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        starts = [int(n) for n in np.cumsum([0, *(len(c) for c in chunks)])]
        whole = [(None, None, a, b - a) for a, b in itertools.pairwise(starts)]
        indexed = [(np.arange(a, b), np.arange(b - a), 0, b - a) for a, b in itertools.pairwise(starts)]
        results = [_decode(chunks, selection, len(column), "x", kind) for selection in (whole, indexed)]
        (values, known, den), (again, known_again, den_again) = results
        assert (values.tolist(), known.tolist(), den) == (again.tolist(), known_again.tolist(), den_again)
        return values.tolist(), known.tolist(), den

    money = pa.chunked_array([pa.array([5, None, -7], pa.int64()), pa.array([1, 2, 3, 4], pa.int64()).slice(1)])
    assert decoded(money, Type.MONEY) == ([5, 0, -7, 2, 3, 4], [True, False, True, True, True, True], 1)
    counts = pa.chunked_array([pa.array([Decimal(3), None], NUMBER_TYPE), pa.array([Decimal(-12)], NUMBER_TYPE)])
    assert decoded(counts, Type.NUMBER) == ([3, 0, -12], [True, False, True], 1)
    halves = pa.array([Decimal("0.5"), Decimal("-2.25"), None, Decimal(7)], NUMBER_TYPE).slice(1)
    assert decoded(halves, Type.NUMBER) == ([-225, 0, 700], [True, False, True], 100)
    flags = pa.chunked_array([pa.array([True, None, False, True] * 5).slice(3), pa.array([None, True])])
    expected = flags.to_pylist()
    assert decoded(flags, Type.BOOL)[:2] == ([bool(v) for v in expected], [v is not None for v in expected])
    days = pa.array([dt.date(1969, 12, 31), None, dt.date(2024, 2, 29)], pa.date32())
    assert decoded(days, Type.DATE)[0] == [-1, 0, 19782]
    with pytest.raises(NoKernel):
        decoded(pa.array([Decimal(2**70)], NUMBER_TYPE), Type.NUMBER)


def test_a_year_of_history_is_read_from_whichever_chunk_holds_each_entity_row() -> None:
    """History rows in no particular order, over several chunks: each entity gets its own row of the year, an
    entity without one is unknown, and the largest value before the year is each entity's own."""
    import numpy as np

    ids = [f"e{i}" for i in range(40)]
    rows = [(e, year, (i * 7 + year) % 23 * 100 if (i + year) % 5 else None)
            for i, e in enumerate(ids) for year in (2021, 2022, 2023) if (i, year) != (3, 2022)]  # fmt: skip
    rows = [rows[i] for i in np.random.default_rng(5).permutation(len(rows))]
    table = pa.table({"entity_id": [r[0] for r in rows], "year": pa.array([r[1] for r in rows], pa.int32()),
                      "revenue": pa.array([r[2] for r in rows], pa.int64())})  # fmt: skip
    history = pa.concat_tables([table.slice(0, 17), table.slice(17, 50), table.slice(67)])
    entities = pa.table({"entity_id": ids, "entity_type": ["enterprise"] * 40, "region": [["江苏省"]] * 40})
    inputs = Inputs(entities, history, ENGINE.catalogue, 2023, dt.date(2024, 6, 30))
    by = {(e, year): value for e, year, value in rows}
    values, known = inputs.get(("at", "revenue", -1))
    assert known.tolist() == [by.get((e, 2022)) is not None for e in ids]
    assert values.tolist() == [by.get((e, 2022)) or 0 for e in ids]
    highest, seen = inputs.get(("max_before", "revenue"))
    earlier = [[v for (who, year), v in by.items() if who == e and year < 2023 and v is not None] for e in ids]
    assert seen.tolist() == [bool(v) for v in earlier]
    assert highest.tolist() == [max(v) if v else 0 for v in earlier]


def test_documents_prepared_side_by_side_give_what_each_gives_alone() -> None:
    """``prepare`` makes every document's inputs and code in threads over one ``Inputs``: each result equals the
    one the document gives over inputs of its own."""
    import numpy as np

    from huiqi.population.generate import generate_chunk, rule_refs

    rng = np.random.default_rng(11)
    entities, history, ledger = generate_chunk(ENGINE.catalogue, rule_refs(ENGINE), start=0, size=3000, years=4,
                                               period=2023, rng=rng)  # fmt: skip
    documents = [d for d, compiled in ENGINE.documents.items() if compiled.rules]
    shared = Inputs(entities, history, ENGINE.catalogue, 2023, dt.date(2024, 6, 30), ledger)
    prepared = runner.prepare(ENGINE, documents, shared, readings={}, any_jurisdiction=False)
    assert set(prepared) == set(documents)
    for document in documents:
        run = prepared[document]
        assert isinstance(run, runner.KernelRun), run
        alone = runner.evaluate(ENGINE, document, entities, history, ledger, period=2023, as_of=dt.date(2024, 6, 30))
        assert run.run().equals(alone[1])


def test_slices_of_one_large_row_group_read_it_once(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file written in one row group larger than a slice (pyarrow's default is 1,048,576 rows): consecutive
    slices cut the same group, which ``RowGroups`` keeps, so it is read once; each slice's rows are the file's."""
    from huiqi.kernel.inputs import RowGroups, read_population, slices

    ids = [f"E{i:03d}" for i in range(50)]
    pq.write_table(pa.table({"entity_id": ids, "entity_type": ["enterprise"] * 50,
                             "region": [["江苏省", "苏州市"]] * 50}), tmp_path / "entities.parquet")  # fmt: skip
    pq.write_table(pa.table({"entity_id": ids, "year": [2023] * 50}), tmp_path / "history.parquet")
    pq.write_table(pa.table({"entity_id": ids[:1], "rule": ["d/p/r"], "period": [2022], "amount_fen": [100],
                             "tier": pa.nulls(1, pa.string())}), tmp_path / "ledger.parquet")  # fmt: skip
    assert pq.ParquetFile(tmp_path / "entities.parquet").metadata.num_row_groups == 1
    reads: list[int] = []
    original = pq.ParquetFile.read_row_group

    def counted(self: pq.ParquetFile, group: int, *args: Any, **kwargs: Any) -> pa.Table:
        reads.append(group)
        return original(self, group, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", counted)
    kept = RowGroups()
    ranges = slices(tmp_path, 7)
    assert len(ranges) == 8  # a slice of 7 rows, not the group of 50
    for start, stop in ranges:
        tables = read_population(tmp_path, rows=(start, stop), kept=kept)
        assert tables.entities["entity_id"].to_pylist() == ids[start:stop]
        assert sorted(tables.history["_row"].to_pylist()) == list(range(stop - start))
    assert reads == [0]  # once for eight slices
    read_population(tmp_path, rows=(0, 7))  # without ``kept``: read again
    assert reads == [0, 0]


def test_text_read_as_parquet_dictionaries_compares_as_plain_text(tmp_path: Any) -> None:
    """``read_population`` reads the entities' text (and lists of text) as the dictionaries Parquet stores, one
    per row group: every comparison with a constant gives what it gives over plain strings."""
    import numpy as np
    import pyarrow.parquet as pq

    from huiqi.kernel.inputs import read_population
    from huiqi.population.generate import generate_chunk, rule_refs

    entities, history, ledger = generate_chunk(ENGINE.catalogue, rule_refs(ENGINE), start=0, size=2500, years=3,
                                               period=2023, rng=np.random.default_rng(3))  # fmt: skip
    for name, table in (("entities", entities), ("history", history), ("ledger", ledger)):
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=700)  # several dictionaries
    read = read_population(tmp_path)
    assert pa.types.is_dictionary(read[0]["industry"].type)
    assert pa.types.is_dictionary(read[0]["region"].type.value_type)
    as_of = dt.date(2024, 6, 30)
    plain = Inputs(entities, history, ENGINE.catalogue, 2023, as_of, ledger)
    coded = Inputs(*read[:2], ENGINE.catalogue, 2023, as_of, read[2])
    specs = [("text_in", "industry", ("工业软件", "互联网平台")), ("in_region", "苏州市"),
             ("set_has", "certifications", "CMM3"), ("applies", ("enterprise",)),
             ("text_in", "registered_city", ("苏州市",))]  # fmt: skip
    for spec in specs:
        (values, known), (again, known_again) = plain.get(spec), coded.get(spec)
        assert values.tolist() == again.tolist() and known.tolist() == known_again.tolist(), spec
        assert values.any() and known.any(), spec


def test_documents_run_side_by_side_on_every_core_give_what_one_core_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """``run_all`` runs the documents side by side, each kernel over parts of its rows on every core, each part
    packing the validity bitmaps of the amounts it wrote (parts start at multiples of 8 rows; 50,003 rows leave
    a last byte of three): every result equals the one a single core gives, nulls and all, in the documents'
    order, and a document the kernel refuses is given as its ``NoKernel``."""
    import numpy as np

    from huiqi.population.generate import generate_chunk, rule_refs

    entities, history, ledger = generate_chunk(ENGINE.catalogue, rule_refs(ENGINE), start=0, size=50_003, years=3,
                                               period=2023, rng=np.random.default_rng(17))  # fmt: skip
    documents = [d for d, compiled in ENGINE.documents.items() if compiled.rules]
    inputs = Inputs(entities, history, ENGINE.catalogue, 2023, dt.date(2024, 6, 30), ledger)
    prepared: dict[str, runner.KernelRun | NoKernel] = dict(
        runner.prepare(ENGINE, documents, inputs, readings={}, any_jurisdiction=True)
    )
    prepared["refused"] = NoKernel("一个不能编译的文件")
    side_by_side = list(runner.run_all(prepared))
    assert [document for document, _ in side_by_side] == [*documents, "refused"]
    assert side_by_side[-1][1] is prepared["refused"]
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 1)
    mixed = 0  # amount columns with bits set and clear
    for document, table in side_by_side[:-1]:
        run = prepared[document]
        assert isinstance(run, runner.KernelRun) and isinstance(table, pa.Table)
        alone = run.run()
        assert table.num_rows == alone.num_rows == 50_003  # every jurisdiction: every row reached
        assert table.equals(alone), document
        amounts = [c.amount for c in run.query.rules if c.amount is not None]
        mixed += sum(1 for a in amounts if 0 < table[a].null_count < table.num_rows)
    assert mixed >= 10


def test_slices_are_read_ahead_in_order_and_a_failed_read_is_raised() -> None:
    """``read_ahead`` gives each slice's tables in order, reading the next one while the caller holds this one;
    a read that fails raises where its slice is asked for."""
    import threading

    from huiqi.kernel.inputs import read_ahead

    threads: set[str] = set()

    def read(rows: tuple[int, int]) -> tuple[int, int]:
        threads.add(threading.current_thread().name)
        if rows == (20, 30):
            raise ValueError("slice (20, 30) cannot be read")
        return rows

    ranges = [(0, 10), (10, 20), (20, 30)]
    slices_read = read_ahead(read, ranges)
    assert next(slices_read) == (0, 10)
    assert next(slices_read) == (10, 20)
    with pytest.raises(ValueError, match="cannot be read"):
        next(slices_read)
    assert all(name.startswith("huiqi-kernel-read") for name in threads)
    assert list(read_ahead(read, ranges[:2])) == ranges[:2]
    assert list(read_ahead(read, [])) == []
