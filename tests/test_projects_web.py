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
    # The page: a sign-in form without the token; with it, links under the prefix.
    assert client.get("/p/shop/").status_code == 401
    page = client.get("/p/shop/", headers=AUTH)
    assert page.status_code == 200 and f'href="/p/shop/ui/promotions/{shop[0]}"' in page.text
    assert 'data-events="/p/shop/ui/events' in page.text
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
