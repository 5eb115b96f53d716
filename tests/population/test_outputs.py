"""Every output is written and reads back: Parquet (fen), CSV (元), Excel, PNG charts and the HTML page."""

from __future__ import annotations

import base64
import csv
import doctest
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from huiqi.population import budget, charts, labels
from huiqi.population.outputs import write_report
from huiqi.population.session import PopulationSession, Scenario
from huiqi.population.simulate import simulate

from .conftest import Synthetic
from .populations import AS_OF, PERIOD

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def written(synthetic: Synthetic, tmp_path: Path) -> tuple[Path, list[Path]]:
    engine = synthetic.engine
    with PopulationSession(synthetic.folder, engine) as session:
        _, report = simulate(session, engine, ["test-doc"], Scenario(AS_OF, PERIOD))
        files = write_report(report, tmp_path / "out", session.connection)
    return tmp_path / "out", files


def test_every_table_is_written_as_parquet_and_csv(written: tuple[Path, list[Path]]) -> None:
    out, files = written
    for name in ("by_document", "by_provision", "by_rule", "distribution", "results"):
        table = pq.read_table(out / f"{name}.parquet")
        assert (out / f"{name}.csv").read_bytes().startswith(b"\xef\xbb\xbf"), name  # Excel reads it as UTF-8
        with (out / f"{name}.csv").open(encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == table.num_rows > 0, name
        fen = [c for c in table.column_names if c.endswith("_fen")]
        assert fen, name
        for column in fen:  # the CSV has the same money in 元, as exact decimal strings
            values = table[column].to_pylist()
            assert [r[column.removesuffix("_fen") + "_yuan"] for r in rows] == [
                "" if v is None else str(Decimal(v).scaleb(-2)) for v in values
            ]
    assert set(files) >= {out / "summary.xlsx", out / "report.html", out / "results.parquet"}


def test_excel_has_notes_summaries_and_small_per_entity_tables(written: tuple[Path, list[Path]]) -> None:
    out, _ = written
    workbook = load_workbook(out / "summary.xlsx")
    assert workbook.sheetnames[:5] == ["说明", "按文件汇总", "按条款汇总", "按规则汇总", "分布：规模、区县、行业"]
    assert "逐主体逐规则结果（不含不适用）" in workbook.sheetnames
    sheet = workbook["按文件汇总"]
    headers = [c.value for c in sheet[1]]
    assert "受益主体数" in headers and "最高可达合计（确定＋上限，元）" in headers
    total = sheet.cell(row=2, column=headers.index("最高可达合计（确定＋上限，元）") + 1)
    assert total.number_format == "#,##0.00"
    expected = pq.read_table(out / "by_document.parquet")["total_fen"][0].as_py()
    assert Decimal(str(total.value)) == Decimal(expected).scaleb(-2)
    results = workbook["逐主体逐规则结果（不含不适用）"]
    assert {c.value for c in results["E"][1:]} <= {"符合", "待审核定额", "需补充信息", "不重复享受", "不符合"}


def test_charts_are_png_and_embedded_in_the_html(written: tuple[Path, list[Path]]) -> None:
    out, _ = written
    pngs = sorted((out / "charts").glob("*.png"))
    assert [p.stem for p in pngs] == sorted(["by_document", "top_provisions", "by_size_band"] + (
        ["by_district", "by_industry"] if charts.chinese_font() else []))  # fmt: skip
    html = (out / "report.html").read_text(encoding="utf-8")
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(PNG)
        assert base64.b64encode(data).decode("ascii") in html
    assert "<h2>按条款汇总</h2>" in html and "受益主体数" in html


def test_without_a_chinese_font_charts_speak_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "chinese_font", lambda: None)
    assert charts.text("金额", "amount") == "amount"
    rows = [{"document": "gz", "provision": "二.1", "provision_label": "1. 核心", "position": 3},
            {"document": "sz", "provision": "2", "provision_label": "2. 增资", "position": 2}]  # fmt: skip
    assert charts.provision_names(rows) == ["gz #3", "sz:2"]
    png = charts.bar_chart("Amount", ["a", "b"], [charts.Series("x", [100, 2_000_000])])
    assert png.startswith(PNG)


def test_doctests() -> None:
    for module in (labels, budget):
        failures, tried = doctest.testmod(module)
        assert failures == 0 and tried > 0, module.__name__
