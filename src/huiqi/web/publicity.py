"""公示 (public page): the lists of every call in 公示 today, how to object, CSV/JSON downloads and a
printable notice (HTML, and PDF rendered from the same template by WeasyPrint). No sign-in."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from huiqi import beijing
from huiqi.store.db import Database
from huiqi.web import STATIC_DIR
from huiqi.web.downloads import attachment
from huiqi.web.templating import render, render_text
from huiqi.workflow.publicity_lists import PublicList, as_json, current_lists, yuan_text

router = APIRouter()

CSV_COLUMNS = ("批次编号", "批次", "公示开始", "公示截止", "序号", "申报主体", "统一社会信用代码", "支持事项",
               "拟支持金额（元）")  # fmt: skip


def _today() -> dt.date:
    return beijing.today()


def _lists(request: Request, on: dt.date) -> list[PublicList]:
    database: Database = request.app.state.database
    with database.sessions() as session:
        return current_lists(session, on=on, policy=request.app.state.policy, calendar=request.app.state.calendar)


@router.get("/publicity", response_class=HTMLResponse)
def publicity_page(request: Request) -> HTMLResponse:
    """正在公示的名单（全部批次）、异议方式与下载。"""
    today = _today()
    return render(request, "publicity/index.html", lists=_lists(request, today), today=today)


@router.get("/publicity.csv")
def publicity_csv(request: Request) -> Response:
    """正在公示的名单（CSV，UTF-8 带 BOM，Excel 可直接打开）。"""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in _lists(request, _today()):
        for row in item.rows:
            writer.writerow([item.call_id, item.title, item.starts_on.isoformat(), item.ends_on.isoformat(),
                             row.number, row.name, row.uscc or "", "；".join(row.items),
                             yuan_text(row.amount_fen) or ""])  # fmt: skip
    body = "\ufeff" + out.getvalue()
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": attachment(f"公示名单-{_today().isoformat()}.csv", fallback="publicity")})  # fmt: skip


@router.get("/publicity.json")
def publicity_json(request: Request) -> JSONResponse:
    """正在公示的名单（JSON；金额为元，两位小数的字符串）。"""
    today = _today()
    data = {"date": today.isoformat(), "lists": [as_json(item) for item in _lists(request, today)]}
    disposition = attachment(f"公示名单-{today.isoformat()}.json", fallback="publicity")
    return JSONResponse(data, headers={"Content-Disposition": disposition})


def _one(request: Request, call_id: int) -> PublicList | None:
    return next((item for item in _lists(request, _today()) if item.call_id == call_id), None)


def _missing(request: Request, call_id: int) -> HTMLResponse:
    message = f"编号为 {call_id} 的批次目前没有正在公示的名单（可能尚未公示或公示期已结束）。"
    return render(request, "error.html", status_code=404, title="没有正在公示的名单", message=message)


def _notice_context(item: PublicList) -> dict[str, Any]:
    return {"item": item, "today": _today()}


@router.get("/publicity/{call_id}/notice", response_class=HTMLResponse)
def notice_page(request: Request, call_id: int) -> HTMLResponse:
    """可打印的公示通知（HTML）。"""
    item = _one(request, call_id)
    if item is None:
        return _missing(request, call_id)
    return render(request, "publicity/notice.html", **_notice_context(item))


@router.get("/publicity/{call_id}/notice.pdf", response_model=None)
def notice_pdf(request: Request, call_id: int) -> Response:
    """可打印的公示通知（PDF，由同一模板生成）。"""
    item = _one(request, call_id)
    if item is None:
        return _missing(request, call_id)
    html = render_text("publicity/notice.html", request=request, path=request.url.path, pdf=True,
                       **_notice_context(item))  # fmt: skip
    return Response(pdf_of(html), media_type="application/pdf",
                    headers={"Content-Disposition": attachment(f"公示通知-{call_id}.pdf", fallback="publicity")})  # fmt: skip


def pdf_of(html: str) -> bytes:
    """A PDF of a page, with the site's print stylesheet; nothing is fetched (no network, no files)."""
    from weasyprint import CSS, HTML  # type: ignore[import-untyped]

    def refuse(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
        raise ValueError(f"PDF 不加载外部资源：{url}")

    stylesheets = [CSS(filename=str(STATIC_DIR / "css" / "print.css"))]
    pdf: bytes = HTML(string=html, url_fetcher=refuse).write_pdf(stylesheets=stylesheets)
    return pdf
