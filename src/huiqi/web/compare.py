"""政策比较 (no sign-in): one profile under several documents side by side — "what would our firm get under
Suzhou, Guangzhou and Xinjiang" — per provision and in total, with 确定金额 and 最高可达 kept apart.

The profile comes from the calculator (its link 比较各地政策 carries the session's state: entity type, region,
evaluation date and each answer as ``a.<question key>``), from an uploaded profile file (YAML or JSON, in any
encoding ``huiqi evaluate`` reads, checked by the same ``parse_profile`` with its Chinese messages), or from
one of the example profiles. Each chosen document is evaluated by the engine with the jurisdiction set aside
(``Options.any_jurisdiction``, as ``huiqi evaluate --any-jurisdiction``): the entity is taken to be where each
document applies, while a condition the text itself writes about a place (注册地在苏州市) is still judged on
the profile. Documents are named explicitly, so drafts and expired documents are evaluated and flagged.

Totals are ``huiqi.engine.results.Totals``: certain money, the sum of ceilings (a bound, never money someone
will get) and the bounds left to officials, never added together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from huiqi import beijing
from huiqi.api.routes.questions import questionnaire
from huiqi.engine.evaluate import Options
from huiqi.engine.profile import Profile, load_profile_file, parse_profile
from huiqi.engine.results import STATUS_LABELS, DocumentResult, Evaluation, ProvisionResult, RuleResult, Status, Totals
from huiqi.errors import HuiqiError, ProfileError
from huiqi.facts.catalogue import ENTITY_LABELS
from huiqi.web.calculator import REGIONS
from huiqi.web.documents import DocumentSummary, summaries
from huiqi.web.downloads import attachment
from huiqi.web.templating import render
from huiqi.workflow.policy import PolicyEngine

router = APIRouter()

#: The largest profile file accepted (a profile is a few kilobytes).
MAX_UPLOAD = 1024 * 1024
#: Statuses a comparison can default to: what is in force, and drafts (their results are flagged).
_DEFAULT_STATUSES = frozenset({"现行有效", "征求意见稿"})
#: What the calculator's state is made of, carried from its 比较各地政策 link.
_STATE_KEYS = ("entity_type", "region", "drafts")


@dataclass
class Form:
    """What the comparison form asks: the documents, the date, and where the profile comes from."""

    documents: list[str]
    as_of_text: str
    example: str
    upload: UploadFile | None
    #: the calculator session's state (entity_type, region, drafts, a.<key>), carried as given
    carried: list[tuple[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def answers(self) -> dict[str, str]:
        return {key[2:]: value for key, value in self.carried if key.startswith("a.")}

    @property
    def entity_type(self) -> str:
        return next((v for k, v in self.carried if k == "entity_type"), "enterprise")

    @property
    def region(self) -> str:
        return next((v for k, v in self.carried if k == "region"), "")

    @property
    def as_of(self) -> dt.date:
        try:
            return dt.date.fromisoformat(self.as_of_text) if self.as_of_text else beijing.today()
        except ValueError:
            return beijing.today()

    def query(self) -> str:
        """The comparison's address (calculator state or example, documents, date): bookmarkable."""
        items = [*self.carried, ("as_of", self.as_of.isoformat())]
        if self.example:
            items.append(("example", self.example))
        items.extend(("doc", doc) for doc in self.documents)
        return urlencode(items)


def _read(params: Any) -> Form:
    """The form (or query string): ``doc`` repeated, ``as_of``, ``example``, ``profile`` (a file), state."""
    upload = params.get("profile")
    carried = [(k, str(v)) for k, v in params.multi_items() if k in _STATE_KEYS or k.startswith("a.")]
    return Form(
        documents=[str(d) for d in params.getlist("doc") if str(d)],
        as_of_text=str(params.get("as_of") or ""),
        example=str(params.get("example") or ""),
        upload=upload if isinstance(upload, UploadFile) and upload.filename else None,
        carried=carried,
    )


def examples() -> dict[str, Path]:
    """The example profiles (``huiqi examples``): file stem → path."""
    from huiqi.locations import default_examples_dir

    folder = default_examples_dir() / "profiles"
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def _comparable(policy: PolicyEngine, on: dt.date) -> list[DocumentSummary]:
    """The documents worth comparing: those with at least one rule."""
    return [s for s in summaries(policy.base, on) if s.rules]


def _defaults(found: list[DocumentSummary], entity_type: str) -> list[str]:
    """Checked when nothing is chosen yet: in force or draft, with rules for the entity type."""
    return [s.id for s in found if s.status.value in _DEFAULT_STATUSES and entity_type in s.beneficiaries]


@dataclass
class Column:
    """One document of the comparison: its result, totals and the provisions that concern the profile."""

    summary: DocumentSummary
    result: DocumentResult
    totals: Totals
    provisions: list[tuple[ProvisionResult, list[RuleResult], Totals]]
    counts: dict[Status, int]
    missing: list[str]


def _columns(evaluation: Evaluation, found: dict[str, DocumentSummary]) -> list[Column]:
    columns = []
    for document in evaluation.documents:
        provisions = []
        counts = dict.fromkeys(Status, 0)
        missing: list[str] = []
        for provision in document.provisions:
            rules = [r for r in provision.rules if r.status is not Status.NOT_APPLICABLE]
            if not rules:
                continue
            provisions.append((provision, rules, Totals.of(rules)))
            counts[provision.status] += 1
            for rule in rules:
                if rule.status is Status.NEEDS_INFORMATION:
                    missing.extend(m.label() for m in rule.missing if m.label() not in missing)
        columns.append(Column(found[document.document], document, document.totals, provisions, counts, missing))
    return columns


def _profile(policy: PolicyEngine, form: Form, data: bytes | None) -> tuple[Profile, str]:
    """The profile to compare and where it came from, in words; problems are ``ProfileError`` in Chinese."""
    catalogue = policy.base.catalogue
    if data is not None and form.upload is not None:
        from huiqi.userfiles.structured import load_json_text, load_yaml_text
        from huiqi.userfiles.text import decode_text

        name = Path(form.upload.filename or "档案").name
        if len(data) > MAX_UPLOAD:
            raise ProfileError(f"档案文件过大（{len(data) // 1024} KB）：档案应小于 1 MB", where=name)
        text = decode_text(data, where=name, what="档案文件", error=ProfileError)
        if not text.strip():
            raise ProfileError("档案文件为空", where=name)
        load = load_json_text if name.lower().endswith(".json") else load_yaml_text
        raw = load(text, where=name, error=ProfileError)
        return parse_profile(raw, catalogue, where=name), f"上传的档案 {name}"
    if form.example:
        path = examples().get(form.example)
        if path is None:
            raise ProfileError(f"没有名为 {form.example!r} 的示例档案", where="example")
        return load_profile_file(path, catalogue), f"示例档案 {form.example}"
    if form.answers or form.carried:
        region = dict(REGIONS).get(form.region, ())
        kind, parsed = questionnaire(policy).parse_answers(form.entity_type, form.answers)
        facts: dict[str, Any] = {}
        for answer in parsed:
            if answer.unsure:
                continue
            if answer.ref.year is None:
                facts[answer.ref.fact] = answer.value
            else:
                facts.setdefault(answer.ref.fact, {})[answer.ref.year] = answer.value
        where = form.region or "地区不清楚"
        return Profile(entity_type=kind, facts=facts, region=region), f"政策计算器的回答（{len(parsed)} 项，{where}）"
    raise ProfileError("请上传主体档案（YAML 或 JSON），选择一个示例档案，或从政策计算器的结果进入", where="profile")


def _form_page(request: Request, form: Form, *, status_code: int = 200) -> HTMLResponse:
    policy: PolicyEngine = request.app.state.policy
    found = _comparable(policy, form.as_of)
    chosen = form.documents if form.documents or form.errors else _defaults(found, form.entity_type)
    return render(request, "compare/form.html", status_code=status_code, form=form, documents=found, chosen=chosen,
                  examples=list(examples()), entity_labels=ENTITY_LABELS)  # fmt: skip


@router.get("/compare", response_class=HTMLResponse)
def compare_form(request: Request) -> HTMLResponse:
    """政策比较：选择要比较的文件和主体档案（上传、示例，或来自政策计算器）。"""
    return _form_page(request, _read(request.query_params))


@router.get("/compare/result", response_class=HTMLResponse)
def compare_link(request: Request) -> Response:
    """比较结果（示例档案或政策计算器的回答，可收藏或转发的地址）。"""
    return _result(request, _read(request.query_params), None)


@router.post("/compare/result", response_class=HTMLResponse)
async def compare_upload(request: Request) -> Response:
    """比较结果（上传的档案）。"""
    async with request.form() as submitted:  # closes the uploaded file after
        form = _read(submitted)
        data = await form.upload.read(MAX_UPLOAD + 1) if form.upload is not None else None
    return _result(request, form, data)


@router.get("/compare/result.json", response_model=None)
def compare_json_link(request: Request) -> Response:
    """比较结果（JSON，huiqi.evaluation 格式，与 huiqi evaluate --any-jurisdiction --format json 相同）。"""
    return _result(request, _read(request.query_params), None, as_json=True)


@router.post("/compare/result.json", response_model=None)
async def compare_json_upload(request: Request) -> Response:
    """比较结果（JSON；上传的档案）。"""
    async with request.form() as submitted:
        form = _read(submitted)
        data = await form.upload.read(MAX_UPLOAD + 1) if form.upload is not None else None
    return _result(request, form, data, as_json=True)


def _result(request: Request, form: Form, data: bytes | None, *, as_json: bool = False) -> Response:
    policy: PolicyEngine = request.app.state.policy
    found = {s.id: s for s in _comparable(policy, form.as_of)}
    unknown = [doc for doc in form.documents if doc not in found]
    if not form.documents or unknown:
        form.errors["doc"] = (
            "请至少选择一个要比较的文件" if not form.documents else f"没有这些文件：{'、'.join(unknown)}"
        )
    if form.as_of_text:
        try:
            dt.date.fromisoformat(form.as_of_text)
        except ValueError:
            form.errors["as_of"] = "评价日应为日期，如 2024-06-30"
    try:
        profile, source = _profile(policy, form, data)
    except HuiqiError as exc:
        field_name = "answers" if form.answers and data is None and not form.example else "profile"
        where = f"（{exc.where}）" if exc.where and field_name == "profile" else ""
        form.errors[field_name] = f"{exc.message}{where}"
    if form.errors:
        return _form_page(request, form, status_code=422)
    options = Options(as_of=form.as_of, documents=tuple(form.documents), any_jurisdiction=True, suggestions=False)
    try:
        evaluation = policy.engine.evaluate(profile, options)
    except HuiqiError as exc:
        return render(request, "error.html", status_code=422, title="无法比较", message=exc.message)
    if as_json:
        from huiqi.api.routes.evaluation import json_response

        response = json_response(evaluation.to_json())
        response.headers["Content-Disposition"] = attachment("政策比较结果.json", fallback="comparison")
        return response
    columns = _columns(evaluation, found)
    return render(request, "compare/result.html", form=form, source=source, profile=profile, columns=columns,
                  evaluation=evaluation, status_labels=STATUS_LABELS, entity_labels=ENTITY_LABELS,
                  Status=Status)  # fmt: skip
