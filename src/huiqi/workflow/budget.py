"""Budget reservation without overspending, and the one rounding rule for splitting money.

A reservation is a single conditional UPDATE — ``reserved + x <= budget`` is checked by the database
while it holds the row, so concurrent approvals (from any number of connections or processes) queue on
the row and the one that would overspend matches nothing and is refused. No read-modify-write window.
"""

from __future__ import annotations

from fractions import Fraction
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from huiqi.money import format_cn
from huiqi.store.errors import BudgetExceeded, Conflict
from huiqi.store.models import Call


def reserve(session: Session, *, call_id: int, amount_fen: int) -> None:
    """Reserve ``amount_fen`` of the call's budget in the caller's transaction, or refuse."""
    if amount_fen <= 0:
        raise Conflict("预留金额须为正数", where="amount")
    calls = cast(Table, Call.__table__)
    reserved_now = session.execute(
        update(calls)
        .where(calls.c.id == call_id, calls.c.reserved_fen + amount_fen <= calls.c.budget_fen)
        .values(reserved_fen=calls.c.reserved_fen + amount_fen)
        .returning(calls.c.reserved_fen, calls.c.paid_fen)
    ).first()
    if reserved_now is None:
        budget, reserved = session.execute(select(Call.budget_fen, Call.reserved_fen).where(Call.id == call_id)).one()
        raise BudgetExceeded(
            f"预算不足：本批次预算{format_cn(budget)}，已预留{format_cn(reserved)}，剩余{format_cn(budget - reserved)}，"
            f"不足以批准{format_cn(amount_fen)}；请按排序或按比例调整拟支持金额，或追加预算",
            where="approved_amount",
        )
    _refresh(session, call_id, *reserved_now)


def release(session: Session, *, call_id: int, amount_fen: int) -> None:
    """Give back a reservation that will not be paid (a clawback before payment, a cancelled instalment)."""
    if amount_fen <= 0:
        return
    session.execute(
        update(Call)
        .where(Call.id == call_id)
        .values(reserved_fen=Call.reserved_fen - amount_fen)
        .execution_options(synchronize_session=False)
    )
    _refresh(session, call_id)


def record_payment(session: Session, *, call_id: int, amount_fen: int) -> None:
    """Count money paid against what was reserved (never beyond: the database checks too)."""
    result = session.execute(
        update(Call)
        .where(Call.id == call_id, Call.paid_fen + amount_fen <= Call.reserved_fen)
        .values(paid_fen=Call.paid_fen + amount_fen)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("拨付金额超过已预留的预算，拒绝拨付", where="amount")
    _refresh(session, call_id)


def _refresh(session: Session, call_id: int, reserved_fen: int | None = None, paid_fen: int | None = None) -> None:
    """Bring the session's copy of the call up to the row just updated (from RETURNING when given)."""
    call = session.identity_map.get(identity_key(Call, call_id))
    if call is None:
        return
    if reserved_fen is None or paid_fen is None:
        session.refresh(call, ["reserved_fen", "paid_fen"])
    else:
        set_committed_value(call, "reserved_fen", reserved_fen)
        set_committed_value(call, "paid_fen", paid_fen)


def largest_remainder(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` fen in proportion to ``weights``, exactly: floors first, then one fen each to the
    largest remainders (ties to the earlier weight). The parts always add up to ``total``.

    >>> largest_remainder(100, [1, 1, 1])
    [34, 33, 33]
    >>> largest_remainder(1_000_000, [300_000, 500_000, 700_000])
    [200000, 333333, 466667]
    >>> largest_remainder(0, [5, 5])
    [0, 0]
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("amounts and weights must not be negative")
    whole = sum(weights)
    if whole == 0:
        return [0 for _ in weights]
    exact = [Fraction(total * w, whole) for w in weights]
    parts = [int(x) for x in exact]  # floor: everything is non-negative
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts
