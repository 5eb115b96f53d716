"""Charts speak Chinese with a font registered from its file, name documents by their short titles, and
never draw two tick labels on top of each other."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from huiqi.engine.evaluate import Engine
from huiqi.population import charts, simulate
from huiqi.population.labels import text_width
from huiqi.population.report import Report
from huiqi.population.session import PopulationSession, Scenario

from .populations import AS_OF, PERIOD

CJK = re.compile(r"[\u4e00-\u9fff]")
ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")  # a document id such as suzhou-software-cluster


@pytest.fixture
def fresh_font_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[font_manager.FontManager]:
    """matplotlib's font list as a stale cache would have it: no font with Chinese glyphs in it."""
    manager = copy.copy(font_manager.fontManager)
    hinted = (*charts.FONT_HINTS, *(Path(p).name.lower() for p in charts.FONT_FILES))
    manager.ttflist = [f for f in manager.ttflist if not any(h in Path(f.fname).name.lower() for h in hinted)]
    assert not [f for f in manager.ttflist if "CJK" in f.name]
    monkeypatch.setattr(font_manager, "fontManager", manager)
    charts.cjk_font.cache_clear()
    yield manager
    charts.cjk_font.cache_clear()


def _texts(figure: Figure) -> list[str]:
    axes = figure.axes[0]
    labels = [t.get_text() for t in axes.get_yticklabels()]
    legend = [t.get_text() for legend in figure.legends for t in legend.get_texts()]
    return [axes.get_title(), axes.get_xlabel(), *labels, *legend]


def test_the_font_is_registered_from_its_file_not_found_in_the_cache(
    fresh_font_manager: font_manager.FontManager,
) -> None:
    family = charts.cjk_font()
    path = font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
    assert charts._has_chinese(str(path), int(getattr(path, "face_index", 0)))
    if Path(charts.FONT_FILES[0]).is_file():  # Debian's fonts-noto-cjk (.ci/run installs it): the Simplified face
        assert family == "Noto Sans CJK SC"


def test_an_explicit_font_file_wins_and_a_wrong_one_is_named(
    fresh_font_manager: font_manager.FontManager, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    found = list(charts._candidates())
    assert found, "no CJK font on this machine: install fonts-noto-cjk (see .ci/run)"
    monkeypatch.setenv(charts.FONT_ENV, found[0])
    assert charts.cjk_font()
    assert charts.bar_chart("测试", ["甲"], [charts.Series("金额", [100])]).startswith(b"\x89PNG")
    latin = font_manager.findfont("DejaVu Sans")
    for wrong, words in ((str(tmp_path / "nope.ttf"), "不存在"), (latin, "不是含中文字形的字体文件")):
        monkeypatch.setenv(charts.FONT_ENV, wrong)
        charts.cjk_font.cache_clear()
        with pytest.raises(charts.ChartFontMissing, match=words):
            charts.cjk_font()


def test_without_any_chinese_font_no_chart_is_drawn_and_the_report_says_what_to_install(
    fresh_font_manager: font_manager.FontManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(charts.FONT_ENV, raising=False)
    monkeypatch.setattr(charts, "FONT_FILES", ())
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(charts.ChartFontMissing, match="fonts-noto-cjk"):
        charts.cjk_font()
    report = Report(title="t")
    drawn = charts.charts_or_note(report, lambda: pytest.fail("must not draw without a Chinese font"))
    assert (
        drawn == []
        and report.notes[0].startswith("未生成图表：")
        and "apt-get install fonts-noto-cjk" in report.notes[0]
    )


def test_every_simulation_chart_is_chinese_with_short_titles_and_no_overlap(
    seed_engine: Engine, case_population: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    figures: list[Figure] = []

    def keep(
        title: str,
        categories: list[str],
        series: list[charts.Series],
        *,
        money: bool = True,
        legend: bool | None = None,
    ) -> bytes:
        figures.append(charts.draw_bar_chart(title, categories, series, money=money, legend=legend))
        return b""

    monkeypatch.setattr(simulate, "bar_chart", keep)
    documents = simulate.select_documents(seed_engine, [])
    with PopulationSession(case_population, seed_engine) as session:
        _, report = simulate.simulate(session, seed_engine, documents, Scenario(AS_OF, PERIOD))
    assert [c.name for c in report.charts] == ["by_document", "top_provisions", "by_size_band", "by_district",
                                               "by_industry"]  # fmt: skip
    titles = simulate.document_titles(seed_engine)
    family = charts.cjk_font()
    for chart, figure in zip(report.charts, figures, strict=True):
        texts = _texts(figure)
        assert CJK.search(chart.title) and CJK.search(texts[0]), chart.name
        assert texts[1] in ("金额（万元）", "主体数"), chart.name
        assert not [t for t in texts if ID.match(t.strip())], chart.name  # no document ids
        assert all(t.get_fontname() == family for t in figure.axes[0].get_yticklabels()), chart.name
        assert charts.overlapping_labels(figure) == [], chart.name
    by_document = _texts(figures[0])[2:]
    assert [t.replace("\n", "") for t in by_document if "\n" in t or t in titles.values()] == [
        titles[d] for d in report.table("by_document")["document"].to_pylist()
    ]
    legend = [
        t for figure in figures[2:] for legend in figure.legends for t in (x.get_text() for x in legend.get_texts())
    ]
    assert legend and set(legend) <= set(titles.values())


LONG = [f"第{i}条 支持软件企业加大研发投入和首版次软件推广应用的奖励（{'甲乙丙丁'[i % 4]}）" for i in range(15)]


@pytest.mark.parametrize(
    ("categories", "series", "money"),
    [
        (LONG, [charts.Series("金额合计", [7_612_000_000_000 // (i + 1) for i in range(15)])], True),
        (LONG[:4], [charts.Series(f"文件{i}" * 8, [10**12 * (i + 1)] * 4) for i in range(4)], True),
        (["甲", "乙"], [charts.Series("确定金额", [1, 3]), charts.Series("上限金额", [0, 2])], True),
        (["苏州市 工业园区"] * 3, [charts.Series("受益主体数", [12_345_678, 2, 0])], False),
        (["只有零"], [charts.Series("金额", [0])], True),
    ],
)
def test_tick_labels_never_overlap(categories: list[str], series: list[charts.Series], money: bool) -> None:
    figure = charts.draw_bar_chart("金额最高的条款（金额合计，测试用的很长的标题）", categories, series, money=money)
    assert charts.overlapping_labels(figure) == []
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert all(max(text_width(line) for line in label.split("\n")) <= charts.LABEL_WIDTH for label in labels)


def test_a_lone_document_is_named_in_a_legend() -> None:
    one = [charts.Series("苏州软件产业集群政策措施", [5, 3])]
    assert [t.get_text() for t in charts.draw_bar_chart("按区县", ["甲", "乙"], one, legend=True).legends[0].texts] == [
        "苏州软件产业集群政策措施"
    ]
    assert charts.draw_bar_chart("金额", ["甲", "乙"], one).legends == []


def test_overlap_is_detected() -> None:
    """The check can fail: 40 long labels squeezed into one inch touch each other."""
    figure = Figure(figsize=(4, 1))
    axes = figure.subplots()
    axes.set_yticks(range(40), [f"label {i}" for i in range(40)])
    axes.set_xticks(range(40), [f"{i * 1_000_000:,}" for i in range(40)])
    assert charts.overlapping_labels(figure)


def test_values_are_printed_in_wan_from_the_integer_fen() -> None:
    figure = charts.draw_bar_chart("金额", ["甲", "乙"], [charts.Series("确定金额", [123_456_789, 5_000])])
    printed = [t.get_text() for t in figure.axes[0].texts]
    assert printed == ["123.46", "0.01"]  # 1,234,567.89元 and 50元, rounded half up in 万元


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("7. 建立高水平工业软件创新中心", "7. 建立高水平工\n业软件创新中心"),  # even lines, no lone character
        ("广州软件和信息技术服务业高质量发展若干措施", "广州软件和信息技术服务\n业高质量发展若干措施"),
        ("新疆软件和信息服务业大数据云计算政策（2017）", "新疆软件和信息服务业大\n数据云计算政策（2017）"),
        ("苏州市 工业园区", "苏州市 工业园区"),
    ],
)
def test_long_labels_wrap_evenly(label: str, expected: str) -> None:
    assert charts.wrap_label(label) == expected
