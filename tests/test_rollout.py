"""Rollouts against a real Prometheus scraping an app whose error rate the test controls:
a healthy canary walks every step and is promoted; an unhealthy one is reverted in git
with its evidence; Prometheus going away mid-analysis holds the rollout (an outage is not
evidence against the image) until a retry resumes it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.prometheus import PrometheusClient
from bot.core.events import ImagePushed
from bot.core.machine import State
from bot.flows.rollout import resume_analysis
from bot.flows.services import Services
from bot.worker import Worker
from tests.audit_check import assert_audit_reads_back
from tests.prometheus_stack import CanaryApp, Prometheus
from tests.support import commit_file, git, need, wait_for
from tests.test_telemetry import sample

BOTH_ENGINES = True  # this suite runs on SQLite and on PostgreSQL (conftest)

DIGEST = "sha256:" + "e" * 64
ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: guestbook
spec:
  rules:
    - backendRefs:
        - {name: guestbook-stable, port: 80, weight: 100}
        - {name: guestbook-canary, port: 80, weight: 0}
"""
ERROR_RATE = ('sum(rate(http_requests_total{app="guestbook",code="500"}[5s])) / '
              'sum(rate(http_requests_total{app="guestbook"}[5s]))')


def hoist_yaml(prometheus: str, app: str) -> str:
    return f"""\
images:
  guestbook:
    repository: localhost:5000/acme/guestbook
    tags: {{semver: ">=1.0.0 <2.0.0"}}
    pin: tag@digest
environments:
  - name: dev
    approval: none
    targets: [{{file: apps/guestbook/overlays/dev/kustomization.yaml, image: guestbook}}]
    canary:
      traffic: {{kind: httproute, file: apps/guestbook/overlays/dev/route.yaml,
                stable: guestbook-stable, canary: guestbook-canary}}
      steps: [{{weight: 50, bake: 2s}}, {{weight: 100, bake: 1s}}]
      analysis:
        prometheus: {prometheus}
        interval: 1s
        failure_limit: 0
        consecutive_error_limit: 2
        inconclusive_limit: 60  # rate() has no data until Prometheus scraped twice
        health: {{url: "http://{app}/healthz", version: {{json: version, equals: "{{tag}}"}}}}
        metrics:
          - name: error-rate
            query: '{ERROR_RATE}'
            max: 0.05
            on_no_data: inconclusive
  - name: staging
    after: dev
    approval: manual
    targets: [{{file: apps/guestbook/overlays/staging/kustomization.yaml, image: guestbook}}]
"""


@pytest.fixture
def stack(tmp_path: Path, services: Services) -> Iterator[tuple[Services, CanaryApp, Prometheus]]:
    need("prometheus")
    app = CanaryApp("1.0.0")
    prometheus = Prometheus(tmp_path / "prometheus", [app.address]).start()
    commit_file(services.git.url, "apps/guestbook/overlays/dev/route.yaml", ROUTE,
                tmp_path / "c1")
    commit_file(services.git.url, "hoist.yaml", hoist_yaml(prometheus.url, app.address),
                tmp_path / "c2")
    services.git.sync()
    worker = Worker(services, 0.2)
    worker.start()
    yield services, app, prometheus
    worker.stop()
    prometheus.stop()
    app.stop()


def start(services: Services, tag: str = "1.4.2", digest: str = DIGEST, key: str = "e1") -> None:
    services.store.add_events([ImagePushed("distribution", key, "localhost:5000",
                                           "acme/guestbook", tag, digest)], time.time())


def dev(services: Services) -> Any:
    return next((p for p in services.store.promotions() if p.environment == "dev"), None)


def origin(services: Services) -> str:
    return services.git.url.removeprefix("file://")


@pytest.mark.e2e
def test_healthy_canary_walks_every_step_and_is_promoted(
        stack: tuple[Services, CanaryApp, Prometheus]) -> None:
    services, app, _ = stack
    app.version = "1.4.2"  # the cluster runs what was merged
    steps = sample("hoist_canary_step_seconds_count", environment="dev", outcome="passed")
    passes = sample("hoist_analysis_verdicts_total", environment="dev", check="error-rate",
                    outcome="pass")
    start(services)
    wait_for(lambda: dev(services) and dev(services).state is State.PROMOTED, "dev promoted", 60)
    # Both steps' durations and every check's verdicts are on /metrics.
    assert sample("hoist_canary_step_seconds_count", environment="dev", outcome="passed") == steps + 2
    assert sample("hoist_analysis_verdicts_total", environment="dev", check="error-rate",
                  outcome="pass") > passes
    log = git(origin(services), "log", "--format=%s%n%(trailers:key=Hoist-Step)", "main")
    assert "chore(deploy): canary guestbook 1.4.2 at 50% in dev\nHoist-Step: 50%" in log
    assert "chore(deploy): canary guestbook 1.4.2 at 100% in dev\nHoist-Step: 100%" in log
    route = git(origin(services), "show", "main:apps/guestbook/overlays/dev/route.yaml")
    assert "{name: guestbook-canary, port: 80, weight: 100}" in route
    # The next environment starts once dev is promoted (and waits for its approval).
    wait_for(lambda: {p.environment: p.state for p in services.store.promotions()} ==
             {"dev": State.PROMOTED, "staging": State.PROPOSED}, "staging proposed")
    assert assert_audit_reads_back(origin(services), services.store.promotions()) == 3  # + 2 steps


@pytest.mark.e2e
def test_breach_is_reverted_in_git_with_evidence_and_the_digest_quarantined(
        stack: tuple[Services, CanaryApp, Prometheus], capsys: pytest.CaptureFixture[str]
) -> None:
    services, app, prometheus = stack
    app.version = "1.4.2"
    start(services)
    wait_for(lambda: dev(services) and dev(services).step == 1, "the 100% step", 90)
    app.error_ratio = 0.5
    client = PrometheusClient(prometheus.url)
    wait_for(lambda: any(s.value > 0.05 for s in client.query(ERROR_RATE).series),
             "the breach in Prometheus")
    breach_seen = time.time()
    wait_for(lambda: dev(services).state is State.REVERTED, "the revert", 60)
    reverted_at = dev(services).updated_at
    print(f"breach visible -> revert pushed: {reverted_at - breach_seen:.2f} s")
    messages = git(origin(services), "log", "--format=%B%x00", "main").split("\x00")
    reverts = [m.strip() for m in messages if m.strip().startswith("revert(deploy)")]
    assert len(reverts) == 3  # the promotion commit and its two step commits, newest first
    assert all("Hoist-Reverts: " in m and "Hoist-Evidence: error-rate: " in m for m in reverts)
    assert "> max 0.05" in reverts[0]
    overlay = git(origin(services), "show", "main:apps/guestbook/overlays/dev/kustomization.yaml")
    assert 'newTag: "1.0.0"' in overlay and "digest:" not in overlay
    route = git(origin(services), "show", "main:apps/guestbook/overlays/dev/route.yaml")
    assert route == ROUTE
    assert services.store.quarantined("localhost:5000/acme/guestbook", DIGEST)
    start(services, key="again")  # the same digest pushed again is not promoted
    time.sleep(1.5)
    assert len([p for p in services.store.promotions() if p.environment == "dev"]) == 1
    assert assert_audit_reads_back(origin(services), services.store.promotions()) == 6
    with capsys.disabled():
        print(f"\n[rollout] breach visible -> revert pushed: {reverted_at - breach_seen:.2f} s")


@pytest.mark.e2e
def test_prometheus_down_mid_analysis_holds_and_retry_resumes_it(
        stack: tuple[Services, CanaryApp, Prometheus]) -> None:
    services, app, prometheus = stack
    app.version = "1.4.2"
    start(services)
    wait_for(lambda: dev(services) and dev(services).state is State.ANALYZING and
             dev(services).step_started is not None, "analysis to start", 60)
    prometheus.stop()  # an outage is not evidence against the image: held, not reverted
    wait_for(lambda: dev(services).state is State.HELD, "the hold", 60)
    held = dev(services)
    assert held.reason is not None and held.reason.startswith("analysis inconclusive at step")
    assert f"Prometheus at {prometheus.url} unreachable: ConnectError" in held.reason
    assert "`hoist retry " in held.reason
    assert not services.store.quarantined("localhost:5000/acme/guestbook", DIGEST)
    assert "revert(deploy)" not in git(origin(services), "log", "--format=%s", "main")
    # Prometheus is back: a retry analyses the held step again and the rollout goes on.
    prometheus.start()
    assert resume_analysis(services, held, "dana").state is State.ANALYZING
    wait_for(lambda: dev(services).state is State.PROMOTED, "dev promoted", 90)
    assert assert_audit_reads_back(origin(services), services.store.promotions()) >= 2


def _steps_by_change_request(services: Services, tmp_path: Path, analysis: str) -> None:
    """dev canaries 25% → 100% through an HTTPRoute, each step an auto-merged change
    request; no Prometheus."""
    text = (Path(__file__).parents[1] / "manifests-example/demo/hoist.yaml").read_text()
    text = text.replace(
        "    approval: none             # merged as soon as it is proposed\n",
        "    approval: none\n    canary:\n      step_pull_requests: true\n"
        "      traffic: {kind: httproute, file: apps/guestbook/overlays/dev/route.yaml,\n"
        "                stable: guestbook-stable, canary: guestbook-canary}\n"
        f"      steps: [{{weight: 25}}, {{weight: 100}}]\n      analysis: {analysis}\n", 1)
    commit_file(services.git.url, "apps/guestbook/overlays/dev/route.yaml", ROUTE,
                tmp_path / "c1")
    commit_file(services.git.url, "hoist.yaml", text, tmp_path / "c2")
    services.git.sync()
    start(services)


def test_steps_as_auto_merged_change_requests(services: Services, tmp_path: Path) -> None:
    _steps_by_change_request(services, tmp_path, "{interval: 0s}")
    for _ in range(6):
        Worker(services).run_once()
    assert dev(services).state is State.PROMOTED
    steps = [cr for cr in services.store.change_requests() if "/step-" in cr.promotion_id]
    assert [(cr.promotion_id.split("/")[1], cr.state) for cr in steps] == [
        ("step-25", "merged"), ("step-100", "merged")]
    log = git(origin(services), "log", "--format=%(trailers:key=Hoist-Step,valueonly)", "main")
    assert log.split() == ["100%", "25%"]
    # dev's promotion and two steps, then staging's promotion.
    assert assert_audit_reads_back(origin(services), services.store.promotions()) == 4


def test_reverts_as_auto_merged_change_requests(services: Services, tmp_path: Path,
                                                unhealthy: str) -> None:
    _steps_by_change_request(services, tmp_path,
                             f"{{interval: 0s, health: {{url: '{unhealthy}', timeout: 1s}}}}")
    for _ in range(4):
        Worker(services).run_once()
    assert dev(services).state is State.REVERTED  # the health endpoint answered 503
    landed = [cr.promotion_id.split("/")[1] for cr in services.store.change_requests()
              if "/" in cr.promotion_id and cr.state == "merged"]
    assert landed[0] == "step-25" and len([x for x in landed if x.startswith("revert-")]) == 2
    assert git(origin(services), "show", "main:apps/guestbook/overlays/dev/route.yaml") == ROUTE
    overlay = git(origin(services), "show", "main:apps/guestbook/overlays/dev/kustomization.yaml")
    assert 'newTag: "1.0.0"' in overlay
    assert assert_audit_reads_back(origin(services), services.store.promotions()) == 4
