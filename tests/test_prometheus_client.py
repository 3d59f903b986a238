"""The Prometheus client's answers to every case Prometheus (or the network) can give."""

from __future__ import annotations

import math

import httpx
import pytest
import respx

from bot.adapters.prometheus import PrometheusClient, probe_health

URL = "http://prom.test:9090/api/v1/query"


def vector(*values: str) -> dict[str, object]:
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"i": str(i)}, "value": [1700000000.0, v]} for i, v in enumerate(values)]}}


@respx.mock
@pytest.mark.parametrize(("response", "check"), [
    (httpx.Response(200, json=vector("0.01")), lambda r: r.value == 0.01),
    (httpx.Response(200, json=vector("0.01", "0.3")), lambda r: r.value == 0.3),
    (httpx.Response(200, json=vector("NaN")), lambda r: r.value is not None and math.isnan(r.value)),
    (httpx.Response(200, json=vector("+Inf")), lambda r: r.value == float("inf")),
    (httpx.Response(200, json=vector()), lambda r: r.empty),
    (httpx.Response(200, json={"status": "success", "data": {"resultType": "scalar",
                                                             "result": [1.0, "2"]}}),
     lambda r: r.value == 2.0),
    (httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix",
                                                             "result": []}}),
     lambda r: "matrix" in (r.invalid or "")),
    (httpx.Response(400, json={"status": "error", "errorType": "bad_data",
                               "error": "parse error at char 5"}),
     lambda r: (r.invalid or "").startswith("bad_data: parse error")),
    (httpx.Response(422, json={"status": "error", "errorType": "execution", "error": "x"}),
     lambda r: r.invalid is not None),
    (httpx.Response(503, text="service unavailable"), lambda r: "503" in (r.error or "")),
    (httpx.ReadTimeout("slow"), lambda r: "ReadTimeout" in (r.error or "")),
    (httpx.ConnectError("refused"), lambda r: "ConnectError" in (r.error or "")),
])
def test_query_readings(response: httpx.Response | Exception, check: object) -> None:
    route = respx.get(URL)
    if isinstance(response, Exception):
        route.side_effect = response
    else:
        route.mock(return_value=response)
    reading = PrometheusClient("http://prom.test:9090").query("up")
    assert check(reading), reading  # type: ignore[operator]
    assert route.calls[0].request.url.params["query"] == "up"


@respx.mock
def test_health_probe() -> None:
    respx.get("http://app.test/healthz").respond(200, json={"version": "1.4.2"})
    status, latency, version, error = probe_health("http://app.test/healthz", 2, "version")
    assert (status, version, error) == (200, "1.4.2", None) and latency is not None
    respx.get("http://down.test/healthz").side_effect = httpx.ConnectError("refused")
    assert probe_health("http://down.test/healthz", 2, None)[3] == "ConnectError"
