"""The platform's errors: ``WorkflowError`` refined by what went wrong, each with a stable code.

::

    WorkflowError (huiqi.errors)      an illegal state change or operation in the administration platform
    ├── NotFound                      no such object, or not one the user may see (404)
    ├── PermissionDenied              the user's role may not do this (403)
    ├── InvalidInput                  a field is wrong; ``where`` is its path (422)
    ├── IllegalTransition             the object's state does not allow this transition (409)
    └── Conflict                      the database says no: duplicate, already done, out of time (409)
        └── BudgetExceeded            approving would overspend the call's budget (409)

The API turns each into ``{"code", "message", "field"}``; ``message`` is Chinese and says what to do.
"""

from __future__ import annotations

from huiqi.errors import WorkflowError


class NotFound(WorkflowError):
    """No such object, or one the user may not see (never tell which)."""

    code = "not_found"
    status = 404


class PermissionDenied(WorkflowError):
    """The user's role or relation to the object does not allow the operation."""

    code = "permission_denied"
    status = 403


class InvalidInput(WorkflowError):
    """A value the user gave is wrong; ``where`` names the field."""

    code = "invalid_input"
    status = 422


class IllegalTransition(WorkflowError):
    """The state machine refuses the transition from the object's current state."""

    code = "illegal_transition"
    status = 409


class Conflict(WorkflowError):
    """The operation collides with what is already recorded."""

    code = "conflict"
    status = 409


class BudgetExceeded(Conflict):
    """Reserving the amount would take the call past its budget."""

    code = "budget_exceeded"


def error_code(exc: WorkflowError) -> tuple[str, int]:
    """The API code and HTTP status of a workflow error (a bare ``WorkflowError`` is a 409)."""
    return getattr(exc, "code", "workflow_error"), getattr(exc, "status", 409)
