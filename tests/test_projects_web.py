"""Projects on the web (web/projects.py, web/viewers.py): each project's page, read API and
event stream under /p/<project>/, behind the Viewers seam (TokenViewers: HOIST_UI_TOKEN);
`/` lists the projects a viewer may see; the page and the API paginate."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.adapters.store import Store
from bot.adapters.store.records import NewPromotion
from bot.core.members import Member
from bot.flows.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.projects import Catalog
from bot.wiring import build_web_services

TOKEN = "ui-token-1"


def _fill(store: Store, project: str, count: int) -> list[str]:
    view = store.scoped(project)
    made = []
    for i in range(count):
        member = Member(f"web-{project}", f"localhost:5000/acme/{project}", f"1.0.{i}",
                        None)
        new = NewPromotion.of([member], "dev", None, float(i), f"e{i}")
        made += [p.id for p in view.ingest([], [new])]
    return made


@pytest.fixture
def client(tmp_path: Path, store: Store) -> TestClient:
    settings = Settings(data_dir=tmp_path, webhook_secret="w", ui_token=TOKEN)
    services = {n: build_web_services(settings, store.scoped(n)) for n in ("shop", "pay")}

    def services_of(name: str) -> Services | None:
        return services.get(name)

    catalog = Catalog(services_of, names=lambda: list(services))
    return TestClient(create_app(settings, build_web_services(settings, store), role="web",
                                 catalog=catalog))


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_each_project_is_served_under_its_prefix_to_those_who_may_see_it(
        client: TestClient, store: Store) -> None:
    shop = _fill(store, "shop", 3)
    pay = _fill(store, "pay", 2)
    assert client.get("/p/shop/api/promotions").status_code == 401
    got = client.get("/p/shop/api/promotions", headers=AUTH).json()["promotions"]
    assert sorted(p["id"] for p in got) == sorted(shop)
    got = client.get(f"/p/pay/api/promotions/{pay[0]}", headers=AUTH)
    assert got.status_code == 200 and got.json()["id"] == pay[0]
    # Another project's promotion is not found under this one's prefix.
    assert client.get(f"/p/pay/api/promotions/{shop[0]}", headers=AUTH).status_code == 404
    missing = client.get("/p/nope/api/promotions", headers=AUTH)
    assert missing.status_code == 404 and missing.json() == {"error": "no project 'nope'"}
    assert client.get("/p/nope/", headers=AUTH).status_code == 404
    # A stranger is told to sign in alike for a project that exists and one that does not.
    assert client.get("/p/nope/api/promotions").status_code == 401
    assert client.get("/p/nope/").status_code == client.get("/p/shop/").status_code == 401
    # The page: a sign-in form without the token; with it, links under the prefix.
    assert client.get("/p/shop/").status_code == 401
    page = client.get("/p/shop/", headers=AUTH)
    assert page.status_code == 200 and f'href="/p/shop/ui/promotions/{shop[0]}"' in page.text
    assert 'data-events="/p/shop/ui/events' in page.text
    # Asset links are paths: a forged Host header never reaches the page (cache poisoning).
    forged = client.get("/p/shop/", headers={**AUTH, "Host": "evil.example"})
    assert 'src="/p/shop/ui/static/live.js"' in forged.text and "evil.example" not in forged.text
    # `/` lists the projects the viewer may see: none without the token, both with it.
    assert client.get("/api/projects").json() == {"projects": []}
    names = [p["name"] for p in client.get("/api/projects", headers=AUTH).json()["projects"]]
    assert names == ["shop", "pay"]
    assert '<a href="/p/pay/">pay</a>' in client.get("/", headers=AUTH).text


def test_the_api_and_the_page_are_paginated(client: TestClient, store: Store) -> None:
    made = _fill(store, "shop", 60)
    first = client.get("/p/shop/api/promotions?limit=25", headers=AUTH).json()
    assert len(first["promotions"]) == 25 and first["next"]
    seen = [p["id"] for p in first["promotions"]]
    url = first["next"]
    while url:
        page = client.get(f"/p/shop/api/promotions{url}", headers=AUTH).json()
        seen += [p["id"] for p in page["promotions"]]
        url = page["next"]
    assert sorted(seen) == sorted(made) and len(set(seen)) == 60
    board = client.get("/p/shop/", headers=AUTH).text
    assert board.count('<a id="p-') == 50 and "Older promotions" in board
    older = board.split('rel="next" href="')[1].split('"')[0]
    rest = client.get(older, headers=AUTH).text
    assert rest.count('<a id="p-') == 10


def test_forge_webhooks_go_to_their_project_and_ghcr_pushes_to_every_project(
        tmp_path: Path, store: Store) -> None:
    import json

    from bot.core.events import ImagePushed
    from bot.sources.base import hmac_hex
    from tests.support import DATA, FIXTURES

    settings = Settings(data_dir=tmp_path, webhook_secret="w", github_webhook_secret="gh")
    routed: list[tuple[str, str]] = []

    def route_forge(kind: str, repository: str) -> str | None:
        routed.append((kind, repository))
        return None  # no project's repository

    def everyone(pushed: ImagePushed) -> list[str]:
        return ["shop", "pay"]

    catalog = Catalog(lambda name: None, names=lambda: ["shop", "pay"], route_forge=route_forge)
    client = TestClient(create_app(settings, build_web_services(settings, store.routed(everyone)),
                                   catalog=catalog))
    comment = (FIXTURES / "github" / "issue_comment.created.json").read_bytes()
    answer = client.post("/webhooks/github", content=comment, headers={
        "X-GitHub-Event": "issue_comment", "X-Hub-Signature-256": "sha256=" + hmac_hex(
            "gh", comment)})
    assert (answer.status_code, answer.json()["ignored"]) == (202, "not ours")
    assert routed == [("github", json.loads(comment)["repository"]["full_name"])]
    package = (DATA / "github" / "package.published.container.2025.json").read_bytes()
    answer = client.post("/webhooks/github", content=package, headers={
        "X-GitHub-Event": "package", "X-Hub-Signature-256": "sha256=" + hmac_hex(
            "gh", package)})
    assert answer.status_code == 202 and answer.json()["accepted"] >= 1, answer.text
    # One push, stored for each project (one transaction).
    assert len(store.scoped("shop").pending_events()) == answer.json()["accepted"]
    assert len(store.scoped("pay").pending_events()) == answer.json()["accepted"]
