"""Each sign-in provider against its loopback double (tests/oauth_double.py): the whole code
flow with PKCE, a tampered verifier, a changed redirect_uri, a code used twice, a person
who cancels, and the repository permission asked with the person's own token."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from bot.adapters.signin import Provider, SignInError, make_provider
from bot.core import signin
from bot.settings import Settings
from tests.oauth_double import OAuthDouble

KINDS = ["github", "gitlab", "gitea", "oidc"]
CALLBACK = "http://127.0.0.1:9/signin/callback"
VERIFIER = signin.verifier(b"v" * 32)


@pytest.fixture(params=KINDS)
def double(request: pytest.FixtureRequest) -> Iterator[OAuthDouble]:
    found = OAuthDouble(request.param).start()
    found.redirect_uris.append(CALLBACK)
    found.add("alice", {"acme/manifests": "write"}, ["ops"])
    found.add("bob", {"acme/other": "read"})
    yield found
    found.stop()


def _provider(double: OAuthDouble) -> Provider:
    settings = Settings.from_env({**double.env(), "HOIST_OIDC_APPROVERS": "ops",
                                  "HOIST_OIDC_READERS": "ops"})
    assert settings.signin is not None and "client-secret" not in repr(settings)
    return make_provider(settings.signin, timeout=5)


def _forge(kind: str, repository: str) -> object:
    """What each provider reads off a project's forge adapter to name its repository."""
    return SimpleNamespace(full_name=repository, repo=f"/repos/{repository}",
                           project=SimpleNamespace(encoded_id=repository.replace("/", "%2F")))


def _authorize(provider: Provider, who: str, state: str = "st",
               redirect: str = CALLBACK) -> dict[str, str]:
    url = provider.authorize_url(redirect, state, signin.challenge(VERIFIER), "n-1")
    answer = httpx.get(url)
    assert answer.status_code == 302, answer.text
    back = answer.headers["location"]
    assert back.startswith(CALLBACK + "?")
    return dict(parse_qsl(urlsplit(back).query))


def test_sign_in_with_pkce_names_the_person_and_their_permission(double: OAuthDouble) -> None:
    provider = _provider(double)
    double.signing_in = "alice"
    back = _authorize(provider, "alice")
    assert back["state"] == "st" and "code" in back
    token = provider.exchange(back["code"], CALLBACK, VERIFIER, "n-1")
    person = provider.person(token)
    assert person.login == "alice"
    assert provider.permission(token, person, _forge(double.kind, "acme/manifests")) == "write"
    sent = double.token_requests[-1]
    assert sent["code_verifier"] == VERIFIER and sent["grant_type"] == "authorization_code"
    # bob has no access to acme/manifests: the forge hides it (404), the claims name him
    # in no group (OIDC).
    double.signing_in = "bob"
    bob_token = provider.exchange(_authorize(provider, "bob")["code"], CALLBACK, VERIFIER,
                                  "n-1")
    bob = provider.person(bob_token)
    assert provider.permission(bob_token, bob, _forge(double.kind, "acme/manifests")) == "none"


def test_a_tampered_verifier_or_redirect_or_reused_code_is_refused(double: OAuthDouble) -> None:
    provider = _provider(double)
    double.signing_in = "alice"
    code = _authorize(provider, "alice")["code"]
    with pytest.raises(SignInError, match="refused the sign-in"):
        provider.exchange(code, CALLBACK, signin.verifier(b"w" * 32), "n-1")
    code = _authorize(provider, "alice")["code"]
    with pytest.raises(SignInError, match="refused"):
        provider.exchange(code, CALLBACK + "x", VERIFIER, "n-1")
    code = _authorize(provider, "alice")["code"]
    provider.exchange(code, CALLBACK, VERIFIER, "n-1")
    with pytest.raises(SignInError, match="refused"):  # a code counts once
        provider.exchange(code, CALLBACK, VERIFIER, "n-1")
    # An unregistered callback is never redirected to.
    url = provider.authorize_url("http://127.0.0.1:9/elsewhere", "s",
                                 signin.challenge(VERIFIER), "n")
    assert httpx.get(url).status_code == 400


def test_a_person_who_cancels_comes_back_with_access_denied(double: OAuthDouble) -> None:
    double.deny = True
    back = _authorize(_provider(double), "alice", state="s2")
    assert back == {"state": "s2", "error": "access_denied",
                    "error_description": "The user denied access"}


def test_github_token_answer_is_read_in_either_shape() -> None:
    double = OAuthDouble("github").start()
    try:
        double.add("alice")
        double.signing_in = "alice"
        double.redirect_uris.append(CALLBACK)
        code = _authorize(_provider(double), "alice")["code"]
        form = {"client_id": "hoist-client", "client_secret": "hoist-client-secret",
                "code": code, "redirect_uri": CALLBACK, "code_verifier": VERIFIER}
        plain = httpx.post(double.url + "/login/oauth/access_token", data=form)
        assert plain.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert "access_token=tok_" in plain.text
    finally:
        double.stop()


def test_oidc_id_token_must_carry_our_nonce() -> None:
    double = OAuthDouble("oidc").start()
    try:
        double.add("alice")
        double.signing_in = "alice"
        double.redirect_uris.append(CALLBACK)
        provider = _provider(double)
        code = _authorize(provider, "alice")["code"]
        with pytest.raises(SignInError, match="nonce"):
            provider.exchange(code, CALLBACK, VERIFIER, "another-nonce")
    finally:
        double.stop()


def test_a_github_app_asks_no_scope_and_settings_name_what_is_missing() -> None:
    from bot.settings import SettingsError

    double = OAuthDouble("github")
    try:
        app = Settings.from_env({**double.env(), "HOIST_OAUTH_SCOPES": ""}).signin
        assert app is not None
        url = make_provider(app).authorize_url(CALLBACK, "s", signin.challenge(VERIFIER), "n")
        assert "scope=" not in url and "code_challenge_method=S256" in url
        with pytest.raises(SettingsError, match="HOIST_OAUTH_CLIENT_ID, HOIST_OAUTH_CLIENT_"):
            Settings.from_env({"HOIST_SIGNIN": "github"})
        with pytest.raises(SettingsError, match="expected one of github, gitlab, gitea, oidc"):
            Settings.from_env({"HOIST_SIGNIN": "bitbucket"})
        for where in ("not-a-url", "http://idp.example.com"):  # codes would travel in clear
            with pytest.raises(SettingsError, match=r"HOIST_OAUTH_URL=.*https:// URL"):
                Settings.from_env({**double.env(), "HOIST_SIGNIN": "oidc",
                                   "HOIST_OAUTH_URL": where})
        with pytest.raises(SettingsError, match="needs HOIST_PUBLIC_URL"):
            Settings.from_env({**double.env(), "HOIST_WEBHOOK_SECRET": "w",
                               "HOIST_ROLE": "web"}).check_serve()
        with pytest.raises(SettingsError, match="https public URL"):
            Settings.from_env({**double.env(), "HOIST_WEBHOOK_SECRET": "w", "HOIST_ROLE": "web",
                               "HOIST_PUBLIC_URL": "http://hoist.example.com"}).check_serve()
    finally:
        double.server.server_close()


def test_an_api_answering_html_is_a_clear_502_not_a_crash() -> None:
    """HOIST_OAUTH_API_URL pointing at the forge's web UI or a sign-on proxy answers HTML."""
    import http.server
    import threading

    from bot.adapters.signin import SignInError
    from bot.adapters.signin.oauth import OAuthClient

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>sign in first</html>")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings.from_env({**OAuthDouble("github").env(), "HOIST_OAUTH_URL":
                                      f"http://127.0.0.1:{server.server_port}"})
        assert settings.signin is not None
        client = OAuthClient(settings.signin, timeout=5)
        with pytest.raises(SignInError) as refused:
            client.get(f"http://127.0.0.1:{server.server_port}/user", "tok_x")
        assert refused.value.status == 502 and "HOIST_OAUTH_API_URL" in refused.value.reason
    finally:
        server.shutdown()
