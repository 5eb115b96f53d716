"""模拟测算：上传名册或合成名册，模拟、改革、比较、预算分配.

For analysts (and officials, administrators, finance): choose a registry — an uploaded CSV/Excel file checked
cell by cell by ``huiqi.population.importer`` (the same as ``huiqi population import``), or a synthetic one
(``huiqi.population.generate``) — and run a simulation, a reform, a comparison or a budget allocation through
``huiqi.population.pipeline.run_plan``, the function behind ``huiqi simulate``. The run goes to the background
runner (``huiqi.web.jobs``): the POST answers at once with a redirect to the job's page, which polls its
progress (htmx, every second) and then shows the engine's tables, its PNG charts and the downloads (the
engine's ``summary.xlsx`` and CSV files). A job is its owner's: anyone else's job id is 未找到.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from huiqi.api.config import Settings
from huiqi.api.deps import require
from huiqi.errors import HuiqiError
from huiqi.money import parse_money
from huiqi.population.labels import column_label, display, wan_text
from huiqi.population.report import Report
from huiqi.store.errors import Conflict, NotFound, PermissionDenied
from huiqi.web.downloads import attachment
from huiqi.web.jobs import Job, JobRunner
from huiqi.web.sessions import SIMULATION_ROLES, check_csrf, signed_in
from huiqi.web.templating import render
from huiqi.workflow.actors import Actor
from huiqi.workflow.policy import PolicyEngine

router = APIRouter()
SignedIn = Annotated[Actor, Depends(signed_in)]

ROLES = SIMULATION_ROLES
MODES = {"simulate": "政策模拟", "reform": "改革方案", "compare": "多文件比较", "budget": "预算分配"}
SUFFIXES = (".csv", ".xlsx", ".xls")
SIZES = (100, 100_000)  # synthetic registry: entities
SHOWN_ROWS = 50
#: ``set`` paths of a reform the form offers (docs/population.md has the rest; the engine checks them)
SET_PATHS = {"benefit.rate": "奖励比例（如 15%）", "benefit.ceiling": "奖励上限（如 150万元）",
             "benefit.amount": "奖励金额（如 60万元）"}  # fmt: skip
#: columns holding a document id (or document:provision): shown by the document's short title
DOCUMENT_COLUMNS = ("document", "best_document", "target")
#: headers said more precisely on the page than the engine's short label
HEADERS = {"delta_fen": "最高可达合计变化"}
ALLOCATIONS = {"pro_rata": "按比例", "ranking": "排序择优"}
MONEY_UNITS = ("元", "万元", "亿元")
_lock = threading.Lock()


def runner(request: Request) -> JobRunner:
    """The app's job runner, made on first use (two workers: other users' pages never wait on a run)."""
    state = request.app.state
    with _lock:
        if getattr(state, "simulation_jobs", None) is None:
            state.simulation_jobs = JobRunner(max_workers=2)
        jobs: JobRunner = state.simulation_jobs
    return jobs


# ---------------------------------------------------------------------------------------------- the form


@dataclass
class Form:
    """What the analyst chose; ``errors`` maps a field to its Chinese message."""

    source: str = "synthetic"
    size: str = "2000"
    seed: str = "1"
    years: str = "3"
    money_unit: str = "元"
    mode: str = "simulate"
    documents: list[str] = field(default_factory=list)
    period: str = ""
    as_of: str = ""
    any_jurisdiction: bool = False
    include_drafts: bool = False
    include_expired: bool = False
    rule: str = ""
    replace_old: str = ""
    replace_new: str = ""
    set_path: str = ""
    set_value: str = ""
    target: str = ""
    amount: str = ""
    allocation: str = "pro_rata"
    entities: UploadFile | None = None
    history: UploadFile | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, data: Any) -> Form:
        def text(name: str, default: str = "") -> str:
            value = data.get(name)
            return value.strip() if isinstance(value, str) else default

        def upload(name: str) -> UploadFile | None:
            value = data.get(name)
            return value if isinstance(value, UploadFile) and value.filename else None

        return cls(source=text("source", "synthetic"), size=text("size"), seed=text("seed"), years=text("years"),
                   money_unit=text("money_unit", "元"), mode=text("mode", "simulate"),
                   documents=[d for d in data.getlist("documents") if isinstance(d, str) and d],
                   period=text("period"), as_of=text("as_of"), any_jurisdiction=data.get("any_jurisdiction") == "on",
                   include_drafts=data.get("include_drafts") == "on",
                   include_expired=data.get("include_expired") == "on",
                   rule=text("rule"), replace_old=text("replace_old"), replace_new=text("replace_new"),
                   set_path=text("set_path"), set_value=text("set_value"), target=text("target"),
                   amount=text("amount"), allocation=text("allocation", "pro_rata"), entities=upload("entities"),
                   history=upload("history"))  # fmt: skip


@dataclass(frozen=True)
class Choices:
    """What the form offers: the documents with rules, their rules (reform) and provisions (budget)."""

    documents: dict[str, str]
    rules: list[tuple[str, str]]
    targets: list[tuple[str, str]]

    @classmethod
    def of(cls, policy: PolicyEngine) -> Choices:
        documents, rules, targets = {}, [], []
        for doc_id, compiled in policy.engine.documents.items():
            if not compiled.rules:
                continue
            meta = compiled.loaded.policy.document
            title = meta.short_title or meta.title
            documents[doc_id] = title
            targets.append((doc_id, f"{title}（整个文件）"))
            seen: set[str] = set()
            for rule in compiled.rules:
                if rule.ref != rule.ledger_ref:  # a reading's variant of a rule: the reform names the rule
                    continue
                rules.append((rule.ref, f"{title} 第{rule.provision.id}条 {rule.rule.label}"))
                if rule.provision_ref not in seen:
                    seen.add(rule.provision_ref)
                    targets.append(
                        (rule.provision_ref, f"{title} 第{rule.provision.id}条 {rule.provision.heading or ''}".strip())
                    )
        return cls(documents, rules, targets)


def _int(form: Form, name: str, low: int, high: int, label: str, *, optional: bool = False) -> int | None:
    value = getattr(form, name)
    if value == "" and optional:
        return None
    try:
        number = int(value.replace(",", ""))
    except ValueError:
        form.errors[name] = f"{label}应为整数（{low:,}–{high:,}）"
        return None
    if not low <= number <= high:
        form.errors[name] = f"{label}应在 {low:,} 到 {high:,} 之间"
        return None
    return number


@dataclass
class Request_:
    """A checked form: what the job runs."""

    plan: dict[str, Any]
    source: str
    size: int = 0
    seed: int = 0
    years: int = 0
    title: str = ""


def _check(form: Form, choices: Choices) -> Request_ | None:
    """The job to run, or None with ``form.errors`` said next to each field."""
    from huiqi.population.budget import Budget
    from huiqi.population.reform import Override, Reform

    if form.mode not in MODES:
        form.errors["mode"] = "请选择测算类型"
    if form.source not in ("synthetic", "upload"):
        form.errors["source"] = "请选择名册来源"
    request = Request_(plan={}, source=form.source)
    if form.source == "synthetic":
        request.size = _int(form, "size", *SIZES, "主体数量") or 0
        request.seed = _int(form, "seed", 0, 2**31 - 1, "随机种子") or 0
        request.years = _int(form, "years", 1, 10, "历史年数") or 0
    elif form.source == "upload":
        for name, upload in (("entities", form.entities), ("history", form.history)):
            if upload is not None and not (upload.filename or "").lower().endswith(SUFFIXES):
                form.errors[name] = "只接受 .csv（UTF-8 或 GBK）、.xlsx 或 .xls 文件"
        if form.entities is None:
            form.errors["entities"] = "请选择主体表文件（.csv、.xlsx 或 .xls）"
        if form.money_unit not in MONEY_UNITS:
            form.errors["money_unit"] = "金额单位应为 元、万元 或 亿元"
    period = _int(form, "period", 2000, 2100, "评价年度", optional=True)
    as_of = None
    if form.as_of:
        try:
            as_of = dt.date.fromisoformat(form.as_of)
        except ValueError:
            form.errors["as_of"] = "评价日应为日期，如 2024-06-30"
    unknown = [d for d in form.documents if d not in choices.documents]
    if unknown:
        form.errors["documents"] = f"没有这些文件：{'、'.join(unknown)}"
    plan: dict[str, Any] = {"documents": list(form.documents), "as_of": as_of, "period": period,
                            "any_jurisdiction": form.any_jurisdiction, "include_drafts": form.include_drafts,
                            "include_expired": form.include_expired}  # fmt: skip
    if form.mode == "compare":
        if len(form.documents) < 2:
            form.errors["documents"] = "多文件比较请至少选择两个文件"
        plan["compare"], plan["documents"] = list(form.documents), []
    elif form.mode == "reform":
        rules = dict(choices.rules)
        if form.rule not in rules:
            form.errors["rule"] = "请选择要修改的规则"
        replace: tuple[tuple[str, str], ...] = ()
        if form.replace_old or form.replace_new:
            if not (form.replace_old and form.replace_new):
                form.errors["replace_new"] = "替换门槛时请同时填写原数值和新数值，如 2000万元 → 800万元"
            replace = ((form.replace_old, form.replace_new),)
        assign: tuple[tuple[str, Any], ...] = ()
        if form.set_path or form.set_value:
            if form.set_path not in SET_PATHS:
                form.errors["set_path"] = "请选择要设置的字段"
            elif not form.set_value:
                form.errors["set_value"] = f"请填写新的{SET_PATHS[form.set_path].split('（')[0]}"
            assign = ((form.set_path, form.set_value),)
        if not replace and not assign and "rule" not in form.errors:
            form.errors["replace_old"] = "请至少填写一项修改：替换门槛（原数值→新数值），或设置比例、上限、金额"
        override = Override(target=form.rule, kind="rule", replace=replace, set=assign, where="改革方案表单")
        parts = [f"{old}→{new}" for old, new in replace] + [f"{SET_PATHS.get(p, p).split('（')[0]}={v}"
                                                           for p, v in assign]  # fmt: skip
        plan["reform"] = Reform(name=f"{rules.get(form.rule, form.rule)}：{'，'.join(parts)}", overrides=[override])
    elif form.mode == "budget":
        targets = dict(choices.targets)
        if form.target not in targets:
            form.errors["target"] = "请选择预算对象（文件或条款）"
        if form.allocation not in ALLOCATIONS:
            form.errors["allocation"] = "请选择分配规则"
        amount = 0
        try:
            amount = parse_money(form.amount, default_unit="万元", where="amount")
            if amount <= 0:
                form.errors["amount"] = "预算金额应大于0"
        except HuiqiError as exc:
            form.errors["amount"] = exc.message
        document = form.target.split(":", 1)[0]
        if not plan["documents"] and document in choices.documents:
            plan["documents"] = [document]
        elif form.target and document not in plan["documents"] and "documents" not in form.errors:
            form.errors["target"] = "预算对象须在所选文件之内（或不选文件，只评估预算对象所在的文件）"
        plan["budgets"] = [Budget(form.target, amount, form.allocation, "amount", "预算表单")]
    if form.errors:
        return None
    request.plan = plan
    request.title = MODES[form.mode]
    return request


# ---------------------------------------------------------------------------------------------- the job


@dataclass(frozen=True)
class ShownTable:
    """A summary table as the page shows it (text already formatted; money in 万元, ceilings as 最高…)."""

    title: str
    name: str
    headers: list[str]
    numeric: list[bool]
    rows: list[list[str]]
    total: int


@dataclass(frozen=True)
class Results:
    """What the job page shows: the engine's report in words, its charts and its files."""

    title: str
    notes: list[str]
    tables: list[ShownTable]
    charts: list[tuple[str, str]]  # (file stem, title)
    files: list[tuple[str, str]]  # (file name, what it is)


def _is_ceiling(name: str) -> bool:
    label = column_label(name)
    return "上限" in label or "最高可达" in label


def _cell(name: str, value: Any, titles: dict[str, str]) -> str:
    if name.endswith("_fen"):
        if value is None or (value == 0 and _is_ceiling(name)):
            return "—"
        text = f"{wan_text(int(value))}万元"
        return f"最高{text}" if _is_ceiling(name) else text
    if name in DOCUMENT_COLUMNS and isinstance(value, str):
        document, colon, provision = value.partition(":")
        return f"{titles.get(document, document)}{colon and ' 第'}{provision}{colon and '条'}"
    return display(name, value)


def shown_table(title: str, name: str, data: pa.Table, columns: tuple[str, ...], titles: dict[str, str]) -> ShownTable:
    """A report table as the page shows it: the columns the command line prints, the first rows."""
    names = list(columns) or data.column_names
    if "provision_label" in names:  # the heading carries the number (第三条 …, 1. …): one column for both
        names = [n for n in names if n != "provision"]
    headers = [HEADERS.get(n) or column_label(n).replace("（万元）", "") for n in names]
    numeric = [n.endswith("_fen") or pa.types.is_integer(data.schema.field(n).type) for n in names]
    rows = [[_cell(n, row[n], titles) for n in names] for row in data.slice(0, SHOWN_ROWS).to_pylist()]
    return ShownTable(title, name, headers, numeric, rows, data.num_rows)


def results_of(report: Report, out: Path) -> Results:
    tables = [shown_table(t.title, t.name, t.data, t.console, report.titles) for t in report.tables if t.console]
    charts = [(c.name, c.title) for c in report.charts if (out / "charts" / f"{c.name}.png").exists()]
    files = [("summary.xlsx", "全部汇总表（Excel）")]
    files += [(f"{t.name}.csv", f"{t.title}（CSV）") for t in report.tables]
    files += [(f"{e.name}.csv", f"{e.title}（CSV）") for e in report.exports]
    notes = [
        line.replace("加 --include-drafts 纳入", "勾选“包括征求意见稿”可纳入").replace(
            "加 --include-expired 纳入", "勾选“包括已失效或未生效的文件”可纳入"
        )
        for line in report.notes
    ]
    return Results(report.title, notes, tables, charts, files)


def _save(upload: UploadFile, folder: Path, taken: set[str], limit_mb: int) -> Path:
    """The uploaded file in the job's folder under its own name (so that an error names the user's file)."""
    original = Path(upload.filename or "登记表.csv")
    name = re.sub(r"[^\w.（）()\-]", "_", original.stem)[:60] + original.suffix.lower()
    while name in taken:
        name = f"另一_{name}"
    taken.add(name)
    path = folder / name
    size = 0
    with path.open("wb") as target:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            if size > limit_mb << 20:
                raise Conflict(f"文件 {upload.filename} 超过 {limit_mb} MiB，请拆分后再上传", where="entities")
            target.write(chunk)
    if size == 0:
        raise Conflict(f"文件 {upload.filename} 是空的，请选择登记表文件", where="entities")
    return path


#: the command line's options as the form names them (in the engine's messages)
OPTION_WORDS = (("history.parquet 没有任何年度数据", "名册没有年度数据（未上传年度表或年度表为空）"), ("请用 --period 指定", "请填写“评价年度”"), ("--period", "评价年度"), ("（或用 -d 指定文件）", "（或勾选文件）"),
                ("--document", "文件"), ("--include-drafts", "“包括征求意见稿”"),
                ("--include-expired", "“包括已失效或未生效的文件”"), ("--population", "名册"), ("--reform", "改革方案"),
                ("--budget", "预算"))  # fmt: skip


_COLUMN = re.compile(r"列 ([a-z][a-z0-9_]*)")


def _column_name(policy: PolicyEngine, key: str) -> str:
    fact = policy.base.catalogue.get(key)
    return f"列 {fact.name}（{key}）" if fact is not None else f"列 {key}"


def _in_form_words(text: str) -> str:
    for option, words in OPTION_WORDS:
        text = text.replace(option, words)
    return text


def _work(policy: PolicyEngine, request: Request_, files: dict[str, Path], money_unit: str) -> Any:
    """The job: the registry (imported or generated), then ``run_plan`` — the CLI's own pipeline."""
    from huiqi.population.generate import generate
    from huiqi.population.importer import import_population
    from huiqi.population.pipeline import Plan, run_plan

    titles = {d: c.loaded.policy.document.short_title or c.loaded.policy.document.title
              for d, c in policy.engine.documents.items()}  # fmt: skip

    def work(job: Job) -> Results:
        population = job.folder / "population"
        if request.source == "synthetic":
            job.report(f"生成合成名册（{request.size:,} 个主体，{request.years} 年历史，种子 {request.seed}）")
            made = [0]

            def generated(count: int) -> None:
                made[0] += count
                job.report(f"已生成 {made[0]:,} / {request.size:,} 个主体")

            generate(policy.engine, population, n=request.size, years=request.years, seed=request.seed,
                     period=request.plan["period"] or 2023, progress=generated)  # fmt: skip
            label = f"合成名册（种子 {request.seed}，{request.years} 年历史）"
        else:
            names = "、".join(p.name for p in files.values())
            job.report(f"逐格检查并导入 {names}")
            try:
                import_population(policy.base.catalogue, entities=files["entities"], history=files.get("history"),
                                  ledger=None, out=population, money_unit=money_unit)  # fmt: skip
            except HuiqiError as exc:  # the column as the file names it: the fact's Chinese name
                exc.where = _COLUMN.sub(lambda m: _column_name(policy, m.group(1)), exc.where or "") or None
                raise
            label = f"上传的名册 {names}"

        @contextmanager
        def steps(total: int) -> Iterator[Any]:
            done = [0]
            job.report(f"评估中（共 {total} 步）")

            def step(document: str) -> None:
                done[0] += 1
                job.report(f"已评估 {titles.get(document, document)}（{done[0]}/{total}）")
                if done[0] == total:
                    job.report("汇总并写出表格、图表和 Excel")

            yield step

        plan = Plan(population, population_label=label, **request.plan)
        out = job.folder / "out"
        try:
            report, _files = run_plan(plan, policy.base, policy.engine, out, progress=steps)
        except HuiqiError as exc:  # the engine names the command line's options: say the form's fields
            exc.message, exc.where = _in_form_words(exc.message), _in_form_words(exc.where or "") or None
            raise
        return results_of(report, out)

    return work


# ---------------------------------------------------------------------------------------------- routes


def _form_page(request: Request, actor: Actor, form: Form, *, status_code: int = 200) -> HTMLResponse:
    policy: PolicyEngine = request.app.state.policy
    response = render(request, "simulate/form.html", status_code=status_code, form=form,
                      choices=Choices.of(policy), modes=MODES, set_paths=SET_PATHS, allocations=ALLOCATIONS,
                      money_units=MONEY_UNITS, sizes=SIZES, upload_mb=_upload_mb(request),
                      jobs=runner(request).jobs_of(actor.username))  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


def _upload_mb(request: Request) -> int:
    """The largest upload the server takes (``Settings.max_upload_mb``, enforced first by huiqi.api.security)."""
    settings: Settings = request.app.state.settings
    return settings.max_upload_mb


def _refused(request: Request, exc: NotFound | PermissionDenied) -> HTMLResponse:
    title, status = ("未找到", 404) if isinstance(exc, NotFound) else ("无权访问", 403)
    return render(request, "error.html", status_code=status, title=title, message=exc.message)


@router.get("/simulate", response_class=HTMLResponse, response_model=None)
def simulate_form(request: Request, actor: SignedIn) -> Response:
    """模拟测算：选择名册和测算类型。"""
    try:
        require(actor, *ROLES)
    except PermissionDenied as exc:
        return _refused(request, exc)
    return _form_page(request, actor, Form())


@router.post("/simulate", response_class=HTMLResponse, response_model=None)
async def simulate_submit(request: Request, actor: SignedIn) -> Response:
    """提交测算：检查表单，交给后台运行，转到测算页面（立即返回）。"""
    async with request.form() as submitted:
        check_csrf(request, submitted.get("csrf_token") if isinstance(submitted.get("csrf_token"), str) else None)  # type: ignore[arg-type]
        try:
            require(actor, *ROLES)
        except PermissionDenied as exc:
            return _refused(request, exc)
        form = Form.read(submitted)
        policy: PolicyEngine = request.app.state.policy
        checked = _check(form, Choices.of(policy))
        if checked is None:
            return _form_page(request, actor, form, status_code=400)
        files: dict[str, Path] = {}

        def prepare(job: Job) -> None:
            taken: set[str] = set()
            for name, upload in (("entities", form.entities), ("history", form.history)):
                if checked.source == "upload" and upload is not None:
                    files[name] = _save(upload, job.folder, taken, _upload_mb(request))

        try:
            job = runner(request).submit(actor.username, checked.title,
                                         _work(policy, checked, files, form.money_unit), prepare=prepare)  # fmt: skip
        except Conflict as exc:
            form.errors[exc.where if exc.where in ("entities", "history") else "mode"] = exc.message
            return _form_page(request, actor, form, status_code=409)
    return RedirectResponse(f"/simulate/jobs/{job.id}", status_code=303)


def _job(request: Request, actor: Actor, job_id: str) -> Job:
    require(actor, *ROLES)
    return runner(request).get(job_id, actor.username)


@router.get("/simulate/jobs/{job_id}", response_class=HTMLResponse, response_model=None)
def job_page(request: Request, actor: SignedIn, job_id: str) -> Response:
    """一项测算：进度，完成后为结果（表格、图表、下载）。"""
    try:
        job = _job(request, actor, job_id)
    except (NotFound, PermissionDenied) as exc:
        return _refused(request, exc)
    response = render(request, "simulate/job.html", job=job)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/simulate/jobs/{job_id}/progress", response_class=HTMLResponse, response_model=None)
def job_progress(request: Request, actor: SignedIn, job_id: str) -> Response:
    """进度片段（htmx 每秒取一次）；完成后让页面刷新，显示结果。"""
    try:
        job = _job(request, actor, job_id)
    except (NotFound, PermissionDenied) as exc:
        return _refused(request, exc)
    response = render(request, "simulate/progress.html", job=job)
    if job.done:
        response.headers["HX-Refresh"] = "true"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/simulate/jobs/{job_id}/files/{name}", response_model=None)
def job_file(request: Request, actor: SignedIn, job_id: str, name: str) -> Response:
    """下载测算结果：summary.xlsx（引擎写出的工作簿）或某一表格的 CSV。"""
    try:
        job = _job(request, actor, job_id)
        results = job.result if isinstance(job.result, Results) else None
        listed = dict(results.files) if results is not None else {}
        if name not in listed or not (job.folder / "out" / name).is_file():
            raise NotFound(f"没有这个文件：{name}", where="file")
    except (NotFound, PermissionDenied) as exc:
        return _refused(request, exc)
    filename = f"模拟测算-{listed[name].split('（')[0]}{Path(name).suffix}"
    media = "text/csv; charset=utf-8" if name.endswith(".csv") else None
    return FileResponse(job.folder / "out" / name, media_type=media,
                        headers={"Content-Disposition": attachment(filename, fallback=Path(name).stem),
                                 "Cache-Control": "no-store"})  # fmt: skip


@router.get("/simulate/jobs/{job_id}/charts/{name}.png", response_model=None)
def job_chart(request: Request, actor: SignedIn, job_id: str, name: str) -> Response:
    """测算结果的图（引擎画的 PNG）。"""
    try:
        job = _job(request, actor, job_id)
        results = job.result if isinstance(job.result, Results) else None
        if results is None or name not in {stem for stem, _ in results.charts}:
            raise NotFound(f"没有这张图：{name}", where="chart")
    except (NotFound, PermissionDenied) as exc:
        return _refused(request, exc)
    return FileResponse(job.folder / "out" / "charts" / f"{name}.png", media_type="image/png",
                        headers={"Cache-Control": "no-store"})  # fmt: skip
