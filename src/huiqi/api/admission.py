"""Admission control: no more requests at work than the database pool has connections, a bounded wait for
the others, and a JSON 503 with ``Retry-After`` for whoever waited too long.

Why (docs/platform.md, "Concurrency"): the handlers are synchronous and run in AnyIO's thread pool, one
hop per dependency and one for the handler. Without a gate, 60 requests took the 40 threads; those that
had a pooled connection — some holding the row lock of a call's budget — waited for a thread to go on,
while every thread waited for a connection: the service stalled until the pool timed out with a plain 500.
With at most ``slots`` requests admitted, ``slots`` ≤ the pool's connections and < the threads, an admitted
request always finds its connection and its thread, so it always finishes; the rest wait here, in the
event loop, where waiting costs no thread and no connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from anyio import to_thread


class Overloaded(Exception):
    """The service is at capacity: answered 503 with ``Retry-After`` (see ``huiqi.api.errors``)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass
class AdmissionState:
    """The gate of one event loop (a test client starts a loop of its own; a server has one)."""

    loop: asyncio.AbstractEventLoop
    semaphore: asyncio.Semaphore
    waiting: int = 0
    admitted: int = 0


class Admission:
    """A FastAPI dependency that admits at most ``slots`` requests at once.

    ``wait_s`` bounds the time a request waits for a slot and ``queue`` the number that may wait at all;
    beyond either the request is refused at once with :class:`Overloaded`. ``threads`` is the size the
    AnyIO thread pool is given (at least ``slots`` plus room for the dependencies' commits and health).
    """

    def __init__(self, slots: int, *, wait_s: float = 10.0, queue: int | None = None, retry_after: int = 2) -> None:
        if slots < 1:
            raise ValueError("slots must be positive")
        self.slots = slots
        self.wait_s = wait_s
        self.queue = queue if queue is not None else 50 * slots
        self.retry_after = retry_after
        self.threads = max(40, slots + 8)
        self._state: AdmissionState | None = None

    def _current(self) -> AdmissionState:
        loop = asyncio.get_running_loop()
        if self._state is None or self._state.loop is not loop:
            self._state = AdmissionState(loop=loop, semaphore=asyncio.Semaphore(self.slots))
            limiter = to_thread.current_default_thread_limiter()
            limiter.total_tokens = max(limiter.total_tokens, self.threads)
        return self._state

    def load(self) -> dict[str, int]:
        """Requests admitted and waiting now (for ``/health``)."""
        state = self._state
        return {
            "slots": self.slots,
            "admitted": state.admitted if state else 0,
            "waiting": state.waiting if state else 0,
        }

    async def __call__(self) -> AsyncIterator[None]:
        state = self._current()
        if state.waiting >= self.queue:
            raise Overloaded(
                f"服务繁忙：已有{state.waiting}个请求在排队，请{self.retry_after}秒后重试", retry_after=self.retry_after
            )
        state.waiting += 1
        try:
            async with asyncio.timeout(self.wait_s):
                await state.semaphore.acquire()
        except TimeoutError:
            raise Overloaded(
                f"服务繁忙：请求排队超过{self.wait_s:g}秒仍未轮到，请{self.retry_after}秒后重试",
                retry_after=self.retry_after,
            ) from None
        finally:
            state.waiting -= 1
        state.admitted += 1
        try:
            yield
        finally:
            state.admitted -= 1
            state.semaphore.release()
