"""Release trains end to end: `hoist serve` as a process, Debian's docker-registry notifying
it of real skopeo pushes of three images, the GitHub double over the real bare manifests
repository; and SIGKILL between a train's plan and its change request."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.manifests import distribution_envelope
from bot.demo.registry import LocalRegistry, free_port, write_oci_layout
from tests.audit_check import assert_audit_reads_back, audit_json
from tests.forges import comment_webhook, service_env, start_double
from tests.github_double import GitHubDouble
from tests.support import ServiceProcess, git, need, wait_for
from tests.trains_repo import make_train_repo

IMAGES = ["api", "web", "worker"]
pytestmark = pytest.mark.e2e


@pytest.fixture
def stop_after() -> Any:
    started: list[Any] = []
    yield started.append
    for thing in reversed(started):
        thing.stop()


def train_service(tmp_path: Path, registry_host: str, extra: dict[str, str] | None = None,
                  window: str = "3s") -> tuple[ServiceProcess, Path, str]:
    """`hoist serve` (not started) on a manifests repo whose three images are one train."""
    url = make_train_repo(tmp_path / "origin", IMAGES, registry_host, window=window)
    token = secrets.token_hex(16)
    env = {"HOIST_MANIFESTS_REPO": url, "HOIST_DATA_DIR": str(tmp_path / "data"),
           "HOIST_WEBHOOK_SECRET": token, "HOIST_API_TOKEN": "api-" + token,
           "HOIST_POLL_INTERVAL": "0.2", "HOIST_LOG_FORMAT": "json", **(extra or {})}
    service = ServiceProcess(free_port(), env, tmp_path / "hoist.log")
    return service, Path(url.removeprefix("file://")), token


def pulls_of(double: GitHubDouble, head: str) -> list[dict[str, Any]]:
    return [p for p in double.pulls.values() if p["head"] == head]


def test_a_train_of_three_is_one_pull_request_per_environment_updated_and_approved(
        tmp_path: Path, stop_after: Any) -> None:
    need("git", "docker-registry", "skopeo")
    reg_port = free_port()
    host = f"localhost:{reg_port}"
    hook_secret = secrets.token_hex(8)
    double = start_double("github", tmp_path / "origin" / "manifests.git")
    assert isinstance(double, GitHubDouble)
    stop_after(double)
    double.permissions.update(bob="write")
    service, origin, token = train_service(tmp_path, host,
                                           service_env("github", double, hook_secret))
    service.start()
    stop_after(service)
    registry = LocalRegistry(tmp_path / "registry", reg_port,
                             f"{service.url}/webhooks/registry/distribution", token)
    registry.start()
    stop_after(registry)

    def push(image: str, tag: str) -> str:
        layout = tmp_path / f"layout-{image}-{tag}"
        digest = write_oci_layout(layout, tag, f"{image} {tag}")
        registry.push(layout, tag, f"acme/{image}")
        return digest

    digests = {image: push(image, "1.1.0") for image in IMAGES}
    prod = wait_for(lambda: next(iter(pulls_of(double, "hoist/prod/shop")), None),
                    "prod's pull request", 60)
    number = next(n for n, p in double.pulls.items() if p is prod)
    # One pull request per environment for the three: dev and staging merged, prod waits.
    assert sorted(p["head"] for p in double.pulls.values()) == [
        "hoist/dev/shop", "hoist/prod/shop", "hoist/staging/shop"]
    assert all(p["merged"] for p in double.pulls.values() if p is not prod)
    assert prod["state"] == "open" and not prod["merged"]
    assert prod["title"] == "chore(deploy): promote shop in prod: api 1.1.0, web 1.1.0, " \
                            "worker 1.1.0"
    for image in IMAGES:
        assert f"| {image} | `1.0.0` | `{host}/acme/{image}:1.1.0@{digests[image]}` |" \
            in prod["body"]
    # Labels go on in the create call or right after it (a forge may need two requests).
    wait_for(lambda: prod["labels"] == ["hoist", "env:prod"], "prod's labels")
    for env in ("dev", "staging"):
        for image in IMAGES:
            assert f"image: {host}/acme/{image}:1.1.0@{digests[image]}" in git(
                origin, "show", f"main:apps/{image}/{env}.yaml")

    # api again while prod waits: through dev and staging, into the same pull request.
    newer = push("api", "1.1.1")
    wait_for(lambda: f"api:1.1.1@{newer}" in double.pulls[number]["body"],
             "prod's pull request to propose api 1.1.1", 60)
    assert len(pulls_of(double, "hoist/prod/shop")) == 1
    assert double.pulls[number]["title"].startswith("chore(deploy): promote shop in prod: "
                                                    "api 1.1.1, web 1.1.0")
    said = wait_for(lambda: [c["body"] for c in double.comments.get(number, [])],
                    "the thread to say what changed")
    assert any(f"api 1.1.0@{digests['api']} → 1.1.1@{newer}" in body for body in said), said
    assert sum("Superseded" in body for body in said) == 1

    comment_id = double.add_comment(number, "/hoist approve", "bob")
    route, headers, body = comment_webhook("github", number, "bob", "/hoist approve",
                                           comment_id, hook_secret)
    answer = httpx.post(f"{service.url}{route}", content=body, timeout=10,
                        headers=headers | {"Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text
    wait_for(lambda: double.pulls[number]["merged"], "prod's pull request to merge", 30)
    message = git(origin, "log", "-1", "--format=%B", "--grep=Hoist-Environment: prod", "main")
    images = [line.removeprefix("Hoist-Image: ") for line in message.splitlines()
              if line.startswith("Hoist-Image: ")]
    assert images == [f"{host}/acme/api:1.1.1@{newer}",
                      f"{host}/acme/web:1.1.0@{digests['web']}",
                      f"{host}/acme/worker:1.1.0@{digests['worker']}"]
    assert "Hoist-Train: shop\n" in message and "Hoist-Approved-By: bob\n" in message
    wait_for(lambda: service.promotion_in("prod", "promoted"), "prod promoted")
    assert_audit_reads_back(origin, service.promotions())
    moved_web = audit_json(origin, "--image", "acme/web", "--env", "prod")
    assert [e["train"] for e in moved_web] == ["shop"]
    assert len(moved_web[0]["images"]) == 3


def test_sigkill_between_a_trains_plan_and_its_change_request_leaves_one_of_each(
        tmp_path: Path, stop_after: Any) -> None:
    need("git")
    service, origin, token = train_service(tmp_path, "localhost:5000", window="0.5s")
    envelope = json.dumps({"events": [
        event for image in IMAGES for event in distribution_envelope(  # type: ignore[attr-defined]
            "localhost:5000", f"acme/{image}", "1.1.0",
            "sha256:" + hashlib.sha256(image.encode()).hexdigest())["events"]]}
    ).encode()

    def post() -> httpx.Response:
        return httpx.post(f"{service.url}/webhooks/registry/distribution", content=envelope,
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)

    service.env["HOIST_LEASE_SECONDS"] = "2"  # the killed process's leases expire soon
    service.start({"HOIST_FAILPOINTS": "promotion.planned"})
    stop_after(service)
    assert post().status_code == 202
    assert service.wait_dead() == -9  # killed once dev's train was planned, not proposed

    service.start()
    prod = wait_for(lambda: service.promotion_in("prod", "proposed"), "prod after restart", 60)
    assert post().status_code == 202  # a redelivery after the restart changes nothing
    promotions = service.promotions()
    assert sorted(p["environment"] for p in promotions) == ["dev", "prod", "staging"]
    assert {p["image_key"] for p in promotions} == {"shop"}
    assert [m["image_key"] for m in prod["members"]] == IMAGES
    assert sorted(git(origin, "branch", "--format=%(refname:short)").split()) == [
        "hoist/dev/shop", "hoist/prod/shop", "hoist/staging/shop", "main"]
    subjects = git(origin, "log", "--format=%s", "main").splitlines()
    assert subjects == [
        "chore(deploy): promote shop in staging: api 1.1.0, web 1.1.0, worker 1.1.0",
        "chore(deploy): promote shop in dev: api 1.1.0, web 1.1.0, worker 1.1.0",
        "chore: initial manifests"]
    assert git(origin, "rev-list", "--count", "main..hoist/prod/shop").strip() == "1"
    change_requests = [p["change_request"] for p in promotions]
    assert len(set(change_requests)) == 3 and None not in change_requests
