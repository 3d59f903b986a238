"""Windows, overrides and maturity through the public contracts: webhooks and the HTTP API
of the app, the worker, the merge commit's trailers in git, `hoist audit` and `hoist dora`.
Windows are chosen around the real current time, so no clock is faked."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.cli import main
from bot.core.events import ImagePushed
from bot.core.machine import State
from bot.core.notices import Kind, Notice
from bot.flows.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from bot.worker import Worker
from tests.support import DATA, commit_file, git, wait_for

API = "api-token"
DIGEST = "sha256:" + "b" * 64
DEMO = (Path(__file__).parents[1] / "manifests-example/demo/hoist.yaml").read_text()


def _config(services: Services, tmp_path: Path, dev_extra: str) -> None:
    text = DEMO.replace("    approval: none             # merged as soon as it is proposed\n",
                        "    approval: none\n" + dev_extra, 1)
    commit_file(services.git.url, "hoist.yaml", text, tmp_path / "cfg")
    services.git.sync()


def _dev(services: Services) -> object:
    return next(p for p in services.store.promotions() if p.environment == "dev")


@pytest.fixture
def client(tmp_path: Path, services: Services) -> TestClient:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="t",
                        api_token=API)
    return TestClient(create_app(settings, services))


def test_a_closed_window_waits_until_overridden(services: Services, client: TestClient,
                                                tmp_path: Path) -> None:
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=2)).isoformat()
    _config(services, tmp_path, f"    windows:\n      deny:\n        - {{from: '{start}', "
                                f"to: '{end}', reason: release freeze}}\n")
    notes: list[Notice] = []
    said: list[str] = []
    services.notify = notes.append
    comment = services.forge.comment

    def told(number: int, body: str) -> None:  # the local forge's comment, and what it said
        said.append(body)
        comment(number, body)

    services.forge.comment = told  # type: ignore[method-assign]
    services.store.add_events([ImagePushed("distribution", "e1", "localhost:5000",
                                           "acme/guestbook", "1.4.2", DIGEST)], time.time())
    Worker(services).run_once()
    Worker(services).run_once()  # looking again tells nobody again
    dev = client.get("/api/promotions").json()["promotions"][0]
    assert dev["state"] == "approved"
    assert dev["reason"].startswith("waiting: release freeze; window opens at ")
    assert [n.kind for n in notes] == [Kind.DEFERRED]
    assert "window opens at" in (notes[0].why or "")
    # The local forge has no threads (no number); a forge with one is told once.
    assert len([s for s in said if "Hoist waits to merge" in s]) <= 1

    url = f"/api/promotions/{dev['id']}/override-window"
    auth = {"Authorization": f"Bearer {API}", "X-Hoist-User": "alice"}
    assert client.post(url, json={"reason": "hotfix"}).status_code == 401
    assert client.post(url, headers=auth, json={}).status_code == 400
    assert client.post(url, headers=auth, json={"reason": "hotfix for\nincident 42"}
                       ).status_code == 200
    Worker(services).run_once()
    after = client.get(f"/api/promotions/{dev['id']}").json()
    assert after["state"] == "promoted" and after["reason"] is None
    assert client.post(url, headers=auth, json={"reason": "again"}).status_code == 409

    bare = services.git.url.removeprefix("file://")
    message = git(bare, "log", "-1", "--format=%B", after["merge_sha"])
    assert "Hoist-Window-Override: alice; hotfix for incident 42" in message
    assert "Hoist-Pushed-At: " in message
    main(["audit", "--repo", bare, "--json", "--env", "dev"])
    main(["dora", "--repo", bare, "--json"])


def test_audit_and_dora_read_the_override(services: Services, client: TestClient,
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    test_a_closed_window_waits_until_overridden(services, client, tmp_path)
    capsys.readouterr()
    bare = services.git.url.removeprefix("file://")
    assert main(["audit", "--repo", bare, "--json", "--env", "dev"]) == 0
    [entry] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert entry["window_override"] == "alice; hotfix for incident 42"
    assert main(["dora", "--repo", bare, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    # dev and staging merged on their own (staging had no window); prod waits for approval.
    assert found["change_failure_rate"] == {"rate": 0.0, "failures": 0, "promotions": 2}
    assert found["lead_time_seconds"]["count"] == 2 and found["notes"] == []


def test_cli_override_refuses_unknown_promotions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOIST_DATA_DIR", str(tmp_path))
    assert main(["override-window", "--promotion", "nope", "--by", "a", "--reason", "r"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_an_image_younger_than_min_age_waits_then_goes_on(services: Services,
                                                           tmp_path: Path) -> None:
    _config(services, tmp_path, "    min_age: 1h\n")
    pushed = time.time() - 3600 + 2  # two seconds short of an hour old
    services.store.add_events([ImagePushed("distribution", "e1", "localhost:5000",
                                           "acme/guestbook", "1.4.2", DIGEST, pushed)],
                              time.time())
    Worker(services).run_once()
    dev = _dev(services)
    assert dev.state is State.RECEIVED  # type: ignore[attr-defined]
    assert "image guestbook is 59m58s old, min_age 1h: waits until " in dev.reason  # type: ignore[attr-defined]
    wait_for(lambda: Worker(services).run_once() or _dev(services).state is State.PROMOTED,  # type: ignore[attr-defined, func-returns-value]
             "dev promoted once the image is an hour old", timeout=30)
    stamp = datetime.fromtimestamp(pushed, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    bare = services.git.url.removeprefix("file://")
    assert f"Hoist-Pushed-At: {stamp}" in git(bare, "log", "-1", "--format=%B", "main")
    assert DATA.is_dir()


def test_a_closed_window_is_said_once_on_a_github_pull_request_and_an_admin_overrides(
        tmp_path: Path) -> None:
    """Through `hoist serve` and the GitHub double: the wait is commented once on the pull
    request; a writer cannot override, an admin can, and git records who and why."""
    from datetime import UTC, datetime, timedelta

    from tests.scenario import Scenario, prod_files
    from tests.support import git as run_git
    from tests.support import need, wait_for

    need("git")
    today = datetime.now(UTC).date()
    windows = ("    windows:\n      timezone: UTC\n      deny:\n"
               f"        - {{from: {today - timedelta(days=1)}, to: {today + timedelta(days=2)},"
               " reason: holiday freeze}\n")
    with Scenario(tmp_path, prod_files(env_extra=windows)) as s:
        s.push("1.1.0")
        number = s.pr_number()
        s.github_comment(number, "bob", "/hoist approve")
        wait_for(lambda: [c for c in s.bot_comments(number) if "window opens at" in c],
                 "the wait said on the pull request")
        s.github_comment(number, "carol", "/hoist status")  # another pass: said once only
        wait_for(lambda: any("promotion `" in c for c in s.bot_comments(number)), "status")
        assert len([c for c in s.bot_comments(number) if c.startswith("Hoist waits")]) == 1
        assert not s.forge.pulls[number]["merged"]
        s.github_comment(number, "dave", "/hoist override-window hotfix")  # write: refused
        wait_for(lambda: any("refused" in c for c in s.bot_comments(number)), "dave refused")
        s.github_comment(number, "erin", "/hoist override-window hotfix for incident 42")
        wait_for(lambda: s.forge.pulls[number]["merged"], "merged past the window")
        message = run_git(s.bare, "log", "-1", "--format=%B", "main")
        assert "Hoist-Window-Override: erin; hotfix for incident 42" in message
