"""Release trains through the flows, with a real store, real git and the local forge: pushes
within the window settle into one promotion per environment, the chain moves the same set,
a re-push joins the open change request, and a canary failure measured by a real
Prometheus reverts every image and quarantines every digest."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.store import Promotion
from bot.core.events import ImagePushed
from bot.core.machine import State
from bot.flows.ingest import ingest_pending
from bot.flows.services import Services
from bot.worker import Worker
from tests.audit_check import assert_audit_reads_back
from tests.prometheus_stack import CanaryApp, Prometheus
from tests.support import commit_file, git, need, wait_for
from tests.trains_repo import CHAIN, Env, hoist_yaml, make_train_repo

IMAGES = ["api", "web", "worker"]
HOST = "localhost:5000"


@pytest.fixture
def manifests_url(tmp_path: Path) -> str:
    """Three images, one train `shop`, dev → staging → prod (prod gated)."""
    return make_train_repo(tmp_path / "origin", IMAGES, HOST)


def push(services: Services, image: str, tag: str, at: float) -> str:
    """Store a push of image:tag received at `at`; its digest."""
    digest = "sha256:" + hashlib.sha256(f"{image}:{tag}".encode()).hexdigest()
    services.store.add_events([ImagePushed("distribution", f"{image}-{tag}-{at}", HOST,
                                           f"acme/{image}", tag, digest)], at)
    return digest


def settle(services: Services) -> None:
    """Worker passes until nothing moves."""
    worker = Worker(services)
    for _ in range(8):
        worker.run_once()


def origin(services: Services) -> str:
    return services.git.url.removeprefix("file://")


def latest(services: Services) -> dict[str, Promotion]:
    """The newest promotion of each environment."""
    found: dict[str, Promotion] = {}
    for p in reversed(services.store.promotions()):
        found[p.environment] = p
    return found


def test_pushes_within_the_window_become_one_promotion_per_environment(
        services: Services) -> None:
    now = time.time()
    digests = {image: push(services, image, "1.1.0", now - 1) for image in IMAGES}
    assert ingest_pending(services, now) == 0  # the window (3 s) is not over
    assert ingest_pending(services, now + 2.5) == 1
    settle(services)
    promotions = services.store.promotions()
    assert {p.environment: p.state for p in promotions} == {
        "dev": State.PROMOTED, "staging": State.PROMOTED, "prod": State.PROPOSED}
    for p in promotions:
        assert (p.image_key, p.train) == ("shop", "shop")
        assert [(m.image_key, m.tag, m.digest) for m in p.members] == [
            (image, "1.1.0", digests[image]) for image in IMAGES]
    assert git(origin(services), "log", "--format=%s", "main").splitlines() == [
        "chore(deploy): promote shop in staging: api 1.1.0, web 1.1.0, worker 1.1.0",
        "chore(deploy): promote shop in dev: api 1.1.0, web 1.1.0, worker 1.1.0",
        "chore: initial manifests"]
    assert f"{HOST}/acme/web:1.1.0@{digests['web']}" in git(origin(services), "show",
                                                            "main:apps/web/staging.yaml")
    assert sorted(cr.branch for cr in services.store.change_requests()) == [
        "hoist/dev/shop", "hoist/prod/shop", "hoist/staging/shop"]
    assert_audit_reads_back(origin(services), promotions)


def test_a_member_pushed_again_while_prod_waits_joins_its_change_request(
        services: Services) -> None:
    now = time.time()
    digests = {image: push(services, image, "1.1.0", now - 10) for image in IMAGES}
    settle(services)
    waiting = latest(services)["prod"]
    newer = push(services, "api", "1.1.1", time.time() - 10)
    settle(services)
    promotions = services.store.promotions()
    dev = [p for p in promotions if p.environment == "dev"]
    assert [[m.tag for m in p.members] for p in dev] == [["1.1.1"], ["1.1.0"] * 3]
    prod = [p for p in promotions if p.environment == "prod"]
    assert [p.state for p in prod] == [State.PROPOSED, State.SUPERSEDED]
    assert prod[1] == services.store.promotion(waiting.id)
    assert [(m.image_key, m.digest) for m in prod[0].members] == [
        ("api", newer), ("web", digests["web"]), ("worker", digests["worker"])]
    requests = [cr for cr in services.store.change_requests() if cr.base == "main"
                and cr.branch == "hoist/prod/shop"]
    assert len({cr.branch for cr in requests}) == 1
    assert git(origin(services), "rev-list", "--count", "main..hoist/prod/shop").strip() == "1"
    message = git(origin(services), "log", "-1", "--format=%B", "hoist/prod/shop")
    assert message.count("Hoist-Image: ") == 3 and f"api:1.1.1@{newer}" in message


def test_a_member_its_policy_refuses_stays_behind(services: Services) -> None:
    now = time.time() - 10
    push(services, "api", "1.2.0", now)
    push(services, "web", "0.9.0", now)  # outside >=1.0.0
    settle(services)
    dev = latest(services)["dev"]
    assert [m.image_key for m in dev.members] == ["api"]
    message = git(origin(services), "log", "-1", "--format=%B", "--grep=Hoist-Environment: dev",
                  "main")
    assert message.startswith("chore(deploy): promote shop in dev: api 1.2.0\n")
    assert "Hoist-Train: shop\n" in message


ERROR_RATE = ('sum(rate(http_requests_total{app="shop",image="{image}",code="500"}[5s])) / '
              'sum(rate(http_requests_total{app="shop",image="{image}"}[5s]))')


@pytest.fixture
def canary(tmp_path: Path, services: Services) -> Iterator[tuple[Services, CanaryApp]]:
    """prod canaries the train with an error rate queried once per image from a real
    Prometheus scraping an app whose per-image error rates the test sets."""
    need("prometheus")
    app = CanaryApp("1.0.0", tuple(f"{HOST}/acme/{image}" for image in IMAGES))
    prometheus = Prometheus(tmp_path / "prometheus", [app.address]).start()
    analysis = (f"    canary:\n      steps: [{{weight: 100, bake: 3s}}]\n      analysis:\n"
                f"        prometheus: {prometheus.url}\n        interval: 1s\n"
                "        inconclusive_limit: 60  # rate() has no data until two scrapes\n"
                f"        metrics:\n          - {{name: error-rate, query: '{ERROR_RATE}', "
                "max: 0.05}\n")
    envs = (CHAIN[0], Env("prod", "dev", "none", analysis))
    commit_file(services.git.url, "hoist.yaml", hoist_yaml(IMAGES, envs, window="1s"),
                tmp_path / "c1")
    services.git.sync()
    worker = Worker(services, 0.2)
    worker.start()
    yield services, app
    worker.stop()
    prometheus.stop()
    app.stop()


@pytest.mark.e2e
def test_a_canary_failure_reverts_every_image_and_quarantines_every_digest(
        canary: tuple[Services, CanaryApp]) -> None:
    services, app = canary
    app.image_errors[f"{HOST}/acme/web"] = 0.5  # one image of three misbehaves
    digests = {image: push(services, image, "1.1.0", time.time()) for image in IMAGES}

    def prod() -> Promotion | None:
        return latest(services).get("prod")

    wait_for(lambda: (found := prod()) is not None and found.state is State.REVERTED,
             "prod reverted", 90)
    reason = getattr(prod(), "reason", "") or ""
    assert "error-rate (web)" in reason and "> max 0.05" in reason
    messages = git(origin(services), "log", "--format=%B%x00", "main").split("\x00")
    (revert,) = [m.strip() for m in messages if m.strip().startswith("revert(deploy)")]
    assert revert.startswith("revert(deploy): roll back shop in prod")
    assert revert.count("Hoist-Image: ") == 3 and "Hoist-Evidence: error-rate (web): " in revert
    for image in IMAGES:
        assert f"{HOST}/acme/{image}:1.0.0\n" in git(origin(services), "show",
                                                     f"main:apps/{image}/prod.yaml")
        assert f"@{digests[image]}" in git(origin(services), "show", f"main:apps/{image}/dev.yaml")
        assert services.store.quarantined(f"{HOST}/acme/{image}", digests[image])
    push(services, "api", "1.1.0", time.time())  # the same digest again is not promoted
    time.sleep(1.5)
    assert len([p for p in services.store.promotions() if p.environment == "dev"]) == 1
    assert_audit_reads_back(origin(services), services.store.promotions())
