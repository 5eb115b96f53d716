"""主管部门工作台：发布与关闭申报批次、免申即享批次（计算 → 公示 → 兑现）、绩效报告逾期、追回与失信名单.

Every page calls the same workflow functions as the API (``huiqi.workflow.calls.open_call`` / ``close_call``,
``huiqi.workflow.batches``, ``huiqi.workflow.reports.is_overdue``, ``huiqi.workflow.clawback.claw_back``) with
the same permission checks (``huiqi.api.deps.require``, ``get_application``); a refusal of the workflow is
said in Chinese on the page, next to the field it concerns, and the transaction is rolled back. Every form
carries the session's CSRF token; a successful POST redirects (303) to the page that shows the result.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from huiqi import beijing
from huiqi.api.deps import MAX_ID, require
from huiqi.errors import HuiqiError, WorkflowError
from huiqi.money import format_yuan, parse_money
from huiqi.policy.procedure import Procedure, Stated
from huiqi.policy.procedure import describe as describe_procedure
from huiqi.store.errors import InvalidInput, NotFound, PermissionDenied
from huiqi.store.models import (
    Application,
    AuditEvent,
    Award,
    Batch,
    BatchItem,
    BlacklistEntry,
    Call,
    Entity,
    Payment,
    Report,
)
from huiqi.web.desks import beijing_date, read_page
from huiqi.web.formatting import money
from huiqi.web.sessions import check_csrf, signed_in
from huiqi.web.templating import render
from huiqi.web.workbook import Column, Sheet, workbook_response
from huiqi.workflow.actors import Actor
from huiqi.workflow.batches import award_batch, compute_batch, get_batch, items_of, publish_batch
from huiqi.workflow.calls import CallSpec, close_call, get_call, open_call, stated_procedure
from huiqi.workflow.clawback import claw_back
from huiqi.workflow.lifecycle import get_application
from huiqi.workflow.matching import notify_in_background
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.reports import is_overdue
from huiqi.workflow.states import STATE_LABELS, State

router = APIRouter()
SignedIn = Annotated[Actor, Depends(signed_in)]
PageId = Annotated[int, Path(ge=1, le=MAX_ID)]
Csrf = Annotated[str, Form(max_length=200)]
OFFICIALS = ("official", "administrator")

REVIEW_MODES = {"none": "无需审查（提交即受理）", "formal": "形式审查", "expert": "专家评审",
                "competitive": "竞争性评审（按名额择优）"}  # fmt: skip
DAY_KINDS = {"calendar": "自然日", "working": "工作日（跳过节假日，含调休）"}
OVERSUBSCRIPTION = {"ranking": "按排序依次安排，预算用完为止", "pro_rata": "按比例核减"}
AGGREGATION = {"trimmed_mean": "去掉最高分和最低分后取平均", "mean": "平均分"}
CALL_STATUS = {"open": "受理中", "closed": "已关闭"}
BATCH_STATUS = {"computed": "已计算（待公示）", "published": "公示中（待兑现）", "awarded": "已兑现"}
ITEM_STATUS = {"listed": "列入名单", "awarded": "已兑现", "skipped": "未兑现"}
AWARD_STATE = {"approved": "已批准", "paid": "已拨付", "clawed_back": "已追回"}
PAYMENT_STATUS = {"scheduled": "待拨付", "paid": "已拨付", "cancelled": "已取消"}

LIST_COLUMNS = (Column("主体"), Column("统一社会信用代码"), Column("条款与档次"), Column("计算"),
                Column("确定金额（万元）", "wan"), Column("最高限额（万元）", "wan"), Column("状态"), Column("说明"))  # fmt: skip
EXCLUDED_COLUMNS = (Column("主体"), Column("规则"), Column("未列入的原因类别"), Column("说明"))

#: The fields of the call form, in the order of the page (labels for the messages).
CALL_FIELDS = {
    "title": "批次名称", "document_id": "政策文件", "provisions": "申报条款", "period": "奖励年度", "quarter": "奖励季度",
    "as_of": "评估基准日", "opens_on": "申报开始日", "closes_on": "申报截止日", "budget": "预算",
    "materials": "申报材料", "review_mode": "评审方式", "quota": "名额", "experts_per_application": "每项申请的评审专家数",
    "criteria": "评分标准", "aggregation": "专家评分汇总方式", "pass_score": "及格分", "publicity_days": "公示天数",
    "publicity_day_kind": "公示天数的计算", "oversubscription": "超出预算时", "instalments": "分期拨付比例",
    "report_due": "绩效报告截止日", "report_years": "绩效报告年数", "payer": "资金来源（出资方）",
}  # fmt: skip


def _refused(exc: WorkflowError) -> int:
    return int(getattr(exc, "status", 400) or 400)


def _field_of(where: str | None) -> str:
    """The form field a workflow refusal is about: ``provisions[0]`` → ``provisions``."""
    return re.split(r"[\[.]", where or "", maxsplit=1)[0]


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ---------------------------------------------------------------------------------------------------------
# 发布申报批次 / 关闭申报批次


@dataclass
class CallForm:
    """What was typed into the call form (kept when it is refused) and what is wrong with it."""

    values: dict[str, Any] = field(default_factory=dict)
    provisions: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def problem(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)


def _documents(policy: PolicyEngine) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The documents with computable provisions: (id, title, [(provision id, number and heading)])."""
    out = []
    for document_id, loaded in sorted(policy.base.documents.items()):
        provisions = [(p.id, " ".join(x for x in (p.number or "", p.heading or "") if x) or p.id)
                      for p in loaded.policy.provisions if p.rules]  # fmt: skip
        if provisions:
            out.append((document_id, loaded.policy.document.title, provisions))
    return out


def _int(form: CallForm, name: str, raw: str, *, required: bool) -> int | None:
    text = raw.strip()
    if not text:
        if required:
            form.problem(name, f"请填写{CALL_FIELDS[name]}")
        return None
    if not re.fullmatch(r"-?\d{1,9}", text):
        form.problem(name, f"{CALL_FIELDS[name]}应为整数，得到 {text!r}")
        return None
    return int(text)


def _date(form: CallForm, name: str, raw: str, *, required: bool) -> str | None:
    text = raw.strip()
    if not text:
        if required:
            form.problem(name, f"请填写{CALL_FIELDS[name]}（年-月-日，如 2025-03-31）")
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        form.problem(name, f"{CALL_FIELDS[name]} {text!r} 不是有效的日期：请写成 年-月-日，如 2025-03-31")
        return None


def _lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.replace("\r", "").split("\n") if line.strip()]


def _criteria(form: CallForm, raw: str) -> list[dict[str, Any]]:
    """``key | 标签 | 满分`` per line (｜、逗号或制表符也可分隔)."""
    out = []
    for number, line in enumerate(_lines(raw), start=1):
        parts = [p.strip() for p in re.split(r"[|｜,，\t]", line)]
        if len(parts) != 3 or not re.fullmatch(r"\d{1,4}", parts[2]):
            form.problem(
                "criteria", f"第{number}行应写成“代码 | 名称 | 满分”，如 innovation | 创新性 | 30，得到 {line!r}"
            )
            continue
        out.append({"key": parts[0], "label": parts[1], "max": int(parts[2])})
    return out


def _instalments(form: CallForm, raw: str) -> list[int]:
    text = raw.strip()
    if not text:
        return []
    parts = [p for p in re.split(r"[/／,，、\s]+", text) if p]
    if not all(re.fullmatch(r"\d{1,3}", p) for p in parts):
        form.problem("instalments", f"分期比例应为以“/”分隔的整数百分比，如 60/40，得到 {text!r}")
        return []
    return [int(p) for p in parts]


def _pydantic_message(error: Any) -> tuple[str, str]:
    """A pydantic error of ``CallSpec`` as (field, Chinese message)."""
    loc = error.get("loc") or ()
    name = str(loc[0]) if loc else ""
    label = CALL_FIELDS.get(name, name)
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "value_error":
        message = str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
        if not name:  # a rule across fields: put it beside the field it names
            for key, needle in (("closes_on", "截止日"), ("quota", "名额"), ("criteria", "评分标准"),
                                ("report_due", "report_due")):  # fmt: skip
                if needle in message:
                    name = key
                    break
        return name or "form", message
    if kind in ("string_too_short", "too_short", "missing"):
        return name, f"请填写{label}"
    if kind in ("string_too_long", "too_long"):
        limit = ctx.get("max_length")
        return name, f"{label}太长：最多{limit}{'字' if kind == 'string_too_long' else '项'}"
    if kind in ("greater_than_equal", "greater_than"):
        return name, f"{label}不能小于{ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return name, f"{label}不能大于{ctx.get('le', ctx.get('lt'))}"
    if kind == "string_pattern_mismatch" and name == "criteria":
        return name, "评分标准的代码须以小写英文字母开头，只含小写字母、数字和下划线（如 innovation）"
    if kind == "literal_error":
        return name, f"{label}：请从列表中选择"
    return name or "form", f"{label}填写有误：{error.get('msg', '')}"


def _procedure_choices(policy: PolicyEngine) -> list[tuple[str, str]]:
    """Every provision whose policy file states its procedure: ("document:provision", title — number heading)."""
    out = []
    for document_id, loaded in sorted(policy.base.documents.items()):
        labels = {p.id: " ".join(x for x in (p.number or "", p.heading or "") if x) or p.id
                  for p in loaded.policy.provisions}  # fmt: skip
        for procedure in loaded.policy.procedures:
            for pid in procedure.provisions:
                title = loaded.policy.document.short_title or loaded.policy.document.title
                out.append((f"{document_id}:{pid}", f"{title} — {pid} {labels.get(pid, '')}".strip()))
    return out


def _stated_for(policy: PolicyEngine, form: CallForm) -> tuple[Procedure | None, dict[str, Stated]]:
    """The procedure stated for the form's document and provisions, and the call fields it fixes."""
    document_id = str(form.values.get("document_id") or "").strip()
    provisions = [c.split(":", 1)[1] for c in form.provisions if c.startswith(f"{document_id}:")]
    period_text = str(form.values.get("period") or "").strip()
    period = int(period_text) if re.fullmatch(r"\d{4}", period_text) else None
    if not document_id or not provisions:
        return None, {}
    return stated_procedure(policy, document_id, provisions, period=period, readings={})


def _form_text(name: str, value: Any) -> str:
    """A stated value as the form writes it (materials one per line, report days with commas)."""
    if isinstance(value, list):
        return "\n".join(value) if name == "materials" else ", ".join(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _call_form_page(request: Request, form: CallForm, *, status_code: int = 200, notice: str = "") -> Response:
    policy: PolicyEngine = request.app.state.policy
    database = request.app.state.database
    procedure, stated = _stated_for(policy, form)
    steps = describe_procedure(procedure) if procedure is not None else []
    with database.sessions() as session:
        calls = list(session.scalars(select(Call).order_by(Call.id.desc())))
        response = render(request, "official_batches/call_form.html", status_code=status_code, form=form,
                          documents=_documents(policy), fields=CALL_FIELDS, review_modes=REVIEW_MODES,
                          day_kinds=DAY_KINDS, oversubscription=OVERSUBSCRIPTION, aggregation=AGGREGATION,
                          calls=calls, call_status=CALL_STATUS, notice=notice, procedure=procedure,
                          procedure_steps=steps, stated=stated, procedure_choices=_procedure_choices(policy),
                          stated_text={k: _form_text(k, v.value) for k, v in stated.items()})  # fmt: skip
    return _no_store(response)


def _prefilled_form(policy: PolicyEngine, choice: str, period: str) -> tuple[CallForm, str]:
    """The call form for one provision with every field its procedure states filled in, and a notice."""
    form = _default_call_form()
    document_id, _, provision = choice.partition(":")
    try:
        document = policy.base.document(document_id)
        document.provision(provision)
    except (HuiqiError, KeyError):
        form.problem("document_id", f"没有条款 {choice!r}：请从列表中选择文件和条款")
        return form, ""
    form.values["document_id"] = document_id
    form.provisions = [choice]
    if period.strip():
        form.values["period"] = period.strip()
        if not re.fullmatch(r"\d{4}", period.strip()):
            form.problem("period", f"奖励年度应为四位年份，如 2016，得到 {period.strip()!r}")
    procedure, stated = _stated_for(policy, form)
    if procedure is None:
        return form, f"文件未规定条款 {provision} 的申报程序：请逐项填写。"
    for name, item in stated.items():
        form.values[name] = _form_text(name, item.value)
    filled = "、".join(CALL_FIELDS[name] for name in stated)
    lacking = "" if "quota" in stated or not procedure.quotas else (
        f"文件只规定了 {'、'.join(str(y) for y in procedure.quota_years())} 年的名额，{form.values['period']} 年的名额须自行填写。"
    )  # fmt: skip
    return form, f"已按文件规定的申报程序预填：{filled}。{lacking}改动预填的内容会作为与规定程序的偏离记入批次。"


def _quarter(form: CallForm, raw: str) -> int | None:
    """按季度兑现的批次: the quarter 1–4 (第2季度, Q2 and 2 are all read), or none for a yearly call."""
    text = raw.strip().upper().removeprefix("Q").removeprefix("第").removesuffix("季度")
    text = {"一": "1", "二": "2", "三": "3", "四": "4"}.get(text, text)
    if not text:
        return None
    if text not in ("1", "2", "3", "4"):
        form.problem("quarter", f"奖励季度应为 1 至 4（按季度兑现的政策才填写；按年度的留空），得到 {raw.strip()!r}")
        return None
    return int(text)


def _default_call_form() -> CallForm:
    today = beijing.today()
    return CallForm(values={
        "title": "", "document_id": "", "period": str(today.year - 1), "quarter": "", "as_of": "", "opens_on": today.isoformat(),
        "closes_on": (today + dt.timedelta(days=30)).isoformat(), "budget": "", "materials": "",
        "review_mode": "formal", "quota": "", "experts_per_application": "5", "criteria": "",
        "aggregation": "trimmed_mean", "pass_score": "", "publicity_days": "7", "publicity_day_kind": "calendar",
        "oversubscription": "ranking", "instalments": "", "report_due": "", "report_years": "0", "payer": "",
    })  # fmt: skip


@router.get("/desk/official/calls/new", response_class=HTMLResponse, response_model=None)
def new_call(
    request: Request,
    actor: SignedIn,
    closed: int | None = None,
    provision: Annotated[str, Query(max_length=200)] = "",
    period: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """发布申报批次的表单，以及已发布的批次（可关闭）；``provision=文件:条款`` 按文件规定的申报程序预填。"""
    try:
        require(actor, *OFFICIALS)
    except PermissionDenied as exc:
        return render(request, "error.html", status_code=403, title="无权访问", message=exc.message)
    notice = f"申报批次 {closed} 已关闭，不再受理新申请；已提交的申请照常办理。" if closed else ""
    if provision:
        form, notice = _prefilled_form(request.app.state.policy, provision, period)
        return _call_form_page(request, form, notice=notice, status_code=422 if form.errors else 200)
    return _call_form_page(request, _default_call_form(), notice=notice)


@router.post("/desk/official/calls/new", response_class=HTMLResponse, response_model=None)
async def create_call(request: Request, actor: SignedIn) -> Response:
    """发布申报批次：表单 → CallSpec → open_call（与 POST /api/v1/calls 相同）。"""
    raw = await request.form()
    check_csrf(request, str(raw.get("csrf_token") or ""))
    text = {name: str(raw.get(name) or "") for name in CALL_FIELDS if name != "provisions"}
    chosen = [str(v) for v in raw.getlist("provisions")]
    return await run_in_threadpool(_create_call, request, actor, text, chosen)  # the database is synchronous


def _create_call(request: Request, actor: Actor, text: dict[str, str], chosen: list[str]) -> Response:
    form = CallForm(values=text, provisions=chosen)
    try:
        require(actor, *OFFICIALS)
    except PermissionDenied as exc:
        return render(request, "error.html", status_code=403, title="无权访问", message=exc.message)
    document_id = text["document_id"].strip()
    if not document_id:
        form.problem("document_id", "请选择政策文件")
    provisions = [c.split(":", 1)[1] for c in chosen if c.startswith(f"{document_id}:")]
    if document_id and len(provisions) != len(chosen):
        form.problem("provisions", "所选条款须属于所选的政策文件：请只勾选该文件下的条款")
    elif document_id and not provisions:
        form.problem("provisions", "请至少勾选一项申报条款")
    budget = ""
    if not text["budget"].strip():
        form.problem("budget", "请填写预算，如 500万元（只写数字时按万元计）")
    else:
        try:
            budget_fen = parse_money(text["budget"].strip(), default_unit="万元", where="budget")
        except HuiqiError as exc:
            form.problem("budget", exc.message)
        else:
            if budget_fen <= 0:
                form.problem("budget", "预算须大于0")
            budget = f"{format_yuan(budget_fen)}元"
    data: dict[str, Any] = {
        "title": text["title"].strip(),
        "document_id": document_id or "-",
        "provisions": provisions or ["-"],
        "period": _int(form, "period", text["period"], required=True),
        "quarter": _quarter(form, text.get("quarter", "")),
        "as_of": _date(form, "as_of", text["as_of"], required=False),
        "opens_on": _date(form, "opens_on", text["opens_on"], required=True),
        "closes_on": _date(form, "closes_on", text["closes_on"], required=True),
        "budget": budget or "1元",
        "materials": _lines(text["materials"]),
        "review_mode": text["review_mode"],
        "quota": _int(form, "quota", text["quota"], required=False),
        "experts_per_application": _int(
            form, "experts_per_application", text["experts_per_application"], required=False
        )
        or 5,
        "criteria": _criteria(form, text["criteria"]),
        "aggregation": text["aggregation"] or "trimmed_mean",
        "pass_score": _int(form, "pass_score", text["pass_score"], required=False),
        "publicity_days": _int(form, "publicity_days", text["publicity_days"], required=False) or 0,
        "publicity_day_kind": text["publicity_day_kind"] or "calendar",
        "oversubscription": text["oversubscription"] or "ranking",
        "instalments": _instalments(form, text["instalments"]),
        "report_due": [p for p in re.split(r"[,，、\s]+", text["report_due"].strip()) if p],
        "report_years": _int(form, "report_years", text["report_years"], required=False) or 0,
        "payer": text["payer"].strip() or None,
    }
    # a field the document's procedure states and the official left blank is taken from the procedure
    _procedure, stated = _stated_for(request.app.state.policy, CallForm(values={**text, "document_id": document_id},
                                                                        provisions=chosen))  # fmt: skip
    for name in stated:
        if name in text and not text[name].strip() and name != "closes_on":
            data.pop(name, None)
    for name in ("period", "opens_on", "closes_on"):
        if data[name] is None:
            data[name] = {"period": 2000, "opens_on": "2000-01-01", "closes_on": "2000-01-01"}[name]
    try:
        spec = CallSpec.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            name, message = _pydantic_message(error)
            form.problem(name, message)
        return _call_form_page(request, form, status_code=422)
    if form.errors:
        return _call_form_page(request, form, status_code=422)
    policy: PolicyEngine = request.app.state.policy
    try:
        with request.app.state.database.transaction() as session:
            call_id = open_call(session, spec=spec, actor=actor, policy=policy).id
    except WorkflowError as exc:
        name = _field_of(exc.where)
        form.problem(name if name in CALL_FIELDS else "form", exc.message)
        return _call_form_page(request, form, status_code=_refused(exc))
    response = _see(f"/desk/official/calls/{call_id}")
    # 政策找企业, as after POST /api/v1/calls: the registry is evaluated after the answer, never inside it
    state = request.app.state
    response.background = BackgroundTask(notify_in_background, state.database, policy, call_id, state.settings)
    return response


@router.post("/desk/official/calls/close", response_class=HTMLResponse, response_model=None)
def close_call_page(
    request: Request, actor: SignedIn, csrf_token: Csrf = "", call_id: Annotated[str, Form(max_length=12)] = ""
) -> Response:
    """关闭申报批次（close_call，与 POST /api/v1/calls/{id}/close 相同）。"""
    check_csrf(request, csrf_token)
    form = _default_call_form()
    try:
        require(actor, *OFFICIALS)
        if not call_id.isdigit() or not 1 <= int(call_id) <= MAX_ID:
            raise InvalidInput("请选择要关闭的申报批次", where="call_id")
        with request.app.state.database.transaction() as session:
            close_call(session, call=get_call(session, int(call_id)), actor=actor)
    except WorkflowError as exc:
        form.problem("close", exc.message)
        return _call_form_page(request, form, status_code=_refused(exc))
    return _see(f"/desk/official/calls/new?closed={int(call_id)}#calls")


# ---------------------------------------------------------------------------------------------------------
# 免申即享


@dataclass(frozen=True)
class ItemRow:
    """A listed entity × rule: its amount certain or a ceiling (never summed with certain money)."""

    item: BatchItem
    entity: Entity
    label: str
    is_ceiling: bool

    @property
    def status_label(self) -> str:
        return ITEM_STATUS.get(self.item.status, self.item.status)


@dataclass(frozen=True)
class Exclusion:
    """An entity the computation did not list, with each rule and why (as the workflow recorded it)."""

    entity: str
    reasons: list[tuple[str, str, str]]  # (rule, status, reason)


def _exclusions(session: Session, batch_id: int) -> tuple[list[Exclusion] | None, int]:
    """The exclusions ``compute_batch`` wrote into its audit event, by entity (None when it recorded none), and
    how many rule evaluations were simply not eligible (counted, not listed)."""
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "batch.compute", AuditEvent.object_type ==
                                                    "batch", AuditEvent.object_id == str(batch_id)))  # fmt: skip
    if event is None:
        return None, 0
    after = json.loads(event.after)
    if "excluded" not in after:
        return None, 0
    by_entity: dict[int, list[tuple[str, str, str]]] = {}
    for x in after["excluded"]:
        by_entity.setdefault(int(x.get("entity_id") or 0), []).append(
            (x.get("rule") or "全部规则", x.get("status") or "", x.get("reason") or "")
        )
    names = {e.id: e.name for e in session.scalars(select(Entity).where(Entity.id.in_(by_entity)))}
    out = [Exclusion(names.get(k, f"主体 {k}"), v) for k, v in by_entity.items()]
    return out, int(after.get("not_eligible") or 0)


def _item_rows(session: Session, batch: Batch) -> list[ItemRow]:
    rows = []
    for item in items_of(session, batch.id):
        result = item.result or {}
        rows.append(ItemRow(item, session.get_one(Entity, item.entity_id), str(result.get("label") or item.rule_ref),
                            bool(result.get("is_ceiling"))))  # fmt: skip
    return rows


def _batch_page(request: Request, session: Session, batch: Batch, *, error: str = "",
                status_code: int = 200, notice: str = "") -> Response:  # fmt: skip
    call = session.get_one(Call, batch.call_id)
    rows = _item_rows(session, batch)
    listed = [r for r in rows if r.item.status != "skipped"]
    certain_fen = sum(r.item.amount_fen for r in listed if not r.is_ceiling)
    ceilings = [r for r in listed if r.is_ceiling]
    awards = list(session.scalars(select(Award).where(Award.batch_id == batch.id).order_by(Award.id)))
    exclusions, not_eligible = _exclusions(session, batch.id)
    return _no_store(render(request, "official_batches/batch.html", status_code=status_code, batch=batch, call=call,
                            rows=rows, certain_fen=certain_fen, ceilings=ceilings,
                            awards=awards, awarded_total=sum(a.amount_fen for a in awards),
                            exclusions=exclusions, not_eligible_count=not_eligible,
                            entity_names={r.entity.id: r.entity.name for r in rows}, status_labels=BATCH_STATUS, error=error,
                            notice=notice, created_on=beijing_date(batch.created_at),
                            published_on=beijing_date(batch.published_at)))  # fmt: skip


def _batches_page(request: Request, session: Session, *, error: str = "", status_code: int = 200,
                  chosen: str = "") -> Response:  # fmt: skip
    calls = list(session.scalars(select(Call).order_by(Call.id.desc())))
    titles = {c.id: c.title for c in calls}
    batches = []
    for batch in session.scalars(select(Batch).order_by(Batch.id.desc())):
        items = items_of(session, batch.id)
        batches.append((batch, titles.get(batch.call_id, ""), len(items), beijing_date(batch.created_at)))
    return _no_store(render(request, "official_batches/batches.html", status_code=status_code, calls=calls,
                            batches=batches, status_labels=BATCH_STATUS, call_status=CALL_STATUS, error=error,
                            chosen=chosen))  # fmt: skip


@router.get("/desk/official/batches", response_class=HTMLResponse, response_model=None)
def batches(request: Request, actor: SignedIn) -> Response:
    """免申即享：按登记数据计算名单，公示，兑现。"""

    def build(session: Session) -> Response:
        require(actor, *OFFICIALS)
        return _batches_page(request, session)

    return read_page(request, build)


@router.post("/desk/official/batches", response_class=HTMLResponse, response_model=None)
def run_batch(
    request: Request, actor: SignedIn, csrf_token: Csrf = "", call_id: Annotated[str, Form(max_length=12)] = ""
) -> Response:
    """计算免申即享名单（compute_batch，与 POST /api/v1/calls/{id}/batches 相同）。"""
    check_csrf(request, csrf_token)
    policy: PolicyEngine = request.app.state.policy
    try:
        require(actor, *OFFICIALS)
        if not call_id.isdigit() or not 1 <= int(call_id) <= MAX_ID:
            raise InvalidInput("请选择申报批次", where="call_id")
        with request.app.state.database.transaction() as session:
            batch_id = compute_batch(session, call=get_call(session, int(call_id)), actor=actor, policy=policy).id
    except WorkflowError as exc:
        with request.app.state.database.sessions() as session:
            return _batches_page(request, session, error=exc.message, status_code=_refused(exc), chosen=call_id)
    return _see(f"/desk/official/batches/{batch_id}")


@router.get("/desk/official/batches/{batch_id}.xlsx", response_model=None)
def batch_xlsx(request: Request, actor: SignedIn, batch_id: PageId) -> Response:
    """一个免申即享批次的名单和未列入的主体（Excel，金额为万元；最高限额与确定金额分列）。"""

    def build(session: Session) -> Response:
        require(actor, *OFFICIALS)
        batch = get_batch(session, batch_id)
        call = session.get_one(Call, batch.call_id)
        rows = _item_rows(session, batch)
        listed = [[r.entity.name, r.entity.uscc or "", r.label, "；".join(r.item.result.get("calculation") or []),
                   None if r.is_ceiling else r.item.amount_fen, r.item.amount_fen if r.is_ceiling else None,
                   r.status_label, r.item.note or ""] for r in rows]  # fmt: skip
        sheets = [Sheet("名单", LIST_COLUMNS, listed)]
        exclusions, not_eligible = _exclusions(session, batch.id)
        if exclusions is not None:
            sheets.append(Sheet("未列入", EXCLUDED_COLUMNS,
                                [[x.entity, rule, status, reason] for x in exclusions
                                 for rule, status, reason in x.reasons]))  # fmt: skip
        certain = sum(r.item.amount_fen for r in rows if r.item.status != "skipped" and not r.is_ceiling)
        notes = [f"申报批次：{call.id} {call.title}（{call.period}年度，条款 {'、'.join(call.provisions)}）",
                 f"免申即享批次 {batch.id}：{BATCH_STATUS.get(batch.status, batch.status)}；名单 {len(rows)} 项，"
                 f"确定金额合计 {money(certain)}；最高限额单列，不计入合计。",
                 f"另有 {not_eligible} 项规则评估为“不符合”，未逐项列出。"]  # fmt: skip
        return workbook_response(f"免申即享名单-批次{batch.id}.xlsx", f"免申即享名单：{call.title}", sheets,
                                 notes=notes, fallback=f"batch-{batch.id}")  # fmt: skip

    return read_page(request, build)


@router.get("/desk/official/batches/{batch_id}", response_class=HTMLResponse, response_model=None)
def batch_page(request: Request, actor: SignedIn, batch_id: PageId) -> Response:
    """一个免申即享批次：名单（确定金额与最高限额分列）、未列入的主体及原因、公示与兑现。"""

    def build(session: Session) -> Response:
        require(actor, *OFFICIALS)
        return _batch_page(request, session, get_batch(session, batch_id))

    return read_page(request, build)


def _batch_step(request: Request, actor: Actor, batch_id: int, step: Callable[[Session, Batch], Any]) -> Response:
    try:
        require(actor, *OFFICIALS)
        with request.app.state.database.transaction() as session:
            step(session, get_batch(session, batch_id))
    except WorkflowError as exc:
        with request.app.state.database.sessions() as session:
            found = session.get(Batch, batch_id)
            if found is None or isinstance(exc, PermissionDenied):
                title = "未找到" if found is None else "无权访问"
                return render(request, "error.html", status_code=_refused(exc), title=title, message=exc.message)
            return _batch_page(request, session, found, error=exc.message, status_code=_refused(exc))
    return _see(f"/desk/official/batches/{batch_id}")


@router.post("/desk/official/batches/{batch_id}/publish", response_class=HTMLResponse, response_model=None)
def publish_batch_page(request: Request, actor: SignedIn, batch_id: PageId, csrf_token: Csrf = "") -> Response:
    """公示名单（publish_batch）。"""
    check_csrf(request, csrf_token)
    return _batch_step(request, actor, batch_id, lambda s, b: publish_batch(s, batch=b, actor=actor))


@router.post("/desk/official/batches/{batch_id}/award", response_class=HTMLResponse, response_model=None)
def award_batch_page(request: Request, actor: SignedIn, batch_id: PageId, csrf_token: Csrf = "") -> Response:
    """批准兑现（award_batch：按超额规则分配预算，写入奖励台账）。"""
    check_csrf(request, csrf_token)
    return _batch_step(request, actor, batch_id, lambda s, b: award_batch(s, batch=b, actor=actor))


# ---------------------------------------------------------------------------------------------------------
# 绩效报告


@dataclass(frozen=True)
class ReportRow:
    report: Report
    application: Application
    entity: Entity
    call: Call
    overdue: bool
    days_overdue: int
    submitted_on: dt.date | None


def _report_rows(session: Session, today: dt.date, call_id: int | None = None) -> list[ReportRow]:
    query = (
        select(Report, Application, Entity, Call)
        .join(Application, Application.id == Report.application_id)
        .join(Entity, Entity.id == Application.entity_id)
        .join(Call, Call.id == Application.call_id)
        .order_by(Report.due_on, Report.id)
    )
    if call_id is not None:
        query = query.where(Call.id == call_id)
    rows = []
    for report, application, entity, call in session.execute(query).all():
        late = is_overdue(report, today)
        rows.append(ReportRow(report, application, entity, call, late, (today - report.due_on).days if late else 0,
                              beijing_date(report.submitted_at)))  # fmt: skip
    return rows


@router.get("/desk/official/reports", response_class=HTMLResponse, response_model=None)
def reports(request: Request, actor: SignedIn, call: str = "") -> Response:
    """绩效报告：已逾期、待提交和已提交的报告（可按申报批次筛选）。"""

    def build(session: Session) -> Response:
        require(actor, *OFFICIALS)
        today = beijing.today()
        call_id = int(call) if call.isdigit() and 1 <= int(call) <= MAX_ID else None
        rows = _report_rows(session, today, call_id)
        calls = list(session.scalars(select(Call).order_by(Call.id.desc())))
        return render(request, "official_batches/reports.html", today=today, call_id=call_id, calls=calls,
                      state_labels={s.value: label for s, label in STATE_LABELS.items()},
                      overdue=[r for r in rows if r.overdue],
                      due=[r for r in rows if not r.overdue and r.report.submitted_at is None],
                      submitted=[r for r in rows if r.report.submitted_at is not None])  # fmt: skip

    return read_page(request, build)


@router.get("/desk/official/reports/{report_id}", response_class=HTMLResponse, response_model=None)
def report_page(request: Request, actor: SignedIn, report_id: PageId) -> Response:
    """一份绩效报告的内容。"""

    def build(session: Session) -> Response:
        require(actor, *OFFICIALS)
        report = session.get(Report, report_id)
        if report is None:
            raise NotFound(f"没有编号为 {report_id} 的绩效报告", where="report_id")
        application = get_application(session, report.application_id, actor=actor)
        today = beijing.today()
        submitted_on = beijing_date(report.submitted_at)
        late_days = (submitted_on - report.due_on).days if submitted_on and submitted_on > report.due_on else 0
        return render(request, "official_batches/report.html", report=report, application=application,
                      entity=session.get_one(Entity, application.entity_id),
                      call=session.get_one(Call, application.call_id), overdue=is_overdue(report, today),
                      days_overdue=(today - report.due_on).days, submitted_on=submitted_on,
                      late_days=late_days)  # fmt: skip

    return read_page(request, build)


# ---------------------------------------------------------------------------------------------------------
# 追回与失信名单


BLACKLIST_YEARS = ("1", "2", "3", "5")


def years_after(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (29 February → 28 February in a common year).

    >>> years_after(dt.date(2024, 2, 29), 1), years_after(dt.date(2026, 12, 1), 3)
    (datetime.date(2025, 2, 28), datetime.date(2029, 12, 1))
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _clawback_page(request: Request, session: Session, application: Application, *, errors: dict[str, str] | None
                   = None, values: dict[str, str] | None = None, status_code: int = 200) -> Response:  # fmt: skip
    awards = list(session.scalars(select(Award).where(Award.application_id == application.id).order_by(Award.id)))
    payments = list(session.scalars(select(Payment).where(Payment.application_id == application.id)
                                    .order_by(Payment.award_id, Payment.instalment)))  # fmt: skip
    entries = list(session.scalars(select(BlacklistEntry).where(BlacklistEntry.entity_id == application.entity_id)
                                   .order_by(BlacklistEntry.id)))  # fmt: skip
    live = [a for a in awards if a.state != "clawed_back"]
    today = beijing.today()
    return _no_store(render(
        request, "official_batches/clawback.html", status_code=status_code, application=application,
        entity=session.get_one(Entity, application.entity_id), call=session.get_one(Call, application.call_id),
        state_label=STATE_LABELS[State(application.state)], awards=awards, payments=payments, entries=entries,
        to_return_fen=sum(a.paid_fen for a in live), to_release_fen=sum(a.amount_fen - a.paid_fen for a in live),
        returned_fen=sum(a.paid_fen for a in awards if a.state == "clawed_back"),
        clawed=application.state == State.CLAWED_BACK.value, award_state=AWARD_STATE, payment_status=PAYMENT_STATUS,
        errors=errors or {}, values=values or {"reason": "", "blacklist_until": "", "blacklist_years": ""}, today=today,
        blacklist_years=BLACKLIST_YEARS,
        paid_on=beijing_date,
    ))  # fmt: skip


@router.get("/desk/official/applications/{application_id}/clawback", response_class=HTMLResponse,
            response_model=None)  # fmt: skip
def clawback_form(request: Request, actor: SignedIn, application_id: PageId) -> Response:
    """追回：奖励台账、已拨付与未拨付、失信名单；追回表单。"""

    def build(session: Session) -> Response:
        require(actor, *OFFICIALS)
        return _clawback_page(request, session, get_application(session, application_id, actor=actor))

    return read_page(request, build)


@router.post("/desk/official/applications/{application_id}/clawback", response_class=HTMLResponse,
             response_model=None)  # fmt: skip
def clawback(
    request: Request,
    actor: SignedIn,
    application_id: PageId,
    csrf_token: Csrf = "",
    reason: Annotated[str, Form()] = "",
    blacklist_until: Annotated[str, Form()] = "",
    blacklist_years: Annotated[str, Form()] = "",
) -> Response:
    """追回（claw_back，与 POST /api/v1/applications/{id}/claw-back 相同）：取消未拨付的分期、释放预算、
    应退回已拨付资金，并将主体列入失信名单至指定日期（或自今天起若干年）。"""
    check_csrf(request, csrf_token)
    values = {"reason": reason[:2000], "blacklist_until": blacklist_until[:20], "blacklist_years": blacklist_years[:2]}
    errors: dict[str, str] = {}
    until: dt.date | None = None
    written = blacklist_until.strip()
    if written:
        try:
            until = dt.date.fromisoformat(written)
        except ValueError:
            errors["blacklist_until"] = f"期满日 {written[:20]!r} 不是有效的日期：请写成 年-月-日，如 2029-12-31"
    elif blacklist_years in BLACKLIST_YEARS:
        until = years_after(beijing.today(), int(blacklist_years))
    else:
        errors["blacklist_until"] = "请填写失信名单的期满日（年-月-日），或选择期限"
    if not reason.strip():
        errors["reason"] = "追回须写明事实和依据"
    elif len(reason) > 2000:
        errors["reason"] = f"事实和依据最多2000字，现有{len(reason)}字：请精简或改附材料"
    database = request.app.state.database
    if not errors and until is not None:
        try:
            require(actor, *OFFICIALS)
            with database.transaction() as session:
                application = get_application(session, application_id, actor=actor, lock=True)
                claw_back(session, application=application, actor=actor, reason=reason, blacklist_until=until)
            return _see(f"/desk/official/applications/{application_id}/clawback")
        except WorkflowError as exc:
            if isinstance(exc, NotFound | PermissionDenied):
                title = "未找到" if isinstance(exc, NotFound) else "无权访问"
                return render(request, "error.html", status_code=_refused(exc), title=title, message=exc.message)
            name = _field_of(exc.where)
            errors[name if name in ("reason", "blacklist_until") else "form"] = exc.message
            status = _refused(exc)
    else:
        status = 422

    def build(session: Session) -> Response:
        require(actor, *OFFICIALS)
        application = get_application(session, application_id, actor=actor)
        return _clawback_page(request, session, application, errors=errors, values=values, status_code=status)

    return read_page(request, build)
