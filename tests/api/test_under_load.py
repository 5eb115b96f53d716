"""The service under a burst of simultaneous writers keeps answering, and keeps the money right.

Before the admission gate, more simultaneous requests than pooled connections stalled a real server: the
requests holding a connection waited for a thread, every thread waited for a connection, and nothing
answered — not even ``/health`` — until the pool timed out with a plain-text 500. The numbers here are
small (a pool of 2, so 4 connections, against 60 requests) so that the test is quick; the design is the
same at 1,000 clients (bench/platform_load.py --burst).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from huiqi.store.db import Database
from huiqi.store.models import Award, Call
from huiqi.workflow.audit import verify
from huiqi.workflow.policy import PolicyEngine
from platform_fixtures import add_call, add_firm, add_user, make_app, proposed_in_full


def run_async(coroutine: Any) -> Any:
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright keeps an event loop running in the
    main thread for the whole session, where ``asyncio.run`` refuses to start (test order must not matter)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


APPROVALS, BUDGET_AWARDS = 12, 5  # twelve proposed applications of 200万元, a budget for five
FACT_UPDATES, READS = 80, 20


class Server:
    """uvicorn serving the app in a thread, on a free port of 127.0.0.1, stopped at the end."""

    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def loaded(pg_db: Database, policy: PolicyEngine) -> Iterator[tuple[str, dict[str, Any]]]:
    call_id = add_call(pg_db, policy, budget=f"{BUDGET_AWARDS * 200}万元")
    applications = proposed_in_full(pg_db, policy, call_id, APPROVALS)
    firm = add_firm(pg_db, policy, 900)
    world = {
        "call_id": call_id,
        "applications": applications,
        "firm": firm,
        "official": add_user(pg_db, "official1", "official"),
        "applicant": add_user(pg_db, "firm900", "applicant", entity_id=firm),
    }
    # A small pool (2 + 2 overflow connections) against 60 simultaneous requests and AnyIO's 40 threads.
    app = make_app(pg_db, database_pool_size=2, admission_wait_s=30)
    with Server(app) as url:
        yield url, world


async def _burst(url: str, world: dict[str, Any]) -> tuple[list[httpx.Response], list[float]]:
    official = {"Authorization": f"Bearer {world['official']}"}
    applicant = {"Authorization": f"Bearer {world['applicant']}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url + "/api/v1", timeout=25, limits=limits) as client:
        requests = [client.post(f"/applications/{a}/approve", headers=official) for a in world["applications"]]
        requests += [
            client.post(
                f"/entities/{world['firm']}/facts",
                headers=applicant,
                json={"key": "revenue", "year": 2000 + n % 24, "value": f"{1000 + n}万元"},
            )
            for n in range(FACT_UPDATES)
        ]
        requests += [client.get("/calls", headers=official) for _ in range(READS)]
        health: list[float] = []

        async def probe() -> None:
            for _ in range(15):
                started = time.monotonic()
                answer = await client.get("/health", timeout=5)
                assert answer.status_code == 200, answer.text
                health.append(time.monotonic() - started)
                await asyncio.sleep(0.2)

        *answers, _ = await asyncio.gather(*requests, probe())
        return answers, health


def test_a_burst_of_writers_on_a_small_pool_is_answered_and_the_budget_holds(
    loaded: tuple[str, dict[str, Any]], pg_db: Database
) -> None:
    url, world = loaded
    answers, health = run_async(_burst(url, world))
    statuses = [a.status_code for a in answers]
    for answer in answers:
        assert answer.headers["content-type"].startswith("application/json"), answer.text
        if answer.status_code == 503:  # refused for load: says so, and when to come back
            assert answer.headers["retry-after"].isdigit()
            assert answer.json()["code"] in ("overloaded", "unavailable")
    approvals = statuses[:APPROVALS]
    assert set(approvals) <= {200, 409, 503}
    assert approvals.count(200) == BUDGET_AWARDS  # exactly what the budget holds, no more
    assert set(statuses[APPROVALS:]) <= {200, 201, 503}
    assert statuses.count(503) == 0  # with a 30 s queue, this burst is served in full
    assert len(health) == 15  # /health answered throughout the burst
    with pg_db.sessions() as session:
        call = session.get_one(Call, world["call_id"])
        awarded = session.scalar(select(func.sum(Award.amount_fen))) or 0
        assert call.reserved_fen == awarded == BUDGET_AWARDS * 200_0000_00 <= call.budget_fen
        assert verify(session).ok


def test_a_request_that_waits_too_long_is_answered_503_with_retry_after(pg_db: Database) -> None:
    token = add_user(pg_db, "official1", "official")
    app = make_app(pg_db, database_pool_size=1, max_concurrent_requests=1, admission_wait_s=0.01)
    headers = {"Authorization": f"Bearer {token}"}

    async def burst(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url + "/api/v1", timeout=25) as client:
            return list(await asyncio.gather(*(client.get("/calls", headers=headers) for _ in range(30))))

    with Server(app) as url:
        answers = run_async(burst(url))
    refused = [a for a in answers if a.status_code == 503]
    assert refused, "one slot and a 10 ms queue cannot serve 30 requests at once"
    assert {a.status_code for a in answers} <= {200, 503}
    for answer in refused:
        assert answer.headers["retry-after"] == "2"
        assert answer.json()["code"] == "overloaded"
        assert "服务繁忙" in answer.json()["message"]
