"""A burst of simultaneous clients against ``huiqi serve`` on PostgreSQL: does it keep answering, and does
the money stay right?

For each burst size (50, 200 and 1,000 clients by default) every client sends one request at the same
moment, in this mix: a quarter submit an application (draft + submit), a quarter record a fact, a quarter
approve a proposed application of a call whose budget holds half of them, an eighth pay instalments
(four clients on each instalment, so most are duplicates), the rest read the list of calls; meanwhile a
probe asks ``/health`` every 100 ms. It prints the answers by status, the latency of the answers (p50,
p99, max), the slowest ``/health``, and checks afterwards: reserved = sum of the awards ≤ budget, each
instalment paid once (paid = sum of paid instalments), the audit chain intact and the live tables
reconciled with it. A 503 must be JSON with ``Retry-After``; any other 5xx is counted as a server error.

    .venv/bin/python bench/platform_burst.py [--clients 50 200 1000] [--workers 2] [--pool 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text

from huiqi.store.db import Database, make_engine
from huiqi.store.migrate import upgrade
from huiqi.store.models import Application, Award, Call, Payment, User
from huiqi.store.users import hash_password, issue_token
from huiqi.workflow.actors import Actor
from huiqi.workflow.applications import create_draft, pass_check, submit
from huiqi.workflow.audit import verify
from huiqi.workflow.awards import approve
from huiqi.workflow.calls import CallSpec, open_call
from huiqi.workflow.lifecycle import check, move
from huiqi.workflow.policy import policy_engine
from huiqi.workflow.reconcile import reconcile

_spec = importlib.util.spec_from_file_location("platform_load", Path(__file__).with_name("platform_load.py"))
assert _spec is not None and _spec.loader is not None
load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load)

OFFICIAL = Actor("official", "official")
AWARD_FEN = 200_0000_00  # Suzhou provision 3 at 1.35亿元 revenue: 200万元


def prepare(db: Database, clients: int) -> dict[str, Any]:
    """Applicants and their tokens; a call with proposals worth twice its budget; instalments to pay."""
    policy = policy_engine()
    quarter = max(2, clients // 4)
    submit_call, tokens, official = load.setup(db, quarter * 3)
    applicants, others = tokens[:quarter], tokens[quarter:]
    today = dt.date.today()

    def call(budget_awards: int, instalments: list[int] | None = None) -> int:
        with db.transaction() as session:
            spec = CallSpec(title="burst", document_id="suzhou-software-cluster", provisions=["3"], period=2023,
                            as_of=dt.date(2024, 6, 30), opens_on=today, closes_on=today + dt.timedelta(days=30),
                            budget=f"{budget_awards * 200}万元", review_mode="formal", publicity_days=0,
                            instalments=instalments or [])  # fmt: skip
            return open_call(session, actor=OFFICIAL, policy=policy, spec=spec).id

    def propose(call_id: int, entities: list[int]) -> list[int]:
        """Proposed at the full amount each, whatever the budget (as two lists made at once could be)."""
        ids = []
        with db.transaction() as session:
            target = session.get_one(Call, call_id)
            for entity in entities:
                actor = Actor(f"e{entity}", "applicant", entity_id=entity)
                application = create_draft(session, call=target, actor=actor)
                submit(session, application=application, actor=actor, pledge=True, policy=policy)
                pass_check(session, application=application, actor=OFFICIAL)
                _call, transition = check(session, application, "propose", OFFICIAL)
                move(session, application, transition, actor=OFFICIAL, approved_fen=application.requested_fen,
                     rules=[{**r, "approved_fen": r["amount_fen"]} for r in application.rules])  # fmt: skip
                ids.append(application.id)
        return ids

    approve_call = call(budget_awards=quarter // 2)
    to_approve = propose(approve_call, [e for e, _ in others[:quarter]])
    pay_call = call(budget_awards=quarter, instalments=[50, 50])
    paid_apps = propose(pay_call, [e for e, _ in others[quarter : quarter + max(1, clients // 32)]])
    with db.transaction() as session:
        for application_id in paid_apps:
            approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
        first = list(session.scalars(select(Payment.id).where(Payment.instalment == 1,
                                                              Payment.application_id.in_(paid_apps))))  # fmt: skip
        finance = User(username=f"finance{secrets.token_hex(3)}", display_name="财政", role="finance",
                       password_hash=hash_password("Bench-password-1"))  # fmt: skip
        session.add(finance)
        session.flush()
        finance_token = issue_token(session, user=finance)
    return {"submit_call": submit_call, "applicants": applicants, "official": official, "finance": finance_token,
            "approve_call": approve_call, "to_approve": to_approve, "pay_call": pay_call, "payments": first}  # fmt: skip


async def burst(base: str, world: dict[str, Any], clients: int) -> dict[str, Any]:
    official = {"Authorization": f"Bearer {world['official']}"}
    finance = {"Authorization": f"Bearer {world['finance']}"}
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=0)
    out: dict[str, Any] = {"statuses": {}, "latency": [], "bad": [], "health": []}
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:

        async def timed(method: str, url: str, **kw: Any) -> httpx.Response:
            started = time.perf_counter()
            answer = await http.request(method, url, **kw)
            out["latency"].append(time.perf_counter() - started)
            out["statuses"][answer.status_code] = out["statuses"].get(answer.status_code, 0) + 1
            if answer.status_code >= 500 and not (
                answer.status_code == 503 and answer.headers.get("retry-after", "").isdigit()
                and answer.headers.get("content-type", "").startswith("application/json")
            ):  # fmt: skip
                out["bad"].append(f"{answer.status_code} {url}: {answer.text[:200]}")
            return answer

        async def submitter(token: str) -> None:
            h = {"Authorization": f"Bearer {token}"}
            draft = await timed("POST", "/applications", json={"call_id": world["submit_call"]}, headers=h)
            if draft.status_code == 201:
                await timed("POST", f"/applications/{draft.json()['id']}/submit", json={"pledge": True}, headers=h)

        async def fact(entity: int, token: str, n: int) -> None:
            await timed("POST", f"/entities/{entity}/facts", headers={"Authorization": f"Bearer {token}"},
                        json={"key": "social_insurance_staff", "value": 40 + n % 50})  # fmt: skip

        quarter = max(2, clients // 4)
        jobs = [submitter(token) for _e, token in world["applicants"][:quarter]]
        jobs += [fact(e, t, n) for n, (e, t) in enumerate(world["applicants"][:quarter])]
        jobs += [timed("POST", f"/applications/{a}/approve", headers=official) for a in world["to_approve"]]
        payers = max(4, clients // 8)
        jobs += [timed("POST", f"/payments/{world['payments'][n % len(world['payments'])]}/pay", headers=finance,
                       json={"reference": f"PZ-{n}"}) for n in range(payers)]  # fmt: skip
        jobs += [timed("GET", "/calls", headers=official) for _ in range(max(0, clients - len(jobs)))]
        done = asyncio.Event()

        async def probe() -> None:
            while not done.is_set():
                started = time.perf_counter()
                answer = await http.get("/health", timeout=30)
                out["health"].append((time.perf_counter() - started, answer.status_code))
                await asyncio.sleep(0.1)

        prober = asyncio.create_task(probe())
        started = time.perf_counter()
        await asyncio.gather(*jobs)
        out["seconds"] = time.perf_counter() - started
        out["requests"] = len(out["latency"])
        done.set()
        await prober
    return out


def check_money(db: Database, world: dict[str, Any]) -> list[str]:
    problems = []
    with db.sessions() as session:
        for call_id in (world["approve_call"], world["pay_call"], world["submit_call"]):
            call = session.get_one(Call, call_id)
            awarded = session.scalar(
                select(func.coalesce(func.sum(Award.amount_fen), 0)).where(Award.call_id == call_id)
            )
            paid = session.scalar(
                select(func.coalesce(func.sum(Payment.amount_fen), 0))
                .join(Award, Award.id == Payment.award_id)
                .where(Award.call_id == call_id, Payment.status == "paid")
            )
            if not call.reserved_fen == awarded <= call.budget_fen:
                problems.append(f"call {call_id}: reserved {call.reserved_fen} != awarded {awarded} or > budget")
            if call.paid_fen != paid:
                problems.append(f"call {call_id}: paid {call.paid_fen} != sum of paid instalments {paid}")
        if not verify(session).ok:
            problems.append("audit chain broken")
        reconciled = reconcile(session)
        problems += reconciled.problems
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", type=int, default=10, help="HUIQI_DATABASE_POOL_SIZE of each worker")
    args = parser.parse_args()
    schema = f"huiqi_burst_{os.getpid()}_{secrets.token_hex(2)}"
    admin = make_engine(load.PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{load.PG}?options=-csearch_path%3D{schema}"
    db = Database(url, pool_size=4)
    upgrade(db.engine)
    port = load.free_port()
    env = {**os.environ, "HUIQI_DATABASE_URL": url, "HUIQI_ENVIRONMENT": "test",
           "HUIQI_DATABASE_POOL_SIZE": str(args.pool)}  # fmt: skip
    server = load.start_server("huiqi.api.asgi:app", port, args.workers, env)
    failed = False
    try:
        print(f"huiqi burst — PostgreSQL, uvicorn {args.workers} worker(s), pool {args.pool}+{args.pool} each, "
              f"{os.cpu_count()} cores; every client sends at the same moment")  # fmt: skip
        for clients in args.clients:
            world = prepare(db, clients)
            out = asyncio.run(burst(f"http://127.0.0.1:{port}/api/v1", world, clients))
            lat = out["latency"]
            health = [s for s, _ in out["health"]]
            unhealthy = sum(1 for _, status in out["health"] if status != 200)
            problems = check_money(db, world)
            failed |= bool(problems or out["bad"] or unhealthy)
            print(f"\n{clients:>5} clients, {out['requests']} requests in {out['seconds']:.1f} s: "
                  f"answers {dict(sorted(out['statuses'].items()))}")  # fmt: skip
            print(f"      latency p50 {load.pct(lat, 0.5):.0f} ms, p99 {load.pct(lat, 0.99):.0f} ms, "
                  f"max {max(lat) * 1000:.0f} ms; /health {len(health)} probes, slowest {max(health) * 1000:.0f} ms, "
                  f"not ok {unhealthy}")  # fmt: skip
            print(f"      server errors (5xx other than a JSON 503 with Retry-After): {len(out['bad'])}"
                  + "".join(f"\n        {b}" for b in out["bad"][:5]))  # fmt: skip
            clean = "reserved = awards ≤ budget, each instalment paid once, audit chain and reconciliation clean"
            print(f"      money: {problems or clean}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
