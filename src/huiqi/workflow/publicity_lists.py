"""The public side of 公示: every call whose list is in 公示 on a day, as anyone may read it.

What is public: the call, its 公示 period (with the days counted as the call counts them — working days
skip holidays and count 调休 working weekends), the channel, and per proposed application its rank, the
applicant's name, its 统一社会信用代码 (organisations only: a person's 身份证 number is never shown), the
items supported and the proposed amount. Nothing else of an application (facts, materials, scores,
objections) is public. An application leaves the list when an objection against it is upheld.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi.store.models import Application, Call, Entity, Publicity
from huiqi.workflow.holidays import HolidayCalendar
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.states import State

#: Entity types that are organisations (their 统一社会信用代码 is public information).
ORGANISATIONS = frozenset({"enterprise", "park_operator", "institution", "local_government"})


@dataclass(frozen=True, slots=True)
class PublicRow:
    number: int
    name: str
    uscc: str | None
    items: tuple[str, ...]
    amount_fen: int | None


@dataclass(frozen=True, slots=True)
class PublicList:
    call_id: int
    title: str
    document_id: str
    document_title: str
    starts_on: dt.date
    ends_on: dt.date
    days: int
    day_kind: str
    channel: str
    rows: tuple[PublicRow, ...]
    #: days of the 公示 still to come after ``on`` (as the call counts them); 0 on the last day
    days_left: int

    @property
    def total_fen(self) -> int:
        return sum(r.amount_fen or 0 for r in self.rows)

    @property
    def day_kind_label(self) -> str:
        return "个工作日，节假日不计、调休上班日计入" if self.day_kind == "working" else "个自然日"


def days_left(on: dt.date, ends_on: dt.date, day_kind: str, calendar: HolidayCalendar) -> int:
    """Days of the period after ``on`` up to ``ends_on``, counted as working or calendar days.

    >>> cal = HolidayCalendar.packaged()
    >>> days_left(dt.date(2024, 9, 30), dt.date(2024, 10, 11), "working", cal)  # 国庆 1–7 Oct off, 12 Oct 调休
    4
    """
    if on >= ends_on:
        return 0
    if day_kind != "working":
        return (ends_on - on).days
    return sum(1 for n in range(1, (ends_on - on).days + 1) if calendar.is_working_day(on + dt.timedelta(days=n)))


def current_lists(
    session: Session, *, on: dt.date, policy: PolicyEngine, calendar: HolidayCalendar
) -> list[PublicList]:
    """Every call's list in 公示 on ``on`` (its latest 公示 covers that day), newest 公示 first."""
    labels = {r.ref: r.rule.label for d in policy.engine.documents.values() for r in d.rules}
    publicities = session.scalars(
        select(Publicity).where(Publicity.starts_on <= on, Publicity.ends_on >= on).order_by(Publicity.id.desc())
    )
    found: list[PublicList] = []
    seen: set[int] = set()
    for publicity in publicities:
        if publicity.call_id in seen:
            continue
        seen.add(publicity.call_id)
        call = session.get_one(Call, publicity.call_id)
        rows = session.execute(
            select(Application, Entity)
            .join(Entity, Entity.id == Application.entity_id)
            .where(Application.call_id == call.id, Application.state == State.PUBLICITY.value)
        ).all()
        ordered = sorted(rows, key=lambda r: (r[0].rank is None, r[0].rank or 0, r[0].id))
        public_rows = tuple(
            PublicRow(
                number=index,
                name=entity.name,
                uscc=entity.uscc if entity.entity_type in ORGANISATIONS else None,
                items=tuple(dict.fromkeys(labels.get(str(r.get("ref")), str(r.get("ref"))) for r in application.rules)),
                amount_fen=application.approved_fen,
            )
            for index, (application, entity) in enumerate(ordered, start=1)
        )
        document = policy.base.documents.get(call.document_id)
        found.append(PublicList(
            call_id=call.id, title=call.title, document_id=call.document_id,
            document_title=document.policy.document.title if document else call.document_id,
            starts_on=publicity.starts_on, ends_on=publicity.ends_on, days=publicity.days,
            day_kind=publicity.day_kind, channel=publicity.channel, rows=public_rows,
            days_left=days_left(on, publicity.ends_on, publicity.day_kind, calendar),
        ))  # fmt: skip
    return found


def yuan_text(fen: int | None) -> str | None:
    """Integer fen as the API's decimal 元 string (``"2000000.00"``)."""
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def as_json(item: PublicList) -> dict[str, Any]:
    """One list as the API and the JSON download give it (amounts as decimal 元 strings)."""
    return {"call_id": item.call_id, "title": item.title, "document": item.document_id,
            "starts_on": item.starts_on.isoformat(), "ends_on": item.ends_on.isoformat(), "days": item.days,
            "day_kind": item.day_kind, "days_left": item.days_left, "channel": item.channel,
            "total": yuan_text(item.total_fen),
            "rows": [{"number": r.number, "name": r.name, "uscc": r.uscc, "items": list(r.items),
                      "amount": yuan_text(r.amount_fen)} for r in item.rows]}  # fmt: skip
