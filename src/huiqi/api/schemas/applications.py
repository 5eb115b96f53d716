"""Applications, materials, objections."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from huiqi.api.schemas.common import yuan
from huiqi.store.models import Application, Material, Objection
from huiqi.workflow.actors import Actor
from huiqi.workflow.publicity import mask_name, sees_objector
from huiqi.workflow.states import STATE_LABELS, State


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: int = Field(ge=1, le=2_147_483_647)


class RulePublic(BaseModel):
    ref: str
    label: str
    status: str
    amount: str | None
    approved: str | None
    is_ceiling: bool
    tiers: list[str]


class ApplicationPublic(BaseModel):
    id: int
    call_id: int
    entity_id: int
    state: str
    state_label: str
    #: the sum of the rules' amounts — a bound whenever a ceiling is in it; the two parts below keep
    #: certain money and ceilings apart (docs/evaluation.md, "Certain amounts and ceilings")
    requested: str | None
    requested_certain: str | None
    requested_ceiling: str | None
    approved: str | None
    rules: list[RulePublic]
    policy_version: str | None
    pledge: str | None
    submitted_at: dt.datetime | None
    returned_count: int
    corrections: list[dict[str, str]]
    score: str | None
    rank: int | None
    reason: str | None
    version: int

    @classmethod
    def of(cls, application: Application) -> ApplicationPublic:
        rules = [
            RulePublic(
                ref=r["ref"],
                label=r.get("label", ""),
                status=r.get("status", ""),
                amount=yuan(r.get("amount_fen")),
                approved=yuan(r.get("approved_fen")),
                is_ceiling=bool(r.get("is_ceiling")),
                tiers=list(r.get("tiers") or []),
            )
            for r in application.rules or []
        ]
        return cls(
            id=application.id, call_id=application.call_id, entity_id=application.entity_id, state=application.state,
            state_label=STATE_LABELS[State(application.state)], requested=yuan(application.requested_fen),
            requested_certain=_part(application, ceiling=False), requested_ceiling=_part(application, ceiling=True),
            approved=yuan(application.approved_fen), rules=rules, policy_version=application.policy_version,
            pledge=application.pledge, submitted_at=application.submitted_at, returned_count=application.returned_count,
            corrections=application.corrections or [], score=application.score, rank=application.rank,
            reason=application.reason, version=application.version,
        )  # fmt: skip


class FrozenPublic(BaseModel):
    """What the application was judged on at submission."""

    evaluation: dict[str, Any] | None
    policy_version: str | None
    facts_used: list[dict[str, Any]] | None
    ledger_used: list[dict[str, Any]] | None = None  # the award ledger read (None: frozen before migration 0004)


class SubmitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pledge: bool = Field(description="信用承诺：所填信息和材料真实、准确、完整")


class CorrectionItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(default="", max_length=100)
    problem: str = Field(min_length=1, max_length=1000)


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[CorrectionItem] = Field(min_length=1, max_length=50)


class ReasonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


class ClawbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
    blacklist_until: dt.date


class MaterialPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    application_id: int
    name: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime

    @classmethod
    def of(cls, material: Material) -> MaterialPublic:
        return cls.model_validate(material)


class ObjectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="真实姓名")
    id_number: str = Field(min_length=1, max_length=18, description="身份证号码")
    contact: str = Field(min_length=1, max_length=100)
    content: str = Field(min_length=1, max_length=5000)
    evidence: str = Field(min_length=1, max_length=5000)


class ObjectionResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["upheld", "dismissed"]
    resolution: str = Field(min_length=1, max_length=5000)


class ObjectionPublic(BaseModel):
    """An objection as the reader may see it: the objector's identity only for officials, administrators
    and the objector itself; for the applicant objected to the name is masked (张*) and the 身份证 number
    and contact are null."""

    id: int
    application_id: int
    objector_name: str = Field(description="异议人姓名；被异议的申报主体看到的是遮蔽后的姓名（如 张*）")
    objector_id_number: str | None = Field(description="异议人身份证号码：仅主管部门、管理员和异议人本人可见")
    contact: str | None = Field(description="异议人联系方式：仅主管部门、管理员和异议人本人可见")
    identity_masked: bool = Field(description="异议人身份是否已遮蔽")
    content: str
    evidence: str
    submitted_at: dt.datetime
    outcome: str | None
    resolution: str | None
    resolved_by: str | None
    resolved_at: dt.datetime | None

    @classmethod
    def of(cls, objection: Objection, actor: Actor) -> ObjectionPublic:
        shown = sees_objector(actor, objection)
        return cls(
            id=objection.id, application_id=objection.application_id,
            objector_name=objection.objector_name if shown else mask_name(objection.objector_name),
            objector_id_number=objection.objector_id_number if shown else None,
            contact=objection.contact if shown else None, identity_masked=not shown, content=objection.content,
            evidence=objection.evidence, submitted_at=objection.submitted_at, outcome=objection.outcome,
            resolution=objection.resolution, resolved_by=objection.resolved_by, resolved_at=objection.resolved_at,
        )  # fmt: skip


def _part(application: Application, *, ceiling: bool) -> str | None:
    """The requested amount of the rules whose amount is (or is not) a ceiling; None before any rule."""
    if application.requested_fen is None:
        return None
    rules = application.rules or []
    return yuan(sum(r.get("amount_fen") or 0 for r in rules if bool(r.get("is_ceiling")) is ceiling))
