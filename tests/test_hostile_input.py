"""Hostile input: limits hold, bad credentials are refused (generated input: test_fuzz.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.flows.services import Services
from bot.settings import Settings
from bot.sources import SOURCES, PayloadError
from bot.web.app import create_app
from tests.support import FIXTURES


def test_deeply_nested_json_is_a_clean_refusal() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    for source in SOURCES.values():
        with pytest.raises(PayloadError, match="nested too deeply"):
            source.parse({}, body)


@pytest.fixture
def client(tmp_path: Path, services: Services) -> TestClient:
    settings_ = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="s",
                         github_webhook_secret="g", api_token="a")
    return TestClient(create_app(settings_, services), raise_server_exceptions=False)


def test_unsigned_wrongly_signed_and_replayed_requests(client: TestClient) -> None:
    body = (FIXTURES / "github" / "ping.json").read_bytes()
    for headers in ({}, {"X-Hub-Signature-256": "sha256=" + "0" * 64},
                    {"X-Hub-Signature-256": "garbage"}):
        assert client.post("/webhooks/github", content=body,
                           headers={**headers, "X-GitHub-Event": "ping"}).status_code == 401
    for source in SOURCES:
        assert client.post(f"/webhooks/registry/{source}", content=b"{}",
                           headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_oversized_bodies_are_refused_streamed_or_declared(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b" " * 65536  # 2.5 MiB, sent without a Content-Length

    streamed = client.post("/webhooks/registry/distribution", content=chunks(),
                           headers={"Authorization": "Bearer s"})
    assert streamed.status_code == 413
    declared = client.post("/webhooks/registry/distribution", content=b"{}",
                           headers={"Authorization": "Bearer s", "Content-Length": "99999999"})
    assert declared.status_code in (400, 413)


def test_a_body_that_trickles_in_gets_408(tmp_path: Path, services: Services,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    import httpx

    from bot.web import webhooks

    monkeypatch.setattr(webhooks, "BODY_TIMEOUT", 0.3)
    app = create_app(Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="s"),
                     services)

    async def slow() -> Any:
        yield b'{"events": ['
        await asyncio.sleep(1.0)
        yield b"]}"

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://hoist") as client:
            return await client.post("/webhooks/registry/distribution", content=slow(),
                                     headers={"Authorization": "Bearer s"})

    response = asyncio.run(send())
    assert response.status_code == 408 and "within 0.3 s" in response.json()["error"]
    assert services.store.inbox_depth() == 0
