"""A document's status on a given day: the one rule that the CLI, the API, the engine, the simulation and
the web pages all use.

The policy file records the status its text declares (``document.status``: 征求意见稿 / 现行有效 / 已废止 /
已失效). What holds on a day also depends on the dates:

* 征求意见稿 stays a draft whatever the dates (it has not been issued);
* 已废止 and 已失效 as declared stay so;
* a document declared 现行有效 is **已失效** after its ``effective_to``, and **未生效** before it takes effect
  (``effective_from``, or the issue date when the text takes effect on issue), else **现行有效**.

Only a 现行有效 document is evaluated (and simulated) by default; a draft needs ``include_drafts`` and any
other status ``include_expired`` — or naming the document explicitly.

>>> from huiqi.policy.models import Document
>>> meta = Document.model_validate({"id": "x", "title": "t", "issuers": ["某局"], "type": "通知",
...     "status": "现行有效", "jurisdiction": {"region": "浙江省", "level": "province"},
...     "effective_from": "2016-01-01", "effective_to": "2018-12-31", "source": {"seed": "s"}})
>>> document_status(meta, dt.date(2017, 5, 1)).value, document_status(meta, dt.date(2024, 6, 30)).value
('现行有效', '已失效')
>>> document_status(meta, dt.date(2015, 12, 31)).value
'未生效'
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from huiqi.policy.models import Document, DocumentStatus


class Status(StrEnum):
    """文件在某日的状态."""

    DRAFT = "征求意见稿"
    IN_FORCE = "现行有效"
    EXPIRED = "已失效"
    REPEALED = "已废止"
    NOT_YET = "未生效"


#: CSS-friendly names (the web pages' badges) and an order for lists: in force first.
SLUGS = {Status.IN_FORCE: "in-force", Status.DRAFT: "draft", Status.NOT_YET: "not-yet",
         Status.EXPIRED: "expired", Status.REPEALED: "repealed"}  # fmt: skip


def document_status(document: Document, on: dt.date) -> Status:
    """The status of ``document`` on the day ``on`` (see the module's docstring for the rule)."""
    declared = document.status
    if declared is DocumentStatus.DRAFT:
        return Status.DRAFT
    if declared is DocumentStatus.REPEALED:
        return Status.REPEALED
    if declared is DocumentStatus.EXPIRED:
        return Status.EXPIRED
    if document.effective_to is not None and on > document.effective_to:
        return Status.EXPIRED
    start = document.effective_from or document.issue_date
    if start is not None and on < start:
        return Status.NOT_YET
    return Status.IN_FORCE


def status_reason(document: Document, on: dt.date) -> str:
    """Why the document has its status on ``on``, in one Chinese phrase (for lists and skipped documents)."""
    status = document_status(document, on)
    if status is Status.DRAFT:
        return "征求意见稿，尚未正式施行"
    if status is Status.EXPIRED and document.status is DocumentStatus.IN_FORCE and document.effective_to:
        return f"已过有效期（至 {document.effective_to.isoformat()}）"
    if status is Status.NOT_YET:
        start = document.effective_from or document.issue_date
        assert start is not None
        return f"{start.isoformat()} 起施行"
    return status.value


def evaluated_by_default(document: Document, on: dt.date, *, include_drafts: bool, include_expired: bool) -> bool:
    """Whether an evaluation or simulation on ``on`` takes the document when it is not named explicitly."""
    status = document_status(document, on)
    if status is Status.IN_FORCE:
        return True
    if status is Status.DRAFT:
        return include_drafts
    return include_expired


def include_option(document: Document, on: dt.date) -> str | None:
    """The command-line option that brings a document not evaluated by default on ``on`` into an
    evaluation or simulation (``--include-drafts`` or ``--include-expired``); ``None`` when it is in force."""
    status = document_status(document, on)
    if status is Status.IN_FORCE:
        return None
    return "--include-drafts" if status is Status.DRAFT else "--include-expired"


def status_fields(document: Document, on: dt.date) -> dict[str, str]:
    """What the JSON outputs (``huiqi policies list --format json``, ``GET /api/v1/policies``) add beside the
    declared ``status``: the status on ``on`` and why."""
    return {"current_status": document_status(document, on).value, "current_status_reason": status_reason(document, on)}
