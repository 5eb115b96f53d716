"""Login timing: does the answer time tell whether a username exists?

An unknown (or inactive) user's password is verified against a dummy scrypt hash
(``huiqi.store.users.password_matches``), so a login for a name that does not exist should take as long as
a wrong password for one that does. This script measures both — through HTTP (the app in-process, on a
temporary SQLite file) and at the store (``authenticate``) — alternating them, and prints the medians side
by side with their ratio. The limits of the login throttle are raised for the run (each unknown name is
new, and the failures of the known one stay under its limit).

    .venv/bin/python bench/login_timing.py [--rounds 25]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from huiqi.api.app import create_app
from huiqi.api.config import Settings
from huiqi.store.db import Database
from huiqi.store.users import authenticate, create_user

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

PASSWORD = "Timing-bench-2024"  # noqa: S105 - a throwaway account's password
WRONG = "Wrong-guess-1"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25, help="logins of each kind (at most 90)")
    rounds = min(parser.parse_args().rounds, 90)
    with tempfile.TemporaryDirectory(prefix="huiqi-login-timing-") as folder:
        database = Database(f"sqlite:///{Path(folder) / 'timing.db'}")
        settings = Settings(environment="test", database_url=database.url, first_admin_password=PASSWORD,
                            login_max_failures=100, login_max_failures_per_ip=100_000)  # fmt: skip
        client = TestClient(create_app(settings, database=database))
        with database.transaction() as session:
            create_user(session, username="wang", password=PASSWORD, role="official")

        def login(username: str, password: str, expected: int) -> None:
            response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
            assert response.status_code == expected, response.text

        login("wang", PASSWORD, 200)  # warm up: imports, connections
        http: dict[str, list[float]] = {"unknown user": [], "wrong password": [], "right password": []}
        store: dict[str, list[float]] = {"unknown user": [], "wrong password": []}
        for n in range(rounds):
            http["unknown user"].append(timed(lambda n=n: login(f"nobody{n}", WRONG, 401)))
            http["wrong password"].append(timed(lambda: login("wang", WRONG, 401)))
            http["right password"].append(timed(lambda: login("wang", PASSWORD, 200)))
            with database.sessions() as session:
                store["unknown user"].append(timed(lambda: authenticate(session, username="nobody", password=WRONG)))
                store["wrong password"].append(timed(lambda: authenticate(session, username="wang", password=WRONG)))
        database.dispose()

    print(f"median of {rounds} logins each (ms)")
    print(f"{'':26}{'unknown user':>14}{'wrong password':>16}{'ratio':>8}")
    for label, samples in (("POST /api/v1/auth/login", http), ("authenticate()", store)):
        unknown, wrong = median_ms(samples["unknown user"]), median_ms(samples["wrong password"])
        print(f"{label:26}{unknown:14.1f}{wrong:16.1f}{unknown / wrong:8.2f}")
    print(f"{'(right password, HTTP)':26}{median_ms(http['right password']):14.1f}")


if __name__ == "__main__":
    main()
