"""The platform's calendar: Beijing's day, whatever time zone the server runs in.

Every date the platform decides by — a call's deadline, a 公示 window, a report falling due, the evaluation
date a page defaults to — is a day in China (UTC+8 all year, no daylight saving). A server in UTC would
otherwise be a day behind from 00:00 to 08:00 Beijing time, while the dates it shows from the audit chain
(``day_of``) are already Beijing's.
"""

from __future__ import annotations

import datetime as dt

BEIJING = dt.timezone(dt.timedelta(hours=8), "北京时间")


def today() -> dt.date:
    """Today in Beijing."""
    return day_of(dt.datetime.now(dt.UTC))


def day_of(moment: dt.datetime) -> dt.date:
    """The Beijing calendar day of a moment (naive means UTC, as SQLite returns stored timestamps)."""
    aware = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
    return aware.astimezone(BEIJING).date()
