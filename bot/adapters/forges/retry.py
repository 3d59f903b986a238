"""The retry policy every forge shares: retry 5xx, transport failures and timeouts, and
429 (or a rate-limit 403) after the `Retry-After` the forge asked for; never other 4xx.

A forge call that may be retried is a function; `call` runs it with the policy and times
each attempt (`hoist_external_call_seconds{system=<forge>}`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TypeVar

import httpx
import requests
from tenacity import RetryCallState, retry, retry_if_exception, stop_after_attempt

from ...telemetry import timed_call

T = TypeVar("T")
ATTEMPTS = 6
MAX_WAIT = 60.0


class Transient(RuntimeError):
    """The forge answered 5xx or 429: try again, after `headers`' Retry-After if any."""

    def __init__(self, status: int, headers: Mapping[str, str], message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}


def wait_from_headers(headers: Mapping[str, str], attempt: int) -> float:
    """Seconds to wait before attempt `attempt + 1`: `Retry-After` (RFC 9110 §10.2.3, in
    seconds), else a rate-limit reset time (GitHub `X-RateLimit-Reset`, GitLab
    `RateLimit-Reset`, epoch seconds) once the budget is spent, else exponential backoff
    from 0.5 s; never more than a minute."""
    lower = {k.lower(): v for k, v in headers.items()}
    if lower.get("retry-after", "").isdigit():
        return min(float(lower["retry-after"]), MAX_WAIT)
    for prefix in ("x-ratelimit", "ratelimit"):
        if lower.get(f"{prefix}-remaining") == "0" and lower.get(f"{prefix}-reset", "").isdigit():
            return min(max(float(lower[f"{prefix}-reset"]) - time.time(), 0.0), MAX_WAIT)
    return float(min(0.25 * 2 ** attempt, 10.0))


def policy(retryable: Callable[[BaseException], bool],
           headers_of: Callable[[BaseException], Mapping[str, str]]) -> Callable[
               [Callable[[], T]], Callable[[], T]]:
    """A tenacity decorator: `retryable` says which exceptions to retry, `headers_of`
    which response headers came with one."""
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return wait_from_headers(headers_of(exc) if exc else {}, state.attempt_number)

    return retry(retry=retry_if_exception(retryable), stop=stop_after_attempt(ATTEMPTS),
                 wait=wait, reraise=True)


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, Transient | httpx.TransportError | requests.ConnectionError |
                      requests.Timeout | requests.exceptions.ChunkedEncodingError)


_policy: Callable[[Callable[[], object]], Callable[[], object]] = policy(
    _transient, lambda exc: exc.headers if isinstance(exc, Transient) else {})


def call(system: str, operation: str, fn: Callable[[], T]) -> T:
    """Run one forge call (raising `Transient` for 5xx/429) with the shared policy."""
    def attempt() -> T:
        with timed_call(system, operation):
            return fn()
    return _policy(attempt)()  # type: ignore[return-value]
