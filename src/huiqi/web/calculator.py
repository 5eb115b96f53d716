"""政策计算器 (no sign-in): entity type and region, then one deciding question at a time (htmx), the results
so far beside it, and the result as a printable page, a PDF and the evaluation JSON.

The session's state is the URL (entity type, region, date, and each answer as ``a.<question key>``): nothing
is stored, a result can be bookmarked or sent, and every page works without JavaScript (htmx only swaps
the calculator's part of the page instead of loading it whole). The logic is ``huiqi.engine.questions``,
the same as ``POST /api/v1/questions`` and ``huiqi ask``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from huiqi import beijing
from huiqi.api.routes.questions import questionnaire
from huiqi.engine.evaluate import Options
from huiqi.engine.questions import MONEY_CHOICES, UNSURE, Question, Step
from huiqi.engine.results import STATUS_LABELS, RuleResult, Totals
from huiqi.errors import HuiqiError
from huiqi.facts.catalogue import ENTITY_LABELS, EntityType
from huiqi.web.downloads import attachment
from huiqi.web.templating import render, render_text

router = APIRouter()

#: The places a session can start from: (label, region path). Each document's jurisdiction is in one of
#: them (a test checks it), so every policy of the base can be reached; 其他地区 meets none of them.
REGIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("江苏省 苏州市", ("江苏省", "苏州市")),
    ("广东省 广州市", ("广东省", "广州市")),
    ("新疆维吾尔自治区 乌鲁木齐市", ("新疆维吾尔自治区", "乌鲁木齐市")),
    ("新疆维吾尔自治区（其他市县）", ("新疆维吾尔自治区",)),
    ("浙江省", ("浙江省",)),
    ("其他地区", ("其他地区",)),
)
_REGION_BY_LABEL = dict(REGIONS)
_UNIT = re.compile(r"(亿元|万元|元|亿|万)\s*$")


class Session:
    """The calculator's state read from the query string."""

    def __init__(self, request: Request) -> None:
        query = request.query_params
        self.entity_type = query.get("entity_type", "enterprise")
        self.region = query.get("region", "")
        self.as_of_text = query.get("as_of", "")
        # the form sends drafts=0 (hidden) and drafts=1 (the box, when ticked); a link without it includes drafts
        self.drafts = "1" in query.getlist("drafts") or "drafts" not in query
        self.answers: dict[str, Any] = {}
        for key, value in query.multi_items():
            if key.startswith("a."):
                self.answers[key[2:]] = [*self.answers[key[2:]], value] if key[2:] in self.answers else value
        self.edit = query.get("edit")
        self.error: str | None = None
        self.typed: dict[str, Any] = {}
        new_key = query.get("q")
        if new_key:
            self._take(new_key, query.getlist("v"), query.get("unit", MONEY_CHOICES[0]), query.get("unsure") == "1")

    def _take(self, key: str, values: list[str], unit: str, unsure: bool) -> None:
        """The answer just submitted: 不清楚, several choices (joined with 、), or one value."""
        self.typed = {"key": key, "values": values, "unit": unit}
        filled = [v.strip() for v in values if v.strip()]
        if unsure:
            self.answers[key] = UNSURE
        elif not filled:
            self.error = "请填写回答；不知道请点“不清楚”"
        else:
            self.answers[key] = "、".join(filled)

    @property
    def region_path(self) -> tuple[str, ...]:
        return _REGION_BY_LABEL.get(self.region, ())

    @property
    def as_of(self) -> dt.date:
        try:
            return dt.date.fromisoformat(self.as_of_text) if self.as_of_text else beijing.today()
        except ValueError:
            return beijing.today()

    def state(self, **override: Any) -> list[tuple[str, str]]:
        """The query items of this session (answers as ``a.<key>``), for links and hidden fields."""
        items = [("entity_type", self.entity_type), ("region", self.region), ("as_of", self.as_of.isoformat()),
                 ("drafts", "1" if self.drafts else "0")]  # fmt: skip
        skip = override.get("without")
        for key, value in self.answers.items():
            if key != skip:
                items.append((f"a.{key}", str(value)))
        return items

    def url(self, path: str = "/calculator/session", **override: Any) -> str:
        return f"{path}?{urlencode(self.state(**override))}"

    def options(self) -> Options:
        return Options(as_of=self.as_of, include_drafts=self.drafts)


def registry_url(
    policy: Any, entity_type: str, region: list[str], facts: list[tuple[str, int | None, Any]], *, as_of: dt.date
) -> str:
    """The calculator's session with an entity's registered facts already answered (``/apply/calculator``):
    its type, the closest region, and each fact in force as ``a.<key>`` or ``a.<key>@<year>`` — each one
    checked by the calculator's own parser, so a value it would refuse is asked instead of breaking the page."""
    places = [(label, path) for label, path in REGIONS if tuple(region[: len(path)]) == path]
    label = max(places, key=lambda item: len(item[1]))[0] if places else "其他地区"
    calculator = questionnaire(policy)
    items = [("entity_type", entity_type), ("region", label), ("as_of", as_of.isoformat()), ("drafts", "1")]
    for key, year, value in facts:
        if isinstance(value, bool):
            text = "是" if value else "否"
        elif isinstance(value, list | tuple | set | frozenset):
            text = "、".join(str(v) for v in value) or "无"
        else:
            text = str(value)
        ref = key if year is None else f"{key}@{year}"
        try:
            calculator.parse_answers(entity_type, {ref: text})
        except HuiqiError:
            continue
        items.append((f"a.{ref}", text))
    return f"/calculator/session?{urlencode(items)}"


def _step(request: Request, session: Session, *, relevance: bool = True) -> Step:
    calculator = questionnaire(request.app.state.policy)
    answers = dict(session.answers)
    money = _money_questions(calculator, answers)
    for key in money:  # a bare number in the money field takes the unit chosen beside it
        value = str(answers[key])
        if value and value != UNSURE and not _UNIT.search(value) and session.typed.get("key") == key:
            answers[key] = f"{value}{session.typed.get('unit') or MONEY_CHOICES[0]}"
    session.answers = answers
    return calculator.step(session.entity_type, session.region_path, answers, session.options(), relevance=relevance)


def _money_questions(calculator: Any, answers: dict[str, Any]) -> list[str]:
    from huiqi.expr.ast import Type

    found = []
    for key in answers:
        fact = calculator.catalogue.get(key.partition("@")[0])
        if fact is not None and fact.type is Type.MONEY:
            found.append(key)
    return found


def _context(request: Request, session: Session, step: Step | None, question: Question | None) -> dict[str, Any]:
    evaluation = step.evaluation if step else None
    documents: list[dict[str, Any]] = []
    shown: list[RuleResult] = []
    if evaluation is not None:
        for document in evaluation.documents:
            rules = [r for p in document.provisions for r in p.rules if r.status.value != "not_applicable"]
            if rules:
                documents.append({"result": document, "rules": rules, "totals": Totals.of(rules)})
                shown.extend(rules)
    totals = Totals.of(shown)
    return {
        "session": session,
        "step": step,
        "question": question,
        "documents": documents,
        "totals": totals,
        "status_labels": STATUS_LABELS,
        "entity_labels": {e.value: ENTITY_LABELS[e.value] for e in EntityType},
        "regions": [label for label, _ in REGIONS],
        "money_units": MONEY_CHOICES,
        "unsure": UNSURE,
    }


@router.get("/calculator", response_class=HTMLResponse)
def start(request: Request) -> HTMLResponse:
    """政策计算器：选择主体类型和所在地区。"""
    session = Session(request)
    return render(request, "calculator/start.html", **_context(request, session, None, None))


@router.get("/calculator/session", response_class=HTMLResponse)
def session_page(request: Request) -> HTMLResponse:
    """下一个问题（或修改一个已答的问题）与目前的结果；htmx 请求只返回计算器部分。"""
    session = Session(request)
    status = 200
    try:
        if session.error:
            raise HuiqiError(session.error, where=f"answers.{session.typed['key']}")
        step = _step(request, session)
    except HuiqiError as exc:
        if exc.where == "entity_type" or not session.typed:
            return render(request, "error.html", status_code=422, title="无法开始计算", message=exc.message)
        # the answer just typed is refused: ask it again, with the message beside the field and the text kept
        session.error = exc.message
        key = session.typed["key"]
        session.answers.pop(key, None)
        try:
            step = _step(request, session)
        except HuiqiError as earlier:  # an answer in the address itself is wrong
            return render(request, "error.html", status_code=422, title="无法计算", message=earlier.message)
        question = next((q for q in step.open if q.key == key), step.question)
        status = 200 if request.headers.get("HX-Request") else 422
        return _page(request, session, step, question, status)
    question = step.question
    if session.edit:
        question = _editing(request, session, session.edit) or question
    return _page(request, session, step, question, status)


def _editing(request: Request, session: Session, key: str) -> Question | None:
    """The question behind an answer to change: asked again with the answer taken back."""
    without = dict(session.answers)
    previous = without.pop(key, None)
    session.typed = {"key": key, "values": [] if previous in (None, UNSURE) else [str(previous)], "unit": ""}
    calculator = questionnaire(request.app.state.policy)
    step = calculator.step(session.entity_type, session.region_path, without, session.options())
    return next((q for q in step.open if q.key == key), None)


def _page(request: Request, session: Session, step: Step, question: Question | None, status: int) -> HTMLResponse:
    context = _context(request, session, step, question)
    if request.headers.get("HX-Request"):
        response = render(request, "calculator/_session.html", status_code=status, **context)
        response.headers["HX-Push-Url"] = session.url()
        return response
    return render(request, "calculator/session.html", status_code=status, **context)


@router.get("/calculator/print", response_class=HTMLResponse)
def printable(request: Request) -> HTMLResponse:
    """可打印的计算结果（每条的状态、金额或上限、原文、判断过程、尚缺信息）。"""
    session = Session(request)
    try:
        step = _step(request, session, relevance=False)
    except HuiqiError as exc:
        return render(request, "error.html", status_code=422, title="无法计算", message=exc.message)
    return render(request, "calculator/print.html", **_context(request, session, step, None))


@router.get("/calculator/result.pdf", response_model=None)
def result_pdf(request: Request) -> Response:
    """计算结果（PDF，与可打印页同一模板）。"""
    from huiqi.web.publicity import pdf_of

    session = Session(request)
    try:
        step = _step(request, session, relevance=False)
    except HuiqiError as exc:
        return render(request, "error.html", status_code=422, title="无法计算", message=exc.message)
    html = render_text("calculator/print.html", request=request, path=request.url.path, pdf=True,
                       **_context(request, session, step, None))  # fmt: skip
    return Response(pdf_of(html), media_type="application/pdf",
                    headers={"Content-Disposition": attachment("政策计算结果.pdf", fallback="result")})  # fmt: skip


@router.get("/calculator/result.json", response_model=None)
def result_json(request: Request) -> Response:
    """计算结果（JSON，huiqi.evaluation 格式，与 huiqi evaluate --format json 相同）。"""
    from huiqi.api.routes.evaluation import json_response

    session = Session(request)
    try:
        step = _step(request, session, relevance=False)
    except HuiqiError as exc:
        return render(request, "error.html", status_code=422, title="无法计算", message=exc.message)
    response = json_response(step.evaluation.to_json())
    response.headers["Content-Disposition"] = attachment("政策计算结果.json", fallback="result")
    return response
