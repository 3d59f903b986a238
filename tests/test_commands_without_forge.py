"""Issue 23 §4: every ChatOps command without a forge, through the public contracts — the
CLI (exit codes, one line) and the HTTP API (status codes, JSON) — on a real store, a real
git repository and the local forge, which has no comments."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.adapters.store import Promotion
from bot.cli import main
from bot.core.events import ImagePushed
from bot.core.machine import State
from bot.flows.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from bot.worker import Worker

API = "api-token"
DIGEST = "sha256:" + "c" * 64
AS_ALICE = {"Authorization": f"Bearer {API}", "X-Hoist-User": "alice"}


def _push(services: Services, tag: str, event: str) -> None:
    services.store.add_events([ImagePushed("distribution", event, "localhost:5000",
                                           "acme/guestbook", tag, DIGEST)], time.time())
    Worker(services).run_once()
    Worker(services).run_once()


def _prod(services: Services) -> Promotion:
    return next(p for p in services.store.promotions() if p.environment == "prod")


@pytest.fixture
def client(tmp_path: Path, services: Services) -> TestClient:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="w",
                        api_token=API)
    return TestClient(create_app(settings, services))


@pytest.fixture
def cli_env(tmp_path: Path, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads the settings `hoist serve` would: the same store and repository."""
    monkeypatch.setenv("HOIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOIST_MANIFESTS_REPO", services.git.url)


def test_api_holds_resumes_and_approves_with_the_chatops_words(
        client: TestClient, services: Services) -> None:
    _push(services, "1.4.2", "e1")
    prod = _prod(services)
    url = f"/api/promotions/{prod.id}"
    assert client.post(f"{url}/hold").status_code == 401
    held = client.post(f"{url}/hold", headers=AS_ALICE, json={"reason": "QA first"})
    assert held.status_code == 200
    assert held.json()["state"] == "held" and held.json()["reply"] == (
        f"held; run `hoist resume {prod.id}` or `POST /api/promotions/{prod.id}/resume` "
        "to go on.")
    assert "held by alice: QA first" in held.json()["reason"]
    again = client.post(f"{url}/hold", headers=AS_ALICE)
    assert again.status_code == 409 and again.json() == {
        "error": "cannot hold: the promotion is held.", "state": "held"}
    resumed = client.post(f"{url}/resume", headers=AS_ALICE, content=b"")
    assert resumed.status_code == 200 and resumed.json()["state"] == "proposed"
    approved = client.post(f"{url}/approve", headers=AS_ALICE)
    assert approved.json()["reply"] == ("approval recorded (1 of 1); the promotion is "
                                        "proposed, merged next.")
    assert approved.json()["approved_by"] == ["alice"]
    assert client.post(f"{url}/approve", headers=AS_ALICE).status_code == 409
    assert client.post(f"{url}/promote", headers=AS_ALICE).status_code == 404
    assert client.post("/api/promotions/nope/hold", headers=AS_ALICE).status_code == 404
    assert client.post(f"{url}/hold", headers=AS_ALICE, content=b"{").status_code == 400
    assert client.post(f"{url}/hold", headers=AS_ALICE, json={"reason": 3}).status_code == 400
    assert client.post(f"{url}/hold", headers={**AS_ALICE, "X-Hoist-User": "a, b"}
                       ).status_code == 400
    Worker(services).run_once()
    assert _prod(services).state is State.PROMOTED


def test_api_times_are_iso_strings(client: TestClient, services: Services) -> None:
    _push(services, "1.4.2", "e1")
    listed = client.get("/api/promotions").json()["promotions"][0]
    detail = client.get(f"/api/promotions/{listed['id']}").json()
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
    import re

    for value in (listed["created_at"], listed["updated_at"], listed["received_at"],
                  *(t["at"] for t in detail["transitions"])):
        assert re.match(stamp, value), value


def test_a_freeze_blocks_planning_until_unfrozen(client: TestClient, services: Services,
                                                 cli_env: None,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["freeze", "--env", "prod", "--by", "alice", "--reason", "incident 42"]) == 0
    assert capsys.readouterr().out.endswith(
        "prod: prod is frozen: nothing is planned or merged there until `unfreeze`.\n")
    _push(services, "1.4.2", "e1")
    assert _prod(services).state is State.RECEIVED  # waits, frozen
    assert main(["freeze", "--env", "nowhere"]) == 2
    assert capsys.readouterr().err == "hoist: no environment nowhere\n"
    unfrozen = client.post("/api/environments/prod/unfreeze", headers=AS_ALICE)
    assert unfrozen.status_code == 200 and unfrozen.json() == {"reply": "prod is unfrozen."}
    again = client.post("/api/environments/prod/unfreeze", headers=AS_ALICE)
    assert again.status_code == 409 and again.json() == {"error": "prod is not frozen."}
    assert client.post("/api/environments/prod/thaw", headers=AS_ALICE).status_code == 404
    assert client.post("/api/environments/nope/freeze", headers=AS_ALICE).status_code == 404
    Worker(services).run_once()
    assert _prod(services).state is State.PROPOSED


def test_cli_aborts_retries_and_unquarantines(services: Services, cli_env: None,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _push(services, "1.4.2", "e1")
    prod = _prod(services)
    assert main(["retry", prod.id]) == 2
    assert capsys.readouterr().err == (f"hoist: {prod.id}: nothing to retry: the promotion is "
                                       "proposed. (now proposed)\n")
    # A failed promotion is planned again, then stopped for good.
    services.store.transition(prod.id, State.FAILED, reason="conflict")  # as the worker would
    assert main(["retry", prod.id, "--by", "carol"]) == 0
    assert capsys.readouterr().out.endswith(f"{prod.id}: retrying. (now received)\n")
    assert main(["abort", prod.id, "--by", "carol", "--reason", "wrong build"]) == 0
    assert capsys.readouterr().out.endswith(f"{prod.id}: aborted. (now aborted)\n")
    assert services.store.promotion(prod.id).reason == "aborted by carol: wrong build"
    # A quarantined digest is let go.
    dev = next(p for p in services.store.promotions() if p.environment == "dev")
    assert main(["unquarantine", dev.id]) == 2
    assert "not quarantined" in capsys.readouterr().err
    services.store.quarantine("localhost:5000/acme/guestbook", DIGEST, "reverted")
    assert main(["unquarantine", dev.id, "--by", "carol"]) == 0
    assert f"`{DIGEST}` may be promoted again." in capsys.readouterr().out
    assert services.store.quarantined("localhost:5000/acme/guestbook", DIGEST) is None
    assert main(["hold", "nope"]) == 2
    assert capsys.readouterr().err == "hoist: no promotion nope\n"
    assert main(["hold", prod.id, "--by", "a,b"]) == 2


def test_hoist_serve_on_the_local_forge_is_steered_without_comments(tmp_path: Path) -> None:
    """A real `hoist serve` (local forge) and the CLI beside it on the same store."""
    import json
    import os
    import subprocess
    import sys

    import httpx

    from bot.demo.registry import free_port
    from tests.support import DATA, ROOT, ServiceProcess, git, wait_for
    from tests.test_field_chatops import hoist_yaml

    seed, origin = tmp_path / "seed", tmp_path / "manifests.git"
    target = seed / "apps/guestbook/prod/kustomization.yaml"
    target.parent.mkdir(parents=True)
    (seed / "hoist.yaml").write_text(hoist_yaml("{required: 1}")
                                     .replace("registry.example.com", "localhost:5000"))
    target.write_text("images:\n  - name: localhost:5000/acme/guestbook\n    newTag: \"1.0.0\"\n")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=s", "-c", "user.email=s@x", "commit", "-qm", "chore: seed")
    git(seed, "push", "-q", str(origin), "main")
    env = {"HOIST_MANIFESTS_REPO": f"file://{origin}", "HOIST_DATA_DIR": str(tmp_path / "d"),
           "HOIST_WEBHOOK_SECRET": "w", "HOIST_API_TOKEN": API, "HOIST_POLL_INTERVAL": "0.2",
           "HOIST_LOG_FORMAT": "json"}
    service = ServiceProcess(free_port(), env, tmp_path / "hoist.log")
    service.start()
    try:
        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True,
                                  text=True, env={**os.environ, **env}, cwd=ROOT, timeout=60)

        assert cli("freeze", "--env", "prod", "--by", "alice").returncode == 0
        body = (DATA / "distribution-2.8-manifest-push.json").read_bytes()
        assert httpx.post(f"{service.url}/webhooks/registry/distribution", content=body,
                          headers={"Authorization": "Bearer w"}, timeout=10).status_code == 202
        waiting = wait_for(lambda: service.promotion_in("prod", "received"), "a push")
        time.sleep(1.0)
        assert service.promotion_in("prod", "received")  # frozen: not planned
        thawed = httpx.post(f"{service.url}/api/environments/prod/unfreeze", headers=AS_ALICE)
        assert thawed.json() == {"reply": "prod is unfrozen."}
        pid = wait_for(lambda: service.promotion_in("prod", "proposed"), "the proposal")["id"]
        assert pid == waiting["id"]
        page = httpx.get(f"{service.url}/", timeout=10).text
        assert f"hoist approve {pid}" in page and "/hoist approve" not in page
        held = httpx.post(f"{service.url}/api/promotions/{pid}/hold", headers=AS_ALICE,
                          json={"reason": "QA"}, timeout=10)
        assert held.json()["state"] == "held"
        assert cli("resume", pid).stdout.endswith("resumed. (now proposed)\n")
        approved = cli("approve", pid, "--by", "carol")
        assert approved.returncode == 0 and "approval recorded (1 of 1)" in approved.stdout
        wait_for(lambda: service.promotion_in("prod", "promoted"), "the merge")
        assert "Hoist-Approved-By: carol" in git(origin, "log", "-1", "--format=%B", "main")
        late = cli("abort", pid)
        assert late.returncode == 2 and late.stderr == (
            f"hoist: {pid}: cannot abort: the promotion is promoted. (now promoted)\n")
        assert json.loads(httpx.post(f"{service.url}/api/promotions/{pid}/unquarantine",
                                     headers=AS_ALICE).text)["error"] == \
            "that digest is not quarantined."
    finally:
        service.stop()
