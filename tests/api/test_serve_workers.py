"""``huiqi serve --workers 2`` on PostgreSQL: the database is prepared once, then two processes serve."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from huiqi.store.db import Database
from platform_fixtures import PG_URL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_workers_share_the_port_and_both_answer(pg_db: Database) -> None:
    port = _free_port()
    url = f"{PG_URL}?options=-csearch_path%3D{pg_db.schema}"
    env = {**os.environ, "HUIQI_DATABASE_URL": url, "HUIQI_ENVIRONMENT": "test"}
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and entry point
        [str(Path(sys.executable).parent / "huiqi"), "serve", "--port", str(port), "--workers", "2", "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pids: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while len(pids) < 2 and time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            assert answer.status_code == 200, answer.text
            assert answer.json()["database"] == "ok"
            pids.add(answer.json()["pid"])
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert "工作进程：2" in output
    assert len(pids) == 2, output
    assert server.pid not in pids  # the parent prepared the database; the workers serve
