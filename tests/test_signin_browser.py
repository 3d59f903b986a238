"""Signing in and approving from the page in a real browser (Debian's chromium through
Playwright, the system binary), against `hoist serve` on the GitHub double with sign-in
through the OAuth double: a reader signs in, sees the promotion, is denied the approval;
a writer signs in, approves from the page, sees it merge, signs out."""

from __future__ import annotations

import json
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.registry import free_port
from tests.forges import service_env, start_double
from tests.github_double import GitHubDouble
from tests.oauth_double import OAuthDouble
from tests.support import DATA, ServiceProcess, git, need, wait_for
from tests.test_ui_browser import CHROMIUM, browser, shoot  # noqa: F401 (a fixture)

IMAGE = "registry.example.com/acme/guestbook"
PROD_FILE = "apps/guestbook/prod/kustomization.yaml"
WAIT_MS = 60_000


def _origin(tmp_path: Path) -> Path:
    seed, origin = tmp_path / "seed", tmp_path / "origin" / "manifests.git"
    (seed / PROD_FILE).parent.mkdir(parents=True)
    (seed / "hoist.yaml").write_text(
        "images:\n  guestbook:\n"
        f"    repository: {IMAGE}\n    tags: {{semver: \">=1.0.0 <2.0.0\"}}\n"
        "environments:\n  - name: prod\n    branch: main\n    approval: manual\n"
        f"    targets:\n      - {{file: {PROD_FILE}, image: guestbook}}\n")
    (seed / PROD_FILE).write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n"
        f"  - name: {IMAGE}\n    newTag: \"1.0.0\"\n")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=seed", "-c", "user.email=seed@example.com", "commit", "-qm",
        "chore: initial manifests")
    git(seed, "push", "-q", str(origin), "main")
    return origin


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServiceProcess, GitHubDouble, OAuthDouble, Path]]:
    need("git", CHROMIUM)
    origin = _origin(tmp_path)
    forge = start_double("github", origin)
    assert isinstance(forge, GitHubDouble)
    forge.permissions.update(alice="write", bob="read")  # what ChatOps asks the forge
    people = OAuthDouble("github").start()
    people.add("alice", {forge.full_name: "write"})
    people.add("bob", {forge.full_name: "read"})
    port, token = free_port(), secrets.token_hex(8)
    env = {"HOIST_MANIFESTS_REPO": f"file://{origin}", "HOIST_DATA_DIR": str(tmp_path / "data"),
           "HOIST_WEBHOOK_SECRET": token, "HOIST_API_TOKEN": "api-" + token,
           "HOIST_POLL_INTERVAL": "0.2", "HOIST_LOG_FORMAT": "json",
           "HOIST_FORGE_TIMEOUT": "3", "HOIST_PUBLIC_URL": f"http://127.0.0.1:{port}",
           **service_env("github", forge, "hook-" + token), **people.env()}
    service = ServiceProcess(port, env, tmp_path / "hoist.log")
    service.start()
    try:
        yield service, forge, people, origin
    finally:
        service.stop()
        forge.stop()
        people.stop()


def _push(service: ServiceProcess, tag: str) -> None:
    data = json.loads((DATA / "distribution-2.8-manifest-push.json").read_text())
    event = data["events"][0]
    event["id"] = str(uuid.uuid4())
    event["target"].update(tag=tag, digest="sha256:" + tag.encode().hex().ljust(64, "0"))
    event["request"]["host"] = "registry.example.com"
    answer = httpx.post(f"{service.url}/webhooks/registry/distribution", json=data, timeout=10,
                        headers={"Authorization": f"Bearer {service.env['HOIST_WEBHOOK_SECRET']}"})
    assert answer.status_code == 202, answer.text


def _sign_in(chromium: Any, service: ServiceProcess, people: OAuthDouble, who: str,
             path: str) -> Any:
    from playwright.sync_api import expect

    people.signing_in = who
    page = chromium.new_context().new_page()
    page.goto(service.url + path)  # not signed in: off to sign in, then back here
    page.get_by_role("link", name="Sign in with GitHub").click()
    expect(page.locator("#signed-in-as")).to_have_text(f"Signed in as {who}", timeout=WAIT_MS)
    assert page.url == service.url + path
    return page


@pytest.mark.e2e
def test_sign_in_see_approve_from_the_page_and_sign_out(
        browser: Any, served: tuple[ServiceProcess, GitHubDouble, OAuthDouble, Path]  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    service, forge, people, origin = served
    _push(service, "1.4.2")
    prod = wait_for(lambda: service.env and next(
        (p for p in httpx.get(f"{service.url}/api/promotions", timeout=5, headers={
            "Authorization": f"Bearer {service.env['HOIST_API_TOKEN']}"}).json()["promotions"]
         if p["state"] == "proposed"), None), "prod proposed", 60)
    path = f"/ui/promotions/{prod['id']}"

    bob = _sign_in(browser, service, people, "bob", path)  # reads the repository
    expect(bob.get_by_role("heading", level=1)).to_contain_text("guestbook 1.4.2 in prod")
    expect(bob.get_by_role("heading", name="Act on it")).to_have_count(0)
    # A hand-made approval (the page offers bob none) is refused by the ChatOps rule.
    bob.evaluate("""() => { const f = document.querySelector('form.who');
        f.action = location.pathname + '/approve'; f.submit(); }""")
    expect(bob.locator("#denied")).to_contain_text("You may not approve", timeout=WAIT_MS)
    expect(bob.locator("#denied")).to_contain_text("@bob has read permission")
    shoot(bob, "signin-denied.png")

    alice = _sign_in(browser, service, people, "alice", path)
    alice.get_by_role("button", name="Approve").click()
    expect(alice.locator(".facts")).to_contain_text("alice", timeout=WAIT_MS)
    wait_for(lambda: "Hoist-Approved-By: alice" in git(origin, "log", "-1", "--format=%B",
                                                         "main"), "the merge on main", 60)
    expect(alice.get_by_role("heading", level=1)).to_contain_text("promoted", timeout=WAIT_MS)
    shoot(alice, "signin-approved.png")
    number = forge.number_for("hoist/prod/guestbook")
    assert number is not None
    said = [c["body"] for c in forge.comments.get(number, [])]
    assert any(s.startswith("@alice approved this from Hoist's page") for s in said), said
    alice.get_by_role("button", name="Sign out").click()
    expect(alice.get_by_role("link", name="Sign in with GitHub")).to_be_visible()
    alice.goto(service.url + path)
    expect(alice.get_by_role("link", name="Sign in with GitHub")).to_be_visible()
