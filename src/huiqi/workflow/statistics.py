"""统计看板的查询: budget per call and per provision, awards by district, industry, size band and month.

The pages (``huiqi.web.dashboards``) and any later API read these same functions, so a figure means the same
everywhere. Money is integer fen, summed by the database (``SUM`` over ``BIGINT`` columns); where a dimension
is not a column (a region's last level, a fact's value), the database sums per entity and period and the
roll-up adds those integers in Python — still exact, no float.

What counts:

- **budget** of a call: ``budget_fen``; **已拨付** ``paid_fen``; **已批准未拨付** ``reserved_fen - paid_fen``;
  **剩余** ``budget_fen - reserved_fen`` — the call's own counters, kept by ``huiqi.workflow.budget``.
- **per provision**: the call's awards grouped by rule (``Award.rule_ref``): paid is every award's
  ``paid_fen`` (money paid stays paid when an award is clawed back), approved-not-paid the unpaid rest of the
  awards still standing; the two add up to what the call has reserved.
- **awards** (by district, industry, size, month): awards approved and not clawed back (``state`` approved or
  paid), at their approved amount — certain money. Ceilings (最高/不超过) are not awards and never appear.
- **district** (区县): the last level of ``Entity.region``, with its city when the region names three levels
  (``杭州市西湖区``: districts of the same name in two cities stay apart); 未登记 when none is recorded.
- **industry** (行业): the catalogue's ``industry`` fact (所属行业, enterprises); an enterprise without it is
  未登记; another kind of entity (人才, 园区运营主体 …) is shown as its kind.
- **size band** (规模): the entity's registered ``revenue`` (营业收入) of the award's period, in the bands of
  ``huiqi.population.dimensions.SIZE_BANDS`` (the simulation's bands, so both read alike); 未登记 when that
  year's revenue is not registered.
- **month** (月份): the Beijing calendar month of the approval (``Award.approved_at``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, literal_column, select
from sqlalchemy.orm import Session

from huiqi.errors import HuiqiError
from huiqi.facts.catalogue import ENTITY_LABELS
from huiqi.money import parse_money
from huiqi.population.dimensions import SIZE_BANDS
from huiqi.store.entities import in_force
from huiqi.store.errors import NotFound
from huiqi.store.models import Award, Call, Entity, Fact
from huiqi.workflow.policy import PolicyEngine

UNKNOWN = "未登记"
#: Awards that stand: approved (unpaid or partly paid) or paid in full; a clawed-back award is no award.
STANDING = ("approved", "paid")


@dataclass(frozen=True)
class BudgetRow:
    """One call's budget and how much of it is paid, approved but not yet paid, and left."""

    call_id: int
    title: str
    budget_fen: int
    paid_fen: int
    unpaid_fen: int  # approved (reserved) but not yet paid
    left_fen: int
    awards: int

    @property
    def approved_fen(self) -> int:
        return self.paid_fen + self.unpaid_fen


@dataclass(frozen=True)
class ProvisionRow:
    """The awards of one call under one rule of a provision."""

    call_id: int
    call_title: str
    rule_ref: str
    provision: str  # ``3 支持企业做大做强``
    rule_label: str
    awards: int
    paid_fen: int
    unpaid_fen: int

    @property
    def approved_fen(self) -> int:
        return self.paid_fen + self.unpaid_fen


@dataclass(frozen=True)
class GroupRow:
    """Awards of one group (a district, an industry, a size band): how many, to how many entities, how much."""

    label: str
    awards: int
    entities: int
    amount_fen: int


@dataclass(frozen=True)
class MonthRow:
    """Awards approved in one month (Beijing time)."""

    month: str  # ``2024-07``
    awards: int
    amount_fen: int

    @property
    def label(self) -> str:
        year, month = self.month.split("-")
        return f"{year}年{int(month)}月"


@dataclass(frozen=True)
class Dashboard:
    """Every table of the dashboard, for one call or for all."""

    call: Call | None
    budgets: list[BudgetRow]
    provisions: list[ProvisionRow]
    districts: list[GroupRow]
    industries: list[GroupRow]
    sizes: list[GroupRow]
    months: list[MonthRow]


def calls(session: Session) -> list[Call]:
    """The calls a dashboard can be filtered by, newest first."""
    return list(session.scalars(select(Call).order_by(Call.id.desc())))


def get_call(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"没有编号为 {call_id} 的申报批次；请从列表中选择批次", where="call")
    return call


def dashboard(session: Session, policy: PolicyEngine, *, call_id: int | None = None) -> Dashboard:
    """Every table, for the call ``call_id`` (or all calls)."""
    call = get_call(session, call_id) if call_id is not None else None
    return Dashboard(call, budget_by_call(session, call_id=call_id),
                     budget_by_provision(session, policy, call_id=call_id),
                     awards_by_district(session, call_id=call_id), awards_by_industry(session, call_id=call_id),
                     awards_by_size(session, call_id=call_id), awards_by_month(session, call_id=call_id))  # fmt: skip


def budget_by_call(session: Session, *, call_id: int | None = None) -> list[BudgetRow]:
    """Each call's budget, paid, approved-not-paid and left (calls in id order)."""
    standing = (
        select(Award.call_id, func.count().label("n")).where(Award.state.in_(STANDING)).group_by(Award.call_id)
    ).subquery()
    query = (
        select(Call.id, Call.title, Call.budget_fen, Call.reserved_fen, Call.paid_fen, func.coalesce(standing.c.n, 0))
        .outerjoin(standing, standing.c.call_id == Call.id)
        .order_by(Call.id)
    )
    if call_id is not None:
        query = query.where(Call.id == call_id)
    return [BudgetRow(i, title, budget, paid, reserved - paid, budget - reserved, int(n))
            for i, title, budget, reserved, paid, n in session.execute(query)]  # fmt: skip


def budget_by_provision(session: Session, policy: PolicyEngine, *, call_id: int | None = None) -> list[ProvisionRow]:
    """Per call and rule: awards standing, paid (all awards, clawed back or not) and approved-not-paid."""
    standing = Award.state.in_(STANDING)
    unpaid = func.sum(case((standing, Award.amount_fen - Award.paid_fen), else_=0))
    query = (
        select(
            Award.call_id,
            Call.title,
            Award.rule_ref,
            func.sum(case((standing, 1), else_=0)),
            func.sum(Award.paid_fen),
            unpaid,
        )
        .join(Call, Call.id == Award.call_id)
        .group_by(Award.call_id, Call.title, Award.rule_ref)
        .order_by(Award.call_id, Award.rule_ref)
    )
    if call_id is not None:
        query = query.where(Award.call_id == call_id)
    rows = []
    for call, title, ref, awards, paid, left in session.execute(query):
        provision, label = rule_names(policy, ref)
        rows.append(ProvisionRow(call, title, ref, provision, label, int(awards or 0), int(paid or 0), int(left or 0)))
    return rows


def rule_names(policy: PolicyEngine, ref: str) -> tuple[str, str]:
    """The provision (``3 支持企业做大做强``) and the rule's label of ``document:provision/rule``; the reference
    itself where the policy base no longer has it."""
    document_id, _colon, rest = ref.partition(":")
    provision_id, _slash, rule_id = rest.partition("/")
    try:
        provision = policy.base.document(document_id).provision(provision_id)
    except (HuiqiError, KeyError, LookupError):
        return provision_id or ref, ref
    label = next((r.label for r in provision.rules if r.id == rule_id), None) or ref
    return f"{provision.id} {provision.heading}".strip(), label


def _awards(call_id: int | None) -> Select[int, int, int, int]:
    """Standing awards summed per entity and period (count and amount), optionally of one call."""
    query = (
        select(Award.entity_id, Award.period, func.count(), func.sum(Award.amount_fen))
        .where(Award.state.in_(STANDING))
        .group_by(Award.entity_id, Award.period)
    )
    return query.where(Award.call_id == call_id) if call_id is not None else query


def _entities_awarded(call_id: int | None) -> Select[int]:
    query = select(Award.entity_id).where(Award.state.in_(STANDING))
    return query.where(Award.call_id == call_id) if call_id is not None else query


def _roll_up(
    sums: Iterable[Any], key_of: Callable[[int, int], str], order: Callable[[list[GroupRow]], list[GroupRow]]
) -> list[GroupRow]:
    awards: dict[str, int] = defaultdict(int)
    amounts: dict[str, int] = defaultdict(int)
    entities: dict[str, set[int]] = defaultdict(set)
    for entity_id, period, count, amount in sums:
        key = key_of(entity_id, period)
        awards[key] += int(count)
        amounts[key] += int(amount)
        entities[key].add(entity_id)
    return order([GroupRow(k, awards[k], len(entities[k]), amounts[k]) for k in awards])


def _largest_first(rows: list[GroupRow]) -> list[GroupRow]:
    """Largest amount first (then name), 未登记 last."""
    return sorted(rows, key=lambda r: (r.label == UNKNOWN, -r.amount_fen, r.label))


def district_of(region: list[str] | None) -> str:
    """The district an entity is counted in: the region's last level, with its city when there are three.

    >>> district_of(["浙江省", "杭州市", "西湖区"]), district_of(["江苏省", "苏州市"]), district_of([])
    ('杭州市西湖区', '苏州市', '未登记')
    """
    names = [n for n in (region or []) if n]
    if not names:
        return UNKNOWN
    return "".join(names[-2:]) if len(names) >= 3 else names[-1]


def awards_by_district(session: Session, *, call_id: int | None = None) -> list[GroupRow]:
    """Standing awards by district (largest first, 未登记 last)."""
    query = select(Entity.id, Entity.region).where(Entity.id.in_(_entities_awarded(call_id)))
    regions: dict[int, list[str]] = {i: v for i, v in session.execute(query)}
    sums = session.execute(_awards(call_id)).all()
    return _roll_up(sums, lambda entity, _period: district_of(regions.get(entity)), _largest_first)


def _facts(session: Session, key: str, call_id: int | None) -> dict[tuple[int, int | None], Any]:
    """The value in force of fact ``key`` per (entity, year), for the entities awarded."""
    rows = session.scalars(
        select(Fact).where(Fact.key == key, Fact.entity_id.in_(_entities_awarded(call_id))).order_by(Fact.id)
    )
    return {(f.entity_id, f.year): f.value for f in in_force(rows)}


def awards_by_industry(session: Session, *, call_id: int | None = None) -> list[GroupRow]:
    """Standing awards by industry (the ``industry`` fact; other kinds of entity by their kind)."""
    query = select(Entity.id, Entity.entity_type).where(Entity.id.in_(_entities_awarded(call_id)))
    kinds: dict[int, str] = {i: v for i, v in session.execute(query)}
    industries = _facts(session, "industry", call_id)

    def industry(entity: int, _period: int) -> str:
        value = industries.get((entity, None))
        if isinstance(value, str) and value.strip():
            return value.strip()
        kind = kinds.get(entity, "enterprise")
        return UNKNOWN if kind == "enterprise" else ENTITY_LABELS.get(kind, kind)

    return _roll_up(session.execute(_awards(call_id)).all(), industry, _largest_first)


def size_band(revenue: Any) -> str:
    """The band of a registered revenue value (``"1.35亿元"``); 未登记 when none or unreadable.

    >>> size_band("4800万元"), size_band("1.35亿元"), size_band("12亿元"), size_band(None)
    ('1000万元–1亿元', '1亿元–10亿元', '10亿元及以上', '未登记')
    """
    if revenue is None or isinstance(revenue, bool):
        return UNKNOWN
    try:
        fen = parse_money(revenue if isinstance(revenue, str) else str(revenue))
    except HuiqiError:
        return UNKNOWN
    for band in SIZE_BANDS:
        if (band.low is None or fen >= band.low) and (band.high is None or fen < band.high):
            return band.label
    return UNKNOWN  # pragma: no cover - the bands cover every amount


def awards_by_size(session: Session, *, call_id: int | None = None) -> list[GroupRow]:
    """Standing awards by the entity's revenue band in the award's period (every band shown, 未登记 last)."""
    revenue = _facts(session, "revenue", call_id)
    found = _roll_up(session.execute(_awards(call_id)).all(),
                     lambda entity, period: size_band(revenue.get((entity, period))), list)  # fmt: skip
    by_label = {row.label: row for row in found}
    labels = [band.label for band in SIZE_BANDS] + [UNKNOWN]
    return [by_label.get(label, GroupRow(label, 0, 0, 0)) for label in labels]


def _month(session: Session) -> Any:
    """SQL: the Beijing month (``YYYY-MM``) of ``Award.approved_at`` (stored as UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", Award.approved_at), "YYYY-MM")
    return func.strftime("%Y-%m", Award.approved_at, literal_column("'+8 hours'"))


def awards_by_month(session: Session, *, call_id: int | None = None) -> list[MonthRow]:
    """Standing awards per month of approval, from the first month to the last (months without any shown)."""
    month = _month(session).label("month")
    query = (
        select(month, func.count(), func.sum(Award.amount_fen))
        .where(Award.state.in_(STANDING))
        .group_by(month)
        .order_by(month)
    )
    if call_id is not None:
        query = query.where(Award.call_id == call_id)
    found = {m: MonthRow(m, int(n), int(amount)) for m, n, amount in session.execute(query)}
    if not found:
        return []
    first, last = min(found), max(found)
    year, number = int(first[:4]), int(first[5:])
    rows = []
    while True:
        key = f"{year:04d}-{number:02d}"
        rows.append(found.get(key, MonthRow(key, 0, 0)))
        if key >= last:
            return rows
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
