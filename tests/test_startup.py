"""`hoist serve` checks what it needs before it says it is ready (issue 23 §1), and fixing
a mistake fixes it without a restart (§2): a real `hoist serve` process each time."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.manifests import distribution_envelope, make_manifests_repo
from bot.demo.registry import free_port
from tests.github_double import GitHubDouble
from tests.support import ROOT, ServiceProcess, commit_file, git, need, wait_for

pytestmark = pytest.mark.e2e
HOST = "localhost:5000"
REPOSITORY = "acme/guestbook"


def base_env(tmp_path: Path, url: str) -> dict[str, str]:
    return {"HOIST_MANIFESTS_REPO": url, "HOIST_DATA_DIR": str(tmp_path / "data"),
            "HOIST_INSECURE_DEMO": "1", "HOIST_POLL_INTERVAL": "0.2",
            "HOIST_LOG_FORMAT": "json", "HOIST_CONFIG_MAX_AGE": "0.5"}


def refused(env: dict[str, str], *args: str, port: int | None = None) -> list[str]:
    """Run `hoist serve` expecting exit 2; its stderr lines."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOIST_")}
    done = subprocess.run([sys.executable, "-m", "bot", "serve", "--port",
                           str(port or free_port()), *args], env={**clean, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr.splitlines()


def log_events(path: Path, name: str) -> list[dict[str, Any]]:
    found = []
    for line in path.read_text().splitlines():
        if line.startswith("{") and f'"{name}"' in line:
            event = json.loads(line)
            if event.get("event") == name:
                found.append(event)
    return found


def push(service: ServiceProcess, tag: str) -> None:
    digest = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
    httpx.post(f"{service.url}/webhooks/registry/distribution", timeout=10,
               json=distribution_envelope(HOST, REPOSITORY, tag, digest)).raise_for_status()


def test_each_mistake_stops_serve_with_one_line_naming_the_fix(tmp_path: Path) -> None:
    need("git")
    url = make_manifests_repo(tmp_path / "origin", HOST)
    env = base_env(tmp_path, url)
    [line] = refused(env, "--config", "nope.yaml")
    assert "nope.yaml" in line and "pass an existing hoist.yaml" in line
    [line] = refused({**env, "HOIST_MANIFESTS_REPO": "file:///nonexistent"})
    assert line.startswith("hoist: HOIST_MANIFESTS_REPO=file:///nonexistent") and "point it" in line
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", url, str(work)], check=True)
    [line] = refused({**env, "HOIST_MANIFESTS_REPO": f"file://{work}"})
    assert "not a bare repository" in line and "git clone --bare" in line
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        [line] = refused(env, port=port)
    assert line == f"hoist: 127.0.0.1:{port} is in use: pass --port or stop what listens there"
    commit_file(url, "hoist.yaml", "images: [\n", tmp_path / "typo")
    [line] = refused(env)
    assert "hoist.yaml at " in line and "fix it on the default branch" in line


def test_a_github_token_lacking_permissions_is_named(tmp_path: Path) -> None:
    need("git")
    url = make_manifests_repo(tmp_path / "origin", HOST)
    double = GitHubDouble(Path(url.removeprefix("file://"))).start()
    try:
        double.token_permissions["read-only"] = {"admin": False, "push": False, "pull": True}
        env = {**base_env(tmp_path, url), "HOIST_GITHUB_TOKEN": "read-only",
               "HOIST_GITHUB_API_URL": double.url, "HOIST_GITHUB_REPOSITORY": "acme/manifests"}
        [line] = refused(env)
        assert "HOIST_GITHUB_TOKEN cannot push to acme/manifests (it has: pull)" in line
        assert "contents, pull requests and issues" in line
        [line] = refused({**env, "HOIST_GITHUB_REPOSITORY": "acme/elsewhere"})
        assert "does not show acme/elsewhere to HOIST_GITHUB_TOKEN (404" in line
    finally:
        double.stop()


def test_a_forge_answering_5xx_keeps_readyz_503_with_the_reason_then_ready(
        tmp_path: Path) -> None:
    need("git")
    url = make_manifests_repo(tmp_path / "origin", HOST)
    double = GitHubDouble(Path(url.removeprefix("file://"))).start()
    double.inject("502", "502")
    env = {**base_env(tmp_path, url), "HOIST_GITHUB_TOKEN": "ghp-" + secrets.token_hex(8),
           "HOIST_GITHUB_PACE": "0",
           "HOIST_GITHUB_API_URL": double.url, "HOIST_GITHUB_REPOSITORY": "acme/manifests"}
    service = ServiceProcess(free_port(), env, tmp_path / "hoist.log")
    service.start()  # /healthz answers while it waits
    try:
        waiting = httpx.get(f"{service.url}/readyz", timeout=5)
        assert waiting.status_code == 503
        assert "GitHub answered 502" in waiting.json()["error"]
        webhook = httpx.post(f"{service.url}/webhooks/registry/distribution", json={})
        assert webhook.status_code == 503  # not 202: the sender retries later
        wait_for(lambda: httpx.get(f"{service.url}/readyz", timeout=5).status_code == 200,
                 "ready once GitHub answers")
        log = tmp_path / "hoist.log"
        assert log_events(log, "serve.not_ready")[0]["reason"].startswith("GitHub answered 502")
        [started] = log_events(log, "serve.started")
        assert started["forge"] == "github" and started["page"] == "open"
    finally:
        service.stop()
        double.stop()


def test_a_typo_merged_on_the_branch_waits_with_its_reason_and_its_fix_applies(
        tmp_path: Path) -> None:
    need("git")
    url = make_manifests_repo(tmp_path / "origin", HOST)
    service = ServiceProcess(free_port(), base_env(tmp_path, url), tmp_path / "hoist.log")
    service.start()
    try:
        log = tmp_path / "hoist.log"
        [started] = log_events(log, "serve.started")
        assert started["config_commit"] == git(url.removeprefix("file://"),
                                               "rev-parse", "main").strip()[:12]
        push(service, "1.4.2")
        prod = wait_for(lambda: service.promotion_in("prod", "proposed"), "prod waiting", 60)
        good = git(url.removeprefix("file://"), "show", "main:hoist.yaml")
        broken = good.replace("approval: manual", "approval: [manual")
        commit_file(url, "hoist.yaml", broken, tmp_path / "typo")
        commit = git(url.removeprefix("file://"), "rev-parse", "main").strip()[:12]

        def waiting_reason() -> str | None:
            found = next(p for p in service.promotions() if p["id"] == prod["id"])
            reason = found["reason"] or ""
            return reason if reason.startswith(f"hoist.yaml at {commit}: line ") else None

        wait_for(waiting_reason, "the prod promotion to say why it waits", 30)
        push(service, "1.4.3")  # stored; waits for the fix
        assert httpx.get(f"{service.url}/healthz").status_code == 200
        # The fix: a policy change too (1.4.x no longer allowed), seen by the next push.
        fixed = good.replace('">=1.0.0 <2.0.0"', '">=1.0.0 <1.4.0 || >=1.5.0 <2.0.0"')
        commit_file(url, "hoist.yaml", fixed, tmp_path / "fix")
        wait_for(lambda: not next(p for p in service.promotions() if p["id"] == prod["id"])[
            "reason"], "the reason cleared once hoist.yaml is fixed", 60)
        push(service, "1.5.0")
        wait_for(lambda: any(p["environment"] == "dev" and p["tag"] == "1.5.0"
                             for p in service.promotions()), "1.5.0 promoted to dev", 60)
        assert not any(p["tag"] == "1.4.3" for p in service.promotions())
        assert log_events(log, "config.invalid")[0]["commit"] == commit
        # A 400 is logged with its source, not only a 401.
        assert httpx.post(f"{service.url}/webhooks/registry/distribution",
                          content=b"nope").status_code == 400
        wait_for(lambda: log_events(log, "webhook.refused"), "the refusal logged")
        assert log_events(log, "webhook.refused")[0]["source"] == "distribution"
    finally:
        service.stop()


def test_a_push_to_the_default_branch_refreshes_the_policy_at_once(tmp_path: Path) -> None:
    need("git")
    url = make_manifests_repo(tmp_path / "origin", HOST)
    env = {**base_env(tmp_path, url), "HOIST_CONFIG_MAX_AGE": "3600"}
    service = ServiceProcess(free_port(), env, tmp_path / "hoist.log")
    service.start()
    try:
        good = git(url.removeprefix("file://"), "show", "main:hoist.yaml")
        commit_file(url, "hoist.yaml", good.replace('">=1.0.0 <2.0.0"', '">=3.0.0"'),
                    tmp_path / "policy")
        event = json.loads((ROOT / "tests/shared/fixtures/gitea/webhooks/push_signed.json"
                            ).read_text())
        event.update(ref="refs/heads/main")
        event["repository"]["default_branch"] = "main"
        answer = httpx.post(f"{service.url}/webhooks/gitea", json=event,
                            headers={"X-Gitea-Event": "push"}, timeout=10)
        assert answer.status_code == 202 and answer.json() == {"refreshed": True}
        push(service, "1.6.0")
        refusal = wait_for(lambda: [e for e in log_events(tmp_path / "hoist.log",
                                                          "push.refused")
                                    if e["tag"] == "1.6.0"], "1.6.0 judged by the new policy")
        assert refusal[0]["image"] == "guestbook"
        assert not any(p["tag"] == "1.6.0" for p in service.promotions())
    finally:
        service.stop()


def test_a_changed_manifests_repo_re_points_the_cache(tmp_path: Path) -> None:
    need("git")
    first = make_manifests_repo(tmp_path / "first", HOST)
    second = make_manifests_repo(tmp_path / "second", HOST)
    env = base_env(tmp_path, first)
    for url in (first, second):
        service = ServiceProcess(free_port(), {**env, "HOIST_MANIFESTS_REPO": url},
                                 tmp_path / "hoist.log")
        service.start()
        ready = f"{service.url}/readyz"
        wait_for(lambda: httpx.get(ready).status_code == 200, "ready")  # noqa: B023
        service.stop()
    [moved] = log_events(tmp_path / "hoist.log", "git.cache_repointed")
    assert moved["was"] == first and moved["now"] == second
    cache = tmp_path / "data" / "manifests.git"
    assert git(cache, "config", "--get", "remote.origin.url").strip() == second


def test_a_failing_unit_backs_off_and_says_why(tmp_path: Path) -> None:
    need("git")
    url = make_manifests_repo(tmp_path / "origin", HOST)
    service = ServiceProcess(free_port(), base_env(tmp_path, url), tmp_path / "hoist.log")
    service.start()
    try:
        push(service, "1.4.2")
        prod = wait_for(lambda: service.promotion_in("prod", "proposed"), "prod waiting", 60)
        origin = Path(url.removeprefix("file://"))
        origin.rename(origin.with_name("gone.git"))  # every fetch now fails
        token = secrets.token_hex(4)
        httpx.post(f"{service.url}/api/promotions/{prod['id']}/approve", timeout=10,
                   headers={"X-Hoist-User": f"alice{token}"})
        wait_for(lambda: log_events(tmp_path / "hoist.log", "worker.retrying"), "a retry")
        time.sleep(6.0)
        retries = log_events(tmp_path / "hoist.log", "worker.retrying")
        assert 1 <= len(retries) <= 8  # 1, 2, 4 s apart: a few lines, never 3 a second
        assert all(r["level"] == "warning" and "git fetch failed" in r["error"] for r in retries)
        assert [r["attempt"] for r in retries] == list(range(1, len(retries) + 1))
        reason = next(p for p in service.promotions() if p["id"] == prod["id"])["reason"]
        assert reason and reason.startswith("retrying in ") and "git fetch failed" in reason
    finally:
        service.stop()
