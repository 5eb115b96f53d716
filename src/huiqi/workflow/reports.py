"""Follow-up reports (绩效报告): handed in by the applicant, overdue when past due and not in."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from huiqi.store.base import utcnow
from huiqi.store.errors import Conflict, InvalidInput, NotFound
from huiqi.store.models import Application, Report
from huiqi.workflow import audit
from huiqi.workflow.actors import Actor
from huiqi.workflow.lifecycle import require_owner
from huiqi.workflow.states import State

REPORTING_STATES = {State.APPROVED.value, State.PAYING.value, State.PAID.value, State.FOLLOW_UP.value}


def is_overdue(report: Report, today: dt.date) -> bool:
    """Past its due date and not handed in."""
    return report.submitted_at is None and today > report.due_on


def submit_report(session: Session, *, report_id: int, content: str, actor: Actor) -> Report:
    """The applicant hands in a report (once); late reports are accepted and stay marked by their dates."""
    report = session.get(Report, report_id)
    application = session.get(Application, report.application_id) if report else None
    if report is None or application is None or actor.entity_id != application.entity_id:
        raise NotFound(f"没有编号为 {report_id} 的绩效报告，或您无权查看", where="report_id")
    require_owner(actor, application)
    if application.state not in REPORTING_STATES:
        raise Conflict("该申请不在绩效跟踪阶段，不能提交报告", where="state")
    if report.submitted_at is not None:
        raise Conflict("该报告已提交", where="report_id")
    if not content.strip():
        raise InvalidInput("报告内容不能为空", where="content")
    before = audit.snapshot(report)
    report.content = content.strip()
    report.submitted_by = actor.username
    report.submitted_at = utcnow()
    audit.record(session, actor=actor, action="report.submit", object_type="report", object_id=report.id,
                 before=before, after=audit.snapshot(report))  # fmt: skip
    return report
