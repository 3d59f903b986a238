"""Signing in to the page with the forge, over HTTP (TestClient, real store and git, the
OAuth double on loopback): the whole flow and its refusals, the cookie's flags, sessions that
end, CSRF on every form, who sees which project, and approving from the page by the ChatOps
rule."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient
from sqlalchemy import text

from bot.adapters.signin import make_provider
from bot.adapters.store import Store
from bot.core.events import ImagePushed
from bot.flows.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.people import SignedInViewers
from bot.web.signin_routes import signin_router
from bot.web.ui import templates
from bot.worker import Worker
from tests.oauth_double import OAuthDouble
from tests.support import git

PUBLIC = "http://127.0.0.1:8080"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Origin": PUBLIC}


@pytest.fixture
def github() -> Iterator[OAuthDouble]:
    double = OAuthDouble("github").start()
    double.add("alice", {"acme/manifests": "write", "acme/shop": "read"})
    double.add("bob", {"acme/other": "read"})
    yield double
    double.stop()


def _settings(tmp_path: Path, double: OAuthDouble, public: str = PUBLIC,
              **more: str) -> Settings:
    return Settings.from_env({"HOIST_MANIFESTS_REPO": "unused", "HOIST_DATA_DIR": str(tmp_path),
                              "HOIST_WEBHOOK_SECRET": "w", "HOIST_PUBLIC_URL": public,
                              **double.env(), **more})


def _client(settings: Settings, services: Services, public: str = PUBLIC) -> TestClient:
    return TestClient(create_app(settings, services), base_url=public, follow_redirects=False)


def sign_in(client: TestClient, double: OAuthDouble, who: str,
            next_path: str = "/") -> httpx.Response:
    """Start at /signin/start, let the double authorize `who`, come back to the callback."""
    double.signing_in = who
    start = client.get("/signin/start", params={"next": next_path})
    assert start.status_code == 302, start.text
    assert start.headers["location"].startswith(double.url)
    back = httpx.get(start.headers["location"])
    assert back.status_code == 302, back.text
    where = urlsplit(back.headers["location"])
    found: httpx.Response = client.get(f"{where.path}?{where.query}")
    return found


def _promote(services: Services) -> None:
    services.store.add_events([ImagePushed("distribution", "e1", "localhost:5000",
                                           "acme/guestbook", "1.4.2", "sha256:" + "a" * 64)],
                              time.time())
    Worker(services).run_once()


def test_sign_in_with_github_then_sign_out(tmp_path: Path, services: Services,
                                            github: OAuthDouble) -> None:
    services.forge.full_name = "acme/manifests"  # type: ignore[attr-defined]
    _promote(services)
    client = _client(_settings(tmp_path, github), services)
    first = client.get("/")
    assert first.status_code == 303 and first.headers["location"] == "/signin?next=/"
    assert "Sign in with GitHub" in client.get("/signin").text
    assert client.get("/api/promotions").status_code == 401
    elsewhere = sign_in(_client(_settings(tmp_path, github), services), github, "alice",
                        "//evil.example/")
    assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/"  # never off-site
    back = sign_in(client, github, "alice", "/ui/promotions/x")
    assert back.status_code == 303 and back.headers["location"] == "/ui/promotions/x"
    cookie = next(c for c in back.headers.get_list("set-cookie")
                  if c.startswith("hoist_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie and "Max-Age=43200" in cookie  # loopback http: 12 h
    sid = cookie.split(";")[0].split("=", 1)[1]
    page = client.get("/")
    assert page.status_code == 200 and "Signed in as <strong>alice</strong>" in page.text
    assert client.get("/api/promotions").status_code == 200
    with services.store.engine.connect() as db:  # only hashes and a sealed token stored
        rows = str(db.execute(text("SELECT * FROM sessions")).all())
    assert sid not in rows and github.people["alice"].token not in rows

    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/signout", content="", headers=FORM).status_code == 403  # no token
    assert client.post("/signout", content=f"csrf={csrf}",
                       headers={**FORM, "Origin": "https://evil.example"}).status_code == 403
    out = client.post("/signout", content=f"csrf={csrf}", headers=FORM)
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    with services.store.engine.connect() as db:  # the other browser's session stays
        assert db.execute(text("SELECT count(*) FROM sessions")).scalar() == 1
    client.cookies.set("hoist_session", sid)  # the old cookie is worth nothing now
    assert client.get("/").status_code == 303


def test_a_forged_state_a_pkce_mismatch_or_a_cancel_starts_no_session(
        tmp_path: Path, services: Services, github: OAuthDouble) -> None:
    client = _client(_settings(tmp_path, github), services)
    github.signing_in = "alice"
    start = client.get("/signin/start")
    back = urlsplit(httpx.get(start.headers["location"]).headers["location"])
    forged = client.get(f"{back.path}?{back.query.replace('state=', 'state=x')}")
    assert forged.status_code == 403 and "not started in this browser" in forged.text
    # Another browser (no sign-in cookie) cannot finish someone else's sign-in.
    other = TestClient(client.app, base_url=PUBLIC, follow_redirects=False)
    assert other.get(f"{back.path}?{back.query}").status_code == 403
    # The verifier the double checks is not the challenge's: the provider refuses.
    client.get("/signin/start")  # a fresh one for this browser
    start = client.get("/signin/start")
    with services.store.engine.begin() as db:
        db.execute(text("UPDATE signins SET verifier = :v"), {"v": "w" * 43})
    back = urlsplit(httpx.get(start.headers["location"]).headers["location"])
    refused = client.get(f"{back.path}?{back.query}")
    assert refused.status_code == 400 and "refused the sign-in (bad_verification_code)" \
        in refused.text
    github.deny = True
    cancelled = sign_in(client, github, "alice")
    assert cancelled.status_code == 403 and "cancelled" in cancelled.text
    assert "hoist_session=" not in cancelled.headers.get("set-cookie", "")
    with services.store.engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM sessions")).scalar() == 0


def test_an_expired_session_signs_in_again(tmp_path: Path, services: Services,
                                           github: OAuthDouble) -> None:
    services.forge.full_name = "acme/manifests"  # type: ignore[attr-defined]
    client = _client(_settings(tmp_path, github), services)
    sign_in(client, github, "alice")
    assert client.get("/").status_code == 200
    with services.store.engine.begin() as db:  # 12 h later
        db.execute(text("UPDATE sessions SET expires_at = :t"), {"t": time.time() - 1})
    assert client.get("/").status_code == 303
    assert client.get("/api/promotions").status_code == 401


def test_over_https_the_cookie_is_host_prefixed_and_secure(tmp_path: Path, services: Services,
                                                           github: OAuthDouble) -> None:
    public = "https://hoist.example.com"
    github.redirect_uris.append(f"{public}/signin/callback")
    client = _client(_settings(tmp_path, github, public), services, public)
    github.signing_in = "alice"
    start = client.get("/signin/start")
    assert "__Host-hoist_signin=" in start.headers["set-cookie"]
    back = urlsplit(httpx.get(start.headers["location"]).headers["location"])
    done = client.get(f"{back.path}?{back.query}")
    cookie = done.headers.get_list("set-cookie")[0]
    assert cookie.startswith("__Host-hoist_session=")
    assert "; Secure; HttpOnly; SameSite=Lax" in cookie and "Path=/" in cookie


def test_people_see_only_the_projects_whose_repository_they_can_read(
        tmp_path: Path, services: Services, github: OAuthDouble) -> None:
    settings = _settings(tmp_path, github)
    assert settings.signin is not None
    provider = make_provider(settings.signin)
    forges = {"shop": "acme/shop", "other": "acme/other"}

    def services_of(project: str) -> Services | None:
        if project not in forges:
            return None
        return Services(services.store, services.git,
                        SimpleNamespace(full_name=forges[project]),
                        services.config)

    viewers = SignedInViewers(settings, services.store, provider, services_of, templates)
    app = FastAPI()
    app.include_router(signin_router(settings, viewers, provider))

    @app.get("/p/{project}/")
    async def project_page(request: Request, project: str) -> Response:
        return await viewers.page_refusal(request, project) or Response(f"{project} page")

    @app.get("/p/{project}/api/promotions")
    async def project_api(request: Request, project: str) -> Response:
        return await viewers.api_refusal(request, project) or JSONResponse({"promotions": []})

    @app.get("/")
    async def index(request: Request) -> JSONResponse:
        return JSONResponse(await viewers.visible(request, ["shop", "other"]))

    client = TestClient(app, base_url=PUBLIC, follow_redirects=False)
    assert client.get("/").json() == []
    assert client.get("/p/shop/").status_code == 303  # to sign in
    assert client.get("/p/shop/api/promotions").status_code == 401
    sign_in(client, github, "alice")
    assert client.get("/").json() == ["shop"]
    assert client.get("/p/shop/").text == "shop page"
    denied = client.get("/p/other/")
    assert denied.status_code == 403 and "@alice cannot read" in denied.text
    assert 'action="/signout"' in denied.text  # who may read nothing can still sign out
    assert client.get("/p/other/api/promotions").status_code == 403
    assert client.get("/p/nope/").status_code == 403
    # The forge's answer is remembered for a minute per session and project, then asked again.
    github.people["alice"].repos.pop("acme/shop")
    assert client.get("/").json() == ["shop"]
    clock = time.time() + 61
    viewers.clock = lambda: clock
    assert client.get("/").json() == []
    # A token the forge no longer takes ends the session: sign in again.
    github.people["alice"].token = "revoked"
    clock += 61
    assert client.get("/p/shop/").status_code == 303
    assert client.get("/p/shop/").status_code == 303
    bob = TestClient(app, base_url=PUBLIC, follow_redirects=False)
    sign_in(bob, github, "bob")
    assert bob.get("/").json() == ["other"]
    # HOIST_UI_TOKEN-less administrators and machines: the API token sees everything.
    admin = TestClient(app, base_url=PUBLIC, headers={"Authorization": "Bearer api-t"})
    assert admin.get("/").json() == []
    viewers.settings = _settings(tmp_path, github, HOIST_API_TOKEN="api-t")
    assert admin.get("/").json() == ["shop", "other"]


def test_approving_from_the_page_lands_like_a_chatops_approval(
        tmp_path: Path, services: Services, manifests_url: str) -> None:
    oidc = OAuthDouble("oidc").start()
    try:
        oidc.add("alice", groups=["ops"])
        oidc.add("bob", groups=["dev"])
        settings = _settings(tmp_path, oidc, HOIST_OIDC_APPROVERS="ops")
        _promote(services)
        [prod] = [p for p in services.store.promotions() if p.environment == "prod"]
        client = _client(settings, services)
        sign_in(client, oidc, "bob")
        page = client.get(f"/ui/promotions/{prod.id}")
        assert page.status_code == 200 and "Act on it" not in page.text  # bob only reads
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        denied = client.post(f"/ui/promotions/{prod.id}/approve", content=f"csrf={csrf}",
                             headers=FORM)
        assert denied.status_code == 403 and "You may not approve" in denied.text
        assert "needs write or above" in denied.text

        alice = _client(settings, services)
        sign_in(alice, oidc, "alice")
        page = alice.get(f"/ui/promotions/{prod.id}")
        assert "Act on it" in page.text and 'id="act-approve"' in page.text
        assert 'id="act-hold"' in page.text and 'id="act-abort"' in page.text
        assert 'id="act-retry"' not in page.text  # nothing failed: nothing to retry
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        assert alice.post(f"/ui/promotions/{prod.id}/approve", content="csrf=forged",
                          headers=FORM).status_code == 403
        done = alice.post(f"/ui/promotions/{prod.id}/approve", content=f"csrf={csrf}",
                          headers=FORM)
        assert done.status_code == 303 and done.headers["location"] == \
            f"/ui/promotions/{prod.id}"
        assert services.store.promotion(prod.id).approved_by == ("alice",)
        again = alice.post(f"/ui/promotions/{prod.id}/approve", content=f"csrf={csrf}",
                           headers=FORM)
        assert again.status_code == 403 and "nobody counts twice" in again.text
        Worker(services).run_once()
        assert services.store.promotion(prod.id).state.value in ("merged", "promoted")
        message = git(manifests_url.removeprefix("file://"), "log", "-1", "--format=%B",
                      "main")
        assert "Hoist-Approved-By: alice" in message and "Hoist-Environment: prod" in message
    finally:
        oidc.stop()


@pytest.mark.parametrize("kind", ["github", "gitlab", "gitea", "oidc"])
def test_each_provider_signs_people_in_to_the_page(kind: str, tmp_path: Path,
                                                   services: Services) -> None:
    double = OAuthDouble(kind).start()
    try:
        double.add("alice", {"acme/manifests": "read"}, ["staff"])
        double.add("mallory", {"acme/elsewhere": "admin"}, ["visitors"])
        forge = services.forge  # how each provider's forge adapter names its repository
        forge.full_name = "acme/manifests"  # type: ignore[attr-defined]
        forge.repo = "/repos/acme/manifests"  # type: ignore[attr-defined]
        forge.project = SimpleNamespace(encoded_id="acme%2Fmanifests")  # type: ignore[attr-defined]
        client = _client(_settings(tmp_path, double, HOIST_OIDC_READERS="staff"), services)
        assert sign_in(client, double, "alice").status_code == 303
        assert "Signed in as <strong>alice</strong>" in client.get("/").text
        other = _client(_settings(tmp_path, double, HOIST_OIDC_READERS="staff"), services)
        assert sign_in(other, double, "mallory").status_code == 303  # signed in, but …
        assert other.get("/").status_code == 403  # … the forge hides the repository
        assert other.get("/api/promotions").status_code == 403
    finally:
        double.stop()


def test_acting_on_another_projects_promotion_under_its_prefix(tmp_path: Path,
                                                              services: Services) -> None:
    from bot.core.signin import csrf_token
    from bot.web.forms import csrf_key
    from bot.web.people_wiring import people

    oidc = OAuthDouble("oidc").start()
    try:
        oidc.add("alice", groups=["ops"])
        settings = _settings(tmp_path, oidc, HOIST_OIDC_APPROVERS="ops")
        _promote(services)
        [prod] = [p for p in services.store.promotions() if p.environment == "prod"]
        woken: list[str] = []
        app = FastAPI()
        people(app, settings, services.store,
               lambda name: services if name == "shop" else None, woken.append)
        client = TestClient(app, base_url=PUBLIC, follow_redirects=False)
        sign_in(client, oidc, "alice")
        token = csrf_token(csrf_key(settings), client.cookies["hoist_session"])
        missing = client.post(f"/p/elsewhere/ui/promotions/{prod.id}/approve",
                              content=f"csrf={token}", headers=FORM)
        assert missing.status_code == 404
        done = client.post(f"/p/shop/ui/promotions/{prod.id}/approve", content=f"csrf={token}",
                           headers=FORM)
        assert done.status_code == 303 and done.headers["location"] == \
            f"/p/shop/ui/promotions/{prod.id}"
        assert services.store.promotion(prod.id).approved_by == ("alice",) and woken == ["shop"]
    finally:
        oidc.stop()


def test_behind_a_proxy_that_ends_tls_the_token_form_still_works(tmp_path: Path,
                                                                  services: Services) -> None:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="w",
                        ui_token="ui-secret")  # no HOIST_PUBLIC_URL
    client = TestClient(create_app(settings, services), base_url="https://hoist.internal",
                        follow_redirects=False)
    page = client.get("/", headers={"X-Forwarded-Proto": "https"})
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    proxied = {"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "hoist.example.com", "Origin": "https://hoist.example.com"}
    signed = client.post("/ui/signin", content=f"token=ui-secret&csrf={csrf}", headers=proxied)
    assert signed.status_code == 303
    forged = client.post("/ui/signin", content=f"token=ui-secret&csrf={csrf}",
                         headers={**proxied, "Origin": "https://evil.example"})
    assert forged.status_code == 403


def test_the_projects_index_leads_to_sign_in_then_lists_what_the_forge_lets_one_read(
        tmp_path: Path, store: Store) -> None:
    from bot.web.projects import Catalog
    from bot.wiring import build_web_services

    gitea = OAuthDouble("gitea").start()
    try:
        gitea.add("alice", {"acme/pay": "read"})
        settings = _settings(tmp_path, gitea)
        services = {n: build_web_services(settings, store.scoped(n)) for n in ("shop", "pay")}
        for name, found in services.items():
            found.forge.repo = f"/repos/acme/{name}"  # type: ignore[attr-defined]
        catalog = Catalog(services.get, names=lambda: list(services))
        client = TestClient(create_app(settings, build_web_services(settings, store),
                                       role="web", catalog=catalog),
                            base_url=PUBLIC, follow_redirects=False)
        first = client.get("/")
        assert first.status_code == 303 and first.headers["location"] == "/signin?next=/"
        sign_in(client, gitea, "alice")
        listed = client.get("/")
        assert listed.status_code == 200 and 'href="/p/pay/"' in listed.text
        assert 'href="/p/shop/"' not in listed.text
        assert [p["name"] for p in client.get("/api/projects").json()["projects"]] == ["pay"]
        assert client.get("/p/shop/api/promotions").status_code == 403
        assert client.get("/p/pay/api/promotions").status_code == 200
        gitea.people["alice"].repos.clear()  # a person who can read nothing sees an empty list
        other = TestClient(client.app, base_url=PUBLIC, follow_redirects=False)
        sign_in(other, gitea, "alice")
        assert "No project you may see" in other.get("/").text
    finally:
        gitea.stop()
