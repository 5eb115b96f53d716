"""The registry: entities and their facts (an applicant declares, an official verifies)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from huiqi.api.deps import CurrentActor, Id, PagingDep, PolicyDep, SessionDep, require
from huiqi.api.schemas.common import ERRORS, Page
from huiqi.api.schemas.registry import EntityCreate, EntityPublic, FactCreate, FactPublic
from huiqi.store.entities import create_entity, current_facts, get_entity, record_fact
from huiqi.store.errors import NotFound
from huiqi.store.models import Entity
from huiqi.workflow import audit
from huiqi.workflow.actors import Actor

router = APIRouter(prefix="/entities", tags=["entities"], responses=ERRORS)


def _visible(actor: Actor, entity_id: Id) -> None:
    if actor.role == "applicant" and actor.entity_id != entity_id:
        raise NotFound(f"没有编号为 {entity_id} 的主体，或您无权查看", where="entity_id")
    if actor.role == "expert":
        raise NotFound(f"没有编号为 {entity_id} 的主体，或您无权查看", where="entity_id")


@router.post("", response_model=EntityPublic, status_code=201)
def create(body: EntityCreate, actor: CurrentActor, session: SessionDep) -> EntityPublic:
    """登记申报主体（主管部门经办人或系统管理员）；统一社会信用代码、身份证号码均校验。"""
    require(actor, "official", "administrator")
    entity = create_entity(session, entity_type=body.entity_type, name=body.name, uscc=body.uscc,
                           id_number=body.id_number, region=body.region)  # fmt: skip
    audit.record(session, actor=actor, action="entity.create", object_type="entity", object_id=entity.id, before=None,
                 after=audit.snapshot(entity))  # fmt: skip
    return EntityPublic.of(entity)


@router.get("", response_model=Page[EntityPublic])
def list_entities(
    actor: CurrentActor,
    session: SessionDep,
    paging: PagingDep,
    entity_type: str | None = None,
    name: str | None = None,
) -> Page[EntityPublic]:
    """主体列表：申报主体只看到自己；可按类型、名称（包含）筛选。"""
    require(actor, "applicant", "official", "finance", "administrator")
    query = select(Entity)
    if actor.role == "applicant":
        query = query.where(Entity.id == (actor.entity_id or 0))
    if entity_type:
        query = query.where(Entity.entity_type == entity_type)
    if name:
        query = query.where(Entity.name.contains(name, autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Entity.id).limit(paging.limit).offset(paging.offset))
    return Page(items=[EntityPublic.of(e) for e in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{entity_id}", response_model=EntityPublic)
def read(entity_id: Id, actor: CurrentActor, session: SessionDep) -> EntityPublic:
    """一个主体。"""
    _visible(actor, entity_id)
    return EntityPublic.of(get_entity(session, entity_id))


@router.post("/{entity_id}/facts", response_model=FactPublic, status_code=201)
def add_fact(
    entity_id: Id, body: FactCreate, actor: CurrentActor, session: SessionDep, policy: PolicyDep
) -> FactPublic:
    """记录一项事实：申报主体填报为“declared”，主管部门记录为“verified”，管理员导入为“imported”。"""
    require(actor, "applicant", "official", "administrator")
    _visible(actor, entity_id)
    provenance = {"applicant": "declared", "official": "verified", "administrator": "imported"}[actor.role]
    entity = get_entity(session, entity_id)
    fact = record_fact(session, entity=entity, key=body.key, value=body.value, year=body.year, provenance=provenance,
                       recorded_by=actor.username, catalogue=policy.base.catalogue, source=body.source,
                       quarter=body.quarter)  # fmt: skip
    audit.record(session, actor=actor, action="fact.record", object_type="fact", object_id=fact.id, before=None,
                 after=audit.snapshot(fact))  # fmt: skip
    return FactPublic.of(fact)


@router.get("/{entity_id}/facts", response_model=list[FactPublic])
def list_facts(entity_id: Id, actor: CurrentActor, session: SessionDep) -> list[FactPublic]:
    """该主体现行有效的事实（每项事实、每个年度一条，注明来源）。"""
    require(actor, "applicant", "official", "finance", "administrator")
    _visible(actor, entity_id)
    get_entity(session, entity_id)
    return [FactPublic.of(f) for f in current_facts(session, entity_id)]
