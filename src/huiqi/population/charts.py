"""PNG bar charts (matplotlib, no display needed), always labelled in Chinese.

The font: a CJK font file is looked up at known places (``$HUIQI_CJK_FONT`` first, then Debian/Ubuntu's
``fonts-noto-cjk``, other Linux packages, macOS and Windows system fonts, then any system font file whose
name says CJK), registered with matplotlib by ``font_manager.addfont`` and selected through ``rcParams``
for each chart — matplotlib's font cache is never relied on. Without such a font no chart is drawn: the
report says so in its notes (``charts_or_note``), instead of drawing English or boxes of tofu.

Readable: long category names wrap (CJK characters count two columns), each category gets the height its
lines and bars need, the number of ticks on the value axis is lowered until no two tick labels touch,
and each bar carries its value. Money is plotted in 万元 (the exact fen become a float only to place a
bar; the printed values are built from the integer fen).
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from huiqi.errors import HuiqiError

from .labels import text_width
from .report import Chart, Report

WAN = Decimal(1_000_000)  # fen in one 万元
FONT_ENV = "HUIQI_CJK_FONT"

#: CJK font files at their usual places, most wanted first (Noto Sans CJK is Debian's fonts-noto-cjk).
FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
)
#: words in a font file's name that suggest CJK glyphs (for fonts installed elsewhere)
FONT_HINTS = ("cjk", "wqy", "sourcehan", "source-han", "droidsansfallback", "msyh", "simhei", "simsun",
              "pingfang", "hiragino", "heiti", "uming", "ukai", "notosanssc", "notoserifsc", "zenhei", "microhei")  # fmt: skip

INSTALL_HINT = (
    "请安装中文字体：Debian/Ubuntu 运行 sudo apt-get install fonts-noto-cjk（其他系统安装任一中文字体，"
    f"如思源黑体），或设置环境变量 {FONT_ENV} 指向一个含中文字形的字体文件（.ttf/.otf/.ttc）"
)

BASE_SIZE = 11  # points: title and axis labels; ticks 10, bar values 9
LABEL_WIDTH = 28  # columns of a category label before it wraps (14 CJK characters)
BAR = 0.27  # inches per bar
LINE = 0.2  # inches per line of a category label
GAP = 0.16  # inches between categories
WIDTH = 9.0  # inches
DPI = 150
CLOSING = "，。、；：）》」』”’!?！？)"  # never at the start of a line


class ChartFontMissing(HuiqiError):
    """No font with Chinese glyphs could be found or read."""


def _has_chinese(path: str, index: int) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        return FT2Font(path, face_index=index).get_char_index(ord("中")) != 0
    except (OSError, RuntimeError, ValueError):
        return False


def _register(path: str) -> str | None:
    """Add every face of ``path`` to matplotlib; the family of its best face with Chinese glyphs, or None."""
    from matplotlib import font_manager

    try:
        font_manager.fontManager.addfont(path)
    except (OSError, RuntimeError, ValueError):
        return None
    faces = [entry for entry in font_manager.fontManager.ttflist if os.path.samefile(entry.fname, path)]

    def rank(entry: font_manager.FontEntry) -> tuple[bool, bool, bool, int]:
        simplified = re.search(r"\b(SC|GB)\b|YaHei|Hei", entry.name) is not None
        return (not simplified, "Mono" in entry.name, entry.weight not in (400, "normal", "regular"),
                int(getattr(entry, "index", 0)))  # fmt: skip

    for entry in sorted(faces, key=rank):
        if _has_chinese(path, int(getattr(entry, "index", 0))):
            return str(entry.name)
    return None


def _candidates() -> Iterator[str]:
    """Font files to try: the known places first; only if none serves, the system's font folders are
    scanned for file names that say CJK."""
    from matplotlib import font_manager

    known = [p for p in FONT_FILES if Path(p).is_file()]
    yield from known
    names = (p for p in font_manager.findSystemFonts() if p not in known)
    yield from sorted(p for p in names if any(h in Path(p).name.lower().replace(" ", "") for h in FONT_HINTS))


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The family name of a registered font with Chinese glyphs; raises ``ChartFontMissing`` without one."""
    chosen = os.environ.get(FONT_ENV)
    if chosen:
        if not Path(chosen).is_file():
            raise ChartFontMissing(
                f"环境变量 {FONT_ENV} 指向的字体文件不存在：{chosen}。请改正路径，或删除该变量以使用系统中的中文字体",
                where=FONT_ENV,
            )
        family = _register(chosen)
        if family is None:
            raise ChartFontMissing(
                f"环境变量 {FONT_ENV} 指向的 {chosen} 不是含中文字形的字体文件。{INSTALL_HINT}", where=FONT_ENV
            )
        return family
    for path in _candidates():
        family = _register(path)
        if family is not None:
            return family
    raise ChartFontMissing(f"未找到含中文字形的字体，无法绘制中文图表。{INSTALL_HINT}。")


def charts_or_note(report: Report, build: Callable[[], list[Chart]]) -> list[Chart]:
    """The charts ``build`` draws; without a Chinese font none, and a note in ``report`` saying why and
    what to install (the tables, Excel and HTML are written all the same)."""
    try:
        cjk_font()
    except ChartFontMissing as missing:
        report.notes.append(f"未生成图表：{missing.message}")
        return []
    return build()


def _greedy(tokens: list[str], width: int) -> list[str]:
    lines, line = [], ""
    for token in tokens:
        closing = token in CLOSING
        if line and not closing and text_width(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return [*lines, line.rstrip()]


def wrap_label(label: str, width: int = LABEL_WIDTH) -> str:
    """Break ``label`` into as few lines of at most ``width`` columns as it needs (CJK characters count
    two), of even length (no lone character on the last line); runs of Latin letters and digits stay
    whole, and closing punctuation never starts a line."""
    lines: list[str] = []
    for paragraph in label.split("\n"):
        tokens = re.findall(r"[A-Za-z0-9.,%+\-]+|\s+|.", paragraph)
        greedy = _greedy(tokens, width)
        even = math.ceil(text_width(paragraph) / len(greedy))
        while len(balanced := _greedy(tokens, even)) > len(greedy):
            even += 1
        lines += balanced
    return "\n".join(lines)


def document_names(documents: list[str], titles: dict[str, str]) -> list[str]:
    """Documents by their short titles (the id where a document has no title)."""
    return [titles.get(document) or document for document in documents]


def provision_names(rows: list[dict[str, object]], titles: dict[str, str]) -> list[str]:
    """Chart labels of provisions (rows with ``document`` and ``provision_label``): the provision's label,
    then its document's short title on the next line."""
    names = []
    for row in rows:
        document = str(row["document"])
        names.append(f"{wrap_label(str(row['provision_label']))}\n{wrap_label(titles.get(document) or document)}")
    return names


@dataclass(frozen=True)
class Series:
    """One set of bars: a name and one value per category (fen when ``money``, else a count)."""

    name: str
    values: list[int]


def _value_text(value: int, money: bool) -> str:
    if money:
        return f"{(Decimal(value) / WAN).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
    return f"{value:,}"


def _tick_text(value: float, step: float) -> str:
    """A tick value with thousands separators and as many decimals as the step between ticks needs."""
    decimals = next((d for d in range(7) if abs(round(step, d) - step) <= 1e-9 * max(1.0, abs(step))), 6)
    return f"{value:,.{decimals}f}"


def overlapping_labels(figure: Figure) -> list[tuple[str, str]]:
    """Pairs of tick labels (on any axis of ``figure``) whose drawn boxes overlap; the figure is drawn."""
    if not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    figure.draw_without_rendering()  # lays out the text (constrained layout too) without painting pixels
    pairs: list[tuple[str, str]] = []
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            shown = _shown_labels(axes, axis)
            boxes = [(label.get_text(), label.get_window_extent()) for label in shown]
            for i, (first, a) in enumerate(boxes):
                for second, b in boxes[i + 1 :]:
                    if a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1:
                        pairs.append((first, second))
    return pairs


def _shown_labels(axes: Axes, axis: Axis) -> list[matplotlib.text.Text]:
    low, high = sorted(axis.get_view_interval())
    shown = []
    for tick in axis.get_major_ticks():
        if low - 1e-9 <= tick.get_loc() <= high + 1e-9 and tick.label1.get_visible() and tick.label1.get_text():
            shown.append(tick.label1)
    return shown


def draw_bar_chart(
    title: str, categories: list[str], series: list[Series], *, money: bool = True, legend: bool | None = None
) -> Figure:
    """Horizontal grouped bars, first category on top, drawn and checked (see ``bar_chart``). The legend
    shows with more than one series, or when ``legend`` asks (a series named after a document).

    A category shows only the series with a value there (districts of one city have no bars of another
    city's document), so every bar sits next to its label."""
    font = cjk_font()
    labels = [wrap_label(c) for c in categories]
    shown: list[list[int]] = []  # per category, the series drawn there
    for index in range(len(categories)):
        nonzero = [s for s, one in enumerate(series) if one.values[index] != 0]
        shown.append(nonzero or ([0] if series else []))
    heights = [
        max(len(bars) * BAR, (label.count("\n") + 1) * LINE) + GAP for bars, label in zip(shown, labels, strict=True)
    ]
    centres, top = [], 0.0
    for height in heights:
        centres.append(top + height / 2)
        top += height
    legend_rows = 0
    if series and (len(series) > 1 if legend is None else legend):
        columns = 1 if max(text_width(s.name) for s in series) > 30 else min(3, len(series))
        legend_rows = math.ceil(len(series) / columns)
    with matplotlib.rc_context({"font.family": [font, "DejaVu Sans"], "font.size": BASE_SIZE, "axes.unicode_minus": False,
                                "xtick.labelsize": BASE_SIZE - 1, "ytick.labelsize": BASE_SIZE - 1}):  # fmt: skip
        figure = Figure(figsize=(WIDTH, top + 1.3 + 0.25 * legend_rows), dpi=DPI, layout="constrained")
        axes = figure.subplots()
        peak = 0.0
        for s, one in enumerate(series):
            where = [i for i in range(len(categories)) if s in shown[i]]
            if not where:
                continue
            positions = [centres[i] - len(shown[i]) * BAR / 2 + BAR * (shown[i].index(s) + 0.5) for i in where]
            values = [float(Decimal(one.values[i]) / WAN) if money else float(one.values[i]) for i in where]
            peak = max([peak, *values])
            bars = axes.barh(positions, values, height=BAR * 0.9, label=one.name, color=f"C{s}")
            axes.bar_label(bars, [_value_text(one.values[i], money) for i in where], padding=3, fontsize=BASE_SIZE - 2)
        axes.set_yticks(centres, labels)
        axes.set_ylim(top, 0)
        axes.set_xlim(0, peak * 1.22 if peak > 0 else 1)
        axes.set_title(wrap_label(title, 80))
        axes.set_xlabel("金额（万元）" if money else "主体数")
        axes.grid(axis="x", alpha=0.3)
        axes.tick_params(axis="y", length=0)
        if legend_rows:
            figure.legend(loc="outside lower center", ncols=1 if legend_rows == len(series) else 3,
                          fontsize=BASE_SIZE - 1, frameon=False)  # fmt: skip
        _fit(figure, axes, top)
    return figure


def _fit(figure: Figure, axes: Axes, content: float) -> None:
    """Fewer value ticks until none touch; a taller figure while category labels would touch."""
    for bins in (6, 5, 4, 3, 2):
        axes.xaxis.set_major_locator(MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10], min_n_ticks=2))
        ticks = [t for t in axes.get_xticks() if axes.get_xlim()[0] <= t <= axes.get_xlim()[1]]
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _, step=step: _tick_text(value, step)))
        if not overlapping_labels(figure):
            return
    for _ in range(4):  # the value axis is fine (2 ticks); what touches is on the category axis
        width, height = figure.get_size_inches()
        figure.set_size_inches(width, height + 0.25 * content)
        if not overlapping_labels(figure):
            return


def bar_chart(
    title: str, categories: list[str], series: list[Series], *, money: bool = True, legend: bool | None = None
) -> bytes:
    """Horizontal grouped bars, first category on top; returns PNG bytes. Raises ``ChartFontMissing``
    without a Chinese font (callers go through ``charts_or_note``)."""
    figure = draw_bar_chart(title, categories, series, money=money, legend=legend)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
