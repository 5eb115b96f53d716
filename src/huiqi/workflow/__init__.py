"""The procedures of the administration platform, over ``huiqi.store``.

Every function takes the session of one transaction and the ``Actor`` doing it; it checks the actor's
role and relation to the object, changes state through the call's state machine, records an audit event,
and leaves committing to the caller — so an operation and its money movement commit together or not at all.
"""

from __future__ import annotations
