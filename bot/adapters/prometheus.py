"""Prometheus instant queries and the health probe, over httpx: every answer becomes a
Reading (a value, no data, an error to retry, or an invalid query)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import httpx

from ..core.analysis import Reading
from ..telemetry import MeteredTransport


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=timeout, transport=MeteredTransport("prometheus", transport))

    def query(self, promql: str) -> Reading:
        """The value of an instant query; several series count by their largest value."""
        try:
            response = self.http.get(f"{self.url}/api/v1/query", params={"query": promql})
        except httpx.HTTPError as exc:
            return Reading(error=f"Prometheus unreachable: {type(exc).__name__}")
        body: dict[str, Any] = {}
        with contextlib.suppress(ValueError):  # a proxy's HTML error page
            body = response.json()
        if response.status_code in (400, 422):
            return Reading(invalid=f"{body.get('errorType', response.status_code)}: "
                                   f"{body.get('error', '')}".strip())
        if response.status_code != 200 or body.get("status") != "success":
            return Reading(error=f"Prometheus answered {response.status_code}")
        data = body.get("data", {})
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar":
            return Reading(value=_number(result[1]))
        if kind != "vector":
            return Reading(invalid=f"the query returns a {kind}, not an instant vector")
        if not result:
            return Reading(empty=True)
        return Reading(value=max(_number(series["value"][1]) for series in result))


def _number(text: str) -> float:
    # Prometheus sends sample values as strings: "0.01", "NaN", "+Inf", "-Inf".
    return float(text)


def probe_health(url: str, timeout: float, version_field: str | None,
                 transport: httpx.BaseTransport | None = None
                 ) -> tuple[int | None, float | None, str | None, str | None]:
    """(status, latency seconds, version, error) of one GET of a health endpoint."""
    started = time.monotonic()
    try:
        with httpx.Client(timeout=timeout, transport=MeteredTransport("health", transport)) as client:
            response = client.get(url)
    except httpx.HTTPError as exc:
        return None, None, None, type(exc).__name__
    latency = time.monotonic() - started
    version = None
    if version_field:
        try:
            data = response.json()
            version = str(data.get(version_field)) if isinstance(data, dict) else None
        except ValueError:
            version = None
    return response.status_code, latency, version, None
