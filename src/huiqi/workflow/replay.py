"""Replaying an application's frozen evaluation with the policy version it used.

At submission an application freezes the engine's evaluation, the hash of the document version in force on
the evaluation date (``policy_version``: its policy file, text and the fact catalogue), the facts used and the
award ledger read (``ledger_used``). ``replay`` finds the version with that hash among the document's versions
(docs/authoring.md "Versions"), rebuilds the profile from the frozen facts and ledger, evaluates it again with
an engine over that version alone, and compares the canonical JSON of both evaluations byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi.engine.env import LedgerEntry
from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile
from huiqi.errors import HuiqiError
from huiqi.policy.base import PolicyBase
from huiqi.store.errors import Conflict, InvalidInput, NotFound
from huiqi.store.models import Application, Award, Call, Entity
from huiqi.workflow.audit import canonical
from huiqi.workflow.policy import PolicyEngine


@dataclass
class Replay:
    """The outcome: which version, both digests, whether they are equal, and the first differences."""

    application_id: int
    document_id: str
    version: str
    policy_version: str
    frozen_sha256: str
    replayed_sha256: str
    ledger_source: str  # "frozen" or "awards" (reconstructed for applications frozen before the ledger was)
    differences: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.frozen_sha256 == self.replayed_sha256

    def to_json(self) -> dict[str, Any]:
        return {
            "application_id": self.application_id, "document_id": self.document_id, "version": self.version,
            "policy_version": self.policy_version, "identical": self.identical, "frozen_sha256": self.frozen_sha256,
            "replayed_sha256": self.replayed_sha256, "ledger_source": self.ledger_source,
            "differences": self.differences,
        }  # fmt: skip


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def _ledger(session: Session, application: Application) -> tuple[tuple[LedgerEntry, ...], str]:
    if application.ledger_used is not None:
        entries = tuple(
            LedgerEntry(
                rule=e["rule"],
                period=int(e["period"]),
                amount_fen=int(e["amount_fen"]),
                tier=e.get("tier"),
                quarter=e.get("quarter"),
            )
            for e in application.ledger_used
        )
        return entries, "frozen"
    # frozen before the ledger was: the awards approved before the submission that stand today
    awards = session.scalars(
        select(Award)
        .where(Award.entity_id == application.entity_id, Award.state != "clawed_back",
               Award.approved_at < application.submitted_at)
        .order_by(Award.id)
    )  # fmt: skip
    out: list[LedgerEntry] = []
    for award in awards:
        tiers: list[str | None] = [*award.tiers] or [None]
        for index, tier in enumerate(tiers):
            out.append(LedgerEntry(award.rule_ref, award.period, award.amount_fen if index == 0 else 0, tier,
                                   award.quarter or None))  # fmt: skip
    return tuple(out), "awards"


def differences(frozen: Any, replayed: Any, path: str = "", limit: int = 10) -> list[str]:
    """The first places two JSON values differ, as ``path：冻结为 …，重放为 …``.

    >>> differences({"a": [1, 2]}, {"a": [1, 3]})
    ['a[1]：冻结为 2，重放为 3']
    """
    out: list[str] = []

    def walk(a: Any, b: Any, where: str) -> None:
        if len(out) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                walk(a.get(key), b.get(key), f"{where}.{key}" if where else str(key))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for index, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{where}[{index}]")
        else:
            out.append(f"{where or '（整体）'}：冻结为 {canonical(a)[:120]}，重放为 {canonical(b)[:120]}")

    walk(frozen, replayed, path)
    return out


def replay(session: Session, *, application_id: int, policy: PolicyEngine) -> Replay:
    """Evaluate a submitted application again with the version it used; compare with what it froze."""
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound(f"没有编号为 {application_id} 的申请", where="application_id")
    if application.evaluation is None or application.policy_version is None or application.facts_used is None:
        raise Conflict("该申请尚未提交，没有冻结的评估结果可以重放", where="application_id")
    call = session.get_one(Call, application.call_id)
    entity = session.get_one(Entity, application.entity_id)
    version = policy.version_with_hash(call.document_id, application.policy_version)
    if version is None:
        raise Conflict(
            f"政策库中已没有该申请所用的文件版本（{call.document_id}，哈希 {application.policy_version[:12]}…）："
            "文件或事实目录在提交后被直接修改，而不是作为新版本保存在 versions/ 下，无法按原版本重放",
            where="policy_version",
        )
    frozen = application.evaluation
    base = PolicyBase(root=policy.base.root, catalogue=policy.base.catalogue, documents={call.document_id: version})
    engine = Engine(base)
    entity_json = frozen.get("entity") or {}
    facts: dict[str, Any] = {}
    for fact in application.facts_used:
        if fact.get("year") is None:
            facts[fact["key"]] = fact["value"]
        else:
            slot = f"{fact['year']}Q{fact['quarter']}" if fact.get("quarter") else str(fact["year"])
            facts.setdefault(fact["key"], {})[slot] = fact["value"]
    raw: dict[str, Any] = {"entity_type": entity_json.get("entity_type", entity.entity_type),
                           "name": entity_json.get("name", entity.name),
                           "region": list(entity_json.get("region", entity.region)), "facts": facts}  # fmt: skip
    if entity_json.get("uscc"):
        raw["uscc"] = entity_json["uscc"]
    if entity.id_number:
        raw["id_number"] = entity.id_number
    try:
        profile = parse_profile(raw, policy.base.catalogue, where="frozen")
        profile.ledger, ledger_source = _ledger(session, application)
        options = Options(as_of=dt.date.fromisoformat(str(frozen["as_of"])), period=int(frozen["period"]),
                          quarter=frozen.get("quarter"),
                          documents=(call.document_id,), readings=dict(call.readings or {}))  # fmt: skip
        replayed = engine.evaluate(profile, options).to_json()
    except HuiqiError as exc:
        raise InvalidInput(f"按冻结的事实重放时出错：{exc.message}", where=exc.where) from None
    replayed = _as_stored(replayed)
    return Replay(
        application_id=application.id, document_id=call.document_id, version=base.version_label(version),
        policy_version=application.policy_version, frozen_sha256=_digest(frozen), replayed_sha256=_digest(replayed),
        ledger_source=ledger_source, differences=differences(frozen, replayed),
    )  # fmt: skip


def _as_stored(value: Any) -> Any:
    """The evaluation as the JSON column gives it back (a round trip through JSON text: tuples become lists)."""
    import json

    return json.loads(canonical(value))
