"""Twenty people at once: the pages of the desks under concurrent signed-in users, beside the API requests
that read the same data.

Starts ``huiqi serve`` (one process, as ``make run`` does) on a fresh SQLite file with the demo data, signs in
``--users`` simulated users — applicants (the demo firms) and officials, mixed by ``--officials`` — each through
the sign-in page (pre-session cookie and CSRF token, as a browser does) and through ``POST /api/v1/auth/login``
for a bearer token, and lets them all work at once for ``--seconds``: each user walks its role's pages in turn,
and after each page asks the API for the same data. Every request is timed on the client (the clients are
asyncio tasks in this process, on the same machine as the server). Printed: per page and per API request, the
count, p50 and p99 in ms, and the ratio of page to API; then ``/api/v1/health`` timed alone under the same load
(the floor of any request through this server), and all answers by status (anything but 200 is listed).

A page that does not exist in this version (404 when probed) is skipped and said so.

    .venv/bin/python bench/web_users.py [--users 20] [--officials 8] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from huiqi.population.labels import text_width

PASSWORD = "Huiqi-Demo-2024"  # noqa: S105 - the demo's public password
APPLICANTS = ["suzhou-a", "suzhou-b", "suzhou-c", "suzhou-d", "county"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Timings:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)

    def add(self, label: str, status: int, ms: float) -> None:
        self.statuses[(label, status)] += 1
        if status == 200:
            self.times[label].append(ms)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (CJK characters take two)."""
    return text + " " * max(0, width - text_width(text))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def sign_in(base: str, username: str) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    """A browser-like client with the session cookie, and an API client with the bearer token."""
    browser = httpx.AsyncClient(base_url=base, headers={"Accept": "text/html"}, timeout=60)
    form = await browser.get("/login")
    token = CSRF.search(form.text)
    assert token, "no CSRF token on the sign-in page"
    answer = await browser.post("/login", data={"username": username, "password": PASSWORD,
                                                "csrf_token": token.group(1), "next": ""})  # fmt: skip
    assert answer.status_code in (200, 303), (username, answer.status_code, answer.text[:200])
    assert "huiqi_session" in browser.cookies, f"{username}: not signed in"
    api = httpx.AsyncClient(base_url=base, timeout=60)
    login = await api.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    return browser, api


async def walk(browser: httpx.AsyncClient, api: httpx.AsyncClient, route: list[tuple[str, str, str, str]],
               timings: Timings, until: float) -> None:  # fmt: skip
    """Pages and their API counterparts in turn until ``until``."""
    while time.monotonic() < until:
        for label, page, api_label, api_url in route:
            start = time.perf_counter()
            answer = await browser.get(page)
            timings.add(f"页面 {label} | {api_label}", answer.status_code, (time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            answer = await api.get(api_url)
            timings.add(f"接口 {label} | {api_label}", answer.status_code, (time.perf_counter() - start) * 1000)


async def floor(base: str, timings: Timings, until: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while time.monotonic() < until:
            start = time.perf_counter()
            answer = await client.get("/api/v1/health")
            timings.add("基线 /api/v1/health", answer.status_code, (time.perf_counter() - start) * 1000)
            await asyncio.sleep(0.05)


async def routes_for(browser: httpx.AsyncClient, api: httpx.AsyncClient, role: str) -> list[tuple[str, str, str, str]]:
    """The role's pages (label, page URL, API label, API URL), each probed once; missing pages are dropped."""
    if role == "applicant":
        own = (await api.get("/api/v1/applications")).json()["items"]
        first = own[0]["id"] if own else None
        candidates = [("申报工作台", "/desk/applicant", "本单位申请列表", "/api/v1/applications"),
                      ("政策计算器", "/calculator", "批次列表", "/api/v1/calls"),
                      ("公示", "/publicity", "公示名单", "/api/v1/publicity")]  # fmt: skip
        if first is not None:
            candidates.insert(1, ("申请详情与时间线", f"/desk/applicant/applications/{first}", "申请详情",
                                  f"/api/v1/applications/{first}"))  # fmt: skip
    else:
        calls = (await api.get("/api/v1/calls")).json()["items"]
        call = calls[0]["id"]
        candidates = [("审核工作台", "/desk/official", "批次列表", "/api/v1/calls"),
                      ("批次队列", f"/desk/official/calls/{call}", "批次申请列表", f"/api/v1/applications?call_id={call}"),
                      ("统计看板", "/dashboards", "拨付列表", "/api/v1/payments"),
                      ("公示", "/publicity", "公示名单", "/api/v1/publicity")]  # fmt: skip
    kept = []
    for item in candidates:
        page = await browser.get(item[1])
        if page.status_code == 404:
            print(f"（本版本没有页面 {item[1]}，略过）")
            continue
        kept.append(item)
    return kept


async def run(base: str, users: int, officials: int, seconds: float) -> Timings:
    timings = Timings()
    clients = []
    for index in range(users):
        role = "official" if index < officials else "applicant"
        username = "official" if role == "official" else APPLICANTS[index % len(APPLICANTS)]
        browser, api = await sign_in(base, username)
        clients.append((browser, api, await routes_for(browser, api, role)))
    until = time.monotonic() + seconds
    await asyncio.gather(floor(base, timings, until),
                         *(walk(browser, api, route, timings, until) for browser, api, route in clients))  # fmt: skip
    for browser, api, _route in clients:
        await browser.aclose()
        await api.aclose()
    return timings


def report(timings: Timings, users: int, seconds: float) -> None:
    print(f"\n{users} 个并发用户，{seconds:.0f} 秒（客户端计时，毫秒；页面与读同样数据的接口请求并排）")
    print(
        f"{pad('页面', 18)} {'次数':>4} {'p50':>7} {'p99':>7}   {pad('接口', 16)} {'p50':>7} {'p99':>7}  页面/接口 p50"
    )
    for label, page in sorted(timings.times.items()):
        if not label.startswith("页面 "):
            continue
        name, api_name = label.removeprefix("页面 ").split(" | ")
        api = timings.times.get(f"接口 {name} | {api_name}", [])
        if not api:
            continue
        print(f"{pad(name, 18)} {len(page):>6} {statistics.median(page):>7.1f} {percentile(page, 0.99):>7.1f}   "
              f"{pad(api_name, 16)} {statistics.median(api):>7.1f} {percentile(api, 0.99):>7.1f}  "
              f"{statistics.median(page) / statistics.median(api):>8.2f}")  # fmt: skip
    health = timings.times.get("基线 /api/v1/health", [])
    if health:
        print(f"基线 /api/v1/health（同一负载下）：{len(health)} 次，p50 {statistics.median(health):.1f} ms，"
              f"p99 {percentile(health, 0.99):.1f} ms")  # fmt: skip
    pages = [v for label, values in timings.times.items() if label.startswith("页面") for v in values]
    apis = [v for label, values in timings.times.items() if label.startswith("接口") for v in values]
    if pages and apis:
        print(f"全部页面：p50 {statistics.median(pages):.1f} ms，p99 {percentile(pages, 0.99):.1f} ms；"
              f"全部接口：p50 {statistics.median(apis):.1f} ms，p99 {percentile(apis, 0.99):.1f} ms")  # fmt: skip
        total = len(pages) + len(apis)
        print(f"吞吐：{total / seconds:.1f} 请求/秒（页面 {len(pages) / seconds:.1f}，接口 {len(apis) / seconds:.1f}）")
    odd = {key: count for key, count in timings.statuses.items() if key[1] != 200}
    print("非 200 的回答：" + ("无" if not odd else "；".join(f"{k[0]} → {k[1]} × {n}" for k, n in odd.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--officials", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    port = free_port()
    huiqi = str(Path(sys.executable).with_name("huiqi"))
    with tempfile.TemporaryDirectory() as folder:
        log = (Path(folder) / "serve.log").open("wb")  # a pipe nobody reads would stall the server
        env = {**os.environ, "HUIQI_DATABASE_URL": f"sqlite:///{folder}/bench.db"}
        server = subprocess.Popen(  # noqa: S603 - our own executable
            [huiqi, "serve", "--port", str(port), "--demo"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("huiqi serve did not start: " + (Path(folder) / "serve.log").read_text()[-2000:])
                time.sleep(0.3)
            timings = asyncio.run(run(base, args.users, args.officials, args.seconds))
            report(timings, args.users, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=20)
            log.close()


if __name__ == "__main__":
    main()
