"""公示: days counted as the call says, objections by real name, approval only after it ends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from huiqi import beijing
from huiqi.store.db import Database
from huiqi.store.errors import Conflict, InvalidInput
from huiqi.store.models import Application, Call
from huiqi.workflow.actors import Actor
from huiqi.workflow.awards import approve
from huiqi.workflow.holidays import HolidayCalendar, publicity_end
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.publicity import file_objection, resolve_objection, start_publicity
from platform_fixtures import OFFICIAL, add_call, add_firm, make_id_number, propose_all

PUBLIC = Actor("citizen", "applicant", entity_id=None)


def test_working_days_skip_holidays_and_count_make_up_days() -> None:
    calendar = HolidayCalendar.packaged()
    # 2025 春节: 28 Jan – 4 Feb off; Sun 26 Jan and Sat 8 Feb are 调休 working days
    assert publicity_end(dt.date(2025, 1, 24), 7, "working", calendar) == dt.date(2025, 2, 8)  # a Saturday
    assert publicity_end(dt.date(2025, 1, 24), 7, "calendar", calendar) == dt.date(2025, 1, 30)
    assert publicity_end(dt.date(2025, 2, 7), 2, "working", calendar) == dt.date(2025, 2, 8)


def test_next_years_calendar_is_loaded_from_a_file_and_an_unknown_year_is_refused(tmp_path: Path) -> None:
    calendar = HolidayCalendar.packaged()
    year = max(calendar.years) + 1
    with pytest.raises(InvalidInput, match="节假日安排中没有"):
        calendar.is_working_day(dt.date(year, 1, 5))
    path = tmp_path / "holidays.yaml"
    path.write_text(f"year: {year}\nholidays: [{year}-01-01, {year}-01-04]\nworkdays: [{year}-01-10]\n", "utf-8")
    loaded = calendar.load(path)
    days = [dt.date(year, 1, d) for d in range(1, 11)]
    working = [d.day for d in days if loaded.is_working_day(d)]
    assert working == [d.day for d in days if (d.weekday() < 5 and d.day not in (1, 4)) or d.day == 10]
    path.write_text(f"year: {year}\nholidays: [{year + 1}-01-01]\n", "utf-8")
    with pytest.raises(InvalidInput, match="不在"):
        calendar.load(path)


def test_objections_are_real_name_resolved_and_recorded_and_approval_waits(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy, publicity_days=7, publicity_day_kind="calendar")
    firms = [add_firm(db, policy, n) for n in (1, 2)]
    ids = propose_all(db, policy, call_id, firms)
    today = beijing.today()
    with db.transaction() as session:
        publicity = start_publicity(session, call=session.get_one(Call, call_id), actor=OFFICIAL, starts_on=today,
                                    calendar=HolidayCalendar.packaged(), channel="市工信局网站")  # fmt: skip
        assert publicity.ends_on == today + dt.timedelta(days=6)
        first, second = (session.get_one(Application, i) for i in ids)
        assert first.state == second.state == "publicity"
        with pytest.raises(InvalidInput, match="身份证"):
            file_objection(session, application=first, actor=PUBLIC, name="王五", id_number="123", contact="13800000000",
                           content="营业收入不实", evidence="年报截图")  # fmt: skip
        with pytest.raises(InvalidInput, match="证据"):
            file_objection(session, application=first, actor=PUBLIC, name="王五", id_number=make_id_number(1),
                           contact="13800000000", content="营业收入不实", evidence=" ")  # fmt: skip
        upheld = file_objection(session, application=first, actor=PUBLIC, name="王五", id_number=make_id_number(1),
                                contact="13800000000", content="营业收入不实", evidence="年报截图")  # fmt: skip
        dismissed = file_objection(session, application=second, actor=PUBLIC, name="赵六",
                                   id_number=make_id_number(2), contact="13900000000", content="怀疑关联交易",
                                   evidence="工商信息")  # fmt: skip
        upheld_id, dismissed_id = upheld.id, dismissed.id
    after_end = today + dt.timedelta(days=7)
    with pytest.raises(Conflict, match="公示期满后"), db.transaction() as session:
        approve(session, application=session.get_one(Application, ids[1]), actor=OFFICIAL, today=today)
    with pytest.raises(Conflict, match="异议未处理"), db.transaction() as session:
        approve(session, application=session.get_one(Application, ids[1]), actor=OFFICIAL, today=after_end)
    with db.transaction() as session:
        resolve_objection(
            session, objection_id=upheld_id, outcome="upheld", resolution="经核查，营业收入虚报", actor=OFFICIAL
        )
        resolve_objection(session, objection_id=dismissed_id, outcome="dismissed", resolution="经核查，交易合规",
                          actor=OFFICIAL)  # fmt: skip
        with pytest.raises(Conflict, match="不能更改"):
            resolve_objection(session, objection_id=upheld_id, outcome="dismissed", resolution="改判", actor=OFFICIAL)
    with db.transaction() as session:
        first = session.get_one(Application, ids[0])
        assert first.state == "rejected" and "异议成立" in (first.reason or "")
        approve(session, application=session.get_one(Application, ids[1]), actor=OFFICIAL, today=after_end)
        assert session.get_one(Application, ids[1]).state == "approved"
