"""Write a ``Report`` to a folder: Parquet (fen), CSV (元), one Excel workbook, PNG charts, one HTML page.

- Parquet keeps the machine form: money BIGINT fen, statuses as names;
- CSV (UTF-8 with BOM so Excel reads the Chinese, header row) writes each ``*_fen`` column as ``*_yuan``, a decimal string with two places
  built from the integer (``12345.67``) — exact, no float;
- ``summary.xlsx`` has a sheet of notes, one per summary table (Chinese headers with units, money in 万元
  as exact decimals formatted ``#,##0.00``, counts ``#,##0``; header row frozen, filters on, columns as
  wide as their contents with CJK characters counted double), and the per-entity tables when they have at
  most ``EXCEL_ROW_LIMIT`` rows (the notes say where the others are);
- ``charts/*.png`` and ``report.html`` (self-contained: the charts are embedded).
"""

from __future__ import annotations

import codecs
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from huiqi.compile.sql import quote_ident, sql_string

from .html import render_html
from .labels import VALUE_LABELS, column_label, display, text_width, wan
from .report import Report

EXCEL_ROW_LIMIT = 10_000
MONEY_FORMAT = "#,##0.00"  # 万元 with two places shown; the cell holds the exact amount
COUNT_FORMAT = "#,##0"
MAX_COLUMN_WIDTH = 60  # characters of Excel's default font; longer cells are cut off on screen, not in the data
UNIT_NOTE = (
    "金额单位：万元。表中金额由整数分精确换算，单元格保存精确值、显示两位小数；"
    "Parquet 文件中金额为整数分（*_fen），CSV 文件中为元（*_yuan，精确到分）。"
)

YUAN_MACRO = (
    "CREATE OR REPLACE TEMP MACRO huiqi_yuan(fen) AS CASE WHEN fen IS NULL THEN NULL ELSE "
    "(CASE WHEN fen < 0 THEN '-' ELSE '' END) || CAST(abs(fen) // 100 AS VARCHAR) || '.' || "
    "lpad(CAST(abs(fen) % 100 AS VARCHAR), 2, '0') END"
)


def _csv_columns(columns: list[str]) -> list[tuple[str, str]]:
    """(SQL, header) of each CSV column: every ``*_fen`` column becomes a ``*_yuan`` decimal string."""
    parts = []
    for name in columns:
        if name.endswith("_fen"):
            parts.append((f"huiqi_yuan({quote_ident(name)})", name.removesuffix("_fen") + "_yuan"))
        else:
            parts.append((quote_ident(name), name))
    return parts


#: a header DuckDB writes as it is, unquoted
_PLAIN_HEADER = re.compile(r"[A-Za-z0-9_]+")


def _copy_csv(connection: duckdb.DuckDBPyConnection, relation: str, columns: list[str], path: Path) -> None:
    """Write CSV for Excel: UTF-8 with a byte-order mark, without which Excel on Chinese Windows reads GBK.

    DuckDB cannot write the mark itself, so it becomes the first character of the first header (which DuckDB
    writes unquoted when it is a plain name): the file then starts with the mark, and the rows are written
    once (copying a 577 MB file of 8.7 million results behind a mark took 0.3–0.5 s). Written to a ``.part``
    file and renamed, so that a failed write leaves no half file under the final name.
    """
    parts = _csv_columns(columns)
    part = path.with_name(path.name + ".part")
    plain = bool(parts) and _PLAIN_HEADER.fullmatch(parts[0][1]) is not None
    headers = [("\ufeff" if plain and i == 0 else "") + header for i, (_, header) in enumerate(parts)]
    select = ", ".join(f"{sql} AS {quote_ident(header)}" for (sql, _), header in zip(parts, headers, strict=True))
    connection.execute(f"COPY (SELECT {select} FROM {relation}) TO {sql_string(str(part))} (HEADER, DELIMITER ',')")
    if plain:
        part.replace(path)
        return
    with path.open("wb") as target, part.open("rb") as source:
        target.write(codecs.BOM_UTF8)
        shutil.copyfileobj(source, target, 1 << 20)
    part.unlink()


def write_report(report: Report, out: Path, connection: duckdb.DuckDBPyConnection) -> list[Path]:
    """Write every part of ``report`` into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    connection.execute(YUAN_MACRO)
    written: list[Path] = []
    sheets: list[tuple[str, pa.Table]] = []
    omitted: list[str] = []
    for table in report.tables:
        parquet = out / f"{table.name}.parquet"
        pq.write_table(table.data, parquet)
        connection.register("_summary_arrow", table.data)
        try:
            _copy_csv(connection, "_summary_arrow", table.data.column_names, out / f"{table.name}.csv")
        finally:
            connection.unregister("_summary_arrow")
        written += [parquet, out / f"{table.name}.csv"]
        sheets.append((table.title, table.data))
    for export in report.exports:
        parquet = out / f"{export.name}.parquet"
        connection.execute(f"COPY ({export.sql}) TO {sql_string(str(parquet))} (FORMAT parquet)")
        source = f"read_parquet({sql_string(str(parquet))})"
        columns = connection.sql(f"SELECT * FROM {source} LIMIT 0").columns
        _copy_csv(connection, source, columns, out / f"{export.name}.csv")
        written += [parquet, out / f"{export.name}.csv"]
        rows = pq.ParquetFile(parquet).metadata.num_rows
        if rows <= EXCEL_ROW_LIMIT:
            sheets.append((export.title, pq.read_table(parquet)))
        else:
            omitted.append(
                f"{export.title}共 {rows:,} 行，超过 {EXCEL_ROW_LIMIT:,} 行，未放入本工作簿：见 {export.name}.parquet / .csv"
            )
    if report.charts:
        (out / "charts").mkdir(exist_ok=True)
    for chart in report.charts:
        path = out / "charts" / f"{chart.name}.png"
        path.write_bytes(chart.png)
        written.append(path)
    excel = out / "summary.xlsx"
    _write_excel(excel, report, sheets, omitted)
    html = out / "report.html"
    html.write_text(render_html(report), encoding="utf-8")
    return [*written, excel, html]


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:28] or "sheet"
    name, index = clean, 2
    while name in used:
        name, index = f"{clean}{index}", index + 1
    used.add(name)
    return name


def _number_format(column: str, kind: pa.DataType) -> str | None:
    """``#,##0.00`` for money (万元), ``#,##0`` for counts, none for text."""
    if column.endswith("_fen"):
        return MONEY_FORMAT
    if pa.types.is_integer(kind):
        return COUNT_FORMAT
    return None


def _value(column: str, value: Any) -> Any:
    """A cell's value: money as the exact Decimal of 万元, yes/no and statuses in words."""
    if value is None:
        return None
    if column.endswith("_fen"):
        return wan(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    labels = VALUE_LABELS.get(column)
    return labels.get(str(value), value) if labels else value


def column_widths(data: pa.Table) -> list[int]:
    """Excel column widths fitting the header and every cell as shown (CJK characters count two), plus a
    margin for the filter button; at most ``MAX_COLUMN_WIDTH``."""
    widths = []
    for name in data.column_names:
        shown = (display(name, value) for value in data[name].to_pylist())
        widest = max([text_width(column_label(name)), *(text_width(text) for text in shown)])
        widths.append(min(MAX_COLUMN_WIDTH, widest + 4))
    return widths


def _write_excel(path: Path, report: Report, sheets: list[tuple[str, pa.Table]], omitted: list[str]) -> None:
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    notes = workbook.create_sheet(_sheet_title("说明", used))
    notes.column_dimensions["A"].width = 110
    title = WriteOnlyCell(notes, value=report.title)
    title.font = Font(bold=True)
    notes.append([title])
    for line in [*report.notes, *omitted, UNIT_NOTE]:
        cell = WriteOnlyCell(notes, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        notes.append([cell])
    for sheet_title, data in sheets:
        sheet = workbook.create_sheet(_sheet_title(sheet_title, used))
        columns = data.column_names
        for index, width in enumerate(column_widths(data), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{data.num_rows + 1}"
        header = []
        for name in columns:
            cell = WriteOnlyCell(sheet, value=column_label(name))
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center")
            header.append(cell)
        sheet.append(header)
        formats = [_number_format(name, data.schema.field(name).type) for name in columns]
        for batch in data.to_batches(max_chunksize=10_000):
            for row in batch.to_pylist():
                cells = []
                for name, number_format in zip(columns, formats, strict=True):
                    cell = WriteOnlyCell(sheet, value=_value(name, row[name]))
                    if number_format is not None:
                        cell.number_format = number_format
                    cells.append(cell)
                sheet.append(cells)
    workbook.save(path)
