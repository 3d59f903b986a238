"""Several processes on one store: a replica killed while holding a lease, `web` and
`worker` roles, and a web replica that loses its database."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.adapters.store import Store
from bot.demo.manifests import distribution_envelope
from bot.demo.registry import free_port, write_oci_layout
from tests.postgres_server import PostgresServer
from tests.support import ServiceProcess, git, need, wait_for
from tests.test_e2e import registry_for, service_for, stop_after  # noqa: F401 (a fixture)

DIGEST = "sha256:" + "e" * 64


def _post(url: str, token: str) -> httpx.Response:
    envelope = json.dumps(distribution_envelope("localhost:5000", "acme/guestbook", "1.4.2",
                                                DIGEST)).encode()
    return httpx.post(f"{url}/webhooks/registry/distribution", content=envelope,
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.mark.e2e
def test_a_replica_killed_holding_a_lease_is_taken_over_within_the_lease_time(
        tmp_path: Path, postgres: PostgresServer, stop_after: Any) -> None:  # noqa: F811
    need("git")
    database = postgres.database()
    lease = 5.0
    first, _, token = service_for(tmp_path, "localhost:5000", env={
        "HOIST_DATABASE_URL": database, "HOIST_LEASE_SECONDS": str(lease),
        "HOIST_POLL_INTERVAL": "0.1"})
    first.start({"HOIST_FAILPOINTS": "promotion.planned"})
    stop_after(first)
    assert _post(first.url, token).status_code == 202
    assert first.wait_dead() == -9  # killed holding dev's lane, its promotion planned
    store = Store(database, migrate=False)
    holder, expires = store.holders()["lane:guestbook/dev"]
    assert holder is not None and expires > time.time() - 1  # still held by the dead one

    second = ServiceProcess(free_port(), {**first.env, "HOIST_DATA_DIR": str(tmp_path / "b")},
                            tmp_path / "second.log")
    second.start()
    stop_after(second)

    def dev_promoted() -> Any:
        return next((p for p in store.promotions() if p.environment == "dev"
                     and p.state.value == "promoted"), None)

    dev = wait_for(dev_promoted, "the second replica to finish dev", lease + 30)
    moves = {t["to_state"]: t["at"] for t in store.transitions(dev.id)}
    assert moves["proposed"] >= expires - 0.05  # it waited for the lease to expire
    assert moves["promoted"] <= expires + 2.0  # and finished within lease time + 2 s
    store.close()


@pytest.mark.e2e
def test_a_web_and_a_worker_process_on_one_sqlite_file_promote_a_real_push(
        tmp_path: Path, stop_after: Any) -> None:  # noqa: F811
    need("git", "docker-registry", "skopeo")
    reg_port = free_port()
    web, origin, token = service_for(tmp_path, f"localhost:{reg_port}")
    web.args = ("--role", "web")
    worker = ServiceProcess(free_port(), web.env, tmp_path / "worker.log", ("--role", "worker"))
    web.start()
    stop_after(web)
    worker.start()
    stop_after(worker)
    registry = registry_for(web, tmp_path, reg_port, token, stop_after)
    digest = write_oci_layout(tmp_path / "layout", "1.4.2", "guestbook 1.4.2")
    registry.push(tmp_path / "layout", "1.4.2", "acme/guestbook")

    prod = wait_for(lambda: web.promotion_in("prod", "proposed"), "prod to be proposed", 60)
    assert prod["image"] == f"localhost:{reg_port}/acme/guestbook:1.4.2@{digest}"
    assert f"digest: {digest}" in git(origin, "show",
                                      "main:apps/guestbook/overlays/dev/kustomization.yaml")
    assert httpx.get(f"{web.url}/readyz").json()["role"] == "web"
    assert httpx.get(f"{worker.url}/readyz").json() == {
        "role": "worker", "engine": "sqlite", "status": "ready", "store": "ok"}
    assert _post(worker.url, token).status_code == 404  # a worker takes no webhooks
    assert '"promotion.' not in web.log_path.read_text()  # the web process ran no flow
    assert '"promotion.proposed"' in worker.log_path.read_text()


@pytest.mark.e2e
def test_a_web_replica_without_its_database_says_so_on_readyz(tmp_path: Path,
                                                              stop_after: Any) -> None:  # noqa: F811
    need("git")
    server = PostgresServer().start()
    stop_after(server)
    web, _, token = service_for(tmp_path, "localhost:5000",
                                env={"HOIST_DATABASE_URL": server.database()})
    web.args = ("--role", "web")
    web.start()
    stop_after(web)
    ready = httpx.get(f"{web.url}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["engine"] == "postgresql"

    server.pause()
    down = httpx.get(f"{web.url}/readyz", timeout=15)
    assert down.status_code == 503
    assert down.json()["store"] == "unreachable" and down.json()["role"] == "web"
    assert httpx.get(f"{web.url}/healthz", timeout=5).status_code == 200  # alive, not ready
    refused = _post(web.url, token)
    assert refused.status_code == 503 and "retry later" in refused.json()["error"]

    server.resume()
    wait_for(lambda: httpx.get(f"{web.url}/readyz", timeout=15).status_code == 200,
             "readyz once the database is back", 30)
    assert _post(web.url, token).json()["accepted"] == 1
