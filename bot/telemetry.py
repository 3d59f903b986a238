"""Instruments for the work Hoist does outside a web request: calls to git, GitHub,
registries, Prometheus and Argo CD; canary steps; analysis passes; promotion transitions.

They belong to no registry until an app adds them (`register`), so the several apps a test
process may build share one set of instruments and each app's /metrics shows them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram

CALL_SECONDS = Histogram(
    "hoist_external_call_seconds", "Latency of calls to other systems",
    ["system", "operation"], registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CALL_ERRORS = Counter(
    "hoist_external_call_errors_total",
    "Calls to other systems that failed (unreachable, timed out, 5xx, 429, non-zero exit)",
    ["system", "operation"], registry=None,
)
STEP_SECONDS = Histogram(
    "hoist_canary_step_seconds", "Time from a canary step's start to its verdict",
    ["environment", "outcome"], registry=None,
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)
ANALYSIS_SECONDS = Histogram(
    "hoist_analysis_seconds", "Time one analysis pass took (health check and every query)",
    ["environment"], registry=None,
)
VERDICTS = Counter(
    "hoist_analysis_verdicts_total", "Analysis check results by check and outcome",
    ["environment", "check", "outcome"], registry=None,
)
TRANSITIONS = Counter(
    "hoist_promotion_transitions_total", "Promotions entering each state", ["state"],
    registry=None,
)
PROMOTION_SECONDS = Histogram(
    "hoist_promotion_seconds", "Time from the push being received to the environment promoted",
    ["environment"], registry=None,
    buckets=(1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600),
)
INSTRUMENTS = (CALL_SECONDS, CALL_ERRORS, STEP_SECONDS, ANALYSIS_SECONDS, VERDICTS, TRANSITIONS,
               PROMOTION_SECONDS)


def register(registry: CollectorRegistry) -> None:
    """Show these instruments on `registry`'s /metrics."""
    for instrument in INSTRUMENTS:
        registry.register(instrument)


@contextmanager
def timed_call(system: str, operation: str) -> Iterator[None]:
    """Time a call to another system; an exception counts as an error and propagates."""
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        CALL_ERRORS.labels(system, operation).inc()
        raise
    finally:
        CALL_SECONDS.labels(system, operation).observe(time.perf_counter() - started)


class MeteredTransport(httpx.BaseTransport):
    """An httpx transport that times each request (to the response headers) and counts
    transport failures, 5xx and 429 answers as errors."""

    def __init__(self, system: str, inner: httpx.BaseTransport | None = None) -> None:
        self.system = system
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with timed_call(self.system, request.method):
            response = self.inner.handle_request(request)
        if response.status_code >= 500 or response.status_code == 429:
            CALL_ERRORS.labels(self.system, request.method).inc()
        return response

    def close(self) -> None:
        self.inner.close()
