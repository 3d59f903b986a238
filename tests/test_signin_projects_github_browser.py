"""Two projects in one `hoist serve` (HOIST_PROJECTS), each on its own GitHub double
(test_signin_projects_browser.py does the same on Gitea), people signing in through the
GitHub OAuth double, in Chromium: alice can write to the shop's repository and cannot read
the payments one. She signs in, `/` lists only the shop, the payments page and API refuse
her, she approves the shop's promotion from its page and sees it merge in the shop's
repository only, and signs out."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.registry import free_port
from tests.github_double import GitHubDouble
from tests.oauth_double import OAuthDouble
from tests.support import ServiceProcess, git, need, wait_for
from tests.test_signin_browser import _origin as seeded_origin
from tests.test_signin_browser import _push
from tests.test_ui_browser import CHROMIUM, browser, shoot  # noqa: F401 (a fixture)

WAIT_MS = 60_000
PROJECTS = ("shop", "payments")


class Fleet:
    """What the test talks to: the service, each project's double and origin, the people."""

    def __init__(self, service: ServiceProcess, forges: dict[str, GitHubDouble],
                 origins: dict[str, Path], people: OAuthDouble) -> None:
        self.service, self.forges, self.origins, self.people = service, forges, origins, people

    def api(self, path: str, **headers: str) -> httpx.Response:
        return httpx.get(self.service.url + path, headers=headers, timeout=5)

    def admin(self, path: str) -> httpx.Response:
        return self.api(path, Authorization=f"Bearer {self.service.env['HOIST_API_TOKEN']}")


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    need("git", CHROMIUM)
    token = secrets.token_hex(8)
    forges: dict[str, GitHubDouble] = {}
    origins: dict[str, Path] = {}
    env: dict[str, str] = {}
    entries = ""
    for name in PROJECTS:
        origins[name] = seeded_origin(tmp_path / name)
        forge = forges[name] = GitHubDouble(origins[name], f"acme/{name}-manifests").start()
        forge.permissions.update(alice="write")  # what ChatOps asks the forge
        upper = name.upper()
        env |= {f"{upper}_TOKEN": "ghs_" + token, f"{upper}_HOOK": "hook-" + token}
        entries += (f"  - name: {name}\n    repo: file://{origins[name]}\n"
                    f"    forge: {{kind: github, url: '{forge.url}', repository: "
                    f"{forge.full_name}, token_env: {upper}_TOKEN, "
                    f"webhook_secret_env: {upper}_HOOK}}\n")
    people = OAuthDouble("github").start()
    people.add("alice", {forges["shop"].full_name: "write"})  # nothing on payments
    (tmp_path / "projects.yaml").write_text("projects:\n" + entries)
    port = free_port()
    service = ServiceProcess(port, {
        "HOIST_PROJECTS": str(tmp_path / "projects.yaml"),
        "HOIST_DATA_DIR": str(tmp_path / "data"), "HOIST_WEBHOOK_SECRET": token,
        "HOIST_API_TOKEN": "api-" + token, "HOIST_POLL_INTERVAL": "0.2",
        "HOIST_LOG_FORMAT": "json", "HOIST_FORGE_TIMEOUT": "3", "HOIST_GITHUB_PACE": "0",
        "HOIST_PUBLIC_URL": f"http://127.0.0.1:{port}", **env, **people.env()},
        tmp_path / "hoist.log")
    service.start()
    try:
        yield Fleet(service, forges, origins, people)
    finally:
        service.stop()
        for forge in forges.values():
            forge.stop()
        people.stop()


def _proposed(fleet: Fleet, project: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        answer = fleet.admin(f"/p/{project}/api/promotions")
        rows = answer.json()["promotions"] if answer.status_code == 200 else []
        return next((p for p in rows if p["state"] == "proposed"), None)

    proposed: dict[str, Any] = wait_for(found, f"{project}'s prod proposed", 60)
    return proposed


@pytest.mark.e2e
def test_a_person_sees_only_the_projects_they_may_read_and_approves_in_their_own(
        browser: Any, fleet: Fleet  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    _push(fleet.service, "1.4.2")  # named by both projects' hoist.yaml: both propose
    shop, payments = _proposed(fleet, "shop"), _proposed(fleet, "payments")

    fleet.people.signing_in = "alice"
    page = browser.new_context().new_page()
    page.goto(fleet.service.url + "/")  # nobody signed in: off to sign in, then back
    page.get_by_role("link", name="Sign in with GitHub").click()
    expect(page.locator("ul.projects li")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("ul.projects")).to_contain_text("shop")
    shoot(page, "signin-projects.png")

    # The payments project is not hers: its page and its API refuse her.
    page.goto(fleet.service.url + f"/p/payments/ui/promotions/{payments['id']}")
    expect(page.locator("#denied")).to_contain_text("cannot read", timeout=WAIT_MS)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    refused = httpx.get(f"{fleet.service.url}/p/payments/api/promotions", cookies=cookies,
                        timeout=5)
    assert refused.status_code == 403, refused.text
    allowed = httpx.get(f"{fleet.service.url}/p/shop/api/promotions", cookies=cookies,
                        timeout=5)
    assert allowed.status_code == 200 and allowed.json()["promotions"], allowed.text

    page.goto(fleet.service.url + f"/p/shop/ui/promotions/{shop['id']}")
    page.get_by_role("button", name="Approve").click()
    wait_for(lambda: "Hoist-Approved-By: alice" in git(
        fleet.origins["shop"], "log", "-1", "--format=%B", "main"), "the shop's merge", 60)
    expect(page.get_by_role("heading", level=1)).to_contain_text("promoted", timeout=WAIT_MS)
    shoot(page, "signin-projects-approved.png")
    # Only the shop moved: the payments promotion still waits, its repository untouched.
    assert fleet.admin(f"/p/payments/api/promotions/{payments['id']}").json()["state"] \
        == "proposed"
    assert "Hoist-Approved-By" not in git(fleet.origins["payments"], "log", "-1",
                                          "--format=%B", "main")
    number = fleet.forges["shop"].number_for("hoist/prod/guestbook")
    assert number is not None
    said = [c["body"] for c in fleet.forges["shop"].comments.get(number, [])]
    assert any(s.startswith("@alice approved this from Hoist's page") for s in said), said

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in with GitHub")).to_be_visible()
    page.goto(fleet.service.url + "/")
    expect(page.get_by_role("link", name="Sign in with GitHub")).to_be_visible()
