# ruff: noqa: S106  (test accounts have literal passwords)
"""Passwords are kept as scrypt hashes and tokens as SHA-256; only live tokens of active users work."""

from __future__ import annotations

import pytest

from huiqi.store.db import Database
from huiqi.store.entities import create_entity
from huiqi.store.errors import Conflict, InvalidInput
from huiqi.store.models import Token
from huiqi.store.users import authenticate, create_user, issue_token, revoke_token, user_for_token
from platform_fixtures import make_uscc


def test_a_password_is_hashed_with_a_salt_and_checked(db: Database) -> None:
    with db.transaction() as session:
        official = create_user(session, username="wang", password="Correct horse 1", role="official")
        assert official.password_hash.startswith("scrypt$") and "Correct horse 1" not in official.password_hash
        assert authenticate(session, username="wang", password="Correct horse 1") is official
        assert authenticate(session, username="wang", password="Wrong horse 1") is None
        assert authenticate(session, username="nobody", password="Correct horse 1") is None


def test_roles_are_checked_and_an_applicant_must_act_for_an_entity(db: Database) -> None:
    with db.transaction() as session:
        with pytest.raises(InvalidInput, match="角色"):
            create_user(session, username="x", password="Solid-pass-2024", role="mayor")
        with pytest.raises(InvalidInput, match="entity_id"):
            create_user(session, username="x", password="Solid-pass-2024", role="applicant")
        with pytest.raises(InvalidInput, match="密码太短"):
            create_user(session, username="x", password="short", role="official")
        firm = create_entity(session, entity_type="enterprise", name="甲公司", uscc=make_uscc(1))
        create_user(session, username="firm", password="Solid-pass-2024", role="applicant", entity_id=firm.id)
        with pytest.raises(Conflict):
            create_user(session, username="firm", password="Solid-pass-2024", role="official")


def test_a_token_is_stored_as_a_hash_and_stops_working_when_revoked(db: Database) -> None:
    with db.transaction() as session:
        user = create_user(session, username="wang", password="Correct horse 1", role="official")
        token = issue_token(session, user=user)
        stored = session.query(Token).one()
        assert token not in stored.token_hash
        assert user_for_token(session, token) is user
        assert user_for_token(session, token + "x") is None
        revoke_token(session, token)
        assert user_for_token(session, token) is None
        user.active = False
        assert user_for_token(session, issue_token(session, user=user)) is None
