"""Schemathesis against the published OpenAPI, in-process over ASGI: no request makes a server error.

Examples are bounded (a few per operation, no shrinking) so the run takes seconds; it is authenticated as
an official over a small world so that object routes find real objects as well as missing ones.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from huiqi.workflow.policy import policy_engine
from platform_fixtures import add_call, add_firm, add_user, make_app, sqlite_database, submit_application

_world: dict[str, Any] = {}


def _schema() -> Any:
    """The app over a small SQLite world, built at collection (schemathesis parametrizes from the schema)."""
    database = sqlite_database(Path(tempfile.mkdtemp(prefix="huiqi-fuzz-")))
    policy = policy_engine()
    call_id = add_call(database, policy)
    submit_application(database, policy, call_id, add_firm(database, policy, 1))
    _world["token"] = add_user(database, "official", "official")
    _world["folder"] = Path(str(database.engine.url.database)).parent
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", make_app(database))


schema = _schema()


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    shutil.rmtree(_world["folder"], ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_operation_answers_with_a_server_error(case: Any) -> None:
    response = case.call(headers={"Authorization": f"Bearer {_world['token']}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
