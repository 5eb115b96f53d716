"""Delivering new notices to a government messaging system: one JSON POST per notice.

``HUIQI_WEBHOOK_URL`` names the receiver, ``HUIQI_WEBHOOK_SECRET`` the key of the signature: each request
carries ``X-Huiqi-Signature: sha256=<hex HMAC-SHA256 of the body>`` and ``X-Huiqi-Timestamp`` (Unix
seconds; the body holds the same moment as ``sent_at``, so a replayed request can be told by its age),
with ``Content-Type: application/json; charset=utf-8``. A 2xx answer is delivered (``delivery`` = ``sent``);
anything else — another status, a refused connection, no answer within the timeout — is tried again
after a pause that doubles (``attempts`` tries in all), then recorded ``failed``. Each try adds one to
``delivery_attempts``. After two notices in a row failed every try the rest of the run is recorded
``failed`` untried; the next 重新匹配 or ``huiqi notify`` tries the failed ones again. Delivery runs after the request that opened the call has been answered (a
background task), in its own transactions, so a slow or absent receiver never holds a request or a
row lock; the in-app notice exists whatever the webhook does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select

from huiqi.store.db import Database
from huiqi.store.models import Call, Entity, Notice
from huiqi.workflow.matching import notice_json

SIGNATURE_HEADER = "X-Huiqi-Signature"
TIMESTAMP_HEADER = "X-Huiqi-Timestamp"


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str
    timeout_s: float = 5.0
    attempts: int = 3
    backoff_s: float = 1.0
    give_up_after: int = 2  # notices in a row that failed every try: the receiver is down, stop trying


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver checks (constant-time)."""
    return hmac.compare_digest(sign(secret, body), header)


def _post(config: WebhookConfig, payload: dict[str, object]) -> str | None:
    """One try: None when delivered, else why not (in Chinese)."""
    now = int(time.time())
    body = json.dumps({**payload, "sent_at": now}, ensure_ascii=False, sort_keys=True).encode()
    if not config.url.startswith(("http://", "https://")):
        return "推送地址须以 http:// 或 https:// 开头"
    request = urllib.request.Request(config.url, data=body, method="POST", headers={  # noqa: S310 - http(s) only
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(config.secret, body),
        TIMESTAMP_HEADER: str(now),
        "User-Agent": "huiqi-webhook/1",
    })  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=config.timeout_s) as response:  # noqa: S310 - configured URL
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"接收方返回 HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return f"无法送达：{getattr(exc, 'reason', exc)}"
    return None if 200 <= status < 300 else f"接收方返回 HTTP {status}"


def deliver(
    database: Database,
    config: WebhookConfig,
    notice_ids: Iterable[int],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[int, str]:
    """Deliver each notice (not yet sent) with retries; records ``delivery`` and ``delivery_attempts``.

    When ``give_up_after`` notices in a row fail every try, the receiver is taken to be down: the remaining
    notices are recorded ``failed`` without a try (a dead receiver must not hold a worker thread for hours);
    ``failed_notice_ids`` finds them for the next run (重新匹配, ``huiqi notify``).

    Returns notice id → ``sent`` | ``failed``. Never raises for a receiver's failure."""
    outcome: dict[int, str] = {}
    failures_in_a_row = 0
    for notice_id in notice_ids:
        if failures_in_a_row >= config.give_up_after:
            with database.transaction() as session:
                row = session.get(Notice, notice_id)
                if row is not None and row.delivery != "sent":
                    row.delivery = "failed"
                    outcome[notice_id] = "failed"
            continue
        with database.sessions() as session:
            notice = session.get(Notice, notice_id)
            if notice is None or notice.delivery == "sent":
                continue
            entity = session.get_one(Entity, notice.entity_id)
            call = session.get(Call, notice.call_id) if notice.call_id is not None else None
            payload = notice_json(notice, entity=entity, call=call)
        result = "failed"
        for attempt in range(config.attempts):
            problem = _post(config, payload)
            with database.transaction() as session:
                row = session.get_one(Notice, notice_id)
                row.delivery_attempts = (row.delivery_attempts or 0) + 1
                row.delivery = "sent" if problem is None else "failed"
            if problem is None:
                result = "sent"
                break
            if attempt + 1 < config.attempts:
                sleep(config.backoff_s * 2**attempt)
        outcome[notice_id] = result
        failures_in_a_row = failures_in_a_row + 1 if result == "failed" else 0
    return outcome


def failed_notice_ids(database: Database, call_id: int | None, *, document_id: str | None = None) -> list[int]:
    """The notices of a call (or, with ``call_id`` None, of a document's own matching) whose delivery failed."""
    with database.sessions() as session:
        query = select(Notice.id).where(Notice.delivery == "failed").order_by(Notice.id)
        if call_id is not None:
            query = query.where(Notice.call_id == call_id)
        else:
            query = query.where(Notice.call_id.is_(None), Notice.document_id == (document_id or ""))
        return list(session.scalars(query))
