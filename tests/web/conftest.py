"""Browser tests: one live server (uvicorn in a thread, a temporary SQLite database with the demo data and
one call in 公示) and one headless chromium (Debian's, /usr/bin/chromium) per session.

Every page a test opens records the requests it makes: a request to any host but the test server fails the
test (every asset is vendored). Screenshots go to tests/web/artifacts/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("HUIQI_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
PHONE = {"width": 375, "height": 812}
LAPTOP = {"width": 1280, "height": 860}

if shutil.which(CHROMIUM) is None:  # pragma: no cover - .ci/run installs it
    pytest.skip(f"没有找到 chromium（{CHROMIUM}）：apt-get install -y chromium", allow_module_level=True)

from playwright.sync_api import Browser, Page, Request, sync_playwright  # noqa: E402

from huiqi import beijing  # noqa: E402


@dataclass
class Site:
    base_url: str
    call_id: int  # the call whose list is in 公示
    firm_names: list[str]
    app: Any = None  # the served application (its database and policy base, for a test's own fixtures)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _test_holidays(folder: Path) -> list[Path]:
    """Test data, not an official arrangement: this year and next with weekends off and no holidays, for each
    the packaged calendar does not know. Near the year's end a 公示 of some working days starting today runs
    into next year, and once the year turns the packaged calendar may not know the year at all; the platform
    refuses to count working days without the year's file (tests/workflow tests that refusal), and the pages
    under test here are about the publicity, not the calendar's reach."""
    from huiqi.workflow.holidays import HolidayCalendar

    known = HolidayCalendar.packaged().years
    files = []
    for year in (beijing.today().year, beijing.today().year + 1):
        if year not in known:
            path = folder / f"holidays-test-{year}.yaml"
            path.write_text(f"year: {year}\nholidays: []\nworkdays: []\n", encoding="utf-8")
            files.append(path)
    return files


def _seed_publicity(app: object) -> tuple[int, list[str]]:
    """Three Suzhou firms proposed under a call whose 公示 started two days ago (working days if the calendar
    knows the whole period, else calendar days)."""
    from huiqi.store.errors import InvalidInput
    from huiqi.store.models import Call
    from huiqi.workflow.publicity import start_publicity
    from platform_fixtures import OFFICIAL, add_call, add_firm, propose_all

    state = app.state  # type: ignore[attr-defined]
    database, policy = state.database, state.policy
    names = ["苏州公示甲软件有限公司", "苏州公示乙软件有限公司", "苏州公示丙软件有限公司"]
    firms = [add_firm(database, policy, 100 + n, name=name) for n, name in enumerate(names)]
    start = beijing.today() - dt.timedelta(days=2)
    for kind in ("working", "calendar"):
        call_id = add_call(database, policy, title="2024年苏州市软件产业规模奖励（网页测试）", publicity_days=7,
                           publicity_day_kind=kind, budget="2000万元")  # fmt: skip
        try:
            propose_all(database, policy, call_id, firms)
            with database.transaction() as session:
                start_publicity(session, call=session.get_one(Call, call_id), actor=OFFICIAL, starts_on=start,
                                calendar=state.calendar, channel="苏州市工业和信息化局网站")  # fmt: skip
            return call_id, names
        except InvalidInput:
            continue
    raise AssertionError("could not start a 公示")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from huiqi.api.app import create_app
    from huiqi.api.config import Settings

    folder = tmp_path_factory.mktemp("web")
    holidays = _test_holidays(folder)
    settings = Settings.from_env({}, database_url=f"sqlite:///{folder / 'web.db'}", demo_data=True,
                                 holidays_file=holidays[0] if holidays else None)  # fmt: skip
    app = create_app(settings)
    for more in holidays[1:]:  # one year per file, as the State Council publishes them
        app.state.calendar = app.state.calendar.load(more)
    call_id, names = _seed_publicity(app)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the test server did not start")
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", call_id, names, app)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


def _open(browser: Browser, site: Site, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)  # type: ignore[arg-type]
    page = context.new_page()
    outside: list[str] = []
    own = urlsplit(site.base_url).netloc

    def check(request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != own:
            outside.append(request.url)

    page.on("request", check)
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert not outside, f"页面请求了应用以外的地址：{outside}"


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    """A laptop-sized page; fails the test if anything outside the app is requested."""
    yield from _open(browser, site, LAPTOP)


@pytest.fixture
def phone(browser: Browser, site: Site) -> Iterator[Page]:
    """A phone-sized page (375 px wide); fails the test if anything outside the app is requested."""
    yield from _open(browser, site, PHONE)


def shot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot as a test artefact (tests/web/artifacts/NAME.png)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def no_horizontal_scroll(page: Page) -> None:
    """The page fits its viewport (wide tables scroll inside their own box, not the page)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"页面比视口宽 {overflow}px"
