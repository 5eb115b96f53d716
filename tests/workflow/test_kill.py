"""A process killed (SIGKILL) in the middle of a stream of approvals loses nothing it committed and leaves
no half-done award: each approval — state, reservation, awards, instalments, audit — is one transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from huiqi.store.db import Database
from huiqi.store.models import Application, Award, Call, Payment
from huiqi.workflow.audit import verify
from huiqi.workflow.policy import PolicyEngine
from platform_fixtures import add_call, proposed_in_full

APPROVER = """
import os, sys
from huiqi.store.db import Database
from huiqi.store.models import Application
from huiqi.workflow.actors import Actor
from huiqi.workflow.awards import approve
db = Database(os.environ["URL"], schema=os.environ.get("SCHEMA") or None)
for application_id in map(int, os.environ["IDS"].split(",")):
    with db.transaction() as session:
        approve(session, application=session.get_one(Application, application_id), actor=Actor("official1", "official"))
    print(application_id, flush=True)
"""


def test_a_killed_approver_leaves_only_whole_approvals(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, budget="1亿元", instalments=[50, 30, 20])
    ids = proposed_in_full(db, policy, call_id, 40)
    schema = db.engine.dialect.name == "postgresql" and _search_path(db)
    env = {**os.environ, "URL": db.url, "SCHEMA": schema or "", "IDS": ",".join(map(str, ids))}
    process = subprocess.Popen([sys.executable, "-c", APPROVER], env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert process.stdout is not None
    committed = []
    deadline = time.monotonic() + 60
    while len(committed) < 5 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        committed.append(int(line))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    assert len(committed) >= 5, "the approver did not get going"
    with db.sessions() as session:
        approved = set(session.scalars(select(Application.id).where(Application.state == "approved")))
        assert set(committed) <= approved  # nothing reported as committed was lost
        assert len(approved) < len(ids)  # it really was killed half-way
        awarded = set(session.scalars(select(Award.application_id)))
        assert awarded == approved  # no award without its approval, no approval without its award
        payments = session.scalar(select(func.count(Payment.id)))
        assert payments == 3 * len(approved)
        call = session.get_one(Call, call_id)
        assert call.reserved_fen == session.scalar(select(func.sum(Award.amount_fen))) == len(approved) * 2_000_000_00
        assert verify(session).ok


def _search_path(db: Database) -> str:
    with db.engine.connect() as connection:
        return str(connection.exec_driver_sql("SHOW search_path").scalar())
