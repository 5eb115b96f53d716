"""申报 (the applicant's journey): start a draft from the desk, see what the engine computes for the entity
now and what facts are missing (and declare them), upload the call's materials, make the 信用承诺 and submit;
after a 退回补正 fix what the 一次性告知 lists and resubmit; hand in the reports due after approval; and try
the calculator with the registered facts already answered.

Every write is the workflow's own function, as in the API (``POST /api/v1/applications``, ``…/materials``,
``…/submit``, ``POST /api/v1/entities/{id}/facts``, ``POST /api/v1/reports/{id}/submit``), with the same
permission checks (``require``, ``get_application``); a refusal is its Chinese message on the page next to the
form, and an object of another entity is 未找到 (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.api.config import Settings
from huiqi.api.deps import MAX_ID, require
from huiqi.engine.results import STATUS_LABELS, RuleResult, Status, Totals
from huiqi.errors import WorkflowError
from huiqi.expr.ast import Type
from huiqi.store.db import Database
from huiqi.store.entities import current_facts, get_entity, record_fact
from huiqi.store.errors import InvalidInput, NotFound, error_code
from huiqi.store.models import Application, Call, Entity, Material, Report
from huiqi.web.calculator import registry_url
from huiqi.web.desks import ApplicationRow, SignedIn, beijing_date, read_page
from huiqi.web.downloads import attachment
from huiqi.web.sessions import check_csrf
from huiqi.web.templating import render
from huiqi.workflow import applications as flow
from huiqi.workflow import audit
from huiqi.workflow.actors import Actor
from huiqi.workflow.calls import get_call
from huiqi.workflow.lifecycle import get_application
from huiqi.workflow.materials import ACCEPTED, add_material
from huiqi.workflow.policy import PolicyEngine, evaluate_entity
from huiqi.workflow.reports import is_overdue, submit_report
from huiqi.workflow.states import State

router = APIRouter()
AppId = Annotated[int, Path(ge=1, le=MAX_ID)]
EDITABLE = (State.DRAFT.value, State.RETURNED.value)
#: What a file field accepts (the workflow's list of types, ``huiqi.workflow.materials.ACCEPTED``).
ACCEPT = ",".join([*ACCEPTED, *(ext for exts, _magic in ACCEPTED.values() for ext in exts)])
#: After a successful POST the page says what was done (Post/Redirect/Get: ``?done=…``).
DONE = {"draft": "已创建申报草稿。", "fact": "已登记填报的信息（来源：申报主体填报），评估已按新信息更新。",
        "material": "材料已上传，SHA-256 已记录。", "report": "绩效报告已提交。"}  # fmt: skip


@dataclass(frozen=True)
class Refusal:
    """A refusal of the workflow shown beside the form that caused it (``form``: which one)."""

    form: str
    message: str
    where: str | None = None


@dataclass(frozen=True)
class MissingFact:
    """A fact the engine needs and the registry lacks, with what the declare form needs to ask it."""

    key: str
    year: int | None
    label: str
    kind: str  # bool, choice, or text
    choices: tuple[str, ...]
    hint: str
    quarter: int | None = None  # a quarterly figure: the quarter of ``year``

    @property
    def field_id(self) -> str:
        return f"fact-{self.key}-{self.year or 'x'}"


def _missing_facts(rules: list[RuleResult], policy: PolicyEngine) -> list[MissingFact]:
    seen: dict[tuple[str, int | None], MissingFact] = {}
    for rule in rules:
        for item in rule.missing:
            if (item.fact, item.year) in seen:
                continue
            fact = policy.base.catalogue.get(item.fact)
            kind, hint = "text", ""
            choices: tuple[str, ...] = ()
            if fact is not None:
                hint = fact.definition.strip()
                if fact.type is Type.BOOL:
                    kind, choices = "bool", ("是", "否")
                elif fact.values:
                    kind, choices = "choice", tuple(fact.values)
                elif fact.type is Type.MONEY:
                    hint = f"填写金额并写明单位，如 1200万元。{hint}"
                elif fact.type is Type.SET:
                    hint = f"多项用“、”分隔，都没有填“无”。{hint}"
                elif fact.type is Type.DATE:
                    hint = f"日期，如 2024-06-30。{hint}"
                elif fact.unit:
                    hint = f"单位：{fact.unit}。{hint}"
            seen[(item.fact, item.year)] = MissingFact(item.fact, item.year, item.label(), kind, choices, hint,
                                                       item.quarter)  # fmt: skip
    return list(seen.values())


def _evaluation(session: Session, entity: Entity, call: Call, policy: PolicyEngine) -> dict[str, Any]:
    """What the engine computes for the entity under the call now (as ``submit`` will evaluate it), in the
    calculator's presentation (``calculator/_results.html``): the call's provisions only."""
    try:
        evaluation, _used = evaluate_entity(session, entity=entity, policy=policy, documents=(call.document_id,),
                                            as_of=call.as_of or beijing.today(), period=call.period,
                                            readings=call.readings, quarter=call.quarter)  # fmt: skip
    except InvalidInput as exc:
        return {"documents": [], "totals": Totals(), "missing": [], "evaluation_error": exc.message}
    documents: list[dict[str, Any]] = []
    shown: list[RuleResult] = []
    for document in evaluation.documents:
        rules = [r for p in document.provisions if p.provision in call.provisions for r in p.rules
                 if r.status is not Status.NOT_APPLICABLE]  # fmt: skip
        if rules:
            documents.append({"result": document, "rules": rules, "totals": Totals.of(rules)})
            shown.extend(rules)
    return {"documents": documents, "totals": Totals.of(shown), "missing": _missing_facts(shown, policy),
            "evaluation_error": None}  # fmt: skip


def _work_page(
    request: Request,
    actor: Actor,
    application_id: int,
    *,
    refusal: Refusal | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The application's 申报 page: the call and its provisions, the evaluation now, the facts missing (with a
    form to declare each), the materials (with the upload form), the pledge and submit; after a 退回补正 the
    one complete list of fixes first."""

    def build(session: Session) -> Response:
        require(actor, "applicant")
        application = get_application(session, application_id, actor=actor)
        call = session.get_one(Call, application.call_id)
        entity = get_entity(session, application.entity_id)
        policy: PolicyEngine = request.app.state.policy
        document = policy.base.document(call.document_id).policy
        provisions = [p for p in document.provisions if p.id in call.provisions]
        materials = session.scalars(
            select(Material).where(Material.application_id == application.id).order_by(Material.name)
        ).all()
        uploaded = {m.name for m in materials}
        done = DONE.get(request.query_params.get("done", ""))
        return render(request, "apply/application.html", status_code=status, application=application, call=call,
                      entity=entity, row=ApplicationRow.of(application, call), document=document,
                      provisions=provisions, materials=materials, missing_materials=[m for m in call.materials
                      if m not in uploaded], editable=application.state in EDITABLE,
                      returned=application.state == State.RETURNED.value, pledge=flow.pledge_text(entity),
                      refusal=refusal, typed=typed or {}, done=done, accept=ACCEPT, status_labels=STATUS_LABELS,
                      step=None, uploaded_on=beijing_date,
                      **_evaluation(session, entity, call, policy))  # fmt: skip

    return read_page(request, build)


def _write(request: Request, work: Callable[[Session], Any]) -> tuple[Any, WorkflowError | None]:
    """Run ``work`` in one transaction; a refusal of the workflow rolls it back and is returned, not raised."""
    database: Database = request.app.state.database
    try:
        with database.transaction() as session:
            return work(session), None
    except WorkflowError as exc:
        return None, exc


def _refused(request: Request, actor: Actor, application_id: int, form: str, exc: WorkflowError,
             typed: dict[str, str] | None = None) -> Response:  # fmt: skip
    """The page again with the refusal beside ``form`` (404 page when the application is not the user's)."""
    if isinstance(exc, NotFound):
        response = render(request, "error.html", status_code=404, title="未找到", message=exc.message)
        response.headers["Cache-Control"] = "no-store"
        return response
    _code, status = error_code(exc)
    return _work_page(request, actor, application_id, refusal=Refusal(form, exc.message, exc.where), typed=typed,
                      status=400 if status == 422 else status)  # fmt: skip


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.post("/apply/calls/{call_id}/start", response_model=None)
def start(request: Request, actor: SignedIn, call_id: AppId, csrf_token: Annotated[str, Form()] = "") -> Response:
    """开始申报：为本单位创建该批次的申请草稿（每个批次一份；已有则继续填报）。"""
    check_csrf(request, csrf_token)

    def work(session: Session) -> int:
        require(actor, "applicant")
        call = get_call(session, call_id)
        existing = session.scalar(
            select(Application.id).where(Application.call_id == call.id, Application.entity_id == actor.entity_id)
        )
        if existing is not None:
            return int(existing)
        return flow.create_draft(session, call=call, actor=actor).id

    application_id, refused = _write(request, work)
    if refused is not None:
        status = error_code(refused)[1]
        title = "未找到" if isinstance(refused, NotFound) else "不能开始申报"
        return render(request, "error.html", status_code=status, title=title, message=refused.message)
    return _see(f"/apply/applications/{application_id}?done=draft")


@router.get("/apply/applications/{application_id}", response_class=HTMLResponse, response_model=None)
def application_page(request: Request, actor: SignedIn, application_id: AppId) -> Response:
    """申报页：测算结果、需补充的信息、申报材料、信用承诺与提交（只能查看本单位的；其他编号“未找到”）。"""
    return _work_page(request, actor, application_id)


@router.post("/apply/applications/{application_id}/facts", response_model=None)
def declare_fact(
    request: Request,
    actor: SignedIn,
    application_id: AppId,
    key: Annotated[str, Form(max_length=100)],
    value: Annotated[str, Form(max_length=200)] = "",
    year: Annotated[int | None, Form(ge=1900, le=2200)] = None,
    quarter: Annotated[int | None, Form(ge=1, le=4)] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """填报一项尚缺的信息（来源记为“申报主体填报”，与 POST /api/v1/entities/{id}/facts 相同）。"""
    check_csrf(request, csrf_token)
    policy: PolicyEngine = request.app.state.policy

    def work(session: Session) -> None:
        require(actor, "applicant")
        application = get_application(session, application_id, actor=actor)
        entity = get_entity(session, application.entity_id)
        fact = policy.base.catalogue.get(key)
        text = value.strip()
        if not text:
            raise InvalidInput("请填写该项信息后再提交", where="value")
        raw: Any = {"是": True, "否": False}.get(text, text) if fact is not None and fact.type is Type.BOOL else text
        row = record_fact(session, entity=entity, key=key, value=raw, year=year, provenance="declared",
                          recorded_by=actor.username, catalogue=policy.base.catalogue,
                          source=f"申报页填报（申请 {application.id}）", quarter=quarter)  # fmt: skip
        audit.record(session, actor=actor, action="fact.record", object_type="fact", object_id=row.id, before=None,
                     after=audit.snapshot(row))  # fmt: skip

    _done, refused = _write(request, work)
    if refused is not None:
        return _refused(request, actor, application_id, f"fact:{key}:{year or ''}", refused, {"value": value})
    return _see(f"/apply/applications/{application_id}?done=fact#evaluation-title")


@router.post("/apply/applications/{application_id}/materials", response_model=None)
def upload_material(
    request: Request,
    actor: SignedIn,
    application_id: AppId,
    name: Annotated[str, Form(max_length=100)] = "",
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """上传一份申报材料（类型、扩展名、文件头、大小与 API 同样校验；记录 SHA-256）。"""
    check_csrf(request, csrf_token)
    settings: Settings = request.app.state.settings
    limit = settings.max_upload_mb * 1024 * 1024
    content = file.file.read(limit + 1) if file is not None else b""
    filename = (file.filename or "") if file is not None else ""
    content_type = (file.content_type or "") if file is not None else ""

    def work(session: Session) -> None:
        require(actor, "applicant")
        application = get_application(session, application_id, actor=actor)
        if file is None or not filename:
            raise InvalidInput("请选择要上传的文件（PDF、PNG、JPEG 或 OFD）", where="file")
        if len(content) > limit:
            raise InvalidInput(f"文件超过 {settings.max_upload_mb}MB 上限，请压缩后上传", where="file")
        add_material(session, application=application, call=session.get_one(Call, application.call_id), name=name,
                     filename=filename, content_type=content_type, content=content, actor=actor)  # fmt: skip

    _done, refused = _write(request, work)
    if refused is not None:
        return _refused(request, actor, application_id, "material", refused, {"name": name})
    return _see(f"/apply/applications/{application_id}?done=material#materials-title")


@router.get("/apply/materials/{material_id}", response_model=None)
def download_material(request: Request, actor: SignedIn, material_id: AppId) -> Response:
    """下载本单位上传的一份材料（其他编号“未找到”）。"""

    def build(session: Session) -> Response:
        require(actor, "applicant")
        material = session.get(Material, material_id)
        try:
            if material is None:
                raise NotFound("")
            get_application(session, material.application_id, actor=actor)
        except NotFound:
            raise NotFound(f"没有编号为 {material_id} 的材料，或您无权查看", where="material_id") from None
        return Response(material.content, media_type=material.content_type,
                        headers={"Content-Disposition": attachment(material.filename, fallback="material")})  # fmt: skip

    return read_page(request, build)


@router.post("/apply/applications/{application_id}/submit", response_model=None)
def submit(
    request: Request,
    actor: SignedIn,
    application_id: AppId,
    pledge: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """作出信用承诺并提交（退回补正的为重新提交）；冻结评估结果。"""
    check_csrf(request, csrf_token)
    policy: PolicyEngine = request.app.state.policy

    def work(session: Session) -> None:
        require(actor, "applicant")
        application = get_application(session, application_id, actor=actor, lock=True)
        flow.submit(session, application=application, actor=actor, pledge=pledge == "yes", policy=policy)

    _done, refused = _write(request, work)
    if refused is not None:
        return _refused(request, actor, application_id, "submit", refused)
    return _see(f"/desk/applicant/applications/{application_id}")


def _own_report(session: Session, actor: Actor, report_id: int) -> tuple[Report, Application]:
    """A report of the actor's entity (another's, or none, is 未找到)."""
    require(actor, "applicant")
    report = session.get(Report, report_id)
    try:
        if report is None:
            raise NotFound("")
        application = get_application(session, report.application_id, actor=actor)
    except NotFound:
        raise NotFound(f"没有编号为 {report_id} 的绩效报告，或您无权查看", where="report_id") from None
    return report, application


def _report_page(request: Request, actor: Actor, report_id: int, *, refusal: str | None = None,
                 typed: str = "") -> Response:  # fmt: skip
    def build(session: Session) -> Response:
        report, application = _own_report(session, actor, report_id)
        call = session.get_one(Call, application.call_id)
        today = beijing.today()
        return render(request, "apply/report.html", status_code=400 if refusal else 200, report=report,
                      application=application, call=call, overdue=is_overdue(report, today),
                      submitted_on=beijing_date(report.submitted_at), refusal=refusal, typed=typed)  # fmt: skip

    return read_page(request, build)


@router.get("/apply/reports/{report_id}", response_class=HTMLResponse, response_model=None)
def report_page(request: Request, actor: SignedIn, report_id: AppId) -> Response:
    """一份绩效报告：到期日、是否逾期，未提交的可填写提交。"""
    return _report_page(request, actor, report_id)


@router.post("/apply/reports/{report_id}", response_model=None)
def hand_in_report(
    request: Request,
    actor: SignedIn,
    report_id: AppId,
    content: Annotated[str, Form(max_length=20000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """提交绩效报告（submit_report，与 POST /api/v1/reports/{id}/submit 相同）。"""
    check_csrf(request, csrf_token)

    def work(session: Session) -> int:
        _report, application = _own_report(session, actor, report_id)
        submit_report(session, report_id=report_id, content=content, actor=actor)
        return application.id

    application_id, refused = _write(request, work)
    if isinstance(refused, NotFound):
        response = render(request, "error.html", status_code=404, title="未找到", message=refused.message)
        response.headers["Cache-Control"] = "no-store"
        return response
    if refused is not None:
        return _report_page(request, actor, report_id, refusal=refused.message, typed=content)
    return _see(f"/desk/applicant/applications/{application_id}?done=report#reports-title")


@router.get("/apply/calculator", response_model=None)
def calculator_from_registry(request: Request, actor: SignedIn, call: int | None = None) -> Response:
    """用本单位登记信息测算：打开政策计算器，已登记的信息已作答，只问登记中没有的。"""

    def build(session: Session) -> Response:
        require(actor, "applicant")
        entity = get_entity(session, actor.entity_id or 0)
        as_of = beijing.today()
        if call is not None:
            found = session.get(Call, call)
            if found is not None and found.as_of is not None:
                as_of = found.as_of
        facts = current_facts(session, entity.id)
        return _see(registry_url(request.app.state.policy, entity.entity_type, list(entity.region),
                                 [(f.key, f.year, f.value) for f in facts], as_of=as_of))  # fmt: skip

    return read_page(request, build)
