"""Who is acting: the user behind a request or a command, reduced to what permissions need."""

from __future__ import annotations

from dataclasses import dataclass

from huiqi.store.models import ROLE_LABELS, User


@dataclass(frozen=True, slots=True)
class Actor:
    """A user's name, role, and the entity or expert it stands for."""

    username: str
    role: str
    user_id: int | None = None
    entity_id: int | None = None
    expert_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.username, user.role, user.id, user.entity_id, user.expert_id)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


#: The actor of commands run by an operator on the server (migrations, demo data).
SYSTEM = Actor("system", "administrator")
