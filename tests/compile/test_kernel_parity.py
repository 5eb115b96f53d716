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
