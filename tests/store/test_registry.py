"""The registry holds only what an evaluation would accept: checked codes, typed facts, provenance."""

from __future__ import annotations

import pytest

from huiqi.store.db import Database
from huiqi.store.entities import create_entity, current_facts, raw_profile, record_fact
from huiqi.store.errors import Conflict, InvalidInput
from huiqi.workflow.policy import PolicyEngine
from platform_fixtures import make_id_number, make_uscc


def test_an_enterprise_with_a_wrong_check_character_is_refused_naming_the_field(db: Database) -> None:
    code = make_uscc(7)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with db.transaction() as session, pytest.raises(InvalidInput) as error:
        create_entity(session, entity_type="enterprise", name="某公司", uscc=wrong)
    assert error.value.where == "uscc" and "校验码" in error.value.message


def test_an_enterprise_needs_a_uscc_and_a_talent_an_id_number(db: Database) -> None:
    with db.transaction() as session:
        with pytest.raises(InvalidInput, match="统一社会信用代码"):
            create_entity(session, entity_type="enterprise", name="某公司")
        with pytest.raises(InvalidInput, match="身份证"):
            create_entity(session, entity_type="talent", name="张三")
        talent = create_entity(session, entity_type="talent", name="张三", id_number=make_id_number(5))
        assert talent.id_number == make_id_number(5)
    with db.transaction() as session, pytest.raises(InvalidInput, match="身份证号码无效"):
        create_entity(session, entity_type="talent", name="李四", id_number="110101199001010000")


def test_the_same_uscc_cannot_be_registered_twice(db: Database) -> None:
    with db.transaction() as session:
        create_entity(session, entity_type="enterprise", name="甲公司", uscc=make_uscc(1))
    with db.transaction() as session, pytest.raises(Conflict, match="已登记"):
        create_entity(session, entity_type="enterprise", name="乙公司", uscc=make_uscc(1))


def test_a_fact_is_checked_like_a_profile_and_annual_facts_need_a_year(db: Database, policy: PolicyEngine) -> None:
    catalogue = policy.base.catalogue
    with db.transaction() as session:
        firm = create_entity(session, entity_type="enterprise", name="甲公司", uscc=make_uscc(1))
        with pytest.raises(InvalidInput, match="单位"):
            record_fact(session, entity=firm, key="paid_in_capital", value="1200", year=None, provenance="declared",
                        recorded_by="a", catalogue=catalogue)  # fmt: skip
        with pytest.raises(InvalidInput, match="年度"):
            record_fact(session, entity=firm, key="revenue", value="1亿元", year=None, provenance="declared",
                        recorded_by="a", catalogue=catalogue)  # fmt: skip
        with pytest.raises(InvalidInput, match="未知的事实"):
            record_fact(session, entity=firm, key="revenu", value="1亿元", year=2023, provenance="declared",
                        recorded_by="a", catalogue=catalogue)  # fmt: skip


def test_a_verified_figure_stands_against_a_later_declaration_and_history_is_kept(
    db: Database, policy: PolicyEngine
) -> None:
    catalogue = policy.base.catalogue
    with db.transaction() as session:
        firm = create_entity(session, entity_type="enterprise", name="甲公司", uscc=make_uscc(1), region=["苏州市"])
        record_fact(session, entity=firm, key="revenue", value="9000万元", year=2023, provenance="declared",
                    recorded_by="applicant", catalogue=catalogue)  # fmt: skip
        record_fact(session, entity=firm, key="revenue", value="8000万元", year=2023, provenance="verified",
                    recorded_by="official", catalogue=catalogue)  # fmt: skip
        record_fact(session, entity=firm, key="revenue", value="1.2亿元", year=2023, provenance="declared",
                    recorded_by="applicant", catalogue=catalogue)  # fmt: skip
        record_fact(session, entity=firm, key="paid_in_capital", value="500万元", year=None, provenance="imported",
                    recorded_by="import", catalogue=catalogue)  # fmt: skip
        firm_id = firm.id
    with db.sessions() as session:
        facts = current_facts(session, firm_id)
        assert [(f.key, f.value, f.provenance) for f in facts] == [
            ("paid_in_capital", "500万元", "imported"),
            ("revenue", "8000万元", "verified"),
        ]
        assert len(session.get_one(type(facts[0]), facts[0].id).entity.facts) == 4
        raw = raw_profile(facts[0].entity, facts)
        assert raw["facts"] == {"paid_in_capital": "500万元", "revenue": {"2023": "8000万元"}}
        assert raw["uscc"] == make_uscc(1)
