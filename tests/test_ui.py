"""The timeline page over HTTP (TestClient, real store and git): HOIST_UI_TOKEN guarding the
page and the read API, the sign-in cookie, the live region and its change stream."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.core.events import ImagePushed
from bot.flows.services import Services
from bot.settings import Settings
from bot.web import ui
from bot.web.app import create_app
from bot.worker import Worker

UI = "ui-secret"


def _promote(services: Services) -> None:
    services.store.add_events([ImagePushed("distribution", "e1", "localhost:5000",
                                           "acme/guestbook", "1.4.2", "sha256:" + "a" * 64)],
                              time.time())
    Worker(services).run_once()


def _client(tmp_path: Path, services: Services, ui_token: str | None = None) -> TestClient:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="w",
                        api_token="api-secret", ui_token=ui_token)
    return TestClient(create_app(settings, services), follow_redirects=False)


def test_open_page_shows_lanes_in_chain_order_and_what_waits(tmp_path: Path,
                                                              services: Services) -> None:
    _promote(services)
    client = _client(tmp_path, services)
    page = client.get("/")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert html.index('id="lane-dev"') < html.index('id="lane-staging"') < html.index(
        'id="lane-prod"')
    assert "runs <strong>guestbook 1.4.2</strong>" in html
    # The local forge has no comments: the page names the CLI and the API, never a comment.
    [prod] = [p for p in services.store.promotions() if p.environment == "prod"]
    assert f"run <code>hoist approve {prod.id}</code> or <code>POST /api/promotions/" \
           f"{prod.id}/approve</code>" in html
    assert "comment" not in html.lower().replace("<!--", "")
    fragment = client.get("/", headers={"X-Hoist-Fragment": "1"}).text
    assert "<html" not in fragment and 'id="lane-prod"' in fragment
    assert client.get("/api/promotions").status_code == 200  # reads stay open by default
    missing = client.get("/ui/promotions/nope")
    assert missing.status_code == 404 and "No promotion nope" in missing.text


def test_ui_token_guards_the_page_the_stream_and_the_read_api(tmp_path: Path,
                                                               services: Services) -> None:
    _promote(services)
    client = _client(tmp_path, services, UI)
    page = client.get("/")
    assert page.status_code == 401 and 'name="token"' in page.text and "guestbook" not in page.text
    api = client.get("/api/promotions")
    assert api.status_code == 401 and "HOIST_UI_TOKEN" in api.json()["error"]
    pid = services.store.promotions()[0].id
    assert client.get(f"/api/promotions/{pid}").status_code == 401
    assert client.get("/ui/events").status_code == 401
    for token in (UI, "api-secret"):  # the write token may read too
        listed = client.get("/api/promotions", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200 and len(listed.json()["promotions"]) == 3

    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://testserver"}
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    client.cookies.set("hoist_csrf", page.cookies["hoist_csrf"])
    # A form without its CSRF token, or sent from another site, is refused before the token
    # is even looked at.
    forged = client.post("/ui/signin", content=f"token={UI}&next=/", headers=form)
    assert forged.status_code == 403 and "expired" in forged.text
    elsewhere = client.post("/ui/signin", content=f"token={UI}&next=/&csrf={csrf}",
                            headers={**form, "Origin": "https://evil.example"})
    assert elsewhere.status_code == 403 and "own page" in elsewhere.text
    wrong = client.post("/ui/signin", content=f"token=nope&next=/&csrf={csrf}", headers=form)
    assert wrong.status_code == 401 and "not the right one" in wrong.text
    signed = client.post("/ui/signin", content=f"token={UI}&next=//evil.example/&csrf={csrf}",
                         headers=form)
    assert signed.status_code == 303 and signed.headers["location"] == "/"  # never off-site
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and UI not in cookie
    assert client.get("/").status_code == 200  # the cookie is kept by the client
    assert client.get("/api/promotions").status_code == 200


def test_change_stream_says_when_the_page_is_stale(tmp_path: Path, services: Services,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui, "STREAM_SECONDS", 0.2)
    client = _client(tmp_path, services)
    empty = client.get("/").text
    since = empty.split("?since=")[1].split('"')[0]
    quiet = client.get(f"/ui/events?since={since}")
    assert quiet.headers["content-type"].startswith("text/event-stream")
    assert "event: change" not in quiet.text  # nothing happened since the page was drawn
    _promote(services)
    stale = client.get(f"/ui/events?since={since}").text
    assert "event: change" in stale
    now = stale.split("id: ")[1].split("\n")[0]
    # A browser reconnecting with the id it last saw hears nothing new.
    again = client.get("/ui/events", headers={"Last-Event-ID": now}).text
    assert "event: change" not in again


def test_the_page_names_comments_and_the_cli_on_a_forge_with_comments(
        tmp_path: Path, services: Services) -> None:
    _promote(services)
    services.forge.name = "github"  # the same store, as a forge with comments shows it
    html = _client(tmp_path, services).get("/").text
    [prod] = [p for p in services.store.promotions() if p.environment == "prod"]
    assert f"comment on its change request <code>/hoist approve</code> or run " \
           f"<code>hoist approve {prod.id}</code>" in html
