"""The Prometheus client's answers to every case Prometheus (or the network) can give: the
shapes a real Prometheus answers (Debian's, no scrape targets: each case is PromQL), and the
failures only a transport double can stage."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from bot.adapters.prometheus import PrometheusClient, probe_health
from bot.core.readings import Reading, Series
from bot.demo.registry import free_port
from tests.prometheus_stack import Prometheus
from tests.support import need

URL = "http://prom.test:9090/api/v1/query"
PODS = ('label_replace(vector(0.5), "pod", "a", "", "") or '
        'label_replace(vector(0.999), "pod", "b", "", "")')


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    need("prometheus")
    server = Prometheus(tmp_path_factory.mktemp("prometheus"), []).start()
    yield server
    server.stop()


def values(reading: Reading) -> list[float]:
    return [s.value for s in reading.series]


@pytest.mark.e2e
@pytest.mark.parametrize(("query", "check"), [
    (PODS, lambda r: r.series == (Series((("pod", "a"),), 0.5), Series((("pod", "b"),), 0.999))),
    ("vector(0) / vector(0)", lambda r: len(r.series) == 1 and math.isnan(r.series[0].value)),
    ("vector(1) / 0", lambda r: values(r) == [math.inf]),
    ("-vector(1) / 0", lambda r: values(r) == [-math.inf]),
    ("scalar(vector(0.25))", lambda r: r.series == (Series((), 0.25),)),
    ("scalar(vector(1) and vector(2) == 3)", lambda r: math.isnan(values(r)[0])),  # no sample
    ("up", lambda r: r.empty),  # nothing scraped: no series
    ('sum by (job) (up{job="none"})', lambda r: r.empty),
    ('"str"', lambda r: "returns a string, not an instant vector" in (r.invalid or "")),
    ("up[1m]", lambda r: "returns a matrix, not an instant vector" in (r.invalid or "")),
    ("sum(rate(", lambda r: "bad_data" in (r.invalid or "")),
])
def test_what_a_real_prometheus_answers(prometheus: Prometheus, query: str,
                                        check: Callable[[Reading], bool]) -> None:
    reading = PrometheusClient(prometheus.url).query(query)
    assert check(reading), reading


@pytest.mark.e2e
def test_an_unreachable_prometheus_is_an_error_logged_with_its_url_redacted() -> None:
    url = f"http://hoist:s3cret@127.0.0.1:{free_port()}"  # nothing listens there
    with capture_logs() as logs:
        reading = PrometheusClient(url, timeout=2).query("up")
    assert reading.error is not None and reading.invalid is None and not reading.series
    assert "s3cret" not in reading.error and "http://***@127.0.0.1:" in reading.error
    assert "ConnectError" in reading.error
    [line] = [e for e in logs if e["event"] == "prometheus.unreachable"]
    assert line["log_level"] == "warning" and line["url"].startswith("http://***@127.0.0.1:")
    assert "ConnectError" in line["reason"] and "s3cret" not in str(line)


def vector(*values: str) -> dict[str, object]:
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"i": str(i)}, "value": [1700000000.0, v]} for i, v in enumerate(values)]}}


@respx.mock
@pytest.mark.parametrize(("response", "check"), [
    (httpx.Response(200, json=vector("0.01", "0.3")), lambda r: values(r) == [0.01, 0.3]),
    (httpx.Response(422, json={"status": "error", "errorType": "execution", "error": "x"}),
     lambda r: "answered 422 (execution: x)" in (r.error or "")),
    (httpx.Response(503, text="service unavailable"),
     lambda r: (r.error or "").endswith("failed: answered 503")),
    (httpx.Response(200, json={"status": "success", "data": {"resultType": "vector",
                                                             "result": [{"metric": {}}]}}),
     lambda r: "unreadable answer" in (r.error or "")),
    (httpx.ReadTimeout("slow"), lambda r: "ReadTimeout: slow" in (r.error or "")),
    (httpx.ConnectError("refused"), lambda r: "unreachable: ConnectError" in (r.error or "")),
])
def test_failures_only_a_double_can_stage(response: httpx.Response | Exception,
                                          check: Callable[[Reading], bool]) -> None:
    route = respx.get(URL)
    if isinstance(response, Exception):
        route.side_effect = response
    else:
        route.mock(return_value=response)
    reading = PrometheusClient("http://prom.test:9090").query("up")
    assert check(reading), reading
    assert route.calls[0].request.url.params["query"] == "up"


@respx.mock
def test_health_probe() -> None:
    respx.get("http://app.test/healthz").respond(200, json={"version": "1.4.2"})
    status, latency, version, error = probe_health("http://app.test/healthz", 2, "version")
    assert (status, version, error) == (200, "1.4.2", None) and latency is not None
    respx.get("http://down.test/healthz").side_effect = httpx.ConnectError("refused")
    with capture_logs() as logs:
        error = probe_health("http://u:pw@down.test/healthz", 2, None)[3]
    assert error == "http://***@down.test/healthz: ConnectError: refused"
    assert [(e["event"], e["log_level"]) for e in logs] == [("health.unreachable", "warning")]
