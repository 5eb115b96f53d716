"""Counting 公示 days: calendar days, or working days by the official holiday calendar with 调休.

The packaged calendar (``chinesecalendar``) stops at the year of its release; the State Council
publishes next year's arrangement each November. ``HolidayCalendar.load`` merges such a year from a
YAML or JSON file::

    year: 2027
    holidays: [2027-01-01, 2027-02-05, …]   # 法定节假日 (days off)
    workdays: [2027-02-14, …]               # 调休 make-up working days that fall on weekends

Counting working days in a year the calendar does not know is refused, never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import chinese_calendar  # ships no type hints (ignored in pyproject mypy overrides)
import yaml

from huiqi.store.errors import InvalidInput


class HolidayCalendar:
    """Official days off and make-up working days, for the years it knows."""

    def __init__(self, holidays: set[dt.date], workdays: set[dt.date], years: set[int]) -> None:
        self.holidays = holidays
        self.workdays = workdays
        self.years = years

    @classmethod
    def packaged(cls) -> HolidayCalendar:
        """The calendar shipped with ``chinesecalendar``."""
        holidays = set(chinese_calendar.holidays)
        workdays = set(chinese_calendar.workdays)
        years = {d.year for d in holidays}
        return cls(holidays, workdays, years)

    def load(self, path: Path) -> HolidayCalendar:
        """This calendar with one more year (or a corrected year) from a file."""
        try:
            text = path.read_text("utf-8")
            raw: Any = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise InvalidInput(f"无法读取节假日文件：{exc}", where=str(path)) from None
        if not isinstance(raw, dict) or not isinstance(raw.get("year"), int):
            raise InvalidInput("节假日文件应含 year（年份）、holidays、workdays（日期列表）", where=str(path))
        year: int = raw["year"]
        parsed: dict[str, set[dt.date]] = {}
        for key in ("holidays", "workdays"):
            days = set()
            for index, item in enumerate(raw.get(key) or []):
                try:
                    day = item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item))
                except ValueError:
                    raise InvalidInput(f"日期应为 YYYY-MM-DD，得到 {item!r}", where=f"{path}:{key}[{index}]") from None
                if day.year != year:
                    raise InvalidInput(f"{day} 不在 {year} 年内", where=f"{path}:{key}[{index}]")
                days.add(day)
            parsed[key] = days
        keep = {d for d in self.holidays if d.year != year}, {d for d in self.workdays if d.year != year}
        return HolidayCalendar(keep[0] | parsed["holidays"], keep[1] | parsed["workdays"], self.years | {year})

    def is_working_day(self, day: dt.date) -> bool:
        """A weekday that is not a holiday, or a weekend day made a working day by 调休."""
        if day.year not in self.years:
            known = f"{min(self.years)}–{max(self.years)}" if self.years else "无"
            raise InvalidInput(
                f"节假日安排中没有 {day.year} 年（已载入 {known} 年）：请在国务院办公厅公布后载入该年的节假日文件"
                "（设置 HUIQI_HOLIDAYS_FILE），或改用自然日计算公示期",
                where="publicity_day_kind",
            )
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


def publicity_end(start: dt.date, days: int, kind: str, calendar: HolidayCalendar) -> dt.date:
    """The last day of a 公示 of ``days`` days starting on ``start`` (the start day counts if it counts).

    >>> cal = HolidayCalendar.packaged()
    >>> publicity_end(dt.date(2024, 9, 2), 7, "calendar", cal)
    datetime.date(2024, 9, 8)
    >>> publicity_end(dt.date(2024, 9, 27), 7, "working", cal)  # 国庆 1–7 Oct off; Sun 29 Sep is 调休
    datetime.date(2024, 10, 11)
    """
    if days < 1:
        raise InvalidInput("公示天数至少为1天", where="publicity_days")
    if kind == "calendar":
        return start + dt.timedelta(days=days - 1)
    if kind != "working":
        raise InvalidInput(f"公示天数的计法 {kind!r} 无效：calendar（自然日）或 working（工作日）", where="day_kind")
    day, counted = start, 0
    while True:
        if calendar.is_working_day(day):
            counted += 1
            if counted == days:
                return day
        day += dt.timedelta(days=1)
