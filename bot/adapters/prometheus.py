"""Prometheus instant queries and the health probe, over httpx: every answer becomes a
Reading (its series, no data, an error to retry, or an invalid query). A failure to measure
is logged at warning level with the URL (credentials redacted) and the reason."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import httpx
import structlog

from ..core.readings import Reading, Series
from ..log import redact_url
from ..telemetry import MeteredTransport

log = structlog.get_logger()


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.shown = redact_url(self.url, self.url)  # what logs and evidence may say
        self.http = httpx.Client(timeout=timeout, transport=MeteredTransport("prometheus", transport))

    def query(self, promql: str) -> Reading:
        """Every series of an instant query (a scalar is one series without labels).
        Unreachable, timed out, 5xx or an execution error (422): `error`; a parse error
        (400) or a matrix or string result: `invalid`."""
        try:
            response = self.http.get(f"{self.url}/api/v1/query", params={"query": promql})
        except httpx.HTTPError as exc:
            return self._failed("unreachable", f"{type(exc).__name__}: {exc}", promql)
        body: dict[str, Any] = {}
        with contextlib.suppress(ValueError):  # a proxy's HTML error page
            body = response.json()
        said = f"{body.get('errorType', '')}: {body.get('error', '')}" if "error" in body else ""
        if response.status_code == 400:
            return self._failed("invalid", said or "answered 400", promql, invalid=True)
        if response.status_code != 200 or body.get("status") != "success":
            return self._failed("failed", f"answered {response.status_code}"
                                + (f" ({said})" if said else ""), promql)
        data = body.get("data", {})
        kind, result = data.get("resultType"), data.get("result")
        try:
            if kind == "scalar":
                return Reading((Series((), _number(result[1])),))
            if kind == "vector":
                return Reading(tuple(Series.of(s.get("metric", {}), _number(s["value"][1]))
                                     for s in result))
        except (TypeError, KeyError, IndexError, ValueError) as exc:
            return self._failed("failed", f"unreadable answer: {type(exc).__name__}", promql)
        return self._failed("invalid", f"the query returns a {kind}, not an instant vector",
                            promql, invalid=True)

    def _failed(self, what: str, reason: str, promql: str, invalid: bool = False) -> Reading:
        reason = redact_url(reason, self.url)
        log.warning(f"prometheus.{what}", url=self.shown, reason=reason, query=promql)
        text = f"Prometheus at {self.shown} {what}: {reason}"
        return Reading(invalid=text) if invalid else Reading(error=text)


def _number(text: str) -> float:
    # Prometheus sends sample values as strings: "0.01", "NaN", "+Inf", "-Inf".
    return float(text)


def probe_health(url: str, timeout: float, version_field: str | None,
                 transport: httpx.BaseTransport | None = None
                 ) -> tuple[int | None, float | None, str | None, str | None]:
    """(status, latency seconds, version, error) of one GET of a health endpoint; error
    (unreachable, timed out) is also logged at warning level."""
    started = time.monotonic()
    try:
        with httpx.Client(timeout=timeout, transport=MeteredTransport("health", transport)) as client:
            response = client.get(url)
    except httpx.HTTPError as exc:
        shown = redact_url(url, url)
        reason = redact_url(f"{type(exc).__name__}: {exc}", url)
        log.warning("health.unreachable", url=shown, reason=reason)
        return None, None, None, f"{shown}: {reason}"
    latency = time.monotonic() - started
    version = None
    if version_field:
        try:
            data = response.json()
            version = str(data.get(version_field)) if isinstance(data, dict) else None
        except ValueError:
            version = None
    return response.status_code, latency, version, None
