"""``report.html``: one self-contained page (notes, charts as embedded PNG, the summary tables)."""

from __future__ import annotations

import base64
from html import escape

import pyarrow as pa

from .labels import column_label, display
from .report import Report

HTML_ROW_LIMIT = 200
UNIT_NOTE = "金额单位：万元（由整数分换算，四舍五入到两位小数；精确到分的金额见 CSV 文件的 *_yuan 列）。"

_STYLE = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; } th { background: #f3f3f3; } th .unit { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } img { width: 100%; max-width: 900px; height: auto; }
figcaption { color: #555; font-size: 0.9em; }
p.note { color: #555; margin: 0.2em 0; }
"""


def _header(label: str) -> str:
    """A column header whose unit, such as （万元）, wraps as one piece instead of splitting 万 from 元."""
    name, bracket, unit = label.rpartition("（")
    if not bracket:
        return escape(label)
    return f'{escape(name)}<span class="unit">（{escape(unit)}</span>'


def _table_html(data: pa.Table, titles: dict[str, str]) -> str:
    """A summary table; documents (``document``, ``best_document`` and the per-document money columns of a
    comparison) by their short titles, the id kept as the cell's tooltip. A table that lists the titles
    itself (``title``) keeps its ids."""
    columns = data.column_names
    named = {"document", "best_document"} - ({"document"} if "title" in columns else set())
    numeric = {name for name in columns if pa.types.is_integer(data.schema.field(name).type) or name.endswith("_fen")}
    head = "".join(f"<th>{_header(_column(name, titles))}</th>" for name in columns)
    rows = []
    for row in data.slice(0, HTML_ROW_LIMIT).to_pylist():
        cells = []
        for n in columns:
            value = row[n]
            if n in named and value in titles:
                cells.append(f'<td title="{escape(str(value))}">{escape(titles[value])}</td>')
            elif n in numeric:
                cells.append(f'<td class="num">{escape(display(n, value))}</td>')
            else:
                cells.append(f"<td>{escape(display(n, value))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    more = ""
    if data.num_rows > HTML_ROW_LIMIT:
        more = f'<p class="note">仅显示前 {HTML_ROW_LIMIT} 行，共 {data.num_rows} 行。</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def _column(name: str, titles: dict[str, str]) -> str:
    """A column's header; a comparison's ``<document>_fen`` column is headed by the document's short title."""
    document = name.removesuffix("_fen")
    if name.endswith("_fen") and document in titles:
        return f"{titles[document]}（万元）"
    return column_label(name)


def render_html(report: Report) -> str:
    """The whole page as a string."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(report.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(report.title)}</h1>",
    ]
    parts += [f'<p class="note">{escape(line)}</p>' for line in report.notes]
    parts.append(f'<p class="note">{escape(UNIT_NOTE)}</p>')
    if report.charts:
        parts.append("<h2>图表</h2>")
        for chart in report.charts:
            data = base64.b64encode(chart.png).decode("ascii")
            parts.append(
                f'<figure><img alt="{escape(chart.title)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{escape(chart.title)}</figcaption></figure>"
            )
    for table in report.tables:
        parts.append(f"<h2>{escape(table.title)}</h2>")
        parts.append(f'<p class="note">文件：{escape(table.name)}.parquet / .csv</p>')
        parts.append(_table_html(table.data, report.titles))
    if report.exports:
        parts.append("<h2>逐主体明细</h2>")
        for export in report.exports:
            parts.append(f'<p class="note">{escape(export.title)}：{escape(export.name)}.parquet / .csv</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
