"""Benchmark of the administration platform on PostgreSQL, through HTTP, with baselines side by side.

Starts its own uvicorn on 127.0.0.1 (a free port) over a fresh PostgreSQL schema, then measures:

1. submissions/s — concurrent applicants each POST a draft and submit it (evaluation frozen inside);
2. approvals/s — concurrent officials approve proposed applications (budget reserved in the same transaction);
3. evaluation latency p50/p99 through ``POST /api/v1/evaluate`` while other clients load the server;

and, in the same run, the baselines: the same number of inserts by raw psycopg (one transaction each, same
concurrency), approvals through the library without HTTP, and the engine's evaluation without HTTP.
Everything is bounded in count and time, and the script stops its server and drops its schema.

    .venv/bin/python bench/platform_load.py [--firms 120] [--clients 8] [--seconds 8]
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
import statistics
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

from huiqi.engine.evaluate import Options
from huiqi.engine.profile import parse_profile
from huiqi.store.db import Database, make_engine
from huiqi.store.entities import create_entity, record_fact
from huiqi.store.migrate import upgrade
from huiqi.store.models import Application, Call, User
from huiqi.store.users import hash_password, issue_token
from huiqi.workflow.actors import Actor
from huiqi.workflow.applications import pass_check
from huiqi.workflow.awards import approve
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


def setup(db: Database, firms: int) -> tuple[int, list[tuple[int, str]], str]:
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
            base = f"91320594MB{n:07d}"
            entity = create_entity(session, entity_type="enterprise", name=f"基准测试企业{n}",
                                   uscc=base + uscc.calc_check_digit(base), region=["江苏省", "苏州市"])  # fmt: skip
            for key, value in FACTS.items():
                record_fact(session, entity=entity, key=key, value=value, year=None, provenance="verified",
                            recorded_by="bench", catalogue=policy.base.catalogue)  # fmt: skip
            for year, value in ((2022, "4800万元"), (2023, "1.35亿元")):
                record_fact(session, entity=entity, key="revenue", value=value, year=year, provenance="verified",
                            recorded_by="bench", catalogue=policy.base.catalogue)  # fmt: skip
            user = User(username=f"firm{n}", display_name="x", role="applicant", password_hash=password,
                        entity_id=entity.id)  # fmt: skip
            session.add(user)
            session.flush()
            tokens.append((entity.id, issue_token(session, user=user)))
        official = User(username="official", display_name="x", role="official", password_hash=password)
        session.add(official)
        session.flush()
        return call.id, tokens, issue_token(session, user=official)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=120)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the latency-under-load phase")
    args = parser.parse_args()
    schema = f"huiqi_bench_{os.getpid()}_{secrets.token_hex(2)}"
    admin = make_engine(PG)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG}?options=-csearch_path%3D{schema}"
    db = Database(url, pool_size=args.clients + 2)
    upgrade(db.engine)
    port = free_port()
    env = {**os.environ, "HUIQI_DATABASE_URL": url, "HUIQI_ENVIRONMENT": "test",
           "HUIQI_DATABASE_POOL_SIZE": str(args.clients + 2)}  # fmt: skip
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "uvicorn", "huiqi.api.asgi:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"], env=env, cwd=ROOT)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        call_id, tokens, official = setup(db, args.firms)
        print(f"huiqi platform benchmark — PostgreSQL, uvicorn (1 process) on 127.0.0.1, {args.clients} clients, "
              f"{args.firms} applicants, {os.cpu_count()} cores")  # fmt: skip
        local = threading.local()

        def client() -> httpx.Client:
            if not hasattr(local, "c"):
                local.c = httpx.Client(base_url=base, timeout=30)
            c: httpx.Client = local.c
            return c

        def submit_one(job: tuple[int, str]) -> None:
            _entity, token = job
            h = {"Authorization": f"Bearer {token}"}
            draft = client().post("/applications", json={"call_id": call_id}, headers=h)
            done = client().post(f"/applications/{draft.json()['id']}/submit", json={"pledge": True}, headers=h)
            assert done.status_code == 200, done.text

        n, secs = run_clients(args.clients, tokens, submit_one, 120)
        print(f"submissions (draft + submit with frozen evaluation), HTTP : {n / secs:8.1f}/s  ({n} in {secs:.2f} s)")

        plain = PG.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, options=f"-csearch_path={schema}") as c:
            c.execute("CREATE TABLE raw_inserts (id serial primary key, entity int, state text, evaluation jsonb)")
            c.commit()
        raw_local = threading.local()

        def raw_insert(job: tuple[int, str]) -> None:
            if not hasattr(raw_local, "c"):
                raw_local.c = psycopg.connect(plain, options=f"-csearch_path={schema}")
            with raw_local.c.transaction():
                raw_local.c.execute("INSERT INTO raw_inserts (entity, state, evaluation) VALUES (%s, 'submitted', %s)",
                                    (job[0], '{"schema": "huiqi.evaluation/1"}'))  # fmt: skip

        n, secs = run_clients(args.clients, tokens, raw_insert, 60)
        print(f"  baseline: one-row INSERT per transaction, raw psycopg : {n / secs:8.1f}/s  ({n} in {secs:.2f} s)")

        with db.transaction() as session:
            ids = list(session.scalars(text("SELECT id FROM applications ORDER BY id")))
            for application_id in ids:
                pass_check(session, application=session.get_one(Application, application_id), actor=OFFICIAL)
            make_proposed_list(session, call=session.get_one(Call, call_id), actor=OFFICIAL)
        half = len(ids) // 2
        h = {"Authorization": f"Bearer {official}"}

        def approve_http(application_id: int) -> None:
            response = client().post(f"/applications/{application_id}/approve", headers=h)
            assert response.status_code == 200, response.text

        n, secs = run_clients(args.clients, ids[:half], approve_http, 120)
        print(f"approvals (reserve budget + awards + schedule), HTTP      : {n / secs:8.1f}/s  ({n} in {secs:.2f} s)")

        def approve_direct(application_id: int) -> None:
            with db.transaction() as session:
                approve(session, application=session.get_one(Application, application_id), actor=OFFICIAL)

        n, secs = run_clients(args.clients, ids[half:], approve_direct, 120)
        print(f"  baseline: the same approvals through the library       : {n / secs:8.1f}/s  ({n} in {secs:.2f} s)")
        with db.sessions() as session:
            call = session.get_one(Call, call_id)
            awarded = session.scalar(text("SELECT COALESCE(SUM(amount_fen), 0) FROM awards"))
            print(f"  check: reserved {call.reserved_fen} fen == awarded {awarded} fen <= budget {call.budget_fen} fen")

        example = ROOT / "examples" / "profiles" / "suzhou-software-firm.yaml"
        profile = json.loads(json.dumps(yaml.safe_load(example.read_text("utf-8")), default=str))
        body = {"profile": profile, "as_of": "2024-06-30", "include_drafts": True}
        stop = threading.Event()
        latencies: list[float] = []

        def load() -> None:
            while not stop.is_set():
                client().post("/evaluate", json=body, headers=h)

        def measure() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                response = client().post("/evaluate", json=body, headers=h)
                latencies.append(time.perf_counter() - t0)
                assert response.status_code == 200

        threads = [threading.Thread(target=load) for _ in range(args.clients - 1)] + [threading.Thread(target=measure)]
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        stop.set()
        for t in threads:
            t.join()
        print(f"evaluation latency through the API, under {args.clients - 1} loading clients: "
              f"p50 {pct(latencies, 0.5):.1f} ms, p99 {pct(latencies, 0.99):.1f} ms ({len(latencies)} requests)")  # fmt: skip
        policy = policy_engine()
        parsed = parse_profile(profile, policy.base.catalogue)
        direct = []
        for _ in range(300):
            t0 = time.perf_counter()
            policy.engine.evaluate(parsed, Options(as_of=dt.date(2024, 6, 30), include_drafts=True)).to_json()
            direct.append(time.perf_counter() - t0)
        print(f"  baseline: the engine without HTTP (with JSON), idle      : p50 {pct(direct, 0.5):.1f} ms, "
              f"p99 {pct(direct, 0.99):.1f} ms; mean {statistics.mean(direct) * 1000:.1f} ms")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
        db.dispose()
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
