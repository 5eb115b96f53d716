"""The compiled kernel (``huiqi.kernel``) gives every policy case the scalar engine's status and amount.

Every batch of cases runs through the kernel, ledgers included (一次性, 连续支持, 进档补差, caps, awards of
other documents that rule a rule out, 不重复享受 with awards paid before): none is refused.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pyarrow as pa
import pytest

from huiqi.compile.document import DocumentQuery
from huiqi.compile.parity import Batch, differences
from huiqi.kernel import runner
from huiqi.kernel.inputs import Inputs, NoKernel

from .test_case_parity import BATCHES, ENGINE

pytestmark = pytest.mark.skipif(not runner.available(), reason="numba is not installed")


def test_the_kernel_matches_the_scalar_engine_on_every_case_it_compiles() -> None:
    ran: Counter[str] = Counter()
    refused: list[str] = []

    def run(
        batch: Batch, entities: pa.Table, history: pa.Table, ledger: pa.Table
    ) -> tuple[DocumentQuery, list[dict[str, Any]]]:
        query, table = runner.evaluate(ENGINE, batch.document, entities, history, ledger, period=batch.period,
                                       as_of=batch.as_of, readings=dict(batch.readings),
                                       any_jurisdiction=batch.any_jurisdiction)  # fmt: skip
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

    from huiqi.compile.tables import NUMBER_TYPE
    from huiqi.expr.ast import Type
    from huiqi.kernel.inputs import _decode

    money = pa.chunked_array([pa.array([5, None, -7], pa.int64()), pa.array([1, 2, 3, 4], pa.int64()).slice(1)])
    assert [a.tolist() for a in _decode(money, "m", Type.MONEY)[:2]] == [[5, 0, -7, 2, 3, 4],
                                                                         [True, False, True, True, True, True]]  # fmt: skip
    counts = pa.chunked_array([pa.array([Decimal(3), None], NUMBER_TYPE), pa.array([Decimal(-12)], NUMBER_TYPE)])
    values, known, den = _decode(counts, "c", Type.NUMBER)
    assert (values.tolist(), known.tolist(), den) == ([3, 0, -12], [True, False, True], 1)
    halves = pa.array([Decimal("0.5"), Decimal("-2.25"), None, Decimal(7)], NUMBER_TYPE).slice(1)
    values, known, den = _decode(halves, "h", Type.NUMBER)
    assert (values.tolist(), known.tolist(), den) == ([-225, 0, 700], [True, False, True], 100)
    flags = pa.chunked_array([pa.array([True, None, False, True] * 5).slice(3), pa.array([None, True])])
    values, known, _ = _decode(flags, "b", Type.BOOL)
    expected = flags.to_pylist()
    assert values.tolist() == [bool(v) for v in expected] and known.tolist() == [v is not None for v in expected]
    days = pa.array([dt.date(1969, 12, 31), None, dt.date(2024, 2, 29)], pa.date32())
    assert _decode(days, "d", Type.DATE)[0].tolist() == [-1, 0, 19782]
    huge = pa.array([Decimal(2**70)], NUMBER_TYPE)
    with pytest.raises(NoKernel):
        _decode(huge, "x", Type.NUMBER)
