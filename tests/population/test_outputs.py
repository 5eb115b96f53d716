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
from openpyxl.utils import get_column_letter

from huiqi.population import budget, charts, labels
from huiqi.population.labels import column_label, text_width
from huiqi.population.outputs import write_report
from huiqi.population.session import PopulationSession, Scenario
from huiqi.population.simulate import document_titles, simulate

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
    assert "受益主体数" in headers and "确定金额（万元）" in headers and column_label("total_fen") in headers
    total = sheet.cell(row=2, column=headers.index(column_label("total_fen")) + 1)
    assert total.number_format == "#,##0.00"
    expected = pq.read_table(out / "by_document.parquet")["total_fen"][0].as_py()
    assert Decimal(str(total.value)) == Decimal(expected).scaleb(-6)  # 万元, the exact amount
    results = workbook["逐主体逐规则结果（不含不适用）"]
    assert {c.value for c in results["E"][1:]} <= {"符合", "待审核定额", "需补充信息", "不重复享受", "不符合"}
    assert any("金额单位：万元" in str(row[0].value) for row in workbook["说明"].iter_rows())


def test_excel_sheets_are_ready_to_use(written: tuple[Path, list[Path]]) -> None:
    """Every data sheet: header row frozen, filters over the whole table, columns as wide as their widest
    cell (CJK characters count two), money as #,##0.00 (万元) and counts as #,##0."""
    out, _ = written
    workbook = load_workbook(out / "summary.xlsx")
    for sheet in workbook.worksheets[1:]:
        assert sheet.freeze_panes == "A2", sheet.title
        last = get_column_letter(sheet.max_column)
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", sheet.title
        headers = [c.value for c in sheet[1]]
        for index, header in enumerate(headers, start=1):
            letter = get_column_letter(index)
            width = sheet.column_dimensions[letter].width
            cells = [c for c in sheet[letter][1:] if c.value is not None]
            shown = [text_width(str(header))]
            for cell in cells:
                if "万元" in str(header):
                    assert cell.number_format == "#,##0.00", (sheet.title, header)
                    shown.append(text_width(f"{Decimal(str(cell.value)):,.2f}"))
                elif isinstance(cell.value, int):
                    assert cell.number_format == "#,##0", (sheet.title, header)
                    shown.append(text_width(f"{cell.value:,}"))
                else:
                    shown.append(text_width(str(cell.value)))
            assert min(max(shown), 56) < width <= 60, (sheet.title, header, width)
    by_document = workbook["按文件汇总"]
    assert by_document.column_dimensions["B"].width >= text_width("文件名称") + 2  # CJK counted double


def test_every_chart_is_png_and_embedded_in_the_html(written: tuple[Path, list[Path]]) -> None:
    out, _ = written
    pngs = sorted((out / "charts").glob("*.png"))
    assert [p.stem for p in pngs] == sorted(
        ["by_document", "top_provisions", "by_size_band", "by_district", "by_industry"]
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(PNG)
        assert base64.b64encode(data).decode("ascii") in html
    assert "<h2>按条款汇总</h2>" in html and "受益主体数" in html and "金额单位：万元" in html
    assert '确定金额<span class="unit">（万元）</span>' in html  # the unit wraps as one piece


def test_the_html_tables_name_documents_by_short_title(synthetic: Synthetic, tmp_path: Path) -> None:
    with PopulationSession(synthetic.folder, synthetic.engine) as session:
        _, report = simulate(session, synthetic.engine, ["test-doc"], Scenario(AS_OF, PERIOD))
        write_report(report, tmp_path / "out", session.connection)
    title = document_titles(synthetic.engine)["test-doc"]
    assert title != "test-doc" and report.titles == {"test-doc": title}
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    provisions = html[html.index("<h2>按条款汇总</h2>") : html.index("<h2>按规则汇总</h2>")]
    assert f'<td title="test-doc">{title}</td>' in provisions and "<td>test-doc</td>" not in provisions
    documents = html[html.index("<h2>按文件汇总</h2>") : html.index("<h2>按条款汇总</h2>")]
    assert "<td>test-doc</td>" in documents and f"<td>{title}</td>" in documents  # id beside its title there


def test_without_a_chinese_font_the_report_says_why_there_are_no_charts(
    synthetic: Synthetic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No English fallback and no silent gap: the notes (console, HTML, Excel) say what to install."""
    monkeypatch.setenv(charts.FONT_ENV, str(tmp_path / "missing.ttc"))
    charts.cjk_font.cache_clear()
    try:
        with PopulationSession(synthetic.folder, synthetic.engine) as session:
            _, report = simulate(session, synthetic.engine, ["test-doc"], Scenario(AS_OF, PERIOD))
            write_report(report, tmp_path / "out", session.connection)
    finally:
        charts.cjk_font.cache_clear()
    assert report.charts == []
    note = next(n for n in report.notes if n.startswith("未生成图表"))
    assert "HUIQI_CJK_FONT" in note and "missing.ttc" in note
    assert not (tmp_path / "out" / "charts").exists()
    assert note in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_doctests() -> None:
    for module in (labels, budget):
        failures, tried = doctest.testmod(module)
        assert failures == 0 and tried > 0, module.__name__


@pytest.mark.parametrize("first", ["entity_id", "主体 名称"])
def test_csv_starts_with_one_byte_order_mark_whatever_the_first_header(tmp_path: Path, first: str) -> None:
    """A plain first header carries the mark itself (the rows are written once); any other is written and then
    copied behind the mark. Either way: one mark, the headers and values as they are, no part file left."""
    import duckdb

    from huiqi.population.outputs import YUAN_MACRO, _copy_csv

    connection = duckdb.connect()
    connection.execute(YUAN_MACRO)
    connection.execute(f"CREATE TABLE t AS SELECT 'e1' AS \"{first}\", 123456 AS amount_fen, '苏州' AS city")
    path = tmp_path / "t.csv"
    _copy_csv(connection, "t", [first, "amount_fen", "city"], path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    with path.open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == [[first, "amount_yuan", "city"], ["e1", "1234.56", "苏州"]]
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]
