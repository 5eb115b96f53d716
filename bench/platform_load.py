"""Benchmark of the administration platform on PostgreSQL, through HTTP, with baselines side by side.

For each number of uvicorn workers (1 and 2) and of concurrent clients (8 and 50) it starts, on 127.0.0.1
and a fresh PostgreSQL schema, a trivial FastAPI endpoint served the same way (bench/trivial_app.py) and
huiqi, then measures in the same round:

- the trivial endpoint's requests/s and latency (the baseline);
- submissions/s — applicants POST a draft and submit it (evaluation frozen inside: two requests);
- fact updates/s — applicants record one fact each (provenance, audit);
- approvals/s — an official approves proposed applications (budget reserved in the same transaction);
- ``POST /api/v1/evaluate`` latency p50/p99 with every client evaluating;
- answers by status (any 5xx is a server error);

and once, bare one-row inserts through psycopg. The summary gives each figure as a ratio to the same
round's trivial endpoint, and the growth from one worker to two. The clients are Python threads on the
same machine, so they take CPU from the server too (for the trivial endpoint as much as for huiqi).
Everything is bounded in count and time; the script stops its servers and drops its schema.

    .venv/bin/python bench/platform_load.py [--clients 8 50] [--workers 1 2] [--firms 400]
"""

from __future__ import annotations

import sys
from pathlib import Path

# ruff: noqa: E402 - the imports must follow the sys.path fix below
# This file is named like the standard library's ``platform``: take its folder off the import path before
# anything imports ``platform`` (uuid, sqlalchemy), or Python would find this script instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import datetime as dt
import json
import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import yaml
from sqlalchemy import text
from stdnum.cn import uscc

from huiqi.store.db import Database, make_engine
from huiqi.store.entities import create_entity, record_fact
from huiqi.store.migrate import upgrade
from huiqi.store.models import Application, Call, User
from huiqi.store.users import hash_password, issue_token
from huiqi.workflow.actors import Actor
from huiqi.workflow.applications import pass_check
from huiqi.workflow.calls import CallSpec, open_call
from huiqi.workflow.policy import policy_engine
from huiqi.workflow.proposals import make_proposed_list

PG = os.environ.get("HUIQI_BENCH_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parents[1]
OFFICIAL = Actor("official", "official")
FACTS = {"registered_city": "苏州市", "main_business_software": True, "in_miit_software_statistics": True}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run_clients(clients: int, jobs: list[Any], work: Callable[[Any], None], limit_s: float) -> tuple[int, float]:
    """Run ``work`` over ``jobs`` from ``clients`` threads; returns (done, seconds)."""
    queue, lock, done = list(jobs), threading.Lock(), [0]
    deadline = time.perf_counter() + limit_s

    def loop() -> None:
        while time.perf_counter() < deadline:
            with lock:
                if not queue:
                    return
                job = queue.pop()
            work(job)
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0], time.perf_counter() - start


_ROUND = [0]


def setup(db: Database, firms: int) -> tuple[int, list[tuple[int, str]], str]:
    """A Suzhou call and ``firms`` applicants with their tokens, and an official's token (fresh each round)."""
    _ROUND[0] += 1
    r = _ROUND[0]
    policy = policy_engine()
    today = dt.date.today()
    password = hash_password("bench-password")
    tokens = []
    with db.transaction() as session:
        call = open_call(session, actor=OFFICIAL, policy=policy, spec=CallSpec(
            title="bench", document_id="suzhou-software-cluster", provisions=["3"], period=2023,
            as_of=dt.date(2024, 6, 30), opens_on=today, closes_on=today + dt.timedelta(days=30),
            budget=f"{firms * 200}万元", review_mode="formal", publicity_days=0))  # fmt: skip
        for n in range(firms):
            base = f"91320594M{r % 10}{n:07d}"
            entity = create_entity(session, entity_type="enterprise", name=f"基准测试企业{n}",
                                   uscc=base + uscc.calc_check_digit(base), region=["江苏省", "苏州市"])  # fmt: skip
            for key, value in FACTS.items():
                record_fact(session, entity=entity, key=key, value=value, year=None, provenance="verified",
                            recorded_by="bench", catalogue=policy.base.catalogue)  # fmt: skip
            for year, value in ((2022, "4800万元"), (2023, "1.35亿元")):
                record_fact(session, entity=entity, key="revenue", value=value, year=year, provenance="verified",
                            recorded_by="bench", catalogue=policy.base.catalogue)  # fmt: skip
            user = User(username=f"firm{r}x{n}", display_name="x", role="applicant", password_hash=password,
                        entity_id=entity.id)  # fmt: skip
            session.add(user)
            session.flush()
            tokens.append((entity.id, issue_token(session, user=user)))
        official = User(username=f"official{r}", display_name="x", role="official", password_hash=password)
        session.add(official)
        session.flush()
        return call.id, tokens, issue_token(session, user=official)


def start_server(app: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """uvicorn serving ``app`` on 127.0.0.1:``port`` with ``workers`` processes, once it answers."""
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning", "--app-dir", str(ROOT / "bench")], env=env, cwd=ROOT)  # fmt: skip
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{app} did not start")


class Clients:
    """``n`` client threads, each with its own keep-alive connection; counts answers by status."""

    def __init__(self, base: str, n: int) -> None:
        self.base, self.n = base, n
        self.local = threading.local()
        self.statuses: dict[int, int] = {}
        self.lock = threading.Lock()

    def http(self) -> httpx.Client:
        if not hasattr(self.local, "c"):
            self.local.c = httpx.Client(base_url=self.base, timeout=60)
        c: httpx.Client = self.local.c
        return c

    def count(self, response: httpx.Response) -> httpx.Response:
        with self.lock:
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        return response

    def run(self, jobs: list[Any], work: Callable[[Any], None], limit_s: float) -> tuple[int, float]:
        return run_clients(self.n, jobs, work, limit_s)

    def latencies(self, request: Callable[[], httpx.Response], seconds: float) -> list[float]:
        """Every client sends ``request`` in a loop for ``seconds``; the latency of each answer."""
        stop, out = threading.Event(), []

        def loop() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                self.count(request())
                with self.lock:
                    out.append(time.perf_counter() - t0)

        threads = [threading.Thread(target=loop) for _ in range(self.n)]
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join()
        return out


def rate(n: int, secs: float) -> str:
    return f"{n / secs:8.1f}/s  ({n} in {secs:.2f} s)"


def measure(args: argparse.Namespace, workers: int, clients: int, schema_url: str, db: Database) -> dict[str, float]:
    """One round: the trivial baseline and every huiqi figure with ``workers`` processes and ``clients`` clients."""
    figures: dict[str, float] = {}
    tport, port = free_port(), free_port()
    env = {**os.environ, "HUIQI_DATABASE_URL": schema_url, "HUIQI_ENVIRONMENT": "test",
           "HUIQI_DATABASE_POOL_SIZE": str(args.pool)}  # fmt: skip
    trivial = start_server("trivial_app:app", tport, workers, env)
    server = start_server("huiqi.api.asgi:app", port, workers, env)
    try:
        base = Clients(f"http://127.0.0.1:{tport}", clients)
        for _ in range(clients * 3):
            base.http().get("/trivial")  # warm up
        n, secs = base.run(list(range(args.trivial)), lambda _i: base.count(base.http().get("/trivial")), 30)
        figures["trivial/s"] = n / secs
        print(f"  baseline: trivial FastAPI endpoint, same server and workers : {rate(n, secs)}")
        lat = base.latencies(lambda: base.http().get("/trivial"), args.seconds)
        figures["trivial p50"], figures["trivial p99"] = pct(lat, 0.5), pct(lat, 0.99)
        print(f"  baseline: trivial endpoint latency, {clients} clients            : "
              f"p50 {pct(lat, 0.5):.1f} ms, p99 {pct(lat, 0.99):.1f} ms")  # fmt: skip

        call_id, tokens, official = setup(db, args.firms)
        c = Clients(f"http://127.0.0.1:{port}/api/v1", clients)

        def submit_one(job: tuple[int, str]) -> None:
            _entity, token = job
            h = {"Authorization": f"Bearer {token}"}
            draft = c.count(c.http().post("/applications", json={"call_id": call_id}, headers=h))
            if draft.status_code == 201:
                c.count(c.http().post(f"/applications/{draft.json()['id']}/submit", json={"pledge": True}, headers=h))

        n, secs = c.run(tokens, submit_one, args.phase_s)
        figures["submissions/s"] = n / secs
        print(f"  submissions (draft + submit, evaluation frozen), 2 requests : {rate(n, secs)}")

        def fact_one(job: tuple[int, str]) -> None:
            entity, token = job
            h = {"Authorization": f"Bearer {token}"}
            c.count(c.http().post(f"/entities/{entity}/facts", headers=h,
                                  json={"key": "social_insurance_staff", "value": 50 + entity % 7}))  # fmt: skip

        n, secs = c.run(tokens * 4, fact_one, args.phase_s)
        figures["facts/s"] = n / secs
        print(f"  fact updates (one fact, with provenance and audit)        : {rate(n, secs)}")

        with db.transaction() as session:
            ids = list(session.scalars(text("SELECT id FROM applications WHERE state = 'submitted' ORDER BY id")))
            for application_id in ids:
                pass_check(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
            make_proposed_list(session, call=session.get_one(Call, call_id), actor=OFFICIAL)
        h = {"Authorization": f"Bearer {official}"}
        n, secs = c.run(ids, lambda a: c.count(c.http().post(f"/applications/{a}/approve", headers=h)), args.phase_s)
        figures["approvals/s"] = n / secs
        print(f"  approvals (budget reserved, awards, instalments, audit)   : {rate(n, secs)}")
        with db.sessions() as session:
            call = session.get_one(Call, call_id)
            awarded = session.scalar(text("SELECT COALESCE(SUM(amount_fen), 0) FROM awards WHERE call_id = :c"),
                                     {"c": call_id})  # fmt: skip
            assert call.reserved_fen == awarded <= call.budget_fen, (call.reserved_fen, awarded)

        example = ROOT / "examples" / "profiles" / "suzhou-software-firm.yaml"
        profile = json.loads(json.dumps(yaml.safe_load(example.read_text("utf-8")), default=str))
        body = {"profile": profile, "as_of": "2024-06-30", "include_drafts": True}
        lat = c.latencies(lambda: c.http().post("/evaluate", json=body, headers=h), args.seconds)
        figures["evaluate p50"], figures["evaluate p99"] = pct(lat, 0.5), pct(lat, 0.99)
        print(f"  /evaluate latency, {clients} clients                        : p50 {pct(lat, 0.5):.1f} ms, "
              f"p99 {pct(lat, 0.99):.1f} ms ({len(lat)} requests, {len(lat) / args.seconds:.0f}/s)")  # fmt: skip
        errors = {k: v for k, v in sorted(c.statuses.items()) if k >= 500}
        figures["errors"] = sum(errors.values())
        print(f"  answers by status: {dict(sorted(c.statuses.items()))}; server errors: {errors or 'none'}")
    finally:
        for process in (trivial, server):
            process.terminate()
            process.wait(timeout=30)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=400, help="applicants created for each round")
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 50])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pool", type=int, default=10, help="HUIQI_DATABASE_POOL_SIZE of each worker")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each latency phase")
    parser.add_argument("--phase-s", type=float, default=8.0, help="longest time of each throughput phase")
    parser.add_argument("--trivial", type=int, default=3000, help="requests of the trivial throughput phase")
    args = parser.parse_args()
    schema = f"huiqi_bench_{os.getpid()}_{secrets.token_hex(2)}"
    admin = make_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG}?options=-csearch_path%3D{schema}"
    db = Database(url, pool_size=8)
    upgrade(db.engine)
    results: dict[tuple[int, int], dict[str, float]] = {}
    try:
        print(f"huiqi platform benchmark — PostgreSQL, uvicorn on 127.0.0.1, {os.cpu_count()} cores "
              f"(clients run on the same machine)")  # fmt: skip
        for workers in args.workers:
            for clients in args.clients:
                print(f"\n{workers} worker(s), {clients} clients")
                results[workers, clients] = measure(args, workers, clients, url, db)
        plain = PG.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, options=f"-csearch_path={schema}") as c:
            c.execute("CREATE TABLE raw_inserts (id serial primary key, entity int, state text, evaluation jsonb)")
            c.commit()
        raw_local = threading.local()

        def raw_insert(n: int) -> None:
            if not hasattr(raw_local, "c"):
                raw_local.c = psycopg.connect(plain, options=f"-csearch_path={schema}")
            with raw_local.c.transaction():
                raw_local.c.execute("INSERT INTO raw_inserts (entity, state, evaluation) VALUES (%s, 'submitted', %s)",
                                    (n, '{"schema": "huiqi.evaluation/1"}'))  # fmt: skip

        n, secs = run_clients(8, list(range(4000)), raw_insert, 10)
        print(f"\nbaseline: one-row INSERT per transaction, raw psycopg, 8 connections: {rate(n, secs)}")
        print("\nsummary (ratios to the same round's trivial endpoint)")
        for (workers, clients), f in results.items():
            t = f["trivial/s"]
            print(f"  {workers}w {clients:>3}c: submissions {f['submissions/s'] / t:.2f}×, facts {f['facts/s'] / t:.2f}×, "
                  f"approvals {f['approvals/s'] / t:.2f}× of trivial {t:.0f}/s; /evaluate p50 "
                  f"{f['evaluate p50'] / f['trivial p50']:.2f}×, p99 {f['evaluate p99'] / f['trivial p99']:.2f}× "
                  f"of trivial; server errors {f['errors']:.0f}")  # fmt: skip
        for clients in args.clients:
            if (1, clients) in results and (2, clients) in results:
                one, two = results[1, clients], results[2, clients]
                growth = {k: two[k] / one[k] for k in ("trivial/s", "submissions/s", "facts/s", "approvals/s")}
                print(f"  1 → 2 workers, {clients} clients: " + ", ".join(f"{k} {v:.2f}×" for k, v in growth.items()))
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
