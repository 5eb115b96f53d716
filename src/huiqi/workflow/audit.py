"""The audit chain: every state change and money movement, append-only, hash-chained (SHA-256).

Each event's hash covers its sequence number, time, actor, action, object, the canonical JSON of the
state before and after, and the previous event's hash; ``verify`` recomputes the chain and the head, so
an edited, deleted, inserted or reordered event — or a truncated tail — is found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert, inspect, select, update
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from huiqi.store.base import utcnow
from huiqi.store.models import GENESIS_HASH, AuditEvent, AuditHead
from huiqi.workflow.actors import Actor

#: Columns too large or too secret for an event; their SHA-256 is recorded instead.
_DIGESTED = {"content", "evaluation", "facts_used", "password_hash"}


def canonical(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    return str(value)


def snapshot(obj: Any) -> dict[str, Any]:
    """The columns of a mapped object as plain JSON values (large ones as their digest)."""
    data: dict[str, Any] = {}
    for column in inspect(obj).mapper.column_attrs:
        value = getattr(obj, column.key)
        if column.key in _DIGESTED and value is not None:
            data[column.key] = "sha256:" + hashlib.sha256(canonical(value).encode()).hexdigest()
        else:
            data[column.key] = json.loads(canonical(value))
    return data


def event_hash(
    *,
    seq: int,
    occurred_at: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    before: str,
    after: str,
    prev_hash: str,
) -> str:
    """SHA-256 of the event's fields and the previous hash."""
    payload = canonical([seq, occurred_at, actor, action, object_type, object_id, before, after, prev_hash])
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event recorded in a transaction that has not committed yet: it gets its place in the chain
    (sequence number, previous hash, hash) when the transaction commits, and is dropped if it rolls back."""

    occurred_at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    before: str
    after: str


_PENDING = "huiqi.audit.pending"


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: dt.datetime | None = None,
) -> PendingEvent:
    """Record one event in the caller's transaction; it is chained when the transaction commits.

    Nothing is locked here: the chain's head is taken once per transaction, by ``_chain_at_commit``,
    after every other change has been flushed — so the head, the one row every writer shares, is always
    the last lock taken and is held only for the few statements of the commit (see docs/platform.md).
    """
    event = PendingEvent(
        occurred_at=(now or utcnow()).astimezone(dt.UTC).isoformat(),
        actor=actor.username,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=canonical(before),
        after=canonical(after),
    )
    session.info.setdefault(_PENDING, []).append(event)
    return event


def pending(session: Session) -> list[PendingEvent]:
    """The events recorded in the session's open transaction, not yet chained."""
    return list(session.info.get(_PENDING, ()))


@orm_event.listens_for(Session, "before_commit")
def _chain_at_commit(session: Session) -> None:
    """Append the transaction's events to the chain: flush everything else, then advance the head once
    (the UPDATE takes its lock), hash the events in order and insert them in one statement."""
    events: list[PendingEvent] = session.info.pop(_PENDING, None) or []
    if not events:
        return
    session.flush()
    head = cast(
        Table, AuditHead.__table__
    )  # Core statements: the ORM's bulk-update machinery is not needed for one row
    last_seq, prev_hash = session.execute(
        update(head).where(head.c.id == 1).values(seq=head.c.seq + len(events)).returning(head.c.seq, head.c.hash)
    ).one()
    rows = []
    for seq, pending_event in enumerate(events, start=last_seq - len(events) + 1):
        fields = {"seq": seq, **asdict(pending_event), "prev_hash": prev_hash}
        prev_hash = event_hash(**fields)
        rows.append({**fields, "hash": prev_hash})
    session.execute(insert(cast(Table, AuditEvent.__table__)), rows)
    session.execute(update(head).where(head.c.id == 1).values(hash=prev_hash))


@orm_event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, _previous_transaction: Any) -> None:
    """A rolled-back transaction's events never happened."""
    session.info.pop(_PENDING, None)


@dataclass
class Verification:
    """The outcome of checking the chain."""

    events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, *, batch: int = 5000) -> Verification:
    """Recompute every hash and link, in sequence order, then compare the head."""
    result = Verification()
    expected_prev, expected_seq = GENESIS_HASH, 1
    last_id = 0
    while True:
        events = session.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch))
        rows = list(events)
        if not rows:
            break
        for event in rows:
            last_id = event.id
            result.events += 1
            where = f"审计事件 #{event.seq}（{event.action} {event.object_type}:{event.object_id}）"
            if event.seq != expected_seq:
                result.problems.append(f"{where}：序号应为 {expected_seq}，事件被删除、插入或重排")
            if event.prev_hash != expected_prev:
                result.problems.append(f"{where}：与前一事件的哈希链接断开")
            recomputed = event_hash(
                seq=event.seq,
                occurred_at=event.occurred_at,
                actor=event.actor,
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                before=event.before,
                after=event.after,
                prev_hash=event.prev_hash,
            )
            if recomputed != event.hash:
                result.problems.append(f"{where}：内容与哈希不符，事件被篡改")
            expected_prev, expected_seq = event.hash, event.seq + 1
    head = session.get(AuditHead, 1)
    if head is None:
        result.problems.append("审计链头缺失：audit_head 表被清空")
    elif head.seq != expected_seq - 1 or head.hash != expected_prev:
        result.problems.append(
            f"审计链头（序号 {head.seq}）与最后一个事件（序号 {expected_seq - 1}）不符：链尾事件被删除或链头被改"
        )
    return result
