"""追回: take back an award, cancel what is unpaid, release its reservation, and blacklist the entity
until a date (the entry expires by itself)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.store.errors import InvalidInput
from huiqi.store.models import Application, Award, BlacklistEntry, Payment
from huiqi.workflow import audit, budget
from huiqi.workflow.actors import Actor
from huiqi.workflow.lifecycle import check, move


def claw_back(
    session: Session,
    *,
    application: Application,
    actor: Actor,
    reason: str,
    blacklist_until: dt.date,
    today: dt.date | None = None,
) -> BlacklistEntry:
    """Claw back every award of the application; the amount already paid is to be returned."""
    today = today or beijing.today()
    session.refresh(application, with_for_update=True)  # the first lock, as in every money operation
    _call, transition = check(session, application, "claw_back", actor)
    if not reason.strip():
        raise InvalidInput("追回须写明事实和依据", where="reason")
    if blacklist_until <= today:
        raise InvalidInput("失信名单的期满日须晚于今天", where="blacklist_until")
    to_return = 0
    # Lock order as everywhere: application (locked by the caller) → awards → payments → call → audit head.
    awards = session.scalars(
        select(Award).where(Award.application_id == application.id).order_by(Award.id).with_for_update()
    ).all()
    for award in awards:
        before = audit.snapshot(award)
        unpaid = award.amount_fen - award.paid_fen
        session.execute(
            update(Payment)
            .where(Payment.award_id == award.id, Payment.status == "scheduled")
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
        budget.release(session, call_id=award.call_id, amount_fen=unpaid)
        to_return += award.paid_fen
        award.state = "clawed_back"
        audit.record(session, actor=actor, action="award.claw_back", object_type="award", object_id=award.id,
                     before=before, after={**audit.snapshot(award), "released_fen": unpaid,
                                           "to_return_fen": award.paid_fen})  # fmt: skip
    entry = BlacklistEntry(
        entity_id=application.entity_id,
        application_id=application.id,
        reason=reason.strip(),
        starts_on=today,
        expires_on=blacklist_until,
        created_by=actor.username,
    )
    session.add(entry)
    session.flush()
    audit.record(session, actor=actor, action="blacklist.add", object_type="blacklist", object_id=entry.id,
                 before=None, after=audit.snapshot(entry))  # fmt: skip
    move(
        session,
        application,
        transition,
        actor=actor,
        reason=f"追回：{reason.strip()}（应退回已拨付资金 {to_return} 分）",
    )
    return entry
