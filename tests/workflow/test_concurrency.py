"""Many officials approving at once, from many connections, never overspend; one instalment is paid once."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from huiqi import beijing
from huiqi.store.db import Database
from huiqi.store.errors import BudgetExceeded, Conflict, IllegalTransition
from huiqi.store.models import Application, Award, Call, Payment
from huiqi.workflow.audit import verify
from huiqi.workflow.awards import approve, pay
from huiqi.workflow.clawback import claw_back
from huiqi.workflow.policy import PolicyEngine
from platform_fixtures import FINANCE, OFFICIAL, add_call, proposed_in_full

APPLICATIONS = 24
AWARD = 2_000_000_00
BUDGET_AWARDS = 9  # the budget holds nine awards of 200万元


def _race(workers: int, work: list[int], job: object) -> dict[str, int]:
    outcomes = {"ok": 0, "refused": 0}
    lock = threading.Lock()
    start = threading.Barrier(workers)
    queue = list(work)

    def run() -> None:
        start.wait()
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop()
            try:
                job(item)  # type: ignore[operator]
                result = "ok"
            except (BudgetExceeded, Conflict, IllegalTransition):  # refused: over budget, or already paid
                result = "refused"
            with lock:
                outcomes[result] += 1

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_concurrent_approvals_on_postgresql_never_overspend_and_the_sums_match(
    pg_db: Database, policy: PolicyEngine
) -> None:
    call_id = add_call(pg_db, policy, budget=f"{BUDGET_AWARDS * 200}万元")
    ids = proposed_in_full(pg_db, policy, call_id, APPLICATIONS)

    def approve_one(application_id: int) -> None:
        with pg_db.transaction() as session:  # each worker: its own connection and transaction
            approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)

    outcomes = _race(12, ids, approve_one)
    assert outcomes == {"ok": BUDGET_AWARDS, "refused": APPLICATIONS - BUDGET_AWARDS}
    with pg_db.sessions() as session:
        call = session.get_one(Call, call_id)
        awarded = session.scalar(select(func.sum(Award.amount_fen))) or 0
        approved = session.scalar(select(func.count()).where(Application.state == "approved"))
        assert call.reserved_fen == awarded == BUDGET_AWARDS * AWARD <= call.budget_fen
        assert approved == BUDGET_AWARDS
        assert session.scalar(select(func.count(Award.id))) == BUDGET_AWARDS
        assert verify(session).ok


def test_the_same_instalment_paid_from_many_connections_at_once_is_paid_once(
    pg_db: Database, policy: PolicyEngine
) -> None:
    call_id = add_call(pg_db, policy)
    [application_id] = proposed_in_full(pg_db, policy, call_id, 1)
    with pg_db.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
        payment_id = session.scalars(select(Payment.id)).one()

    def pay_it(_attempt: int) -> None:
        with pg_db.transaction() as session:
            pay(session, payment_id=payment_id, actor=FINANCE, reference="PZ-1")

    outcomes = _race(8, list(range(8)), pay_it)
    assert outcomes == {"ok": 1, "refused": 7}
    with pg_db.sessions() as session:
        call = session.get_one(Call, call_id)
        assert call.paid_fen == AWARD == session.scalar(select(func.sum(Award.paid_fen)))
        assert verify(session).ok


def test_paying_and_clawing_back_the_same_award_at_once_never_deadlock(pg_db: Database, policy: PolicyEngine) -> None:
    """Pay and claw-back used to lock the award and the call in opposite orders: PostgreSQL broke the
    deadlock by failing one of them. Both now lock application → award → payment → call → audit head."""
    call_id = add_call(pg_db, policy, budget="1亿元", instalments=[50, 50])
    ids = proposed_in_full(pg_db, policy, call_id, 6)
    first: dict[int, int] = {}
    with pg_db.transaction() as session:
        for application_id in ids:
            approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
        for application_id in ids:
            first[application_id] = session.scalars(
                select(Payment.id).where(Payment.application_id == application_id, Payment.instalment == 1)
            ).one()
    errors: list[BaseException] = []

    def pay_it(application_id: int) -> None:
        with pg_db.transaction() as session:
            pay(session, payment_id=first[application_id], actor=FINANCE, reference=f"PZ-{application_id}")

    def claw_it(application_id: int) -> None:
        with pg_db.transaction() as session:
            claw_back(session, application=session.get_one(Application, application_id), actor=OFFICIAL,
                      reason="虚报营业收入", blacklist_until=beijing.today() + dt.timedelta(days=365))  # fmt: skip

    def race(application_id: int) -> None:
        barrier = threading.Barrier(2)

        def run(job: object) -> None:
            barrier.wait()
            try:
                job(application_id)  # type: ignore[operator]
            except (Conflict, IllegalTransition):
                pass  # the loser of the race is refused: already clawed back, or already paid and then clawed
            except BaseException as exc:  # a deadlock or lock timeout would land here
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(job,)) for job in (pay_it, claw_it)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    for application_id in ids:
        race(application_id)
    assert errors == []
    with pg_db.sessions() as session:
        call = session.get_one(Call, call_id)
        assert call.paid_fen == session.scalar(select(func.sum(Award.paid_fen)))
        scheduled = session.scalar(
            select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(Payment.status == "scheduled")
        )
        assert scheduled == 0  # every award was clawed back: nothing is left to pay
        assert call.reserved_fen == call.paid_fen  # the unpaid part of each award was released
        assert session.scalar(select(func.count()).where(Application.state == "clawed_back")) == len(ids)
        assert verify(session).ok
