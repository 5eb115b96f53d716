"""Tables of the pages as well-formed Excel files: Chinese headers in bold, the header row frozen, a filter on
every column, widths that fit the text (CJK characters count two), money as exact numbers with a number
format, and a 说明 sheet saying what the file is and its units.

Every download of a page table goes through ``workbook_response``, so the finance export, the dashboards and
the simulation results look alike in Excel. Money is integer fen in the rows; a column of kind ``wan``
shows it as exact ``Decimal`` 万元 (``#,##0.00``), ``yuan`` as exact 元 with two places (what a bank or
treasury system takes); no float touches it.

>>> sheet = Sheet("拨付", [Column("单位名称"), Column("金额（万元）", "wan")], [["甲公司", 1_234_567_800]])
>>> data = workbook_bytes("测试", [sheet])
>>> data[:2]
b'PK'
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from starlette.responses import Response

from huiqi.population.labels import text_width, wan, yuan
from huiqi.web.downloads import attachment

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WIDTH = 60

#: How a column's cells are written: text; an integer count; money in 万元 or 元 (the row holds fen); a
#: date; a percentage (the row holds a ``Decimal`` or ``Fraction`` share, 0.25 = 25%).
Kind = Literal["text", "count", "wan", "yuan", "date", "percent"]
FORMATS: dict[str, str] = {"count": "#,##0", "wan": "#,##0.00", "yuan": "#,##0.00", "date": "yyyy-mm-dd",
                           "percent": "0.00%"}  # fmt: skip


@dataclass(frozen=True)
class Column:
    """A column: its Chinese header (with the unit, e.g. ``金额（万元）``) and how its cells are written."""

    label: str
    kind: Kind = "text"


@dataclass
class Sheet:
    """One table: a sheet title (at most 31 characters), its columns and rows (money as integer fen)."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    notes: list[str] = field(default_factory=list)


def cell_value(kind: str, value: Any) -> Any:
    """What a cell holds: exact Decimal money, a date, 是/否 for booleans; text otherwise."""
    if value is None:
        return None
    if kind == "wan":
        return wan(int(value))
    if kind == "yuan":
        return yuan(int(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if kind == "percent":
        from decimal import Decimal
        from fractions import Fraction

        if isinstance(value, Fraction):
            return Decimal(value.numerator) / Decimal(value.denominator)
    return value


def shown(kind: str, value: Any) -> str:
    """The text a cell shows (for its width)."""
    value = cell_value(kind, value)
    if value is None:
        return ""
    if kind in ("wan", "yuan"):
        return f"{value:,.2f}"
    if kind == "count" and isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _title(title: str, used: set[str]) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:28] or "表"
    name, index = clean, 2
    while name in used:
        name, index = f"{clean}{index}", index + 1
    used.add(name)
    return name


def workbook_bytes(title: str, sheets: Sequence[Sheet], *, notes: Sequence[str] = ()) -> bytes:
    """An .xlsx file: a 说明 sheet (the title, the notes, each sheet's own notes), then one sheet per table."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    about = workbook.create_sheet(_title("说明", used))
    about.column_dimensions["A"].width = 110
    heading = WriteOnlyCell(about, value=title)
    heading.font = Font(bold=True)
    about.append([heading])
    lines = [*notes, *(f"{s.title}：{note}" for s in sheets for note in s.notes)]
    lines.append("金额以整数分计算；“万元”“元”列保存精确金额，显示两位小数。")
    for line in lines:
        cell = WriteOnlyCell(about, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        about.append([cell])
    for table in sheets:
        sheet = workbook.create_sheet(_title(table.title, used))
        kinds = [c.kind for c in table.columns]
        for index, column in enumerate(table.columns):
            widest = max(
                [text_width(column.label), *(text_width(shown(column.kind, row[index])) for row in table.rows)]
            )
            sheet.column_dimensions[get_column_letter(index + 1)].width = min(MAX_WIDTH, widest + 4)
        sheet.freeze_panes = "A2"
        last = get_column_letter(max(1, len(table.columns)))
        sheet.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=column.label)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center")
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            cells = []
            for kind, value in zip(kinds, row, strict=True):
                cell = WriteOnlyCell(sheet, value=cell_value(kind, value))
                if kind in FORMATS:
                    cell.number_format = FORMATS[kind]
                cells.append(cell)
            sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def workbook_response(filename: str, title: str, sheets: Sequence[Sheet], *, notes: Sequence[str] = (),
                      fallback: str = "huiqi") -> Response:  # fmt: skip
    """The workbook as a download named ``filename`` (Chinese, ending .xlsx); never cached."""
    return Response(workbook_bytes(title, sheets, notes=notes), media_type=XLSX,
                    headers={"Content-Disposition": attachment(filename, fallback=fallback),
                             "Cache-Control": "no-store"})  # fmt: skip
