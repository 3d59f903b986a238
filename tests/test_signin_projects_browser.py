"""Two projects in one `hoist serve` (HOIST_PROJECTS), each on its own Gitea double, people
signing in through the Gitea OAuth double, in Chromium: a person sees only the projects
whose repository Gitea lets them read, approves from the page in the project where their
permission allows it (the merge lands in that project's repository, named in
`Hoist-Approved-By`), and a reader of both gets no buttons."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.manifests import make_manifests_repo
from tests.forges import TOKEN
from tests.gitea_double import GiteaDouble
from tests.oauth_double import OAuthDouble
from tests.scenario import REGISTRY
from tests.support import git, need, wait_for
from tests.test_projects_served import Served, entry
from tests.test_ui_browser import CHROMIUM, browser, shoot  # noqa: F401 (a fixture)

WAIT_MS = 60_000
pytestmark = pytest.mark.e2e


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[Served, dict[str, GiteaDouble], OAuthDouble,
                                            dict[str, str]]]:
    need("git", CHROMIUM)
    repos = {name: make_manifests_repo(tmp_path / name, REGISTRY) for name in ("shop", "pay")}
    doubles = {name: GiteaDouble(Path(url.removeprefix("file://")), f"acme/{name}").start()
               for name, url in repos.items()}
    for double in doubles.values():
        double.permissions.update(alice="write", bob="read")
    people = OAuthDouble("gitea").start()
    people.add("alice", {"acme/pay": "write"})  # Gitea hides acme/shop from alice
    people.add("bob", {"acme/pay": "read", "acme/shop": "read"})
    env: dict[str, str] = {**people.env()}
    entries = []
    for name, double in doubles.items():
        env[f"{name.upper()}_TOKEN"], env[f"{name.upper()}_HOOK"] = TOKEN["gitea"], "h"
        entries.append(entry(name, repos[name], f"{{kind: gitea, url: '{double.url}', "
                             f"repository: {double.full_name}, token_env: {name.upper()}_TOKEN, "
                             f"webhook_secret_env: {name.upper()}_HOOK}}"))
    served = Served(tmp_path, env)
    served.service.env["HOIST_PUBLIC_URL"] = served.url
    served.projects(*entries)
    served.service.start()
    try:
        yield served, doubles, people, repos
    finally:
        served.service.stop()
        people.stop()
        for double in doubles.values():
            double.stop()


def _admin(served: Served, project: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{served.url}/p/{project}/api/promotions", timeout=5,
                       headers={"Authorization": f"Bearer api-{served.token}"})
    found: list[dict[str, Any]] = answer.json().get("promotions", []) \
        if answer.status_code == 200 else []
    return found


def _sign_in(chromium: Any, served: Served, people: OAuthDouble, who: str) -> Any:
    from playwright.sync_api import expect

    people.signing_in = who
    page = chromium.new_context().new_page()
    page.goto(served.url + "/")  # nobody signed in: off to sign in, then back here
    page.get_by_role("link", name="Sign in with Gitea").click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible(timeout=WAIT_MS)
    return page


def test_people_see_their_projects_and_approve_where_gitea_lets_them(
        browser: Any, fleet: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    served, doubles, people, repos = fleet
    served.push("1.4.2")  # both projects' hoist.yaml name guestbook

    def waiting(project: str) -> str | None:
        return next((p["id"] for p in _admin(served, project)
                     if p["environment"] == "prod" and p["state"] == "proposed"), None)

    pids = {name: str(wait_for(partial(waiting, name), f"{name}'s prod change request", 60))
            for name in ("shop", "pay")}

    alice = _sign_in(browser, served, people, "alice")
    listed = alice.locator("ul.projects a")
    expect(listed).to_have_text(["pay"])  # not shop: Gitea hides its repository from her
    alice.goto(f"{served.url}/p/shop/")
    expect(alice.locator("#denied")).to_contain_text("@alice cannot read")
    alice.goto(f"{served.url}/p/pay/ui/promotions/{pids['pay']}")
    expect(alice.locator("#signed-in-as")).to_have_text("Signed in as alice")
    alice.get_by_role("button", name="Approve").click()
    expect(alice.locator(".facts")).to_contain_text("alice", timeout=WAIT_MS)
    pay_origin = repos["pay"].removeprefix("file://")
    wait_for(lambda: "Hoist-Approved-By: alice" in git(pay_origin, "log", "-1", "--format=%B",
                                                         "main"), "pay's merge", 60)
    number = doubles["pay"].number_for("hoist/prod/guestbook")
    assert number is not None
    assert any(c["body"].startswith("@alice approved this from Hoist's page")
               for c in doubles["pay"].comments.get(number, []))
    # Shop's promotion still waits: alice's approval counted in pay only.
    assert any(p["id"] == pids["shop"] and p["state"] == "proposed"
               for p in _admin(served, "shop"))
    shoot(alice, "signin-projects-approved.png")
    alice.get_by_role("button", name="Sign out").click()
    expect(alice.get_by_role("link", name="Sign in with Gitea")).to_be_visible()

    bob = _sign_in(browser, served, people, "bob")
    expect(bob.locator("ul.projects a")).to_have_text(["shop", "pay"])
    bob.goto(f"{served.url}/p/shop/ui/promotions/{pids['shop']}")
    expect(bob.get_by_role("heading", level=1)).to_contain_text("guestbook")
    expect(bob.get_by_role("heading", name="Act on it")).to_have_count(0)  # he only reads
    assert bob.url == f"{served.url}/p/shop/ui/promotions/{pids['shop']}"
