"""政策库: the list of documents (status, validity, issuer, 文号, jurisdiction; filters; search) and the
document page (the official text with every provision marked; the selected provision's rule beside it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from huiqi import beijing
from huiqi.cases import load_cases
from huiqi.engine.results import STATUS_LABELS, Status
from huiqi.facts.catalogue import ENTITY_LABELS
from huiqi.policy.base import LoadedDocument
from huiqi.policy.models import KIND_LABELS, Provision
from huiqi.policy.procedure import describe as describe_procedure
from huiqi.policy.search import QueryError, SearchIndex, snippet, terms_of
from huiqi.web.documents import choices, summaries, summary
from huiqi.web.rules import RuleView, describe
from huiqi.web.templating import render
from huiqi.workflow.policy import PolicyEngine

router = APIRouter()


@dataclass
class Library:
    """What the library pages need, built once at start-up from the loaded policy base."""

    policy: PolicyEngine
    index: SearchIndex
    #: (document, provision) → [(case name, as_of, [(rule, status label, amount)])]
    cases: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def build(cls, policy: PolicyEngine) -> Library:
        library = cls(policy, SearchIndex(policy.base))
        for case in load_cases(policy.engine):
            expects = [e for e in case.raw.get("expect") or [] if isinstance(e, dict)]
            by_provision: dict[str, list[dict[str, str]]] = {}
            for expect in expects:
                target = str(expect.get("rule") or expect.get("provision") or "")
                provision = target.split("/", 1)[0]
                status = str(expect.get("status", ""))
                by_provision.setdefault(provision, []).append({
                    "target": target,
                    "status": STATUS_LABELS[Status(status)] if status in Status._value2member_map_ else "",
                    "amount": str(expect.get("amount", "")),
                })  # fmt: skip
            for provision, rows in by_provision.items():
                library.cases.setdefault((case.document, provision), []).append(
                    {
                        "name": case.name,
                        "as_of": case.raw.get("as_of"),
                        "expect": rows,
                        "file": f"{case.file.name}:{case.line}",
                    }
                )
        return library


def _library(request: Request) -> Library:
    library: Library = request.app.state.library
    return library


def _today() -> dt.date:
    return beijing.today()


@router.get("/", response_class=HTMLResponse)
def library_page(
    request: Request, q: str = "", region: str = "", beneficiary: str = "", status: str = ""
) -> HTMLResponse:
    """政策库首页：全部文件、筛选与全文搜索。"""
    library = _library(request)
    found = summaries(library.policy.base, _today())
    allowed = choices(found)
    errors: dict[str, str] = {}
    if region and region not in dict(allowed.regions):
        errors["region"] = f"政策库中没有“{region}”的文件，请从列表中选择地区"
    if beneficiary and beneficiary not in dict(allowed.beneficiaries):
        errors["beneficiary"] = "请从列表中选择支持对象"
    if status and status not in dict(allowed.statuses):
        errors["status"] = "请从列表中选择文件状态"
    shown = [
        s for s in found
        if (not region or s.region == region) and (not beneficiary or beneficiary in s.beneficiaries)
        and (not status or s.status.value == status)
    ]  # fmt: skip
    hits: list[dict[str, Any]] = []
    if q.strip():
        try:
            terms = terms_of(q)
            titles = {s.id: s for s in found}
            for hit in library.index.search(q, documents={s.id for s in shown}):
                hits.append({"hit": hit, "document": titles[hit.document], "parts": snippet(hit.text, terms)})
        except QueryError as exc:
            errors["q"] = exc.message
    context: dict[str, Any] = {"documents": shown, "total": len(found), "choices": allowed, "hits": hits, "errors": errors,
               "form": {"q": q, "region": region, "beneficiary": beneficiary, "status": status},
               "entity_labels": ENTITY_LABELS, "today": _today()}  # fmt: skip
    return render(request, "library/index.html", status_code=422 if errors else 200, **context)


def _document(request: Request, document_id: str) -> LoadedDocument | None:
    return _library(request).policy.base.documents.get(document_id)


def _segments(loaded: LoadedDocument) -> list[tuple[str, Provision | None]]:
    """The official text cut at the provisions' spans: (text, provision or None for text between them)."""
    pieces: list[tuple[str, Provision | None]] = []
    cursor = 0
    for provision in sorted(loaded.policy.provisions, key=lambda p: p.span[0]):
        start, end = provision.span
        if start < cursor:  # nested in the previous provision: listed on the side, not marked twice
            continue
        if start > cursor:
            pieces.append((loaded.source[cursor:start], None))
        pieces.append((loaded.source[start:end], provision))
        cursor = end
    if cursor < len(loaded.source):
        pieces.append((loaded.source[cursor:], None))
    return pieces


def _panel(library: Library, loaded: LoadedDocument, provision: Provision) -> dict[str, Any]:
    compiled = library.policy.engine.documents.get(loaded.id)
    rules: list[RuleView] = []
    if compiled is not None:
        rules = [describe(r, loaded.scope) for r in compiled.rules if r.provision.id == provision.id]
    return {"provision": provision, "kind": KIND_LABELS[provision.kind.value], "rules": rules,
            "cases": library.cases.get((loaded.id, provision.id), []), "document": loaded.policy.document}  # fmt: skip


def _not_found(request: Request, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=404, title="未找到", message=message)


@router.get("/policies/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, document_id: str, provision: str | None = None) -> HTMLResponse:
    """一个文件：原文（每个条款可选），所选条款的规则说明在旁。"""
    library = _library(request)
    loaded = _document(request, document_id)
    if loaded is None:
        return _not_found(request, f"政策库中没有编号为“{document_id}”的文件。")
    provisions = {p.id: p for p in loaded.policy.provisions}
    selected = provisions.get(provision) if provision else None
    if provision and selected is None:
        return _not_found(request, f"《{loaded.policy.document.title}》中没有编号为“{provision}”的条款。")
    context: dict[str, Any] = {"doc": summary(loaded, _today()), "meta": loaded.policy.document, "segments": _segments(loaded),
               "provisions": loaded.policy.provisions, "kind_labels": KIND_LABELS,
               "panel": _panel(library, loaded, selected) if selected else None,
               "procedures": [(p, describe_procedure(p)) for p in loaded.policy.procedures]}  # fmt: skip
    return render(request, "library/document.html", **context)


@router.get("/policies/{document_id}/provisions/{provision_id}", response_class=HTMLResponse)
def provision_panel(request: Request, document_id: str, provision_id: str) -> HTMLResponse:
    """所选条款的规则说明（htmx 片段；直接打开则跳到文件页并选中该条款）。"""
    loaded = _document(request, document_id)
    if loaded is None:
        return _not_found(request, f"政策库中没有编号为“{document_id}”的文件。")
    provision = next((p for p in loaded.policy.provisions if p.id == provision_id), None)
    if provision is None:
        return _not_found(request, f"《{loaded.policy.document.title}》中没有编号为“{provision_id}”的条款。")
    if request.headers.get("HX-Request") != "true":
        return document_page(request, document_id, provision_id)
    return render(request, "library/_panel.html", **_panel(_library(request), loaded, provision))


@router.get("/policies/{document_id}/policy.yaml", response_model=None)
def policy_file(request: Request, document_id: str) -> Response:
    """政策文件（YAML，只读）：条款、规则、口径的机器可读版本。"""
    loaded = _document(request, document_id)
    if loaded is None:
        return _not_found(request, f"政策库中没有编号为“{document_id}”的文件。")
    text = (loaded.folder / "policy.yaml").read_text(encoding="utf-8")
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")


@router.get("/policies/{document_id}/source.txt", response_model=None)
def source_text(request: Request, document_id: str) -> Response:
    """文件原文（纯文本）。"""
    loaded = _document(request, document_id)
    if loaded is None:
        return _not_found(request, f"政策库中没有编号为“{document_id}”的文件。")
    return PlainTextResponse(loaded.source, media_type="text/plain; charset=utf-8")
