"""Hostile input: limits hold, bad credentials are refused (generated input: test_fuzz.py)."""

from __future__ import annotations

import contextlib
import os
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

    from bot.web import bodies, webhooks

    monkeypatch.setattr(bodies, "BODY_TIMEOUT", 0.3)  # where the body is read
    monkeypatch.setattr(webhooks, "BODY_TIMEOUT", 0.3)  # what the refusal says
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


def test_an_approver_name_cannot_forge_a_second_approver(client: TestClient,
                                                          services: Services,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    from bot.cli import main
    from bot.core.render import name_problem

    for name in ("alice, bob", "alice\tbob", "al\x7fice", "x" * 101, " "):
        response = client.post("/api/promotions/any/approve",
                               headers={"Authorization": "Bearer a", "X-Hoist-User": name})
        assert response.status_code == 400, (name, response.text)
        assert "X-Hoist-User" in response.json()["error"]
    for name in ("alice, bob", "alice\nHoist-Approved-By: mallory", "a\x00b"):
        assert name_problem(name)
        assert main(["approve", "01ANY", "--by", name]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and err.startswith("hoist: --by ")
    assert name_problem("alice") is None and name_problem("bob@example.com") is None


def test_a_database_password_never_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         services: Services) -> None:
    import subprocess
    import sys

    from bot.adapters.store import Store, StoreUnavailable
    from tests.support import ROOT

    env = {"HOIST_MANIFESTS_REPO": "file:///nonexistent", "HOIST_INSECURE_DEMO": "1",
           "HOIST_DATA_DIR": str(tmp_path / "data"),
           "HOIST_DATABASE_URL": "postgresql://hoist:p@ss/w:rd@127.0.0.1:1/db"}
    done = subprocess.run([sys.executable, "-m", "bot", "serve", "--role", "web"],
                          env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "hoist: HOIST_DATABASE_URL: the password holds an unescaped '@', '/', '?' or '#'; "
        "percent-encode it (@ as %40, / as %2F, ? as %3F)"]
    # Escaped, it parses as meant; when the store goes away /readyz says so in fixed words.
    monkeypatch.setattr(services.store, "ping", lambda: (_ for _ in ()).throw(StoreUnavailable(
        "postgresql://hoist:p%40ss@127.0.0.1:1/db: connection refused, password p@ss/w:rd")))
    app = create_app(Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="s"),
                     services)
    ready = TestClient(app).get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"role": "all", "engine": services.store.engine_name,
                            "status": "not ready", "store": "unreachable",
                            "error": "store unreachable"}
    assert "p@ss" not in TestClient(app).get("/healthz").text
    with pytest.raises(StoreUnavailable) as refused:
        Store("postgresql://hoist:p%40ss%2Fw%3Ard@127.0.0.1:1/db")
    assert "p@ss" not in str(refused.value) and "w:rd" not in str(refused.value)


def test_a_catastrophic_tag_regex_does_not_pin_the_workers(tmp_path: Path, manifests_url: str,
                                                           services: Services) -> None:
    from bot.core.events import ImagePushed
    from bot.worker import Worker
    from tests.support import commit_file

    text = (Path(__file__).parents[1] / "manifests-example/demo/hoist.yaml").read_text()
    commit_file(manifests_url, "hoist.yaml", text.replace(
        '{semver: ">=1.0.0 <2.0.0", prerelease: false}', "{regex: '^(a+)+$'}", 1),
        tmp_path / "work")
    services.git.sync()
    services.store.add_events([ImagePushed("distribution", f"e{i}", "localhost:5000",
                                           "acme/guestbook", "a" * 41 + "b", None)
                               for i in range(4)], time.time())
    Worker(services).run_once()  # four such pushes once stopped every worker thread
    assert services.store.inbox_depth() == 0 and services.store.promotions() == []


def test_plan_and_set_image_refuse_symlinked_and_oversized_manifests(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from bot.cli import main
    from tests.support import ROOT

    example = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests-example", example)
    outside = tmp_path / "outside.yaml"
    dev = example / "apps/guestbook/overlays/dev/kustomization.yaml"
    outside.write_text(dev.read_text().replace("guestbook", "secret-app-guestbook"))
    dev.unlink()
    dev.symlink_to(outside)  # the target is a symlink to a file outside the checkout
    plan = ["plan", "--config", str(example / "hoist.yaml"), "--image",
            f"localhost:5000/acme/guestbook:1.5.0@sha256:{'a' * 64}"]
    assert main(plan) == 2
    captured = capsys.readouterr()
    assert "not a regular file in the manifests repository" in captured.err
    assert "secret-app" not in captured.out + captured.err
    dev.unlink()
    dev.write_text("images: [{name: acme/guestbook}]\n" + "#" * (4 << 20))  # over 4 MiB
    assert main(plan) == 2
    assert "larger than 4 MiB; refused" in capsys.readouterr().err
    assert main(["set-image", str(dev), "--image", "acme/guestbook=acme/guestbook:2"]) == 2
    assert "larger than 4 MiB; refused" in capsys.readouterr().err


def test_sign_in_is_rate_limited_and_the_api_docs_need_the_token(tmp_path: Path,
                                                                 services: Services) -> None:
    from bot.web.guards import TokenBucket

    app = create_app(Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="s",
                              ui_token="ui-secret"), services)
    client = TestClient(app, follow_redirects=False, headers={"Origin": "http://testserver"})
    csrf = client.get("/").text.split('name="csrf" value="')[1].split('"')[0]
    answers = [client.post("/ui/signin", data={"token": "guess", "next": "/", "csrf": csrf})
               for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert answers[-1].json()["error"].startswith("too many sign-in attempts")
    assert int(answers[-1].headers["Retry-After"]) >= 1
    # Even the right token waits its turn: guessing gains nothing by being fast.
    assert client.post("/ui/signin", data={"token": "ui-secret"}).status_code == 429
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 401, path
        readers = client.get(path, headers={"Authorization": "Bearer ui-secret"})
        assert readers.status_code == 200, path
    assert "/api/promotions" in client.get(
        "/openapi.json", headers={"Authorization": "Bearer ui-secret"}).json()["paths"]
    # The bucket refills: one more attempt every 6 s, per address.
    now = [0.0]
    bucket = TokenBucket(burst=2, rate=0.5, clock=lambda: now[0])
    assert [bucket.take("a"), bucket.take("a"), bucket.take("b")] == [0.0, 0.0, 0.0]
    assert bucket.take("a") == 2.0
    now[0] = 2.0
    assert bucket.take("a") == 0.0
    open_app = create_app(Settings(manifests_repo="unused", data_dir=tmp_path,
                                   webhook_secret="s"), services)
    assert TestClient(open_app).get("/openapi.json").status_code == 200
