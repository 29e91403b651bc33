"""Retrying Matrix requests (tenacity): back off while the homeserver is away, obey 429s.

nio is configured not to retry by itself (`max_limit_exceeded=0`, `max_timeouts=0`), so
every failure surfaces here once and one policy applies: a 429 waits `retry_after_ms`,
connection problems and 5xx answers back off exponentially with jitter up to a cap, and
errors that will not go away by waiting (403, unknown room, bad request) are not retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from nio import ErrorResponse
from nio.exceptions import SendRetryError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_delay,
    stop_never,
    wait_exponential_jitter,
)

log = logging.getLogger("cjgbot.matrix")

T = TypeVar("T")


class Transient(Exception):
    """A request failed in a way that waiting can fix."""

    def __init__(self, what: str, retry_after_s: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after_s = retry_after_s


class Permanent(Exception):
    """A request failed in a way that retrying will not fix."""

    def __init__(self, what: str, status: str | None) -> None:
        super().__init__(what)
        self.what = what
        self.status = status


TRANSIENT = (
    Transient,
    SendRetryError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    ConnectionError,
    OSError,
)


def check(response: Any, what: str) -> Any:
    """Raise Transient/Permanent for a nio error response; return a good response as is."""
    if not isinstance(response, ErrorResponse):
        return response
    status = response.status_code
    http = getattr(getattr(response, "transport_response", None), "status", None)
    if status == "M_LIMIT_EXCEEDED" or http == 429:
        retry_after = response.retry_after_ms
        raise Transient(what, retry_after / 1000 if retry_after else 1.0)
    if http is not None and http >= 500:
        raise Transient(what)
    raise Permanent(what, status)


class _Wait:
    """429: the server's retry_after; anything else: exponential back-off with jitter."""

    def __init__(self, max_wait_s: float) -> None:
        self.backoff = wait_exponential_jitter(multiplier=0.2, max=max_wait_s, jitter=0.5)
        self.max_wait_s = max_wait_s

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, Transient) and error.retry_after_s is not None:
            return min(error.retry_after_s, self.max_wait_s)
        return float(self.backoff(state))


class RetryStats:
    """Counters for tests and the bench: how often the policy had to wait."""

    def __init__(self) -> None:
        self.rate_limited = 0
        self.retried = 0


async def retrying(
    call: Callable[[], Awaitable[T]],
    what: str,
    max_wait_s: float,
    stats: RetryStats | None = None,
    give_up_after_s: float | None = None,
) -> T:
    """Run `call` until it succeeds or fails permanently (raises Permanent).

    Without `give_up_after_s` a passing problem is retried for as long as it lasts (a
    message must not be lost); with it, the last error is raised after that time.
    """

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        limited = isinstance(error, Transient) and error.retry_after_s is not None
        if stats is not None:
            stats.retried += 1
            stats.rate_limited += int(limited)
        log.warning(
            "matrix_retry",
            extra={
                "kind": what,
                "attempt": state.attempt_number,
                "status": "rate_limited" if limited else type(error).__name__,
            },
        )

    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(TRANSIENT),
        wait=_Wait(max_wait_s),
        before_sleep=before_sleep,
        stop=stop_never if give_up_after_s is None else stop_after_delay(give_up_after_s),
        reraise=True,
    ):
        with attempt:
            return check(await call(), what)
    raise AssertionError("unreachable")  # pragma: no cover
