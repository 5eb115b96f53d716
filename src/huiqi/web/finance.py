"""财政工作台：待拨付、导出、标记已拨付、台账.

The instalments due are ``huiqi.workflow.queues.payments_due`` (the API's list of payments uses the same
object filter); paying is ``huiqi.workflow.awards.pay`` with the bank's reference (流水号), which pays in order
and never twice — its Chinese refusals are shown on the desk. The payment orders are exported for a bank or
treasury system as an Excel file (``huiqi.web.workbook``) and as CSV (UTF-8 with BOM), with the same columns:
``ORDER_COLUMNS``. The registry holds no bank accounts: the files say so in their notes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.api.deps import MAX_ID, require
from huiqi.api.schemas.money import PayRequest
from huiqi.errors import WorkflowError
from huiqi.money import format_yuan
from huiqi.store.db import Database
from huiqi.store.entities import get_entity
from huiqi.store.errors import PermissionDenied
from huiqi.store.models import Application, Award, Call, Entity, Payment
from huiqi.web.desks import SignedIn, beijing_date, read_page
from huiqi.web.downloads import attachment
from huiqi.web.sessions import check_csrf
from huiqi.web.templating import render
from huiqi.web.workbook import Column, Sheet, workbook_response
from huiqi.workflow.actors import Actor
from huiqi.workflow.awards import CHINA, pay
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.queues import payments_due, visible_payments

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]

#: The columns of the payment orders (Excel and CSV alike): one row per instalment to pay.
ORDER_COLUMNS = (
    Column("付款单号"),
    Column("批次"),
    Column("收款单位"),
    Column("统一社会信用代码"),
    Column("分期"),
    Column("金额（元）", "yuan"),
    Column("用途/摘要"),
    Column("应付日期", "date"),
)

ORDER_NOTES = [
    "每行一笔付款指令（一个奖励的一期），只含尚未拨付的分期；金额单位为元，保留两位小数，精确到分。",
    "付款单号由本系统生成（HQ-FK-拨付编号），标记已拨付时与银行流水号一并登记，可据以对账。",
    "应付日期：第1期为奖励批准之日，其后各期为上一期的拨付之日；上一期尚未拨付的留空（各期须按顺序拨付）。"
    "政策规定分年拨付的，不早于该期所在年度的1月1日；应付日期在以后年度的分期不导出（到期后再导出）。",
    "收款账户（开户银行、银行账号、账户名称）不在本系统的登记簿中，本文件不含账户信息："
    "请在财政或国库支付系统中按统一社会信用代码匹配收款单位的账户后再提交银行。",
]

AWARD_STATES = {"approved": "拨付中", "paid": "已拨付完毕", "clawed_back": "已追回"}
PAYMENT_STATES = {"scheduled": "待拨付", "paid": "已拨付", "cancelled": "已取消"}


def order_number(payment: Payment) -> str:
    """The payment order's number, as the exports and the desk show it.

    >>> order_number(Payment(id=42))
    'HQ-FK-000042'
    """
    return f"HQ-FK-{payment.id:06d}"


@dataclass(frozen=True)
class PaymentRow:
    """An instalment with what a payment order needs: payee, provision, amount, when it became payable."""

    payment: Payment
    award: Award
    entity: Entity
    call: Call
    of: int  # the award's number of instalments
    due_on: dt.date | None
    purpose: str

    @property
    def number(self) -> str:
        return order_number(self.payment)

    @property
    def instalment(self) -> str:
        return f"{self.payment.instalment}/{self.of}"

    @property
    def paid_on(self) -> dt.date | None:
        return beijing_date(self.payment.paid_at)

    @property
    def status(self) -> str:
        return PAYMENT_STATES.get(self.payment.status, self.payment.status)

    def order(self) -> list[Any]:
        """The row of the exports, in ``ORDER_COLUMNS`` order (money in fen)."""
        return [self.number, self.call.title, self.entity.name, self.entity.uscc or "", self.instalment,
                self.payment.amount_fen, self.purpose, self.due_on]  # fmt: skip


def rule_label(award: Award, application: Application | None, policy: PolicyEngine) -> str:
    """The name of the rule an award was made under: the application's own label, else the policy's."""
    for rule in (application.rules if application is not None else None) or []:
        if rule.get("ref") == award.rule_ref and rule.get("label"):
            return str(rule["label"])
    document_id, _colon, rest = award.rule_ref.partition(":")
    provision_id, _slash, rule_id = rest.partition("/")
    try:
        provision = policy.base.document(document_id).provision(provision_id)
    except Exception:
        return award.rule_ref
    return next((r.label for r in provision.rules if r.id == rule_id), award.rule_ref)


def purpose(award: Award, application: Application | None, policy: PolicyEngine) -> str:
    """用途/摘要 of a payment: the rule, its document and provision, and the year supported."""
    document_id, _colon, rest = award.rule_ref.partition(":")
    provision_id = rest.partition("/")[0]
    try:
        meta = policy.base.document(document_id).policy.document
        source = meta.short_title or meta.title
    except Exception:
        source = document_id
    where = f"第{provision_id}条" if provision_id.isdigit() else f"（{provision_id}）"
    return f"{award.period}年度{rule_label(award, application, policy)}（依据：{source}{where}）"


def payment_rows(session: Session, payments: list[Payment], policy: PolicyEngine) -> list[PaymentRow]:
    """The rows of ``payments``, each with its award's instalment count and the day it became payable."""
    award_ids = {p.award_id for p in payments}
    siblings: dict[int, dict[int, Payment]] = defaultdict(dict)
    if award_ids:
        for other in session.scalars(select(Payment).where(Payment.award_id.in_(award_ids))):
            siblings[other.award_id][other.instalment] = other
    rows = []
    for payment in payments:
        award = session.get_one(Award, payment.award_id)
        application = session.get(Application, award.application_id) if award.application_id else None
        earlier = [n for n in siblings[award.id] if n < payment.instalment]
        if not earlier:
            due_on = beijing_date(award.approved_at)
        else:
            previous = siblings[award.id][max(earlier)]
            due_on = beijing_date(previous.paid_at) if previous.status == "paid" else None
        if due_on is not None and payment.due_year is not None and due_on.year < payment.due_year:
            due_on = dt.date(payment.due_year, 1, 1)  # 分年拨付: not before its budget year
        rows.append(PaymentRow(payment, award, session.get_one(Entity, award.entity_id),
                               session.get_one(Call, award.call_id), max(siblings[award.id]), due_on,
                               purpose(award, application, policy)))  # fmt: skip
    return rows


def _due(session: Session, request: Request, actor: Actor) -> list[PaymentRow]:
    require(actor, "finance")
    return payment_rows(session, payments_due(session, actor), request.app.state.policy)


def _payable(rows: list[PaymentRow]) -> list[PaymentRow]:
    """The rows a payment order may be sent for now: not a part of a later budget year (分年拨付)."""
    this_year = dt.datetime.now(CHINA).year
    return [r for r in rows if r.payment.due_year is None or r.payment.due_year <= this_year]


def _desk(
    request: Request,
    actor: Actor,
    *,
    status_code: int = 200,
    errors: dict[int, str] | None = None,
    values: dict[int, str] | None = None,
    paid: int | None = None,
) -> Response:
    def build(session: Session) -> Response:
        rows = _due(session, request, actor)
        notice = ""
        if paid is not None:
            done = session.scalar(visible_payments(select(Payment), actor).where(Payment.id == paid))
            if done is not None and done.status == "paid":
                notice = f"已登记拨付：付款单 {order_number(done)}，流水号 {done.reference}。"
        listed = {row.payment.id for row in rows}
        others = {order_number(Payment(id=k)): v for k, v in (errors or {}).items() if k not in listed}
        return render(request, "desks/finance.html", status_code=status_code, rows=rows,
                      total_fen=sum(r.payment.amount_fen for r in rows), errors=errors or {}, values=values or {},
                      other_errors=others, notice=notice)  # fmt: skip

    return read_page(request, build)


@router.get("/desk/finance", response_class=HTMLResponse, response_model=None)
def finance_desk(
    request: Request, actor: SignedIn, paid: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> Response:
    """财政工作台：待拨付的分期、导出付款指令、标记已拨付。"""
    return _desk(request, actor, paid=paid)


@router.post("/desk/finance/payments/{payment_id}/pay", response_model=None)
def mark_paid(
    request: Request,
    actor: SignedIn,
    payment_id: Id,
    reference: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """标记已拨付：登记银行流水号（按期次顺序；同一期不能重复拨付）。"""
    check_csrf(request, csrf_token)
    database: Database = request.app.state.database
    text = reference.strip()
    try:
        if text:
            PayRequest(reference=text)  # the API's limits on the reference
        with database.transaction() as session:
            require(actor, "finance")
            pay(session, payment_id=payment_id, actor=actor, reference=text, policy=request.app.state.policy)
    except ValidationError:
        limit = PayRequest.model_fields["reference"].metadata[-1].max_length
        return _desk(request, actor, status_code=422, errors={payment_id: f"流水号最多{limit}个字符，请核对后重新填写"},
                     values={payment_id: reference})  # fmt: skip
    except WorkflowError as exc:
        if isinstance(exc, PermissionDenied):
            return render(request, "error.html", status_code=403, title="无权访问", message=exc.message)
        message = "请填写银行流水号（拨付凭证号）后再标记已拨付" if exc.where == "reference" else exc.message
        return _desk(request, actor, status_code=getattr(exc, "status", 409), errors={payment_id: message},
                     values={payment_id: reference})  # fmt: skip
    return RedirectResponse(f"/desk/finance?paid={payment_id}", status_code=303)


def _stamp() -> str:
    return beijing.today().isoformat()


@router.get("/desk/finance/payments.xlsx", response_model=None)
def orders_xlsx(request: Request, actor: SignedIn) -> Response:
    """待拨付的付款指令（Excel，金额为元、两位小数）。"""

    def build(session: Session) -> Response:
        rows = _payable(_due(session, request, actor))
        total = format_yuan(sum(r.payment.amount_fen for r in rows))
        notes = [*ORDER_NOTES, f"导出日期：{_stamp()}；共{len(rows)}笔，合计{total}元。"]
        sheet = Sheet("付款指令", ORDER_COLUMNS, [r.order() for r in rows])
        return workbook_response(f"待拨付付款指令-{_stamp()}.xlsx", "待拨付付款指令", [sheet], notes=notes,
                                 fallback="payment-orders")  # fmt: skip

    return read_page(request, build)


@router.get("/desk/finance/payments.csv", response_model=None)
def orders_csv(request: Request, actor: SignedIn) -> Response:
    """待拨付的付款指令（CSV，UTF-8 带 BOM；列与 Excel 相同）。"""

    def build(session: Session) -> Response:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([c.label for c in ORDER_COLUMNS])
        for row in _payable(_due(session, request, actor)):
            cells = row.order()
            writer.writerow([format_yuan(v) if c.kind == "yuan" else (v.isoformat() if isinstance(v, dt.date) else v)
                             for c, v in zip(ORDER_COLUMNS, cells, strict=True)])  # fmt: skip
        body = "\ufeff" + out.getvalue()
        return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": attachment(f"待拨付付款指令-{_stamp()}.csv",
                                                                   fallback="payment-orders")})  # fmt: skip

    return read_page(request, build)


@dataclass(frozen=True)
class AwardRow:
    """An award in an entity's ledger."""

    award: Award
    call: Call
    label: str
    scheduled_fen: int  # instalments still to pay

    @property
    def state(self) -> str:
        return AWARD_STATES.get(self.award.state, self.award.state)

    @property
    def approved_on(self) -> dt.date | None:
        return beijing_date(self.award.approved_at)


@dataclass(frozen=True)
class Ledger:
    """Every award of an entity and every instalment of them, with the totals."""

    entity: Entity
    awards: list[AwardRow]
    payments: list[PaymentRow]

    @property
    def awarded_fen(self) -> int:
        return sum(a.award.amount_fen for a in self.awards)

    @property
    def paid_fen(self) -> int:
        return sum(p.payment.amount_fen for p in self.payments if p.payment.status == "paid")

    @property
    def outstanding_fen(self) -> int:
        return sum(p.payment.amount_fen for p in self.payments if p.payment.status == "scheduled")

    @property
    def cancelled_fen(self) -> int:
        return sum(p.payment.amount_fen for p in self.payments if p.payment.status == "cancelled")


def ledger_of(session: Session, request: Request, actor: Actor, entity_id: int) -> Ledger:
    require(actor, "finance")
    entity = get_entity(session, entity_id)
    policy: PolicyEngine = request.app.state.policy
    awards = list(session.scalars(select(Award).where(Award.entity_id == entity.id).order_by(Award.id)))
    ids = [a.id for a in awards]
    query = visible_payments(select(Payment), actor).where(Payment.award_id.in_(ids))
    payments = list(session.scalars(query.order_by(Payment.award_id, Payment.instalment))) if ids else []
    rows = payment_rows(session, payments, policy)
    award_rows = []
    for award in awards:
        application = session.get(Application, award.application_id) if award.application_id else None
        scheduled = sum(
            r.payment.amount_fen for r in rows if r.award.id == award.id and r.payment.status == "scheduled"
        )
        award_rows.append(AwardRow(award, session.get_one(Call, award.call_id), rule_label(award, application, policy),
                                   scheduled))  # fmt: skip
    return Ledger(entity, award_rows, rows)


@router.get("/desk/finance/entities/{entity_id}", response_class=HTMLResponse, response_model=None)
def ledger(request: Request, actor: SignedIn, entity_id: Id) -> Response:
    """一个主体的资金台账：全部奖励和各期拨付，已拨付与未拨付合计。"""

    def build(session: Session) -> Response:
        return render(request, "finance/ledger.html", ledger=ledger_of(session, request, actor, entity_id))

    return read_page(request, build)


@router.get("/desk/finance/entities/{entity_id}/ledger.xlsx", response_model=None)
def ledger_xlsx(request: Request, actor: SignedIn, entity_id: Id) -> Response:
    """主体资金台账（Excel）。"""

    def build(session: Session) -> Response:
        book = ledger_of(session, request, actor, entity_id)
        awards = Sheet("奖励", [Column("奖励编号", "count"), Column("批次"), Column("奖励事项"), Column("年度", "count"),
                               Column("批准日期", "date"), Column("奖励金额（元）", "yuan"),
                               Column("已拨付（元）", "yuan"), Column("待拨付（元）", "yuan"), Column("状态")],
                       [[a.award.id, a.call.title, a.label, a.award.period, a.approved_on, a.award.amount_fen,
                         a.award.paid_fen, a.scheduled_fen, a.state] for a in book.awards])  # fmt: skip
        payments = Sheet("拨付", [Column("付款单号"), Column("奖励编号", "count"), Column("分期"),
                                 Column("金额（元）", "yuan"), Column("状态"), Column("应付日期", "date"),
                                 Column("拨付日期", "date"), Column("银行流水号"), Column("用途/摘要")],
                         [[p.number, p.award.id, p.instalment, p.payment.amount_fen, p.status, p.due_on, p.paid_on,
                           p.payment.reference or "", p.purpose] for p in book.payments])  # fmt: skip
        notes = [f"收款单位：{book.entity.name}（统一社会信用代码 {book.entity.uscc or '无'}）",
                 f"奖励合计 {format_yuan(book.awarded_fen)} 元；已拨付 {format_yuan(book.paid_fen)} 元；"
                 f"待拨付 {format_yuan(book.outstanding_fen)} 元；已取消（追回） {format_yuan(book.cancelled_fen)} 元。",
                 f"导出日期：{_stamp()}。", ORDER_NOTES[3]]  # fmt: skip
        return workbook_response(f"资金台账-{book.entity.name}-{_stamp()}.xlsx", f"资金台账：{book.entity.name}",
                                 [awards, payments], notes=notes, fallback="ledger")  # fmt: skip

    return read_page(request, build)
