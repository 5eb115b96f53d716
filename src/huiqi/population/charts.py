"""PNG bar charts (matplotlib, no display needed).

Labels are Chinese when a font with CJK glyphs is installed, English otherwise (never boxes of tofu);
charts whose categories are only Chinese (districts, industries) are skipped without such a font. Money
is plotted in 万元: the exact fen become a float only here, to place a bar.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

WAN = Decimal(1_000_000)


@lru_cache(maxsize=1)
def chinese_font() -> str | None:
    """The family name of an installed font that has CJK glyphs (中), or None."""
    from matplotlib import font_manager, ft2font

    preferred = ("Noto Sans CJK", "Source Han Sans", "WenQuanYi", "SimHei", "Microsoft YaHei", "PingFang", "Heiti")
    entries = sorted(font_manager.fontManager.ttflist, key=lambda f: not f.name.startswith(preferred))
    for entry in entries:
        if "Last Resort" in entry.name:  # maps every character to a placeholder box
            continue
        try:
            if ord("中") in ft2font.FT2Font(entry.fname).get_charmap():
                return str(entry.name)
        except (OSError, RuntimeError):  # pragma: no cover - an unreadable font file
            continue
    return None


def text(chinese: str, english: str) -> str:
    """Chinese when the charts can show it, else English."""
    return chinese if chinese_font() else english


def provision_names(rows: list[dict[str, object]]) -> list[str]:
    """Chart labels of provisions (rows with document, provision, provision_label): Chinese when a font
    can show it, else ``document:provision`` where that is ASCII, else the provision's position."""
    names = []
    for row in rows:
        document, provision = str(row["document"]), str(row["provision"])
        chinese = f"{document} {row['provision_label']}"
        english = f"{document}:{provision}" if provision.isascii() else f"{document} #{row.get('position', '?')}"
        names.append(text(chinese, english))
    return names


@dataclass(frozen=True)
class Series:
    """One set of bars: a name and one value per category (fen when ``money``, else a count)."""

    name: str
    values: list[int]


def bar_chart(title: str, categories: list[str], series: list[Series], *, money: bool = True) -> bytes:
    """Horizontal grouped bars, first category on top; returns PNG bytes."""
    font = chinese_font()
    height = max(2.5, 0.45 * len(categories) * max(1, len(series)) ** 0.5 + 1.2)
    with matplotlib.rc_context({"font.family": [font, "DejaVu Sans"]} if font else None):
        figure = Figure(figsize=(8, height), dpi=100)
        axes = figure.subplots()
        width = 0.8 / max(1, len(series))
        positions = list(range(len(categories)))
        for index, one in enumerate(series):
            values = [float(Decimal(v) / WAN) if money else float(v) for v in one.values]
            offsets = [p - 0.4 + width * (index + 0.5) for p in positions]
            axes.barh(offsets, values, height=width, label=one.name)
        axes.set_yticks(positions, categories)
        axes.invert_yaxis()
        axes.set_title(title)
        axes.set_xlabel(text("万元", "10k yuan") if money else text("主体数", "entities"))
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        if len(series) > 1:
            axes.legend(fontsize="small")
        axes.grid(axis="x", alpha=0.3)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()
