"""Money stays exact int64 fen in the population tables, far beyond 2³¹ fen, and becomes 元 only at the edges."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import load_workbook

from huiqi.population.labels import column_label, yuan, yuan_text
from huiqi.population.outputs import YUAN_MACRO, write_report
from huiqi.population.session import PopulationSession, Scenario
from huiqi.population.simulate import simulate

from .populations import AS_OF, PERIOD, PROVISIONS, MiniFactory, parse_all, write_population

FIRMS = 3_000
RAW = {
    "entity_type": "enterprise",
    "region": ["江苏省", "苏州市", "姑苏区"],
    "facts": {"social_insurance_staff": 50, "revenue": {PERIOD: "6000万元"}, "paid_in_capital": "1234.57万元"},
}


def test_sums_beyond_two_to_the_31_fen_are_exact(mini: MiniFactory, tmp_path: Path) -> None:
    engine = mini(PROVISIONS)
    ((_, profile),) = parse_all(engine, [{"id": "x", **RAW}])
    folder = write_population(tmp_path / "population", engine, [(f"E{i:06d}", profile) for i in range(FIRMS)])
    with PopulationSession(folder, engine) as session:
        _, report = simulate(session, engine, ["test-doc"], Scenario(as_of=AS_OF, period=PERIOD))
        write_report(report, tmp_path / "out", session.connection)
    # each firm: 100万元 (tier t2) fixed + 5% × 1234.57万元 = 61.7285万元 ceiling
    cost, ceiling = FIRMS * 100_000_000, FIRMS * 61_728_500
    document = report.table("by_document")
    assert document.schema.field("total_fen").type == pa.int64()
    row = document.to_pylist()[0]
    assert (row["cost_fen"], row["ceiling_fen"], row["total_fen"]) == (cost, ceiling, cost + ceiling)
    assert cost + ceiling > 2**38
    on_disk = pq.read_table(tmp_path / "out" / "by_document.parquet").to_pylist()[0]
    assert on_disk["total_fen"] == cost + ceiling
    with (tmp_path / "out" / "by_document.csv").open(encoding="utf-8-sig") as handle:
        assert next(csv.DictReader(handle))["total_yuan"] == "4851855000.00"
    sheet = load_workbook(tmp_path / "out" / "summary.xlsx")["按文件汇总"]
    headers = [c.value for c in sheet[1]]
    total = sheet.cell(row=2, column=headers.index(column_label("total_fen")) + 1).value
    assert Decimal(str(total)) == Decimal("485185.5")  # 万元, exact


def test_yuan_strings_are_built_from_integers(tmp_path: Path) -> None:
    import duckdb

    connection = duckdb.connect()
    connection.execute(YUAN_MACRO)
    values = [0, 5, -5, 100, 123456789, -123456789, 2**62 + 7]
    got = [connection.execute("SELECT huiqi_yuan(?::BIGINT)", [v]).fetchall()[0][0] for v in values]
    assert got == ["0.00", "0.05", "-0.05", "1.00", "1234567.89", "-1234567.89", "46116860184273879.11"]
    assert [str(yuan(v)) for v in values] == got
    assert yuan_text(2**62 + 7) == "46,116,860,184,273,879.11"
