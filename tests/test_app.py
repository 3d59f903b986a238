"""The HTTP contract through FastAPI's TestClient, on a real store and git repo."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.flows.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from bot.worker import Worker
from tests.support import DATA

TOKEN = "registry-token"
API = "api-token"
BODY = (DATA / "distribution-2.8-manifest-push.json").read_bytes()
AUTH = {"Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/vnd.docker.distribution.events.v1+json"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret=TOKEN,
                    api_token=API)


@pytest.fixture
def client(settings: Settings, services: Services) -> TestClient:
    return TestClient(create_app(settings, services))


def test_push_is_stored_then_redelivery_is_a_duplicate(client: TestClient,
                                                       services: Services) -> None:
    first = client.post("/webhooks/registry/distribution", content=BODY, headers=AUTH)
    assert first.status_code == 202
    assert first.json()["accepted"] == 1
    assert first.json()["pushes"][0]["tag"] == "1.4.2"
    again = client.post("/webhooks/registry/distribution", content=BODY, headers=AUTH)
    assert again.status_code == 202
    assert again.json() == {**first.json(), "accepted": 0, "duplicates": 1}
    assert len(services.store.pending_events()) == 1


@pytest.mark.parametrize(
    ("path", "headers", "body", "status", "reason"),
    [
        ("/webhooks/registry/distribution", {}, BODY, 401, "token"),
        ("/webhooks/registry/distribution", {"Authorization": "Bearer nope"}, BODY, 401, "token"),
        ("/webhooks/registry/distribution", {**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
         BODY, 400, "not JSON"),
        ("/webhooks/registry/distribution", AUTH, b"{not json", 400, "JSON"),
        ("/webhooks/registry/distribution", AUTH, b'{"events": "x"}', 400, "events"),
        ("/webhooks/registry/nosuch", AUTH, BODY, 404, "unknown source"),
        ("/webhooks/registry/distribution", AUTH, b" " * (1 << 21), 413, "1 MiB"),
    ],
)
def test_bad_requests_get_4xx_with_json_reason_and_store_nothing(
    client: TestClient, services: Services, path: str, headers: dict[str, str], body: bytes,
    status: int, reason: str,
) -> None:
    response = client.post(path, content=body, headers=headers)
    assert response.status_code == status
    assert reason in response.json()["error"]
    assert services.store.pending_events() == []


def test_health_ready_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "store": "ok", "role": "all",
                                             "engine": "sqlite"}
    client.post("/webhooks/registry/distribution", content=BODY, headers=AUTH)
    metrics = client.get("/metrics").text
    assert 'hoist_webhooks_total{outcome="accepted",source="distribution"} 1.0' in metrics
    assert "hoist_inbox_pending 1.0" in metrics


def test_promotions_api_and_approval(client: TestClient, services: Services) -> None:
    client.post("/webhooks/registry/distribution", content=BODY, headers=AUTH)
    Worker(services).run_once()
    promotions = client.get("/api/promotions").json()["promotions"]
    assert {p["environment"]: p["state"] for p in promotions} == {
        "dev": "promoted", "staging": "promoted", "prod": "proposed"}
    prod = next(p for p in promotions if p["environment"] == "prod")
    detail = client.get(f"/api/promotions/{prod['id']}").json()
    assert [t["to_state"] for t in detail["transitions"]] == ["received", "planned", "proposed"]
    assert detail["files"] == ["apps/guestbook/overlays/prod/kustomization.yaml"]
    assert client.get("/api/promotions/nope").status_code == 404

    url = f"/api/promotions/{prod['id']}/approve"
    assert client.post(url).status_code == 401
    assert client.post(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.post(url, headers={"Authorization": f"Bearer {API}", "X-Hoist-User": "alice"})
    assert ok.status_code == 200 and ok.json()["approved_by"] == ["alice"]
    again = client.post(url, headers={"Authorization": f"Bearer {API}", "X-Hoist-User": "alice"})
    assert again.status_code == 409 and "already approved" in again.json()["error"]
    assert client.post("/api/promotions/nope/approve",
                       headers={"Authorization": f"Bearer {API}"}).status_code == 404


def test_api_writes_disabled_without_token(settings: Settings, services: Services) -> None:
    app = create_app(dataclasses.replace(settings, api_token=None), services)
    response = TestClient(app).post("/api/promotions/x/approve")
    assert response.status_code == 403
    assert "HOIST_API_TOKEN" in response.json()["error"]


def test_serve_refuses_to_start_without_a_secret(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    monkeypatch.setenv("HOIST_MANIFESTS_REPO", "file:///nowhere")
    monkeypatch.delenv("HOIST_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("HOIST_INSECURE_DEMO", raising=False)
    assert main(["serve"]) == 2
    assert "HOIST_WEBHOOK_SECRET is not set" in capsys.readouterr().err
