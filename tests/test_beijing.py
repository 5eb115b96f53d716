"""The platform's day is Beijing's (``huiqi.beijing``): from 16:00 to 24:00 UTC it is already tomorrow there,
and a server in UTC must not judge deadlines, 公示 windows or reports due by its own date."""

from __future__ import annotations

import datetime as dt

import pytest

from huiqi import beijing


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (dt.datetime(2026, 12, 31, 15, 59, tzinfo=dt.UTC), dt.date(2026, 12, 31)),
        (dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC), dt.date(2027, 1, 1)),  # midnight in Beijing
        (dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC), dt.date(2027, 1, 1)),
        (dt.datetime(2026, 12, 1, 17, 0), dt.date(2026, 12, 2)),  # naive: UTC, as SQLite returns stored moments
        (dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))), dt.date(2026, 12, 2)),
    ],
)
def test_a_moment_falls_on_beijings_day(moment: dt.datetime, day: dt.date) -> None:
    assert beijing.day_of(moment) == day


def test_today_is_beijings_day_whatever_the_servers_zone() -> None:
    before = dt.datetime.now(dt.UTC)
    today = beijing.today()
    after = dt.datetime.now(dt.UTC)
    assert today in {(before + dt.timedelta(hours=8)).date(), (after + dt.timedelta(hours=8)).date()}
