"""The policy base as the library pages show it: one summary per document (status on a day, validity,
issuer, 文号, jurisdiction, who may benefit) and the filters over them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from huiqi.facts.catalogue import ENTITY_LABELS
from huiqi.policy.base import LoadedDocument, PolicyBase
from huiqi.policy.status import SLUGS, Status, document_status, status_reason
from huiqi.web.formatting import date_range_cn

LEVEL_LABELS = {"nation": "国家", "province": "省级", "city": "市级", "county": "县级"}


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    id: str
    title: str
    short_title: str | None
    doc_number: str | None
    issuers: tuple[str, ...]
    region: str
    level: str
    type: str
    status: Status
    status_slug: str
    status_reason: str
    declared_status: str
    validity: str
    issue_date: dt.date | None
    beneficiaries: tuple[str, ...]
    provisions: int
    rules: int


def summary(loaded: LoadedDocument, on: dt.date) -> DocumentSummary:
    meta = loaded.policy.document
    status = document_status(meta, on)
    kinds: list[str] = []
    for provision in loaded.policy.provisions:
        for rule in provision.rules:
            for kind in [rule.applies_to] if isinstance(rule.applies_to, str) else rule.applies_to:
                if kind not in kinds:
                    kinds.append(kind)
    period = date_range_cn(meta.effective_from or meta.issue_date, meta.effective_to)
    validity = f"{period}（{meta.validity}）" if meta.validity else period
    return DocumentSummary(
        id=meta.id, title=meta.title, short_title=meta.short_title, doc_number=meta.doc_number,
        issuers=tuple(meta.issuers), region=meta.jurisdiction.region, level=LEVEL_LABELS[meta.jurisdiction.level],
        type=meta.type.value, status=status, status_slug=SLUGS[status], status_reason=status_reason(meta, on),
        declared_status=meta.status.value, validity=validity, issue_date=meta.issue_date,
        beneficiaries=tuple(kinds), provisions=len(loaded.policy.provisions),
        rules=sum(len(p.rules) for p in loaded.policy.provisions),
    )  # fmt: skip


def summaries(base: PolicyBase, on: dt.date) -> list[DocumentSummary]:
    """Every document, those in force first, then by title."""
    order = [Status.IN_FORCE, Status.NOT_YET, Status.DRAFT, Status.EXPIRED, Status.REPEALED]
    found = [summary(loaded, on) for loaded in base.documents.values()]
    return sorted(found, key=lambda s: (order.index(s.status), s.region, s.title))


@dataclass(frozen=True, slots=True)
class Choices:
    """The values each filter accepts: (value, label) pairs."""

    regions: tuple[tuple[str, str], ...]
    beneficiaries: tuple[tuple[str, str], ...]
    statuses: tuple[tuple[str, str], ...]


def choices(found: list[DocumentSummary]) -> Choices:
    regions = sorted({s.region for s in found})
    kinds = [k for k in ENTITY_LABELS if any(k in s.beneficiaries for s in found)]
    return Choices(
        regions=tuple((r, r) for r in regions),
        beneficiaries=tuple((k, ENTITY_LABELS[k]) for k in kinds),
        statuses=tuple((s.value, s.value) for s in Status),
    )
