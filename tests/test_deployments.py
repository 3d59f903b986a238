"""Deployments on the forge: each promotion is a GitHub Deployment of its environment on its
merge commit, with statuses as it moves, through real PyGithub against the GitHub double
(answering with GitHub's published Deployments examples)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.deployments import TASK, GitHubDeployments, deployments_for
from bot.adapters.forges.github import GitHubForge
from bot.core.events import ImagePushed
from bot.core.machine import State
from bot.core.notices import Subject
from bot.flows.approve import approve
from bot.flows.services import Services
from bot.worker import Worker
from tests.github_double import GitHubDouble, example
from tests.support import commit_file, git

DIGEST = "sha256:" + "b" * 64
DEMO = Path(__file__).parents[1] / "manifests-example/demo/hoist.yaml"


@pytest.fixture
def double(services: Services) -> Iterator[GitHubDouble]:
    github = GitHubDouble(Path(services.git.url.removeprefix("file://"))).start()
    yield github
    github.stop()


def _on_github(services: Services, double: GitHubDouble, tmp_path: Path, config: str) -> Any:
    commit_file(services.git.url, "hoist.yaml", config, tmp_path / "cfg")
    services.git.sync()
    services.forge = GitHubForge(services.store, "acme/manifests", token="t0ken",
                                 base_url=double.url, bot_login="hoist-bot", timeout=2, pace=0)
    deployments = deployments_for(services.forge)
    assert isinstance(deployments, GitHubDeployments)
    services.deployments = deployments
    services.public_url = "https://hoist.example.com"
    services.store.add_events([ImagePushed("distribution", "e1", "localhost:5000",
                                           "acme/guestbook", "1.4.2", DIGEST)], time.time())
    return deployments


def _sequence(double: GitHubDouble, environment: str) -> tuple[dict[str, Any], list[str]]:
    [(number, deployment)] = [(i, d) for i, d in double.deployments.items()
                              if d["environment"] == environment]
    return deployment, [s["state"] for s in double.deployment_statuses[number]]


def test_each_promotion_is_a_deployment_with_statuses_as_it_moves(
        services: Services, double: GitHubDouble, tmp_path: Path) -> None:
    # prod rolls out as a one-step canary with no checks: merged, analysing, promoted.
    config = DEMO.read_text().replace(
        "    approval: manual           # waits for `hoist approve ID` or POST /api/promotions/ID/approve\n",
        "    approval: manual\n    canary: {steps: [{weight: 100}], analysis: {interval: 0s}}\n")
    deployments = _on_github(services, double, tmp_path, config)
    Worker(services).run_once()
    prod = next(p for p in services.store.promotions() if p.environment == "prod")
    assert prod.state is State.PROPOSED
    assert deployments.outbox.join(10)
    assert sorted(d["environment"] for d in double.deployments.values()) == ["dev", "staging"]
    approve(services.store, prod.id, "alice")
    for _ in range(3):
        Worker(services).run_once()
    prod = services.store.promotion(prod.id)
    assert prod.state is State.PROMOTED
    assert deployments.outbox.join(10)

    deployment, states = _sequence(double, "prod")
    assert states == ["queued", "in_progress", "success"]
    assert deployment["sha"] == prod.merge_sha
    origin = services.git.url.removeprefix("file://")
    assert git(origin, "rev-parse", "main").strip() == prod.merge_sha
    assert deployment["task"] == TASK and deployment["payload"]["promotion"] == prod.id
    assert deployment["description"] == "guestbook 1.4.2"
    [number] = [i for i, d in double.deployments.items() if d["environment"] == "prod"]
    statuses = double.deployment_statuses[number]
    assert all(s["log_url"] == f"https://hoist.example.com/ui/promotions/{prod.id}"
               for s in statuses)
    assert statuses[-1]["description"] == "guestbook 1.4.2 runs in prod"
    # dev and staging merged and were promoted at once.
    assert _sequence(double, "dev")[1] == ["queued", "in_progress", "success"]
    # The double answers with the published examples' shape.
    assert set(double.deployment_json(number)) == set(example("deployment"))
    assert set(statuses[0]) == set(example("deployment-status"))

    # After a restart the deployment is found again by its payload, not made twice.
    again = GitHubDeployments(services.forge.gh, "acme/manifests")  # type: ignore[attr-defined]
    subject = Subject(prod.id, "guestbook", "prod", prod.repository, "1.0.0", "1.4.2",
                      merge_sha=prod.merge_sha)
    assert again._deployment(subject) == number
    assert len(double.deployments) == 3


def test_a_reverted_rollout_fails_its_deployment_then_makes_it_inactive(
        services: Services, double: GitHubDouble, tmp_path: Path, unhealthy: str) -> None:
    config = DEMO.read_text().replace(
        "    approval: none             # merged as soon as it is proposed\n",
        "    approval: none\n    canary:\n      analysis: {interval: 0s, consecutive_error_limit: 0,"
        f" health: {{url: '{unhealthy}', timeout: 1s}}}}\n", 1)
    deployments = _on_github(services, double, tmp_path, config)
    for _ in range(3):
        Worker(services).run_once()
    dev = next(p for p in services.store.promotions() if p.environment == "dev")
    assert dev.state is State.REVERTED
    assert deployments.outbox.join(10)
    deployment, states = _sequence(double, "dev")
    assert states == ["queued", "in_progress", "failure", "inactive"]
    [number] = list(double.deployments)
    failure = double.deployment_statuses[number][2]
    assert failure["description"].startswith("analysis failed: health: status 503")
    assert len(failure["description"]) <= 140
    assert double.deployment_statuses[number][3]["description"] == "guestbook 1.4.2 reverted in git"
    assert deployment["sha"] == dev.merge_sha
