"""The registry: entities (申报主体) and their facts per period, each fact with its provenance."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from huiqi.store.base import Base, utcnow

#: Who vouches for a fact: the applicant declared it, an official verified it, or it came from a file.
PROVENANCES = ("declared", "verified", "imported")
PROVENANCE_LABELS = {"declared": "申报主体填报", "verified": "主管部门核实", "imported": "批量导入"}


class Entity(Base):
    """One applicant: enterprise, park operator, talent, institution, project or local government."""

    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)  # 身份证号码 (talents)
    region: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    facts: Mapped[list[Fact]] = relationship(back_populates="entity", order_by="Fact.id")


class Fact(Base):
    """One value of one fact for one entity and period, as written in a profile (``"1200万元"``).

    Rows are never updated: a new value is a new row, so the history of who said what stays.
    """

    __tablename__ = "facts"
    __table_args__ = (Index("ix_facts_entity_key", "entity_id", "key", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    key: Mapped[str] = mapped_column(String(64))
    year: Mapped[int | None] = mapped_column(Integer)  # the period of an annual or quarterly fact; None for the others
    quarter: Mapped[int | None] = mapped_column(Integer)  # the quarter (1–4) of a quarterly fact
    value: Mapped[Any] = mapped_column(JSON)
    provenance: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    source: Mapped[str | None] = mapped_column(String(200))

    entity: Mapped[Entity] = relationship(back_populates="facts")
