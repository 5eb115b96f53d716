"""Every table of the platform, importable from one place (Alembic reads ``Base.metadata``)."""

from __future__ import annotations

from huiqi.store.base import Base
from huiqi.store.models.accounts import ROLE_LABELS, ROLES, LoginFailure, Token, User
from huiqi.store.models.applications import Application, Material, Objection
from huiqi.store.models.audit import GENESIS_HASH, AuditEvent, AuditHead
from huiqi.store.models.calls import DAY_KINDS, OVERSUBSCRIPTION_RULES, REVIEW_MODES, Call, Publicity
from huiqi.store.models.money import Award, Batch, BatchItem, BlacklistEntry, Payment, Report
from huiqi.store.models.notices import MATCH_LABELS, MATCHES, SUBSCRIPTION_KINDS, Notice, Subscription
from huiqi.store.models.registry import PROVENANCE_LABELS, PROVENANCES, Entity, Fact
from huiqi.store.models.review import Assignment, Expert

__all__ = [
    "DAY_KINDS",
    "GENESIS_HASH",
    "MATCHES",
    "MATCH_LABELS",
    "OVERSUBSCRIPTION_RULES",
    "PROVENANCES",
    "PROVENANCE_LABELS",
    "REVIEW_MODES",
    "ROLES",
    "ROLE_LABELS",
    "SUBSCRIPTION_KINDS",
    "Application",
    "Assignment",
    "AuditEvent",
    "AuditHead",
    "Award",
    "Base",
    "Batch",
    "BatchItem",
    "BlacklistEntry",
    "Call",
    "Entity",
    "Expert",
    "Fact",
    "LoginFailure",
    "Material",
    "Notice",
    "Objection",
    "Payment",
    "Publicity",
    "Report",
    "Subscription",
    "Token",
    "User",
]
