"""Where a request's time goes: server CPU and SQL statements per request, for each kind of request.

For each request kind — a health check (the floor: no sign-in, one ``SELECT 1``), ``GET /auth/me`` (sign-in
only), a fact update, a draft + submission, an approval, ``POST /evaluate`` — it sends a few hundred
requests from 8 client threads to one uvicorn worker on PostgreSQL and reads the worker's CPU time from
``/proc`` before and after: CPU per request is what bounds a worker's rate (one core at most, the GIL).
Then, in process, it counts the SQL statements each kind issues. With ``--py-spy DIR`` (py-spy installed)
it also records a flame graph of the worker for each kind.

    .venv/bin/python bench/platform_profile.py [--requests 400] [--py-spy out/profile]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import event, text

from huiqi.api.app import create_app
from huiqi.api.config import Settings
from huiqi.store.db import Database, make_engine
from huiqi.store.migrate import upgrade
from huiqi.store.models import Application, Call
from huiqi.workflow.applications import pass_check
from huiqi.workflow.proposals import make_proposed_list

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

_spec = importlib.util.spec_from_file_location("platform_load", Path(__file__).with_name("platform_load.py"))
assert _spec is not None and _spec.loader is not None
load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load)
ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def propose(db: Database, call_id: int) -> list[int]:
    with db.transaction() as session:
        ids = list(session.scalars(text("SELECT id FROM applications WHERE state = 'submitted' ORDER BY id")))
        for application_id in ids:
            pass_check(session, application=session.get_one(Application, application_id), actor=load.OFFICIAL)
        make_proposed_list(session, call=session.get_one(Call, call_id), actor=load.OFFICIAL)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--py-spy", type=Path, default=None, help="folder for py-spy flame graphs (SVG)")
    args = parser.parse_args()
    schema = f"huiqi_profile_{os.getpid()}_{secrets.token_hex(2)}"
    admin = make_engine(load.PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{load.PG}?options=-csearch_path%3D{schema}"
    db = Database(url, pool_size=4)
    upgrade(db.engine)
    example = ROOT / "examples" / "profiles" / "suzhou-software-firm.yaml"
    profile = json.loads(json.dumps(yaml.safe_load(example.read_text("utf-8")), default=str))
    evaluation = {"profile": profile, "as_of": "2024-06-30", "include_drafts": True}
    port = load.free_port()
    env = {**os.environ, "HUIQI_DATABASE_URL": url, "HUIQI_ENVIRONMENT": "test"}
    server = load.start_server("huiqi.api.asgi:app", port, 1, env)
    n = args.requests
    try:
        call_id, tokens, official = load.setup(db, n)
        c = load.Clients(f"http://127.0.0.1:{port}/api/v1", 8)
        boss = {"Authorization": f"Bearer {official}"}

        def submission(job: tuple[int, str]) -> None:
            h = {"Authorization": f"Bearer {job[1]}"}
            draft = c.http().post("/applications", json={"call_id": call_id}, headers=h)
            c.http().post(f"/applications/{draft.json()['id']}/submit", json={"pledge": True}, headers=h)

        kinds: list[tuple[str, int, Any]] = [
            ("GET /health (floor: no sign-in, SELECT 1)", 1, lambda _j: c.http().get("/health")),
            ("GET /auth/me (sign-in only)", 1, lambda _j: c.http().get("/auth/me", headers=boss)),
            (
                "POST /entities/{id}/facts",
                1,
                lambda j: c.http().post(
                    f"/entities/{j[0]}/facts",
                    headers={"Authorization": f"Bearer {j[1]}"},
                    json={"key": "social_insurance_staff", "value": 56},
                ),
            ),
            ("draft + submit (2 requests)", 2, submission),
            ("POST /applications/{id}/approve", 1, None),
            ("POST /evaluate (all documents, drafts)", 1, lambda _j: c.http().post("/evaluate", json=evaluation)),
        ]
        print(f"huiqi request profile — 1 uvicorn worker on PostgreSQL, 8 clients, {n} of each kind")
        print(f"{'request':<44} {'server CPU per request':>24} {'requests/s':>11}")
        for label, per_job, work in kinds:
            jobs: list[Any] = list(tokens)
            if work is None:  # approvals need proposed applications: the submissions above made them
                jobs = propose(db, call_id)
                work = lambda a: c.http().post(f"/applications/{a}/approve", headers=boss)  # noqa: E731
            spy = None
            if args.py_spy and shutil.which("py-spy"):
                args.py_spy.mkdir(parents=True, exist_ok=True)
                svg = args.py_spy / (label.split(" (")[0].replace("/", "_").replace(" ", "") + ".svg")
                spy = subprocess.Popen(["py-spy", "record", "-p", str(server.pid), "-o", str(svg), "--nonblocking"],  # noqa: S603, S607
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            before = cpu_seconds(server.pid)
            done, secs = c.run(jobs, work, 60)
            used = cpu_seconds(server.pid) - before
            if spy is not None:
                spy.send_signal(2)
                spy.wait(timeout=60)
            requests = done * per_job
            print(f"{label:<44} {used / requests * 1000:>21.2f} ms {requests / secs:>11.0f}")
        statements(db, url)
    finally:
        server.terminate()
        server.wait(timeout=30)
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def statements(db: Database, url: str) -> None:
    """The SQL statements of one request of each kind, counted in process."""
    call_id, tokens, official = load.setup(db, 2)
    app = create_app(Settings.from_env({}, environment="test", database_url=url), database=db)
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2].split(None, 3)[:3]))
    client = TestClient(app)
    entity, token = tokens[0]
    h, boss = {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {official}"}
    counts = {}
    for label, call in (
        ("GET /auth/me", lambda: client.get("/api/v1/auth/me", headers=h)),
        (
            "POST facts",
            lambda: client.post(
                f"/api/v1/entities/{entity}/facts", headers=h, json={"key": "social_insurance_staff", "value": 56}
            ),
        ),
        (
            "POST /applications (draft)",
            lambda: client.post("/api/v1/applications", json={"call_id": call_id}, headers=h),
        ),
    ):
        seen.clear()
        answer = call()
        counts[label] = len(seen)
    draft = answer.json()["id"]
    seen.clear()
    client.post(f"/api/v1/applications/{draft}/submit", json={"pledge": True}, headers=h)
    counts["POST …/submit"] = len(seen)
    propose(db, call_id)
    seen.clear()
    client.post(f"/api/v1/applications/{draft}/approve", headers=boss)
    counts["POST …/approve"] = len(seen)
    print("SQL statements per request: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
