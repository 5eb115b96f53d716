"""政策起草审核: from a new policy text to a reviewed draft, in the browser (issue 15, point 4).

For officials and administrators. ``/drafting``: paste a policy text or upload a .txt (UTF-8 or GBK), .docx or
PDF; the extractor (``huiqi.extract``: ``read_policy_file`` / ``normalise``, ``extract``, ``write_draft`` — the
same functions as ``huiqi extract``) writes a draft folder into the user's own working folder
(``<drafts_dir>/u<user id>/``, the setting ``HUIQI_DRAFTS_DIR``, by default ``drafts/`` next to the SQLite
file). ``/drafting/{draft}``: the source text and the draft side by side — each provision's quote highlighted,
its values with confidence and pattern (``extraction.yaml``), each draft rule as YAML to edit, accept or
reject (writing ``policy.yaml``: accepting removes the “extract 草稿，待审核” mark, as in the CLI review);
validate and the cases run live (``PolicyBase.load`` and ``huiqi.cases.run_all``, as ``huiqi validate`` and
``huiqi cases``); publish through ``huiqi.extract.publish.publish`` with the signed-in user as reviewer and
another official as approver, into the service's policy folder (``HUIQI_POLICIES``) when it is set and
writable. The running service keeps serving the policy base it loaded: a published policy is served after a
restart. A draft is its owner's: anyone else's draft id is 未找到.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from huiqi.api.config import Settings
from huiqi.api.deps import require
from huiqi.errors import HuiqiError
from huiqi.extract.draft import dump
from huiqi.extract.publish import DRAFT_MARK
from huiqi.store.errors import PermissionDenied
from huiqi.store.models import User
from huiqi.web.sessions import check_csrf, signed_in
from huiqi.web.templating import render
from huiqi.workflow.actors import Actor

router = APIRouter()
SignedIn = Annotated[Actor, Depends(signed_in)]

ROLES = ("official", "administrator")
SUFFIXES = (".txt", ".docx", ".pdf")
DRAFT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_TEXT = 200_000
HEADER = "# 政策草稿（huiqi extract 生成，经网页“政策起草审核”编辑）；每个数值的出处见同目录 extraction.yaml。\n"
KIND_LABELS = {"computable": "可计算", "ceiling_only": "仅上限", "case_by_case": "一事一议", "qualitative": "定性",
               "obligation": "义务", "procedure": "程序", "meta": "说明", "informative": "信息"}  # fmt: skip
FIELD_LABELS = {"amount": "金额", "rate": "比例", "threshold": "门槛", "cap": "上限", "count": "数量",
                "duration": "期限", "year_range": "年度", "flag": "标志", "other": "其他"}  # fmt: skip


class DraftMissing(HuiqiError):
    """A draft id that is not one of this user's drafts."""


# ------------------------------------------------------------------------------------------- folders


def drafts_root(settings: Settings) -> Path:
    """Where the service keeps drafts: ``drafts_dir``, else ``drafts/`` next to the SQLite file."""
    if settings.drafts_dir is not None:
        return settings.drafts_dir
    url = settings.database_url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url.removeprefix("sqlite:///")).resolve().parent / "drafts"
    raise HuiqiError("服务未设置草稿目录：请设置 HUIQI_DRAFTS_DIR（一个服务可写的目录）")


def user_folder(request: Request, actor: Actor) -> Path:
    """The signed-in user's working folder (its drafts and their ``_facts/``)."""
    return drafts_root(request.app.state.settings) / f"u{actor.user_id or 0}"


def draft_folder(request: Request, actor: Actor, draft: str) -> Path:
    """This user's draft ``draft``, or ``DraftMissing`` (another's draft is never found)."""
    folder = user_folder(request, actor) / draft
    if not DRAFT_ID.match(draft) or not (folder / "policy.yaml").is_file():
        raise DraftMissing(f"没有这份草稿：{draft}（草稿只有起草人能打开）")
    return folder


def list_drafts(folder: Path) -> list[dict[str, Any]]:
    rows = []
    if folder.is_dir():
        for path in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
            if path.name.startswith("_") or not (path / "policy.yaml").is_file():
                continue
            facts = folder / "_facts" / f"{path.name}.yaml"
            text = (path / "policy.yaml").read_text(encoding="utf-8")
            text += facts.read_text(encoding="utf-8") if facts.exists() else ""
            policy = _load_yaml(path / "policy.yaml")
            title = str((policy.get("document") or {}).get("title") or path.name)
            rows.append({"id": path.name, "title": title, "marks": text.count(DRAFT_MARK),
                         "published": (path / "PUBLISHED.yaml").exists()})  # fmt: skip
    return rows


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return data if isinstance(data, dict) else {}


def _write_policy(folder: Path, policy: dict[str, Any]) -> None:
    (folder / "policy.yaml").write_text(HEADER + dump(policy), encoding="utf-8")


def unmark(note: object) -> str | None:
    """A note with its draft mark removed (what accepting means); None when nothing is left."""
    if not isinstance(note, str):
        return None
    text = note.replace(f"（{DRAFT_MARK}）", "（已审核）")
    text = re.sub(re.escape(DRAFT_MARK) + r"[：:。，,]?\s*", "", text).strip()
    return text or None


# ------------------------------------------------------------------------------------------- pages


def _page_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DraftMissing):
        return render(request, "error.html", status_code=404, title="未找到", message=exc.message)
    if isinstance(exc, PermissionDenied):
        return render(request, "error.html", status_code=403, title="无权访问", message=exc.message)
    message = exc.message if isinstance(exc, HuiqiError) else "操作未完成"
    return render(request, "error.html", status_code=400, title="操作未完成", message=message)


@router.get("/drafting", response_class=HTMLResponse, response_model=None)
def drafting_index(request: Request, actor: SignedIn) -> Response:
    try:
        require(actor, *ROLES)
        return _index(request, actor, {}, "", 200)
    except HuiqiError as exc:
        return _page_error(request, exc)


def _index(request: Request, actor: Actor, errors: dict[str, str], text: str, status: int) -> Response:
    response = render(request, "drafting/index.html", status_code=status, drafts=list_drafts(user_folder(request, actor)),
                      errors=errors, text=text, upload_mb=request.app.state.settings.max_upload_mb)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/drafting", response_model=None)
async def drafting_create(request: Request, actor: SignedIn) -> Response:
    async with request.form() as form:
        return await _create(request, actor, form)


async def _create(request: Request, actor: Actor, form: Any) -> Response:
    token = form.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    try:
        require(actor, *ROLES)
    except HuiqiError as exc:
        return _page_error(request, exc)
    pasted = form.get("text")
    text = pasted.strip() if isinstance(pasted, str) else ""
    upload = form.get("file")
    upload = upload if isinstance(upload, UploadFile) and upload.filename else None
    errors: dict[str, str] = {}
    if not text and upload is None:
        errors["text"] = "请粘贴政策原文，或上传 .txt、.docx 或 PDF 文件"
    elif text and upload is not None:
        errors["file"] = "请只用一种方式：粘贴原文或上传文件（清空文本框后再上传）"
    elif len(text) > MAX_TEXT:
        errors["text"] = f"原文过长（{len(text):,} 字）：最多 {MAX_TEXT:,} 字，请分文件提取"
    elif upload is not None and not (upload.filename or "").lower().endswith(SUFFIXES):
        errors["file"] = "只接受 .txt（UTF-8 或 GBK）、.docx 或带文字层的 PDF 文件"
    if errors:
        return _index(request, actor, errors, text, 400)
    try:
        folder = user_folder(request, actor)
        if upload is not None:
            data = await upload.read(request.app.state.settings.max_upload_mb * 1024 * 1024 + 1)
            if len(data) > request.app.state.settings.max_upload_mb * 1024 * 1024:
                errors["file"] = f"文件超过 {request.app.state.settings.max_upload_mb} MiB"
                return _index(request, actor, errors, "", 400)
            doc_id = _run_extract(folder, data=data, name=upload.filename or "upload.txt")
        else:
            doc_id = _run_extract(folder, text=text)
    except HuiqiError as exc:
        errors["file" if upload is not None else "text"] = exc.message
        return _index(request, actor, errors, text, 400)
    return RedirectResponse(f"/drafting/{doc_id}", status_code=303)


def _run_extract(folder: Path, *, text: str | None = None, data: bytes | None = None, name: str = "") -> str:
    """Extract a pasted text or an uploaded file into ``folder`` (as ``huiqi extract FILE --out folder``)."""
    from huiqi.extract.core import extract
    from huiqi.extract.draft import document_id, write_draft
    from huiqi.extract.reading import ExtractError, normalise, read_policy_file
    from huiqi.locations import default_policies_dir

    if data is not None:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / Path(name).name
            path.write_bytes(data)
            received = read_policy_file(path)
        received.path = Path(name).name
    else:
        assert text is not None
        if not re.search(r"[\u4e00-\u9fff]", text):
            raise ExtractError("原文中没有中文文字：请粘贴政策原文")
        received = normalise(text, path="pasted.txt")
    base = document_id(Path(name or "pasted.txt"), received.text) if data is not None else None
    stem = base or "draft-" + hashlib.sha256(received.text.encode()).hexdigest()[:8]
    doc_id, n = stem, 2
    while (folder / doc_id).exists():
        doc_id, n = f"{stem}-{n}", n + 1
    extraction = extract(received, doc_id=doc_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = write_draft(extraction, folder, doc_id, policies=default_policies_dir())
    policy = _load_yaml(target / "policy.yaml")  # rewritten without the CLI's header (whose text names the mark)
    _write_policy(target, policy)
    return doc_id


@router.get("/drafting/{draft}", response_class=HTMLResponse, response_model=None)
def drafting_page(request: Request, actor: SignedIn, draft: str) -> Response:
    try:
        require(actor, *ROLES)
        folder = draft_folder(request, actor, draft)
        return _draft_page(request, actor, folder, {}, 200)
    except HuiqiError as exc:
        return _page_error(request, exc)


def _draft_page(
    request: Request,
    actor: Actor,
    folder: Path,
    errors: dict[str, str],
    status: int,
    chosen: str = "",
    check: dict[str, Any] | None = None,
    chosen_target: str = "",
    chosen_start: str = "",
    preview: dict[str, Any] | None = None,
) -> Response:
    policy = _load_yaml(folder / "policy.yaml")
    explanation = _load_yaml(folder / "extraction.yaml")
    source = (folder / "source.txt").read_text(encoding="utf-8")
    values = {str(p.get("id")): p.get("values") or [] for p in explanation.get("provisions") or []}
    provisions = []
    for item in policy.get("provisions") or []:
        pid = str(item.get("id"))
        rules = [{"id": str(r.get("id")), "yaml": dump(r), "marked": DRAFT_MARK in dump(r), "label": r.get("label"),
                  "rows": min(30, dump(r).count("\n") + 1)}
                 for r in item.get("rules") or []]  # fmt: skip
        provisions.append({"id": pid, "kind": item.get("kind"), "kind_label": KIND_LABELS.get(str(item.get("kind")), ""),
                           "quote": item.get("quote"), "note": item.get("note"), "rules": rules,
                           "marked": DRAFT_MARK in str(item.get("note") or ""),
                           "found": [dict(v, label=FIELD_LABELS.get(str(v.get("field")), v.get("field")))
                                      for v in values.get(pid, [])]})  # fmt: skip
    document = policy.get("document") or {}
    facts_path = folder.parent / "_facts" / f"{folder.name}.yaml"
    facts_text = facts_path.read_text(encoding="utf-8") if facts_path.exists() else ""
    text = (folder / "policy.yaml").read_text(encoding="utf-8") + facts_text
    response = render(request, "drafting/draft.html", status_code=status, draft=folder.name, document=document,
                      provisions=provisions, pieces=_pieces(source, policy, explanation), errors=errors,
                      marks=text.count(DRAFT_MARK), facts_text=facts_text, document_yaml=dump(document),
                      document_marked=DRAFT_MARK in dump({"d": document, "o": policy.get("omitted")}),
                      approvers=_approvers(request, actor), published=_load_yaml(folder / "PUBLISHED.yaml"),
                      publish_to=request.app.state.settings.policies, chosen=chosen, check=check,
                      documents=published_documents(request.app.state.settings.policies),
                      chosen_target=chosen_target, chosen_start=chosen_start, preview=preview)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


def published_documents(policies: Path | None) -> list[tuple[str, str]]:
    """The documents of the service's policy folder (id, title), for “publish as a new version of”."""
    rows = []
    if policies is not None and policies.is_dir():
        for path in sorted(policies.iterdir()):
            if path.name.startswith(("_", ".")) or not (path / "policy.yaml").is_file():
                continue
            try:
                document = _load_yaml(path / "policy.yaml").get("document") or {}
            except yaml.YAMLError:
                document = {}
            rows.append((path.name, str(document.get("title") or path.name)))
    return rows


def _pieces(source: str, policy: dict[str, Any], explanation: dict[str, Any]) -> list[dict[str, Any]]:
    """The source text cut at every provision and value boundary: each piece knows its provision and whether it
    is an extracted value (highlighted)."""
    provisions = [(int(p["span"][0]), int(p["span"][1]), str(p.get("id"))) for p in policy.get("provisions") or []
                  if isinstance(p.get("span"), list) and len(p["span"]) == 2]  # fmt: skip
    values = []
    for p in explanation.get("provisions") or []:
        for v in p.get("values") or []:
            span = v.get("span")
            if isinstance(span, list) and len(span) == 2:
                values.append((int(span[0]), int(span[1]), str(v.get("field")), str(v.get("pattern") or "")))
    cuts = {0, len(source)}
    for a, b, *_ in provisions + values:
        cuts.update((max(0, min(a, len(source))), max(0, min(b, len(source)))))
    ordered = sorted(cuts)
    pieces = []
    for a, b in itertools.pairwise(ordered):
        provision = next((pid for s, e, pid in provisions if s <= a and b <= e), None)
        value = next(((f, pat) for s, e, f, pat in values if s <= a and b <= e), None)
        pieces.append({"text": source[a:b], "provision": provision, "field": value[0] if value else None,
                       "title": f"{FIELD_LABELS.get(value[0], value[0])}：{value[1]}" if value else None})  # fmt: skip
    return pieces


def _approvers(request: Request, actor: Actor) -> list[tuple[str, str]]:
    with request.app.state.database.sessions() as session:
        users = session.scalars(
            select(User).where(User.role.in_(ROLES), User.active.is_(True)).order_by(User.username)
        ).all()
        return [(u.username, u.display_name) for u in users if u.username != actor.username]


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What is wrong with a YAML text a reviewer typed, with its line when PyYAML knows it."""
    mark = getattr(exc, "problem_mark", None)
    where = f"第 {mark.line + 1} 行" if mark is not None else ""
    return f"YAML 格式有误{where}：请检查缩进与冒号"


def _accept(item: dict[str, Any], field: str = "note") -> None:
    """The reviewer accepted ``item``: its draft mark goes (and the note with it, when nothing else was said)."""
    item[field] = unmark(item.get(field))
    if item[field] is None:
        del item[field]


async def _form(request: Request) -> dict[str, str]:
    async with request.form() as form:
        token = form.get("csrf_token")
        check_csrf(request, token if isinstance(token, str) else None)
        return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/drafting/{draft}/provisions/{provision}", response_model=None)
async def review_provision(request: Request, actor: SignedIn, draft: str, provision: str) -> Response:
    """Accept a provision (its note loses the mark), reject it (not computable: kind ``qualitative``, no rules),
    or save / accept / reject one of its rules."""
    form = await _form(request)
    try:
        require(actor, *ROLES)
        folder = draft_folder(request, actor, draft)
    except HuiqiError as exc:
        return _page_error(request, exc)
    policy = _load_yaml(folder / "policy.yaml")
    item = next((p for p in policy.get("provisions") or [] if str(p.get("id")) == provision), None)
    if item is None:
        return _page_error(request, DraftMissing(f"草稿中没有条款 {provision}"))
    action, rule_id = form.get("action", ""), form.get("rule", "")
    key = f"{provision}/{rule_id}" if rule_id else provision
    if action == "accept_provision":
        _accept(item)
    elif action == "reject_provision":
        item["kind"] = "qualitative"
        item.pop("rules", None)
        item["note"] = "审核：不作计算（审核人驳回了草稿规则）"
    elif action in ("save_rule", "accept_rule", "reject_rule"):
        rules = item.get("rules") or []
        index = next((i for i, r in enumerate(rules) if str(r.get("id")) == rule_id), None)
        if index is None:
            return _page_error(request, DraftMissing(f"条款 {provision} 中没有规则 {rule_id}"))
        if action == "reject_rule":
            del rules[index]
            if not rules:
                item.pop("rules", None)
        else:
            try:
                rule = yaml.safe_load(form.get("yaml", ""))
            except yaml.YAMLError as exc:
                return _draft_page(request, actor, folder, {key: _yaml_problem(exc)}, 400)
            if not isinstance(rule, dict) or not rule.get("id"):
                return _draft_page(request, actor, folder, {key: "规则应为带 id 的 YAML 映射（id: r1 …）"}, 400)
            if action == "accept_rule":
                _accept(rule)
            rules[index] = rule
    else:
        return _draft_page(request, actor, folder, {key: "未知的操作"}, 400)
    _write_policy(folder, policy)
    return RedirectResponse(f"/drafting/{draft}#p-{provision}", status_code=303)


@router.post("/drafting/{draft}/document", response_model=None)
async def review_document(request: Request, actor: SignedIn, draft: str) -> Response:
    """Accept the document's metadata and the omitted text, and save / accept the proposed facts."""
    form = await _form(request)
    try:
        require(actor, *ROLES)
        folder = draft_folder(request, actor, draft)
    except HuiqiError as exc:
        return _page_error(request, exc)
    action = form.get("action", "")
    if action in ("save_document", "accept_document"):
        policy = _load_yaml(folder / "policy.yaml")
        try:
            document = yaml.safe_load(form.get("document", ""))
        except yaml.YAMLError as exc:
            return _draft_page(request, actor, folder, {"document": _yaml_problem(exc)}, 400)
        if not isinstance(document, dict) or document.get("id") != folder.name:
            message = f"文件信息应为 YAML 映射，且 id 保持为 {folder.name}（草稿目录名）"
            return _draft_page(request, actor, folder, {"document": message}, 400)
        if action == "accept_document":
            document["notes"] = unmark(document.get("notes"))
            for omitted in policy.get("omitted") or []:
                omitted["reason"] = unmark(omitted.get("reason")) or "已审核"
        policy["document"] = document
        _write_policy(folder, policy)
    elif action in ("save_facts", "accept_facts"):
        text = form.get("facts", "")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return _draft_page(request, actor, folder, {"facts": "YAML 格式有误：请检查缩进与冒号"}, 400)
        if not isinstance(data, dict) or not isinstance(data.get("facts", []), list):
            return _draft_page(request, actor, folder, {"facts": "事实文件应为 facts: 列表"}, 400)
        if action == "accept_facts":
            for fact in data.get("facts") or []:
                if isinstance(fact, dict):
                    fact["definition"] = unmark(fact.get("definition")) or fact.get("name")
        path = folder.parent / "_facts" / f"{folder.name}.yaml"
        path.write_text("# 提出的事实（网页审核）\n" + dump(data), encoding="utf-8")
    else:
        return _draft_page(request, actor, folder, {"document": "未知的操作"}, 400)
    return RedirectResponse(f"/drafting/{draft}", status_code=303)


@router.post("/drafting/{draft}/check", response_class=HTMLResponse, response_model=None)
async def check_draft(request: Request, actor: SignedIn, draft: str) -> Response:
    """Validate the draft and run its cases, as ``huiqi validate`` and ``huiqi cases`` (an htmx fragment)."""
    await _form(request)
    try:
        require(actor, *ROLES)
        folder = draft_folder(request, actor, draft)
    except HuiqiError as exc:
        return _page_error(request, exc)
    try:
        problems, outcomes = run_checks(folder)
    except HuiqiError as exc:  # the folder did not load at all (e.g. the fact catalogue): said where the result goes
        where = f"{_short(exc.where, folder.parent)}: " if exc.where else ""
        problems, outcomes = [where + _short(exc.message, folder.parent)], []
    if request.headers.get("HX-Request"):
        return render(request, "drafting/check.html", problems=problems, outcomes=outcomes)
    return _draft_page(request, actor, folder, {}, 200, check={"problems": problems, "outcomes": outcomes})


def run_checks(folder: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The errors of ``huiqi validate --policies <user folder>`` that concern this draft (文件:行 消息), and its
    cases run by ``huiqi.cases.run_all``."""
    from huiqi.cases import run_all
    from huiqi.engine.evaluate import Engine
    from huiqi.policy.base import PolicyBase

    doc_id = folder.name
    base = PolicyBase.load(folder.parent, strict=False)
    mine = [e for e in base.errors if doc_id in (e.where or "") or doc_id in e.message]
    problems = [f"{_short(e.where, folder.parent)}: {e.message}" if e.where else e.message for e in mine]
    outcomes = []
    if doc_id in base.documents and doc_id not in base.broken:
        for outcome in run_all(Engine(base), doc_id):
            outcomes.append({"name": outcome.name, "where": _short(outcome.where, folder.parent),
                             "passed": outcome.passed, "failures": list(outcome.failures)})  # fmt: skip
    return problems, outcomes


def _short(where: str | None, root: Path) -> str:
    return (where or "").replace(str(root.resolve()) + os.sep, "").replace(str(root) + os.sep, "")


@router.post("/drafting/{draft}/publish", response_model=None)
async def publish_draft(request: Request, actor: SignedIn, draft: str) -> Response:
    """Publish through ``huiqi.extract.publish``: as a new policy (``publish``) or as a new version of one the
    policy folder has (``publish_version``, as ``huiqi publish --version-of``); the signed-in user reviewed,
    the chosen official approves; into the service's policy folder when it is configured and writable."""
    import datetime as dt

    from huiqi.extract.publish import publish, publish_version

    form = await _form(request)
    try:
        require(actor, *ROLES)
        folder = draft_folder(request, actor, draft)
    except HuiqiError as exc:
        return _page_error(request, exc)
    approver = form.get("approver", "").strip()
    version_of = form.get("target", "").strip()
    start_text = form.get("effective_from", "").strip()

    def page(errors: dict[str, str], status: int, preview: dict[str, Any] | None = None) -> Response:
        """The draft page with the choices kept beside the errors (or the preview)."""
        return _draft_page(request, actor, folder, errors, status, chosen=approver, chosen_target=version_of,
                           chosen_start=start_text, preview=preview)  # fmt: skip

    dry_run = form.get("action") == "preview"
    if dry_run and not version_of:
        return page({"target": "预览改动用于发布为新版本：请先选择要发布新版本的文件"}, 400)

    target: Path | None = request.app.state.settings.policies
    errors: dict[str, str] = {}
    if approver not in {name for name, _ in _approvers(request, actor)} and not dry_run:
        errors["approver"] = "请选择另一位审核人员（不能是您本人）作为批准人"
    if version_of and version_of not in {doc_id for doc_id, _ in published_documents(target)}:
        errors["target"] = f"政策库中没有编号为 {version_of} 的文件：请从列表中选择，或作为新政策发布"
    start: dt.date | None = None
    if start_text:
        try:
            start = dt.date.fromisoformat(start_text)
        except ValueError:
            errors["effective_from"] = f"施行日期应为 YYYY-MM-DD，得到 {start_text}"
        if not version_of:
            errors["effective_from"] = "施行日期只用于发布为新版本：作为新政策发布时请在文件信息中写 effective_from"
    if errors:
        return page(errors, 400)
    if target is None or not os.access(target, os.W_OK):
        message = "服务的政策库目录未设置或不可写（HUIQI_POLICIES）：请管理员设置可写的政策库目录后再发布"
        return page({"publish": message}, 409)
    try:
        if version_of:
            done = publish_version(folder, target, version_of, reviewer=actor.username,
                                   approver=approver or "（预览）", effective_from=start, dry_run=dry_run)  # fmt: skip
            if dry_run:
                shown = {"document": done.document, "old": done.old, "new": done.new, "start": done.new_start,
                         "old_end": done.old_end, "cases": done.cases_run,
                         "changes": [f"[{c.kind}] {c.where}：{c.text}" for c in done.changes]}  # fmt: skip
                return page({}, 200, preview=shown)
            published = done.folder
        else:
            published = publish(folder, target, reviewer=actor.username, approver=approver)
    except HuiqiError as exc:
        message = _short(exc.message, folder.parent)
        field = "effective_from" if version_of and ("施行日期" in message or "日期重叠" in message) else "publish"
        return page({field: message}, 409)
    shutil.copyfile(published / "PUBLISHED.yaml", folder / "PUBLISHED.yaml")
    return RedirectResponse(f"/drafting/{draft}?published=1", status_code=303)
