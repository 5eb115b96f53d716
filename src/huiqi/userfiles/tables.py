"""Rows of a spreadsheet a user exported: CSV (any accepted encoding), Excel ``.xlsx`` or old ``.xls``.

Every cell comes back as text, exactly as it would be typed: numbers stored by Excel as binary floats
are given their shortest decimal form (``1200.5``), dates as ``YYYY-MM-DD``, yes/no as ``true``/``false``.
A damaged workbook, a web page saved with an ``.xls`` name, or a malformed CSV line is an error naming
the file (and the line), in Chinese.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

from huiqi.errors import HuiqiError, InputFileError
from huiqi.userfiles.text import decode_text, read_bytes

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", *EXCEL_SUFFIXES, ".xls")


def read_table(path: Path, *, what: str = "表格", error: type[HuiqiError] = InputFileError) -> list[list[str]]:
    """All rows (header first) of the first sheet of ``path`` as text cells."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise error(f"不支持的文件类型 {path.suffix or '（无扩展名）'}：请用 .csv、.xlsx 或 .xls", where=str(path))
    data = read_bytes(path, what=what, error=error)
    if not data.strip():
        raise error(f"{what}为空：第一行应为列名", where=str(path))
    if suffix in EXCEL_SUFFIXES:
        return _xlsx_rows(data, str(path), error)
    if suffix == ".xls":
        return _xls_rows(data, str(path), error)
    return _csv_rows(decode_text(data, where=str(path), what=what, error=error), str(path), error)


def _csv_rows(text: str, where: str, error: type[HuiqiError]) -> list[list[str]]:
    first = text.split("\n", 1)[0]
    # Excel's "Unicode text" is tab-separated; some exports use semicolons.
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return [row for row in reader]
    except csv.Error as exc:
        line = reader.line_num
        raise error(
            f"CSV 格式错误（第{line}行）：{_csv_problem(str(exc))}；请用 Excel 或文本编辑器检查这一行",
            where=f"{where}:{line}",
        ) from None


def _csv_problem(message: str) -> str:
    if "quote" in message or "EOF" in message or "end of data" in message:
        return "引号未成对（含逗号或换行的单元格应整个用英文双引号括起，单元格内的双引号写两次）"
    if "NUL" in message or "null byte" in message:
        return "含空字符（这可能不是文本文件）"
    return f"无法解析（{message}）"


def _xlsx_rows(data: bytes, where: str, error: type[HuiqiError]) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = [["" if c is None else _cell_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, IndexError) as exc:
        raise error(
            f"无法读取 Excel 工作簿（文件可能已损坏，或并非真正的 .xlsx：{type(exc).__name__}）："
            "请用 Excel 打开后另存为 .xlsx 或 CSV（UTF-8）",
            where=where,
        ) from None
    return rows


def _xls_rows(data: bytes, where: str, error: type[HuiqiError]) -> list[list[str]]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data)
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct errors … on anything that is not .xls
        raise error(
            f"无法读取旧版 Excel 文件 .xls（{type(exc).__name__}；网页另存为 .xls 的文件也无法读取）："
            "请用 Excel 打开后“另存为” .xlsx 或 CSV（UTF-8）",
            where=where,
        ) from None
    sheet = book.sheet_by_index(0)
    rows: list[list[str]] = []
    for index in range(sheet.nrows):
        row = []
        for cell in sheet.row(index):
            if cell.ctype == xlrd.XL_CELL_DATE:
                value = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
                row.append(_cell_text(value))
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                row.append("true" if cell.value else "false")
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                row.append("")
            else:
                row.append(_cell_text(cell.value))
        rows.append(row)
    return rows


def _cell_text(cell: Any) -> str:
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, float):
        # Excel stores numbers as binary floats; repr gives the shortest exact-looking text, parsed as Decimal.
        return repr(cell).removesuffix(".0")
    return str(cell)
