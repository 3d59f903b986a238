"""Metrics for work outside web requests: external calls, canary steps, analysis, transitions."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from bot import telemetry
from bot.adapters.git import GitError, GitRepo
from bot.adapters.prometheus import PrometheusClient
from bot.adapters.registry import RegistryClient, RegistryError
from bot.flows.services import Services


def sample(name: str, **labels: str) -> float:
    registry = CollectorRegistry()
    telemetry.register(registry)
    return registry.get_sample_value(name, labels) or 0.0


def test_http_calls_are_timed_and_failures_counted() -> None:
    before = sample("hoist_external_call_errors_total", system="prometheus", operation="GET")
    count = sample("hoist_external_call_seconds_count", system="prometheus", operation="GET")
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 2:
            raise httpx.ConnectError("refused")
        return httpx.Response(503)

    client = PrometheusClient("http://prometheus.test", transport=httpx.MockTransport(handler))
    for _ in range(2):
        client.query("up")  # errors become readings, not exceptions
    assert sample("hoist_external_call_seconds_count", system="prometheus",
                  operation="GET") == count + 2
    assert sample("hoist_external_call_errors_total", system="prometheus",
                  operation="GET") == before + 2


def test_a_registry_4xx_is_a_call_but_not_an_error() -> None:
    before = sample("hoist_external_call_errors_total", system="registry", operation="GET")
    registry = RegistryClient(transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    with pytest.raises(RegistryError):
        registry.resolve("registry.test/acme/app", "1.0")
    assert sample("hoist_external_call_errors_total", system="registry", operation="GET") == before


def test_failed_git_commands_are_counted(tmp_path: Path) -> None:
    before = sample("hoist_external_call_errors_total", system="git", operation="fetch")
    repo = GitRepo(f"file://{tmp_path}/missing.git", tmp_path / "cache")
    with pytest.raises(GitError):
        repo.sync()
    assert sample("hoist_external_call_errors_total", system="git", operation="fetch") > before


def test_transitions_are_counted(services: Services) -> None:
    from tests.test_promote_flow import push, run

    before = sample("hoist_promotion_transitions_total", state="promoted")
    run(services, push())
    promoted = [p for p in services.store.promotions() if p.state.value == "promoted"]
    assert promoted and sample("hoist_promotion_transitions_total",
                               state="promoted") == before + len(promoted)


def test_the_app_serves_every_instrument(services: Services) -> None:
    from fastapi.testclient import TestClient

    from bot.settings import Settings
    from bot.web.app import create_app

    settings = Settings(manifests_repo=services.git.url, webhook_secret="s")
    text = TestClient(create_app(settings, services)).get("/metrics").text
    for name in ("hoist_external_call_seconds", "hoist_external_call_errors_total",
                 "hoist_canary_step_seconds", "hoist_analysis_seconds",
                 "hoist_analysis_verdicts_total", "hoist_promotion_transitions_total",
                 "hoist_promotions", "hoist_inbox_pending", "hoist_webhooks_total"):
        assert f"# HELP {name.removesuffix('_total')}" in text, name
