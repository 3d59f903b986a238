"""End to end with real parts: `hoist serve` as a process, Debian's docker-registry notifying
it, skopeo pushing an OCI layout, git remotes on disk; and SIGKILL at the worst moments."""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.manifests import EXAMPLE, distribution_envelope, make_manifests_repo
from bot.demo.registry import LocalRegistry, free_port, write_oci_layout
from tests.audit_check import assert_audit_reads_back
from tests.support import ServiceProcess, git, need, wait_for, write_htpasswd

PROD_FILE = "apps/guestbook/overlays/prod/kustomization.yaml"
DEV_FILE = "apps/guestbook/overlays/dev/kustomization.yaml"


def service_for(tmp_path: Path, registry_host: str, policy: str = "",
                env: dict[str, str] | None = None,
                approval: str = "manual") -> tuple[ServiceProcess, Path, str]:
    source = tmp_path / "example"
    shutil.copytree(EXAMPLE, source)
    hoist_yaml = source / "demo" / "hoist.yaml"
    hoist_yaml.write_text(hoist_yaml.read_text().replace(
        "    pin: tag@digest", f"    pin: tag@digest\n{policy}").replace(
        "    approval: manual", f"    approval: {approval}"))
    url = make_manifests_repo(tmp_path / "origin", registry_host, source)
    token = secrets.token_hex(16)
    env = {
        "HOIST_MANIFESTS_REPO": url, "HOIST_DATA_DIR": str(tmp_path / "data"),
        "HOIST_WEBHOOK_SECRET": token, "HOIST_API_TOKEN": "api-" + token,
        "HOIST_POLL_INTERVAL": "0.2", "HOIST_LOG_FORMAT": "json", **(env or {}),
    }
    service = ServiceProcess(free_port(), env, tmp_path / "hoist.log")
    return service, Path(url.removeprefix("file://")), token


def registry_for(service: ServiceProcess, tmp_path: Path, port: int, token: str,
                 stop_after: Any, htpasswd: Path | None = None) -> LocalRegistry:
    """A started docker-registry notifying the service, stopped after the test."""
    registry = LocalRegistry(tmp_path / "registry", port,
                             f"{service.url}/webhooks/registry/distribution", token, htpasswd)
    registry.start()
    stop_after(registry)
    return registry


@pytest.fixture
def stop_after() -> Any:
    started: list[Any] = []
    yield started.append
    for thing in reversed(started):
        thing.stop()


@pytest.mark.e2e
def test_real_registry_push_becomes_promotions(tmp_path: Path, stop_after: Any) -> None:
    need("git", "docker-registry", "skopeo")
    reg_port = free_port()
    service, origin, token = service_for(tmp_path, f"localhost:{reg_port}")
    service.start()
    stop_after(service)
    registry = registry_for(service, tmp_path, reg_port, token, stop_after)
    digest = write_oci_layout(tmp_path / "layout", "1.4.2", "guestbook 1.4.2")
    registry.push(tmp_path / "layout", "1.4.2", "acme/guestbook")

    prod = wait_for(lambda: service.promotion_in("prod", "proposed"), "prod to be proposed")
    image = f"localhost:{reg_port}/acme/guestbook:1.4.2@{digest}"
    assert prod["image"] == image
    states = {p["environment"]: p["state"] for p in service.promotions()}
    assert states == {"dev": "promoted", "staging": "promoted", "prod": "proposed"}

    # dev was merged into main; prod is on its own branch only, with the trailers.
    assert f"digest: {digest}" in git(origin, "show", f"main:{DEV_FILE}")
    assert "digest:" not in git(origin, "show", f"main:{PROD_FILE}")
    assert f"digest: {digest}" in git(origin, "show", f"hoist/prod/guestbook:{PROD_FILE}")
    message = git(origin, "log", "-1", "--format=%B", "hoist/prod/guestbook")
    assert message.startswith("chore(deploy): promote guestbook to 1.4.2 in prod\n")
    assert f"Hoist-Promotion: {prod['id']}\n" in message
    assert f"Hoist-Image: {image}\n" in message
    assert "Hoist-Environment: prod\n" in message
    assert git(origin, "diff", "--stat", "main", "hoist/prod/guestbook").count("|") == 1

    # Approve through the API; the worker merges into main.
    approved = httpx.post(f"{service.url}/api/promotions/{prod['id']}/approve",
                          headers={"Authorization": f"Bearer {service.env['HOIST_API_TOKEN']}",
                                   "X-Hoist-User": "alice"}, timeout=10)
    assert approved.status_code == 200, approved.text
    wait_for(lambda: service.promotion_in("prod", "promoted"), "prod to be merged")
    assert f"digest: {digest}" in git(origin, "show", f"main:{PROD_FILE}")
    assert "Hoist-Approved-By: alice" in git(origin, "log", "-1", "--format=%B", "main")
    assert len(git(origin, "log", "--format=%H", "main").split()) == 4  # initial + 3 envs
    assert assert_audit_reads_back(origin, service.promotions()) == 3


@pytest.mark.e2e
@pytest.mark.parametrize("failpoint", ["promotion.planned", "promotion.pushed"])
def test_sigkill_between_plan_and_change_request_leaves_no_duplicates(
    tmp_path: Path, stop_after: Any, failpoint: str
) -> None:
    need("git")
    service, origin, token = service_for(tmp_path, "localhost:5000")
    digest = "sha256:" + "e" * 64
    envelope = json.dumps(distribution_envelope("localhost:5000", "acme/guestbook", "1.4.2",
                                                digest)).encode()

    def post() -> httpx.Response:
        return httpx.post(f"{service.url}/webhooks/registry/distribution", content=envelope,
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)

    service.start({"HOIST_FAILPOINTS": failpoint})
    stop_after(service)
    assert post().status_code == 202
    assert service.wait_dead() == -9  # killed at the failpoint, mid-promotion

    service.start()
    wait_for(lambda: service.promotion_in("prod", "proposed"), "prod after restart")
    assert post().status_code == 202  # a redelivery after the restart changes nothing
    service.promotions()
    promotions = service.promotions()
    assert sorted(p["environment"] for p in promotions) == ["dev", "prod", "staging"]
    assert sorted(git(origin, "branch", "--format=%(refname:short)").split()) == [
        "hoist/dev/guestbook", "hoist/prod/guestbook", "hoist/staging/guestbook", "main"]
    subjects = git(origin, "log", "--format=%s", "main").splitlines()
    assert subjects == ["chore(deploy): promote guestbook to 1.4.2 in staging",
                        "chore(deploy): promote guestbook to 1.4.2 in dev",
                        "chore: initial manifests"]
    assert git(origin, "rev-list", "--count", "main..hoist/prod/guestbook").strip() == "1"
    change_requests = [p["change_request"] for p in promotions]
    assert len(set(change_requests)) == 3 and None not in change_requests


@pytest.mark.e2e
def test_burst_to_authenticated_registry_coalesces_into_one_digest_pinned_promotion(
        tmp_path: Path, stop_after: Any) -> None:
    need("git", "docker-registry", "skopeo")
    reg_port = free_port()
    host = f"localhost:{reg_port}"
    auth = json.dumps({"auths": {host: {"auth": base64.b64encode(b"ci:s3cret").decode()}}})
    service, origin, token = service_for(
        tmp_path, host, "    coalesce: 4s\n    platforms: [linux/amd64]\n",
        {"HOIST_REGISTRY_AUTH": auth})
    service.start()
    stop_after(service)
    registry = registry_for(service, tmp_path, reg_port, token, stop_after,
                            write_htpasswd(tmp_path / "htpasswd", "ci", "s3cret"))
    write_oci_layout(tmp_path / "a", "1.4.2", "guestbook 1.4.2")
    newer = write_oci_layout(tmp_path / "b", "1.4.3", "guestbook 1.4.3")
    registry.push(tmp_path / "a", "1.4.2", "acme/guestbook", creds="ci:s3cret")
    registry.push(tmp_path / "b", "1.4.3", "acme/guestbook", creds="ci:s3cret")

    dev = wait_for(lambda: service.promotion_in("dev", "promoted"), "dev promoted", 60)
    assert (dev["tag"], dev["digest"]) == ("1.4.3", newer)
    assert [p["tag"] for p in service.promotions() if p["environment"] == "dev"] == ["1.4.3"]
    assert f'newTag: "1.4.3"   # managed by Hoist\n    digest: {newer}' in git(
        origin, "show", f"main:{DEV_FILE}")
    log = (tmp_path / "hoist.log").read_text()
    assert '"event": "push.coalesced"' in log


def running_service(tmp_path: Path, stop_after: Any) -> tuple[ServiceProcess, str]:
    """`hoist serve` on the example repo, stopped after the test; with its webhook token."""
    need("git")
    service, _, token = service_for(tmp_path, "localhost:5000")
    service.start()
    stop_after(service)
    return service, token


@pytest.mark.e2e
def test_sigterm_stops_gracefully_and_logs_hold_no_secret(tmp_path: Path,
                                                          stop_after: Any) -> None:
    service, token = running_service(tmp_path, stop_after)
    envelope = json.dumps(distribution_envelope("localhost:5000", "acme/guestbook", "1.4.2",
                                                "sha256:" + "f" * 64)).encode()
    assert httpx.post(f"{service.url}/webhooks/registry/distribution", content=envelope,
                      headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 202
    # A wrong token, and the right one in a query string: neither may reach the logs.
    httpx.post(f"{service.url}/webhooks/registry/distribution", content=envelope,
               headers={"Authorization": f"Bearer {token}x"}, timeout=10)
    wait_for(lambda: service.promotion_in("prod", "proposed"), "prod proposed")
    assert service.process is not None
    service.process.send_signal(signal.SIGTERM)
    # uvicorn shuts down (the worker finishes its step), then re-raises SIGTERM.
    assert service.wait_dead(30) in (0, -signal.SIGTERM)
    log = (tmp_path / "hoist.log").read_text()
    assert '"event": "worker.stopped"' in log
    for secret in (token, service.env["HOIST_API_TOKEN"]):
        assert secret not in log


@pytest.mark.e2e
def test_real_server_refuses_oversized_headers_and_keeps_serving(tmp_path: Path,
                                                                 stop_after: Any) -> None:
    service, token = running_service(tmp_path, stop_after)
    url = f"{service.url}/webhooks/registry/distribution"
    huge = httpx.post(url, content=b"{}", timeout=10,
                      headers={"Authorization": f"Bearer {token}", "X-Padding": "a" * 100_000})
    assert huge.status_code in (400, 431)  # refused by the HTTP parser, before any handler
    assert httpx.post(url, content=b"{}", timeout=10,
                      headers={"Authorization": f"Bearer {token}"}).status_code == 400
