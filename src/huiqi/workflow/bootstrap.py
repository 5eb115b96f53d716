"""The first administrator: created at start-up when none exists, so a fresh database can be managed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi.store.models import User
from huiqi.store.users import create_user
from huiqi.workflow import audit
from huiqi.workflow.actors import SYSTEM


def ensure_admin(session: Session, *, username: str, password: str) -> User | None:
    """Create ``username`` as administrator if there is no administrator yet; return it if created.

    The password rule is not applied here: the settings apply it in production (``huiqi.api.config``), and
    in development the documented default ``changethis`` keeps working (docs/security.md).
    """
    if session.scalar(select(User.id).where(User.role == "administrator")) is not None:
        return None
    user = create_user(session, username=username, password=password, role="administrator", display_name="系统管理员",
                       check_rule=False)  # fmt: skip
    audit.record(session, actor=SYSTEM, action="user.create", object_type="user", object_id=user.id, before=None,
                 after=audit.snapshot(user))  # fmt: skip
    return user
