"""The Grafana dashboard shipped with the chart: a ConfigMap for Grafana's sidecar (off by
default), a well-formed dashboard, and every panel's query evaluated by a real Prometheus
scraping what Hoist's /metrics really exports."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import helm_python as helm
import httpx
import kubernetes_validate
import pytest
import yaml
from fastapi.testclient import TestClient

from bot.core.events import ImagePushed
from bot.flows.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from bot.worker import Worker
from tests.prometheus_stack import Prometheus
from tests.support import need, wait_for

CHART = Path(__file__).resolve().parent.parent / "helm" / "hoist"
DASHBOARD = json.loads((CHART / "dashboards" / "hoist.json").read_text())
MINIMAL = yaml.safe_load((CHART / "ci" / "minimal-values.yaml").read_text())


def _objects(values: dict[str, Any]) -> list[dict[str, Any]]:
    rendered = helm.Chart.load(CHART).render(values, name="hoist", namespace="ops",
                                             is_install=True)
    return [doc for path, text in rendered.items() if path.endswith(".yaml")
            for doc in yaml.safe_load_all(text) if doc]


def _targets() -> list[dict[str, Any]]:
    return [t for panel in DASHBOARD["panels"] for t in panel["targets"]]


def test_dashboard_config_map_for_the_grafana_sidecar_only_when_asked() -> None:
    def dashboards(values: dict[str, Any]) -> list[dict[str, Any]]:
        return [o for o in _objects(values) if o["kind"] == "ConfigMap"
                and o["metadata"]["name"].endswith("-dashboard")]

    assert dashboards(MINIMAL) == []
    [config_map] = dashboards({**MINIMAL, "grafanaDashboard": {
        "enabled": True, "namespace": "monitoring", "annotations": {"grafana_folder": "Hoist"}}})
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["namespace"] == "monitoring"
    assert config_map["metadata"]["annotations"] == {"grafana_folder": "Hoist"}
    assert json.loads(config_map["data"]["hoist.json"]) == DASHBOARD
    kubernetes_validate.validate(config_map, "1.30.0", strict=True)
    report = helm.lint(CHART, {**MINIMAL, "grafanaDashboard": {"enabled": True}}, strict=True)
    assert report["errors"] == []
    with pytest.raises(Exception, match="grafanaDashboard"):  # the schema refuses typos
        _objects({**MINIMAL, "grafanaDashboard": {"enabeld": True}})


def test_dashboard_is_well_formed() -> None:
    assert DASHBOARD["uid"] and DASHBOARD["title"] == "Hoist"
    assert isinstance(DASHBOARD["schemaVersion"], int)
    [variable] = DASHBOARD["templating"]["list"]
    assert (variable["name"], variable["type"], variable["query"]) == (
        "datasource", "datasource", "prometheus")
    panels = DASHBOARD["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        mine = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not cells & mine, f"panel {panel['title']!r} overlaps another"
        cells |= mine
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(set(refs)) == len(refs)
    titles = {p["title"] for p in panels}
    for needed in ("Promotions by state", "Time to promote per environment", "Webhook outcomes",
                   "External call latency (p95)", "External call errors", "Analysis verdicts"):
        assert needed in titles


@pytest.mark.e2e
def test_every_query_runs_in_prometheus_over_what_hoist_exports(
        tmp_path: Path, services: Services) -> None:
    need("prometheus")
    services.store.add_events([ImagePushed("distribution", "e1", "localhost:5000",
                                           "acme/guestbook", "1.4.2", "sha256:" + "a" * 64)],
                              time.time())
    Worker(services).run_once()
    client = TestClient(create_app(Settings(manifests_repo="unused", data_dir=tmp_path,
                                            webhook_secret="w"), services))
    client.post("/webhooks/registry/distribution", content=b"{}",
                headers={"Authorization": "Bearer nope"})  # a refused webhook, counted
    exposition = client.get("/metrics").text
    exported = set(re.findall(r"^# TYPE (\w+) (\w+)", exposition, re.M))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = client.get("/metrics").text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    prometheus = Prometheus(tmp_path / "prometheus",
                            [f"127.0.0.1:{server.server_address[1]}"]).start()
    try:
        def query(expr: str) -> dict[str, Any]:
            reply: dict[str, Any] = httpx.get(f"{prometheus.url}/api/v1/query", timeout=10,
                                              params={"query": expr}).json()
            return reply

        wait_for(lambda: query("hoist_promotions")["data"]["result"], "a scrape of Hoist", 30)
        names = {name for name, _ in exported}
        for target in _targets():
            expr = target["expr"].replace("$__rate_interval", "1m")
            for metric in re.findall(r"\bhoist_\w+", expr):
                base = re.sub(r"_(bucket|count|sum|total)$", "", metric)
                assert metric in names or base in names, f"{metric} is not exported"
            answer = query(expr)
            assert answer["status"] == "success", (expr, answer)
        promotions = query("sum by (state) (hoist_promotions)")["data"]["result"]
        assert {r["metric"]["state"]: r["value"][1] for r in promotions} == {
            "promoted": "2", "proposed": "1"}
    finally:
        prometheus.stop()
        server.shutdown()
