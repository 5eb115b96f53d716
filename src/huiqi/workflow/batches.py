"""免申即享: evaluate every registered entity for a call's provisions, publish the list, and turn it into
awards without applications — under the same budget rule and the same ledger as applications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.engine.results import STATUS_LABELS, Status
from huiqi.money import format_cn
from huiqi.store.base import utcnow
from huiqi.store.errors import Conflict, NotFound, PermissionDenied
from huiqi.store.models import Award, Batch, BatchItem, Call, Entity
from huiqi.workflow import audit, budget
from huiqi.workflow.actors import Actor
from huiqi.workflow.applications import blacklisted
from huiqi.workflow.awards import create_awards
from huiqi.workflow.policy import PolicyEngine, evaluate_entity
from huiqi.workflow.proposals import allocate


def _official(actor: Actor) -> None:
    if actor.role != "official":
        raise PermissionDenied(f"免申即享批次只能由主管部门经办人操作，当前用户是{actor.role_label}")


def compute_batch(
    session: Session, *, call: Call, actor: Actor, policy: PolicyEngine, today: dt.date | None = None
) -> Batch:
    """Evaluate the registry for the call's provisions; list every eligible rule with a definite amount.

    Rules that need an official to fix the amount (待审核定额, or only a ceiling: 最高/不超过) are not listed:
    免申即享 pays only the certain money the rules compute. Who is not listed and why is kept in the audit
    event (``excluded``; plain "not eligible" results only counted). Entities on the blacklist and rules already
    in the ledger for the period are skipped.
    """
    _official(actor)
    today = today or beijing.today()
    batch = Batch(call_id=call.id, status="computed", created_by=actor.username,
                  policy_version=policy.version(call.document_id, call.as_of or today))  # fmt: skip
    session.add(batch)
    session.flush()
    wanted = {f"{call.document_id}:{p}" for p in call.provisions}
    excluded: list[dict[str, Any]] = []  # who is not listed and why (not eligible: only counted), for the audit
    not_eligible = 0

    def exclude(entity_id: int, rule: str | None, status: str, reason: str) -> None:
        excluded.append({"entity_id": entity_id, "rule": rule, "status": status, "reason": reason})

    for entity in session.scalars(select(Entity).order_by(Entity.id)):
        entry = blacklisted(session, entity.id, today)
        if entry is not None:
            exclude(entity.id, None, "失信名单", f"列入失信名单至{entry.expires_on.isoformat()}：{entry.reason}")
            continue
        evaluation, _used = evaluate_entity(session, entity=entity, policy=policy, documents=(call.document_id,),
                                            as_of=call.as_of or today, period=call.period,
                                            readings=call.readings, quarter=call.quarter)  # fmt: skip
        for result in evaluation.rules():
            if f"{result.document}:{result.provision}" not in wanted:
                continue
            if result.status is Status.NOT_ELIGIBLE:
                not_eligible += 1
                continue
            if result.status is Status.ELIGIBLE and (not result.amount_fen or result.is_ceiling):
                bound = f"只有最高限额{format_cn(result.amount_fen)}" if result.amount_fen else "规则未算出金额"
                exclude(entity.id, result.label, "金额待核定", f"{bound}，须由主管部门核定；免申即享只兑现确定金额")
                continue
            if result.status is not Status.ELIGIBLE:
                if result.status is not Status.NOT_APPLICABLE:
                    exclude(entity.id, result.label, STATUS_LABELS[result.status], result.reason)
                continue
            taken = session.scalar(select(Award.id).where(Award.entity_id == entity.id, Award.rule_ref == result.ref,
                                                          Award.period == call.period))  # fmt: skip
            if taken is not None:
                exclude(entity.id, result.label, "已享受", f"已在奖励台账中（{call.period}年度，奖励编号 {taken}）")
                continue
            session.add(BatchItem(batch_id=batch.id, entity_id=entity.id, rule_ref=result.ref, tiers=list(result.tier),
                                  amount_fen=result.amount_fen, result=result.to_json()))  # fmt: skip
    session.flush()
    audit.record(session, actor=actor, action="batch.compute", object_type="batch", object_id=batch.id, before=None,
                 after={**audit.snapshot(batch), "items": len(items_of(session, batch.id)),
                        "excluded": excluded, "not_eligible": not_eligible})  # fmt: skip
    return batch


def items_of(session: Session, batch_id: int) -> list[BatchItem]:
    return list(session.scalars(select(BatchItem).where(BatchItem.batch_id == batch_id).order_by(BatchItem.id)))


def get_batch(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"没有编号为 {batch_id} 的免申即享批次", where="batch_id")
    return batch


def publish_batch(session: Session, *, batch: Batch, actor: Actor) -> Batch:
    """Publish the list (the public can see who will receive what before any money moves)."""
    _official(actor)
    if batch.status != "computed":
        raise Conflict("只有刚计算出的名单可以发布", where="status")
    before = audit.snapshot(batch)
    batch.status = "published"
    batch.published_at = utcnow()
    audit.record(session, actor=actor, action="batch.publish", object_type="batch", object_id=batch.id,
                 before=before, after=audit.snapshot(batch))  # fmt: skip
    return batch


def award_batch(session: Session, *, batch: Batch, actor: Actor) -> dict[str, Any]:
    """Turn a published list into awards: budget by the call's rule, one reservation, the ledger's guard."""
    _official(actor)
    if batch.status != "published":
        raise Conflict("名单须先发布，才能兑现", where="status")
    call = session.get(Call, batch.call_id)
    assert call is not None
    items = [i for i in items_of(session, batch.id) if i.status == "listed"]
    amounts = allocate([i.amount_fen for i in items], call.budget_fen - call.reserved_fen, call.oversubscription)
    awarded = 0
    for item, amount in zip(items, amounts, strict=True):
        taken = session.scalar(select(Award.id).where(Award.entity_id == item.entity_id,
                                                      Award.rule_ref == item.rule_ref, Award.period == call.period))  # fmt: skip
        if amount <= 0 or taken is not None:
            item.status = "skipped"
            item.note = "已在台账中" if taken is not None else "预算不足"
            continue
        budget.reserve(session, call_id=call.id, amount_fen=amount)
        create_awards(session, call=call, application=None, actor=actor, entity_id=item.entity_id, batch_id=batch.id,
                      rules=[{"ref": item.rule_ref, "approved_fen": amount, "tiers": item.tiers}])  # fmt: skip
        item.status = "awarded"
        awarded += amount
    before = audit.snapshot(batch)
    batch.status = "awarded"
    audit.record(session, actor=actor, action="batch.award", object_type="batch", object_id=batch.id, before=before,
                 after={**audit.snapshot(batch), "awarded_fen": awarded})  # fmt: skip
    return {"awarded_fen": awarded, "items": len(items)}
