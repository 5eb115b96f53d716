"""An application's requested amount keeps certain money and ceilings apart."""

from __future__ import annotations

from huiqi.api.schemas.applications import ApplicationPublic
from huiqi.store.models import Application


def test_requested_is_split_into_certain_money_and_ceilings() -> None:
    rules = [
        {"ref": "d:1/a", "label": "甲", "status": "eligible", "amount_fen": 60_000_000, "is_ceiling": False},
        {"ref": "d:2/b", "label": "乙", "status": "eligible", "amount_fen": 100_000_000, "is_ceiling": True},
        {"ref": "d:3/c", "label": "丙", "status": "needs_review", "amount_fen": 20_000_000, "is_ceiling": True},
    ]
    application = Application(id=1, call_id=1, entity_id=1, applicant_id=1, state="submitted", rules=rules,
                              requested_fen=180_000_000, returned_count=0, corrections=[], version=1)  # fmt: skip
    public = ApplicationPublic.of(application)
    assert (public.requested, public.requested_certain, public.requested_ceiling) == (
        "1800000.00",
        "600000.00",
        "1200000.00",
    )
    draft = ApplicationPublic.of(Application(id=2, call_id=1, entity_id=1, applicant_id=1, state="draft", rules=[],
                                             returned_count=0, corrections=[], version=1))  # fmt: skip
    assert draft.requested_certain is None and draft.requested_ceiling is None
