"""What an evaluation returns: per rule and per provision, with the full explanation.

The JSON form (``to_json``) is the stable, documented schema of ``huiqi evaluate --format json``
(docs/evaluation.md); money is a yuan decimal string with two places.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from huiqi.money import format_cn, format_yuan


class Status(StrEnum):
    """The outcome of a rule or provision for one entity."""

    ELIGIBLE = "eligible"
    NEEDS_REVIEW = "needs_review"
    NEEDS_INFORMATION = "needs_information"
    EXCLUDED = "excluded"
    NOT_ELIGIBLE = "not_eligible"
    NOT_APPLICABLE = "not_applicable"


STATUS_LABELS: dict[Status, str] = {
    Status.ELIGIBLE: "符合",
    Status.NEEDS_REVIEW: "待审核定额",
    Status.NEEDS_INFORMATION: "需补充信息",
    Status.EXCLUDED: "不重复享受",
    Status.NOT_ELIGIBLE: "不符合",
    Status.NOT_APPLICABLE: "不适用",
}

#: Best first: a provision takes the best status of its rules.
STATUS_ORDER = list(STATUS_LABELS)


@dataclass(slots=True)
class Trace:
    """One node of a condition's explanation."""

    kind: str  # leaf | all | any | not | tier | note
    label: str
    result: bool | None
    expr: str = ""
    #: (name, Chinese label, raw value, type) — formatted only when shown, to keep evaluation fast
    inputs: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    children: list[Trace] = field(default_factory=list)

    def input_rows(self) -> list[dict[str, Any]]:
        """The inputs of a leaf as ``{name, label, value}`` with the value rendered in Chinese."""
        from .values import display

        return [
            {"name": name, "label": label, "value": display(value, kind)} for name, label, value, kind in self.inputs
        ]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "label": self.label, "result": self.result}
        if self.expr:
            data["expr"] = self.expr
        if self.inputs:
            data["inputs"] = self.input_rows()
        if self.children:
            data["children"] = [child.to_json() for child in self.children]
        return data


@dataclass(slots=True)
class Missing:
    """A fact that is needed and not given."""

    fact: str
    name: str
    year: int | None = None

    def label(self) -> str:
        return f"{self.name}（{self.year}年）" if self.year is not None else self.name

    def to_json(self) -> dict[str, Any]:
        return {"fact": self.fact, "name": self.name, "year": self.year}


@dataclass
class Suggestion:
    """The nearest way to qualify: which facts to reach, and what that would give."""

    changes: list[dict[str, Any]]  # {fact, name, year, current, needed}
    amount_fen: int | None
    is_ceiling: bool
    text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": self.changes,
            "amount": None if self.amount_fen is None else format_yuan(self.amount_fen),
            "is_ceiling": self.is_ceiling,
            "text": self.text,
        }


@dataclass(slots=True)
class RuleResult:
    """The outcome of one rule for one entity."""

    document: str
    provision: str
    rule: str
    label: str
    quote: str
    span: tuple[int, int]
    status: Status
    reason: str
    amount_fen: int | None = None
    is_ceiling: bool = False
    is_floor: bool = False
    recipient: str | None = None
    payer: str | None = None
    tier: list[str] = field(default_factory=list)
    calculation: list[str] = field(default_factory=list)
    trace: list[Trace] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    suggestion: Suggestion | None = None
    readings: list[dict[str, str]] = field(default_factory=list)
    defaults_used: list[str] = field(default_factory=list)
    instalments: list[dict[str, Any]] = field(default_factory=list)
    excluded_by: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.document}:{self.provision}/{self.rule}"

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "provision": self.provision,
            "rule": self.rule,
            "ref": self.ref,
            "label": self.label,
            "quote": self.quote,
            "span": list(self.span),
            "status": self.status.value,
            "status_label": STATUS_LABELS[self.status],
            "reason": self.reason,
            "amount": None if self.amount_fen is None else format_yuan(self.amount_fen),
            "is_ceiling": self.is_ceiling,
            "is_floor": self.is_floor,
            "recipient": self.recipient,
            "payer": self.payer,
            "tier": self.tier,
            "calculation": self.calculation,
            "trace": [t.to_json() for t in self.trace],
            "missing": [m.to_json() for m in self.missing],
            "suggestion": self.suggestion.to_json() if self.suggestion else None,
            "readings": self.readings,
            "defaults_used": self.defaults_used,
            "instalments": self.instalments,
            "excluded_by": self.excluded_by,
        }


@dataclass
class ProvisionResult:
    """The outcome of one provision: the best status of its rules and the sum of what they give."""

    document: str
    provision: str
    number: str | None
    heading: str | None
    kind: str
    quote: str
    span: tuple[int, int]
    status: Status
    reason: str
    rules: list[RuleResult]
    amount_fen: int | None
    is_ceiling: bool
    lead_unit: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "provision": self.provision,
            "number": self.number,
            "heading": self.heading,
            "kind": self.kind,
            "quote": self.quote,
            "span": list(self.span),
            "status": self.status.value,
            "status_label": STATUS_LABELS[self.status],
            "reason": self.reason,
            "amount": None if self.amount_fen is None else format_yuan(self.amount_fen),
            "is_ceiling": self.is_ceiling,
            "lead_unit": self.lead_unit,
            "rules": [r.to_json() for r in self.rules],
        }


@dataclass
class DocumentResult:
    """All provisions of one document for one entity, with the document's flags."""

    document: str
    title: str
    status: str
    flags: list[str]
    provisions: list[ProvisionResult]

    @property
    def total_fen(self) -> int:
        return sum(r.amount_fen or 0 for p in self.provisions for r in p.rules if r.status is Status.ELIGIBLE)

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "title": self.title,
            "status": self.status,
            "flags": self.flags,
            "total_eligible": format_yuan(self.total_fen),
            "provisions": [p.to_json() for p in self.provisions],
        }


@dataclass
class Evaluation:
    """One entity against the policy base, as of a date."""

    entity: dict[str, Any]
    as_of: dt.date
    period: int
    documents: list[DocumentResult]
    skipped: list[dict[str, str]] = field(default_factory=list)

    def rules(self) -> list[RuleResult]:
        return [r for d in self.documents for p in d.provisions for r in p.rules]

    def rule(self, ref: str) -> RuleResult:
        """A rule result by ``document:provision/rule`` (or ``provision/rule`` when one document)."""
        for result in self.rules():
            if result.ref == ref or (len(self.documents) == 1 and f"{result.provision}/{result.rule}" == ref):
                return result
        raise KeyError(ref)

    def provision(self, ref: str) -> ProvisionResult:
        for document in self.documents:
            for provision in document.provisions:
                if f"{document.document}:{provision.provision}" == ref or (
                    len(self.documents) == 1 and provision.provision == ref
                ):
                    return provision
        raise KeyError(ref)

    def to_json(self) -> dict[str, Any]:
        eligible = sum(d.total_fen for d in self.documents)
        return {
            "schema": "huiqi.evaluation/1",
            "entity": self.entity,
            "as_of": self.as_of.isoformat(),
            "period": self.period,
            "total_eligible": format_yuan(eligible),
            "total_eligible_label": format_cn(eligible),
            "documents": [d.to_json() for d in self.documents],
            "skipped": self.skipped,
        }
