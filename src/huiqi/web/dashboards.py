"""统计看板：预算执行、获奖分布（区县、行业、规模）和按月趋势，每张表配一张 ECharts 图，均可导出为 Excel.

For officials, administrators, finance and analysts (``require``); anyone else signed in gets 无权访问 (403),
someone not signed in the sign-in page. Every figure comes from ``huiqi.workflow.statistics`` (the queries an
API would share); money is integer fen throughout: the tables show it with the ``money`` filter, the Excel
files as exact 万元 (``huiqi.web.workbook``), the charts as 万元 numbers (their tooltips carry the exact text).

The page has no inline script (the Content-Security-Policy allows none): each chart's data rides in a
``data-chart`` attribute (JSON, HTML-escaped by ``tojson``) that ``static/js/dashboards.js`` reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.api.deps import MAX_ID, require
from huiqi.population.labels import wan
from huiqi.store.db import Database
from huiqi.store.errors import NotFound, PermissionDenied
from huiqi.web.formatting import money
from huiqi.web.sessions import STATISTICS_ROLES, signed_in
from huiqi.web.templating import render
from huiqi.web.workbook import Column, Sheet, workbook_response
from huiqi.workflow import statistics
from huiqi.workflow.actors import Actor
from huiqi.workflow.statistics import Dashboard, GroupRow

router = APIRouter()
SignedIn = Annotated[Actor, Depends(signed_in)]
ROLES = STATISTICS_ROLES


@dataclass(frozen=True)
class Table:
    """One table of the dashboard: its title, what the chart shows, and its Excel sheet."""

    name: str
    title: str
    sheet: Callable[[Dashboard], Sheet]
    chart: Callable[[Dashboard], dict[str, Any] | None]


def _wan(fen: int) -> str:
    """Exact 万元 as a plain decimal string (what a chart plots; the tooltip shows the ``money`` text)."""
    return format(wan(fen).normalize(), "f")


def _series(name: str, amounts: Sequence[int], stack: str | None = None) -> dict[str, Any]:
    return {"name": name, "values": [_wan(a) for a in amounts], "texts": [money(a) for a in amounts], "stack": stack}


def chart_size(spec: dict[str, Any] | None) -> str:
    """The CSS class of a chart's box: fixed heights, taller for a horizontal chart with many bars."""
    if spec is None or spec["kind"] != "hbar":
        return "dash-chart"
    count = len(spec["categories"])
    return "dash-chart dash-chart-short" if count <= 3 else "dash-chart dash-chart-tall" if count > 8 else "dash-chart"


def _group_chart(rows: list[GroupRow], *, horizontal: bool = False) -> dict[str, Any] | None:
    """Amounts by group (the counts are in the tooltip and the table: a line across districts means nothing)."""
    if not any(r.awards for r in rows):
        return None
    return {"kind": "hbar" if horizontal else "bar", "categories": [r.label for r in rows],
            "series": [_series("奖励金额", [r.amount_fen for r in rows])],
            "counts": {"name": "获奖项数", "values": [r.awards for r in rows], "drawn": False}}  # fmt: skip


GROUP_COLUMNS = (
    Column("获奖项数（项）", "count"),
    Column("获奖主体数（家）", "count"),
    Column("奖励金额（万元）", "wan"),
)


def _group_sheet(title: str, dimension: str, rows: list[GroupRow], note: str) -> Sheet:
    return Sheet(title, [Column(dimension), *GROUP_COLUMNS],
                 [[r.label, r.awards, r.entities, r.amount_fen] for r in rows], notes=[note])  # fmt: skip


def _budget_sheet(board: Dashboard) -> Sheet:
    columns = [Column("批次编号", "count"), Column("批次"), Column("预算（万元）", "wan"), Column("已拨付（万元）", "wan"),
               Column("已批准未拨付（万元）", "wan"), Column("剩余可批准（万元）", "wan"), Column("获奖项数（项）", "count")]  # fmt: skip
    rows = [[r.call_id, r.title, r.budget_fen, r.paid_fen, r.unpaid_fen, r.left_fen, r.awards] for r in board.budgets]
    return Sheet(
        "预算执行",
        columns,
        rows,
        notes=["已拨付＋已批准未拨付＋剩余可批准＝预算；已追回奖励中未拨付的部分已释放回预算。"],
    )


def _budget_chart(board: Dashboard) -> dict[str, Any] | None:
    rows = board.budgets
    if not rows:
        return None
    return {"kind": "hbar", "categories": [r.title for r in rows],
            "series": [_series("已拨付", [r.paid_fen for r in rows], "budget"),
                       _series("已批准未拨付", [r.unpaid_fen for r in rows], "budget"),
                       _series("剩余可批准", [r.left_fen for r in rows], "budget")]}  # fmt: skip


def _provision_sheet(board: Dashboard) -> Sheet:
    columns = [Column("批次"), Column("条款"), Column("奖励项目"), Column("获奖项数（项）", "count"),
               Column("已批准（万元）", "wan"), Column("已拨付（万元）", "wan"), Column("已批准未拨付（万元）", "wan")]  # fmt: skip
    rows = [[r.call_title, r.provision, r.rule_label, r.awards, r.approved_fen, r.paid_fen, r.unpaid_fen]
            for r in board.provisions]  # fmt: skip
    return Sheet("按条款", columns, rows, notes=["已批准＝已拨付＋已批准未拨付；已追回的奖励只计其已拨付部分。"])


def _provision_chart(board: Dashboard) -> dict[str, Any] | None:
    rows = board.provisions
    if not rows:
        return None
    several = len({r.call_id for r in rows}) > 1
    names = [
        f"{r.call_title}·{r.provision}·{r.rule_label}" if several else f"{r.provision}·{r.rule_label}" for r in rows
    ]
    return {"kind": "hbar", "categories": names,
            "series": [_series("已拨付", [r.paid_fen for r in rows], "provision"),
                       _series("已批准未拨付", [r.unpaid_fen for r in rows], "provision")]}  # fmt: skip


def _month_sheet(board: Dashboard) -> Sheet:
    columns = [Column("月份"), Column("获奖项数（项）", "count"), Column("奖励金额（万元）", "wan")]
    rows = [[m.label, m.awards, m.amount_fen] for m in board.months]
    return Sheet("按月份", columns, rows, notes=["按批准日期（北京时间）所在月份统计，不含已追回的奖励。"])


def _month_chart(board: Dashboard) -> dict[str, Any] | None:
    rows = board.months
    if not rows:
        return None
    return {"kind": "bar", "categories": [m.label for m in rows],
            "series": [_series("奖励金额", [m.amount_fen for m in rows])],
            "counts": {"name": "获奖项数", "values": [m.awards for m in rows], "drawn": True}}  # fmt: skip


DISTRICT_NOTE = "区县取申报主体登记地区的最后一级（三级地区连同所在市），未登记地区的计为“未登记”；不含已追回的奖励。"
INDUSTRY_NOTE = "行业取申报主体登记的“所属行业”（industry）；企业未登记的计为“未登记”，其他类型的主体按主体类型计；不含已追回的奖励。"
SIZE_NOTE = "规模按奖励所属年度登记的营业收入分档（与政策模拟的分档相同）；该年度未登记营业收入的计为“未登记”；不含已追回的奖励。"

TABLES = (
    Table("budget", "预算执行", _budget_sheet, _budget_chart),
    Table("provisions", "按条款", _provision_sheet, _provision_chart),
    Table("districts", "按区县", lambda b: _group_sheet("按区县", "区县", b.districts, DISTRICT_NOTE),
          lambda b: _group_chart(b.districts, horizontal=len(b.districts) > 6)),
    Table("industries", "按行业", lambda b: _group_sheet("按行业", "行业", b.industries, INDUSTRY_NOTE),
          lambda b: _group_chart(b.industries)),
    Table("sizes", "按规模", lambda b: _group_sheet("按规模", "规模（评价年度营业收入）", b.sizes, SIZE_NOTE),
          lambda b: _group_chart(b.sizes)),
    Table("months", "按月份", _month_sheet, _month_chart),
)  # fmt: skip
BY_NAME = {t.name: t for t in TABLES}


def _call_id(raw: str | None) -> tuple[int | None, str | None]:
    """The call chosen in the filter (None: all), or the message why the value is refused."""
    text = (raw or "").strip()
    if not text:
        return None, None
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        return None, f"批次编号应为正整数，收到“{text[:20]}”；请从列表中选择批次"
    if int(text) > MAX_ID:
        return None, f"没有编号为 {text[:20]}{'…' if len(text) > 20 else ''} 的申报批次；请从列表中选择批次"
    return int(text), None


def _answer(request: Request, actor: Actor, build: Callable[[Session], Response]) -> Response:
    """Check the role, then run ``build`` in a read-only session; never cached (amounts of named firms)."""
    database: Database = request.app.state.database
    try:
        require(actor, *ROLES)
        with database.sessions() as session:
            response = build(session)
    except PermissionDenied as exc:
        response = render(request, "error.html", status_code=403, title="无权访问", message=exc.message)
    response.headers["Cache-Control"] = "no-store"
    return response


CallQuery = Annotated[str | None, Query()]  # any text: a wrong one is said beside the field


@router.get("/dashboards", response_class=HTMLResponse, response_model=None)
def dashboards(request: Request, actor: SignedIn, call: CallQuery = None) -> Response:
    """统计看板。"""

    def build(session: Session) -> Response:
        choices = statistics.calls(session)
        call_id, error = _call_id(call)
        status = 400 if error else 200
        if call_id is not None:
            try:
                statistics.get_call(session, call_id)
            except NotFound as exc:
                call_id, error, status = None, exc.message, 404
        board = statistics.dashboard(session, request.app.state.policy, call_id=call_id)
        charts = {t.name: t.chart(board) for t in TABLES}
        query = f"?call={call_id}" if call_id is not None else ""
        return render(request, "dashboards/index.html", status_code=status, board=board, charts=charts,
                      choices=choices, chosen=call_id, typed=(call or "").strip(), error=error, query=query,
                      chart_size=chart_size, today=beijing.today())  # fmt: skip

    return _answer(request, actor, build)


@router.get("/dashboards/{name}.xlsx", response_model=None)
def dashboard_workbook(
    request: Request, actor: SignedIn, name: Annotated[str, Path(max_length=20)], call: CallQuery = None
) -> Response:
    """一张表（或 all：全部表）导出为 Excel。"""

    def build(session: Session) -> Response:
        chosen = [t for t in TABLES if name in (t.name, "all")]
        call_id, error = _call_id(call)
        if not chosen or error:
            message = error or f"没有名为“{name[:20]}”的统计表；请使用统计看板上的导出链接"
            return render(request, "error.html", status_code=404, title="未找到", message=message)
        try:
            board = statistics.dashboard(session, request.app.state.policy, call_id=call_id)
        except NotFound as exc:
            return render(request, "error.html", status_code=404, title="未找到", message=exc.message)
        scope = f"批次：{board.call.title}（编号 {board.call.id}）" if board.call else "范围：全部批次"
        stamp = beijing.today()
        notes = [
            scope,
            f"导出日期：{stamp.isoformat()}",
            "金额单位：万元；奖励为已批准的确定金额，不含“最高”“不超过”的上限金额。",
        ]
        title = "统计看板" if name == "all" else f"统计看板·{chosen[0].title}"
        suffix = f"_批次{board.call.id}" if board.call else ""
        return workbook_response(f"{title.replace('·', '_')}{suffix}_{stamp:%Y%m%d}.xlsx", title,
                                 [t.sheet(board) for t in chosen], notes=notes, fallback=f"dashboard-{name}")  # fmt: skip

    return _answer(request, actor, build)
