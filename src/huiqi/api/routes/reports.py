"""Follow-up reports: due dates, overdue flags, submission."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from huiqi import beijing
from huiqi.api.deps import CurrentActor, Id, IdQuery, PagingDep, SessionDep, require
from huiqi.api.schemas.common import ERRORS, Page
from huiqi.api.schemas.money import ReportPublic, ReportSubmit
from huiqi.store.models import Application, Report
from huiqi.workflow.reports import submit_report

router = APIRouter(prefix="/reports", tags=["reports"], responses=ERRORS)


@router.get("", response_model=Page[ReportPublic])
def list_reports(
    actor: CurrentActor,
    session: SessionDep,
    paging: PagingDep,
    application_id: IdQuery = None,
    overdue: bool | None = None,
) -> Page[ReportPublic]:
    """绩效报告：到期日与逾期标记；申报主体只看到本单位的；可筛选逾期。"""
    require(actor, "applicant", "official", "finance", "administrator")
    today = beijing.today()
    query = select(Report)
    if actor.role == "applicant":
        mine = select(Application.id).where(Application.entity_id == (actor.entity_id or 0))
        query = query.where(Report.application_id.in_(mine))
    if application_id is not None:
        query = query.where(Report.application_id == application_id)
    if overdue is True:
        query = query.where(Report.submitted_at.is_(None), Report.due_on < today)
    elif overdue is False:
        query = query.where((Report.submitted_at.is_not(None)) | (Report.due_on >= today))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Report.due_on, Report.id).limit(paging.limit).offset(paging.offset))
    return Page(items=[ReportPublic.of(r, today) for r in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.post("/{report_id}/submit", response_model=ReportPublic)
def submit(report_id: Id, body: ReportSubmit, actor: CurrentActor, session: SessionDep) -> ReportPublic:
    """申报主体提交绩效报告。"""
    return ReportPublic.of(submit_report(session, report_id=report_id, content=body.content, actor=actor),
                           beijing.today())  # fmt: skip
