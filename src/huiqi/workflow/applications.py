"""Applications from draft to the formal check: materials, 信用承诺, the frozen evaluation, 一次性告知."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi import beijing
from huiqi.engine.results import STATUS_LABELS, Evaluation, Status
from huiqi.money import format_cn
from huiqi.store.base import utcnow
from huiqi.store.entities import get_entity
from huiqi.store.errors import Conflict, IllegalTransition, InvalidInput, PermissionDenied
from huiqi.store.models import Application, BlacklistEntry, Call, Entity, Material
from huiqi.workflow import audit
from huiqi.workflow.actors import Actor
from huiqi.workflow.calls import accepting
from huiqi.workflow.lifecycle import check, move
from huiqi.workflow.policy import PolicyEngine, evaluate_entity, ledger_json, ledger_of
from huiqi.workflow.states import State

PLEDGE_TEMPLATE = (
    "{name}郑重承诺：所填报的信息和提交的材料真实、准确、完整，不存在虚报、冒领、重复申报等情形；"
    "如有不实，愿意承担相应法律责任，退回已获资金，并接受失信惩戒。"
)


def pledge_text(entity: Entity) -> str:
    """The 信用承诺 an applicant makes at submission, in its own name."""
    return PLEDGE_TEMPLATE.format(name=entity.name)


def blacklisted(session: Session, entity_id: int, today: dt.date) -> BlacklistEntry | None:
    """The entity's blacklist entry in force today, if any (entries expire)."""
    return session.scalar(
        select(BlacklistEntry)
        .where(
            BlacklistEntry.entity_id == entity_id,
            BlacklistEntry.starts_on <= today,
            BlacklistEntry.expires_on >= today,
        )
        .order_by(BlacklistEntry.expires_on.desc())
    )


def _refuse_if_blacklisted(session: Session, entity_id: int, today: dt.date) -> None:
    entry = blacklisted(session, entity_id, today)
    if entry is not None:
        raise PermissionDenied(f"该主体在失信名单中，{entry.expires_on} 前不得申报（原因：{entry.reason}）")


def create_draft(
    session: Session, *, call: Call, actor: Actor, today: dt.date | None = None, now: dt.datetime | None = None
) -> Application:
    """A draft application of the actor's entity to a call that accepts applications today (``now``: when,
    for the audit event; the present by default)."""
    today = today or beijing.today()
    if actor.role != "applicant" or actor.entity_id is None:
        raise PermissionDenied(f"只有申报主体可以创建申请，当前用户是{actor.role_label}")
    reason = accepting(call, today)
    if reason:
        raise Conflict(reason, where="call_id")
    entity = get_entity(session, actor.entity_id)
    _refuse_if_blacklisted(session, entity.id, today)
    existing = session.scalar(
        select(Application.id).where(Application.call_id == call.id, Application.entity_id == entity.id)
    )
    if existing is not None:
        raise Conflict(f"本主体已有本批次的申请（编号 {existing}），每个批次只能申请一次", where="call_id")
    application = Application(
        call_id=call.id, entity_id=entity.id, applicant_id=actor.user_id, state=State.DRAFT.value, rules=[]
    )
    session.add(application)
    session.flush()
    audit.record(session, actor=actor, action="application.create", object_type="application",
                 object_id=application.id, before=None, after=audit.snapshot(application), now=now)  # fmt: skip
    return application


def chosen_rules(evaluation: Evaluation, call: Call) -> tuple[list[dict[str, Any]], list[str]]:
    """The call's rules the entity qualifies for with an amount, and why each other rule does not."""
    rules: list[dict[str, Any]] = []
    reasons: list[str] = []
    for provision_id in call.provisions:
        provision = evaluation.provision(f"{call.document_id}:{provision_id}")
        for result in provision.rules:
            if result.status in (Status.ELIGIBLE, Status.NEEDS_REVIEW) and result.amount_fen:
                rules.append(
                    {
                        "ref": result.ref,
                        "label": result.label,
                        "status": result.status.value,
                        "amount_fen": result.amount_fen,
                        "is_ceiling": result.is_ceiling,
                        "tiers": list(result.tier),
                        "instalments": result.instalments,
                    }
                )
            else:
                reasons.append(f"{result.ref}：{STATUS_LABELS[result.status]}，{result.reason}")
    return rules, reasons


def submit(
    session: Session,
    *,
    application: Application,
    actor: Actor,
    pledge: bool,
    policy: PolicyEngine,
    now: dt.datetime | None = None,
) -> Application:
    """Submit (or resubmit after 补正) with the 信用承诺; freeze the engine's evaluation into the application.

    What is frozen: the whole evaluation (``huiqi.evaluation/2``), the policy version hash of the call's
    document, and the facts used with their provenance. Later changes to the registry or the policy files
    do not change what this application was judged on.
    """
    now = now or utcnow()
    name = "resubmit" if application.state == State.RETURNED.value else "submit"
    call, transition = check(session, application, name, actor)
    if not pledge:
        raise InvalidInput("提交前须作出信用承诺（pledge: true）：承诺所填信息和材料真实、准确、完整", where="pledge")
    today = now.date()
    if name == "submit":
        reason = accepting(call, today)
        if reason:
            raise Conflict(reason, where="call_id")
    _refuse_if_blacklisted(session, application.entity_id, today)
    uploaded = set(session.scalars(select(Material.name).where(Material.application_id == application.id)))
    missing = [m for m in call.materials if m not in uploaded]
    if missing:
        raise InvalidInput(f"尚缺申报材料：{'、'.join(missing)}；请上传后再提交", where="materials")
    entity = get_entity(session, application.entity_id)
    as_of = call.as_of or today
    evaluation, used = evaluate_entity(
        session,
        entity=entity,
        policy=policy,
        documents=(call.document_id,),
        as_of=as_of,
        period=call.period,
        readings=call.readings,
        quarter=call.quarter,
    )
    rules, reasons = chosen_rules(evaluation, call)
    if not rules:
        raise InvalidInput(
            "按登记的事实评估，本批次的条款均不能给予奖补，暂不能提交：" + "；".join(reasons)
            + "。请补充或更正事实后再提交",
            where="facts",
        )  # fmt: skip
    requested = sum(r["amount_fen"] for r in rules)
    return move(
        session,
        application,
        transition,
        actor=actor,
        now=now,
        rules=rules,
        requested_fen=requested,
        approved_fen=None,
        evaluation=evaluation.to_json(),
        policy_version=policy.version(call.document_id, as_of),  # the version in force that day (amended documents)
        facts_used=used,
        ledger_used=ledger_json(ledger_of(session, entity.id)),
        pledge=pledge_text(entity),
        pledged_at=now,
        submitted_at=now,
    )


def return_for_correction(
    session: Session, *, application: Application, items: list[dict[str, str]], actor: Actor
) -> Application:
    """退回补正 with 一次性告知: every problem at once, and only once per application."""
    _call, transition = check(session, application, "return_for_correction", actor)
    if application.returned_count >= 1:
        raise IllegalTransition(
            "一次性告知：本申请已退回补正过一次，不能再次退回；请作出“形式审查通过”或“不予支持”的决定",
            where="returned_count",
        )
    if not items:
        raise InvalidInput("退回补正须一次性列明全部需补正的事项（items 不能为空）", where="items")
    for index, item in enumerate(items):
        if not str(item.get("problem", "")).strip():
            raise InvalidInput("每个补正事项须说明问题和补正要求（problem）", where=f"items[{index}].problem")
    return move(session, application, transition, actor=actor, returned_count=application.returned_count + 1,
                corrections=[{"field": str(i.get("field", "")), "problem": str(i["problem"])} for i in items])  # fmt: skip


def pass_check(
    session: Session, *, application: Application, actor: Actor, now: dt.datetime | None = None
) -> Application:
    """形式审查通过 (``now``: when, for the audit event; the present by default)."""
    _call, transition = check(session, application, "pass_check", actor)
    return move(session, application, transition, actor=actor, now=now)


def reject(session: Session, *, application: Application, actor: Actor, reason: str) -> Application:
    """不予支持, with the reason the applicant will read."""
    _call, transition = check(session, application, "reject", actor)
    if not reason.strip():
        raise InvalidInput("不予支持须写明理由", where="reason")
    return move(session, application, transition, actor=actor, reason=reason.strip())


def withdraw(session: Session, *, application: Application, actor: Actor, reason: str = "") -> Application:
    """撤回: the applicant withdraws before the proposed list is made."""
    _call, transition = check(session, application, "withdraw", actor)
    return move(session, application, transition, actor=actor, reason=reason.strip() or "申报主体主动撤回")


def describe_amount(application: Application) -> str:
    """The requested and approved amounts in words, for messages."""
    requested = format_cn(application.requested_fen or 0)
    approved = format_cn(application.approved_fen) if application.approved_fen is not None else "未定"
    return f"申请{requested}，拟支持/批准{approved}"
