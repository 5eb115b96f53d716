"""公示: the proposed list shown for a number of calendar or working days; objections by real name,
with evidence, each resolved and recorded. Approval waits for the 公示 to end and every objection to be
resolved.

An objection is by real name, but the name is not for everyone (``sees_objector``): the officials and
administrators who handle it and the objector itself see the name, 身份证 number and contact; the
applicant objected to sees what is objected and the outcome, with the name masked (张*) and never the
number or the contact — it must not be able to put pressure on whoever reported it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.engine.profile import check_id_number
from huiqi.errors import ProfileError
from huiqi.store.base import utcnow
from huiqi.store.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from huiqi.store.models import Application, Call, Objection, Publicity
from huiqi.workflow import audit
from huiqi.workflow.actors import Actor
from huiqi.workflow.holidays import HolidayCalendar, publicity_end
from huiqi.workflow.lifecycle import can_view, check, move
from huiqi.workflow.states import State


def start_publicity(
    session: Session,
    *,
    call: Call,
    actor: Actor,
    starts_on: dt.date,
    calendar: HolidayCalendar,
    channel: str = "",
    now: dt.datetime | None = None,
) -> Publicity:
    """Put every proposed application of the call in 公示, ending as the call counts days (``now``: when it
    was published, for the audit events; the present by default)."""
    if actor.role != "official":
        raise PermissionDenied(f"只有主管部门经办人可以发布公示，当前用户是{actor.role_label}")
    if call.publicity_days == 0:
        raise Conflict("本批次不设公示，拟支持的申请可直接批准", where="publicity_days")
    applications = list(
        session.scalars(
            select(Application)
            .where(Application.call_id == call.id, Application.state == State.PROPOSED.value)
            .order_by(Application.id)  # rows are always locked in id order (docs/platform.md, lock order)
            .with_for_update()
        )
    )
    applications.sort(key=lambda a: (a.rank is None, a.rank or 0, a.id))
    if not applications:
        raise Conflict("本批次没有“拟支持”的申请，无需公示")
    ends_on = publicity_end(starts_on, call.publicity_days, call.publicity_day_kind, calendar)
    publicity = Publicity(
        call_id=call.id,
        starts_on=starts_on,
        ends_on=ends_on,
        days=call.publicity_days,
        day_kind=call.publicity_day_kind,
        channel=channel,
        published_by=actor.username,
    )
    session.add(publicity)
    session.flush()
    audit.record(session, actor=actor, action="publicity.start", object_type="publicity", object_id=publicity.id,
                 before=None, after=audit.snapshot(publicity), now=now)  # fmt: skip
    for application in applications:
        _call, transition = check(session, application, "start_publicity", actor)
        move(session, application, transition, actor=actor, now=now)
    return publicity


def current_publicity(session: Session, call_id: int) -> Publicity | None:
    return session.scalar(select(Publicity).where(Publicity.call_id == call_id).order_by(Publicity.id.desc()))


def file_objection(
    session: Session,
    *,
    application: Application,
    actor: Actor,
    name: str,
    id_number: str,
    contact: str,
    content: str,
    evidence: str,
    today: dt.date | None = None,
) -> Objection:
    """An objection to an application in 公示, by real name (身份证 checked), with content and evidence."""
    today = today or beijing.today()
    if application.state != State.PUBLICITY.value:
        raise IllegalTransition("只能对公示中的申请提出异议", where="state")
    publicity = current_publicity(session, application.call_id)
    assert publicity is not None
    if not publicity.starts_on <= today <= publicity.ends_on:
        raise Conflict(
            f"公示期为 {publicity.starts_on} 至 {publicity.ends_on}，不在公示期内不能提出异议", where="today"
        )
    for field, value in (("name", name), ("contact", contact), ("content", content), ("evidence", evidence)):
        if not value.strip():
            labels = {"name": "真实姓名", "contact": "联系方式", "content": "异议内容", "evidence": "证据或线索"}
            raise InvalidInput(f"实名异议须填写{labels[field]}", where=field)
    try:
        checked = check_id_number(id_number.strip().upper(), where="id_number")
    except ProfileError as exc:
        raise InvalidInput(f"实名异议须提供有效的身份证号码：{exc.message}", where="id_number") from None
    objection = Objection(
        application_id=application.id,
        publicity_id=publicity.id,
        objector_name=name.strip(),
        objector_id_number=checked,
        contact=contact.strip(),
        content=content.strip(),
        evidence=evidence.strip(),
        submitted_by=actor.username,
    )
    session.add(objection)
    session.flush()
    audit.record(session, actor=actor, action="objection.file", object_type="objection", object_id=objection.id,
                 before=None, after=audit.snapshot(objection))  # fmt: skip
    return objection


def sees_objector(actor: Actor, objection: Objection) -> bool:
    """Whether ``actor`` may see who filed ``objection``: the officials and administrators who handle
    it, and the objector itself (by account); never the applicant objected to, nor anyone else."""
    return actor.role in ("official", "administrator") or objection.submitted_by == actor.username


def mask_name(name: str) -> str:
    """The objector's name as the applicant objected to sees it: the first character, then one ``*`` a
    character.

    >>> mask_name("张三"), mask_name("欧阳娜娜"), mask_name("王")
    ('张*', '欧***', '王*')
    """
    name = name.strip()
    return (name[:1] or "*") + "*" * max(1, len(name) - 1)


def objections_for(session: Session, *, application_id: int, actor: Actor) -> list[Objection]:
    """The objections to an application that ``actor`` may read, oldest first.

    Officials and administrators, and the applicant of the application, read all of them (the applicant
    with the names masked: see ``sees_objector``); an objector that cannot see the application reads the
    objections it filed itself, to follow their outcome. Anyone else is told there is no such
    application, as for every application it may not see.
    """
    query = select(Objection).where(Objection.application_id == application_id).order_by(Objection.id)
    application = session.get(Application, application_id)
    if application is not None and can_view(session, actor, application):
        return list(session.scalars(query))
    own = list(session.scalars(query.where(Objection.submitted_by == actor.username)))
    if not own:
        raise NotFound(f"没有编号为 {application_id} 的申请，或您无权查看", where="application_id")
    return own


def resolve_objection(session: Session, *, objection_id: int, outcome: str, resolution: str, actor: Actor) -> Objection:
    """Record the outcome of an objection; an upheld objection ends the application (不予支持)."""
    if actor.role != "official":
        raise PermissionDenied(f"只有主管部门经办人可以处理异议，当前用户是{actor.role_label}")
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(f"没有编号为 {objection_id} 的异议", where="objection_id")
    if objection.outcome is not None:
        raise Conflict("该异议已处理，处理结果不能更改", where="objection_id")
    if outcome not in ("upheld", "dismissed"):
        raise InvalidInput("处理结果应为 upheld（异议成立）或 dismissed（异议不成立）", where="outcome")
    if not resolution.strip():
        raise InvalidInput("须写明核查情况和处理意见", where="resolution")
    application = session.get(Application, objection.application_id)
    assert application is not None
    before = audit.snapshot(objection)
    objection.outcome = outcome
    objection.resolution = resolution.strip()
    objection.resolved_by = actor.username
    objection.resolved_at = utcnow()
    audit.record(session, actor=actor, action="objection.resolve", object_type="objection", object_id=objection.id,
                 before=before, after=audit.snapshot(objection))  # fmt: skip
    if outcome == "upheld" and application.state == State.PUBLICITY.value:
        _call, transition = check(session, application, "uphold_objection", actor)
        move(session, application, transition, actor=actor, reason=f"公示期间异议成立：{resolution.strip()}")
    return objection


def approval_blocker(session: Session, application: Application, today: dt.date) -> str | None:
    """Why an application in 公示 cannot be approved yet, or None."""
    if application.state != State.PUBLICITY.value:
        return None
    publicity = current_publicity(session, application.call_id)
    assert publicity is not None
    if today <= publicity.ends_on:
        return f"公示期至 {publicity.ends_on} 结束，公示期满后方可批准"
    open_objections = session.scalars(
        select(Objection.id).where(Objection.application_id == application.id, Objection.outcome.is_(None))
    ).all()
    if open_objections:
        return f"尚有{len(open_objections)}项异议未处理（编号 {', '.join(map(str, open_objections))}），处理后方可批准"
    return None
