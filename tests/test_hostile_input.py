"""Hostile input: limits hold, bad credentials are refused (generated input: test_fuzz.py)."""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.demo.manifests import make_manifests_repo
from bot.demo.registry import free_port
from bot.flows.services import Services
from bot.settings import Settings
from bot.sources import SOURCES, PayloadError
from bot.web.app import create_app
from tests.support import FIXTURES, ServiceProcess


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


def demo_service(tmp_path: Path, env: dict[str, str] | None = None) -> ServiceProcess:
    """`hoist serve` on the demo manifests, with a webhook secret `s` and more env."""
    base = {"HOIST_MANIFESTS_REPO": make_manifests_repo(tmp_path / "origin"),
            "HOIST_DATA_DIR": str(tmp_path / "data"), "HOIST_WEBHOOK_SECRET": "s",
            "HOIST_POLL_INTERVAL": "0.2"}
    return ServiceProcess(free_port(), {**base, **(env or {})}, tmp_path / "hoist.log")


@pytest.mark.e2e
def test_clients_trickling_headers_are_cut_off_and_the_cap_holds(tmp_path: Path) -> None:
    service = demo_service(tmp_path, {"HOIST_HEADER_TIMEOUT": "2", "HOIST_MAX_CONNECTIONS": "45"})
    service.start()
    slow: list[socket.socket] = []
    extra: list[socket.socket] = []
    try:
        for _ in range(40):
            sock = socket.create_connection(("127.0.0.1", service.port), timeout=10)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            slow.append(sock)
        # The server still answers while they trickle; the 46th connection is refused.
        assert httpx.get(f"{service.url}/healthz", timeout=5).status_code == 200
        extra += [socket.create_connection(("127.0.0.1", service.port), timeout=10)
                  for _ in range(6)]
        refused = [s.recv(4096) for s in extra]
        assert any(r.startswith(b"HTTP/1.1 503") and b"too many connections" in r
                   for r in refused), refused
        # Each sends a header line every half second, past the 2 s the headers may take.
        for i in range(12):
            for sock in slow:
                with contextlib.suppress(OSError):  # cut off already
                    sock.sendall(f"X-Slow-{i}: 1\r\n".encode())
            time.sleep(0.5)
        answers = []
        for sock in slow:
            try:
                answers.append(sock.recv(4096))
            except OSError:
                answers.append(b"reset")
        assert all(a.startswith(b"HTTP/1.1 408") or a in (b"", b"reset") for a in answers)
        assert sum(a.startswith(b"HTTP/1.1 408") for a in answers) > 0
        assert httpx.get(f"{service.url}/healthz", timeout=5).status_code == 200
    finally:
        for sock in slow + extra:
            sock.close()
        service.stop()
