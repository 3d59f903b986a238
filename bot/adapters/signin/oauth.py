"""What the providers share: building the authorization URL, the token request
(client_secret_post, RFC 6749 §2.3.1 and §4.1.3) and reading its answer in either shape
(JSON, or GitHub's form-encoded default), and authenticated JSON reads of the API."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import structlog

from ...settings_signin import SignInSettings
from . import SignInError

log = structlog.get_logger()


class OAuthClient:
    """One provider's OAuth client: `settings` gives the client id and secret."""

    name = ""

    def __init__(self, settings: SignInSettings, timeout: float = 15.0) -> None:
        self.settings = settings
        self.http = httpx.Client(timeout=timeout, follow_redirects=False,
                                 headers={"User-Agent": "hoist"})

    def authorize_at(self, endpoint: str, redirect_uri: str, state: str, code_challenge: str,
                     extra: dict[str, str] | None = None) -> str:
        """`endpoint?response_type=code&client_id=…&redirect_uri=…&scope=…&state=…
        &code_challenge=…&code_challenge_method=S256` (RFC 6749 §4.1.1, RFC 7636 §4.3)."""
        query = {"response_type": "code", "client_id": self.settings.client_id,
                 "redirect_uri": redirect_uri, "scope": self.settings.scopes, "state": state,
                 "code_challenge": code_challenge, "code_challenge_method": "S256",
                 **(extra or {})}
        if not query["scope"]:  # a GitHub App's user token: the App's permissions, no scope
            del query["scope"]
        return f"{endpoint}?{urlencode(query)}"

    def token_at(self, endpoint: str, code: str, redirect_uri: str,
                 code_verifier: str) -> dict[str, Any]:
        """POST the code, redirect_uri and code_verifier with the client's credentials
        (form-encoded, Accept: application/json); the token response. SignInError with the
        provider's `error` (RFC 6749 §5.2) when it refuses, 502 when it cannot answer."""
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri, "code_verifier": code_verifier,
                "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret}
        try:
            response = self.http.post(endpoint, data=form,
                                      headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            log.warning("signin.provider_unreachable", provider=self.name,
                        error=type(exc).__name__)
            raise SignInError(f"{self.name} did not answer; try again", 502) from None
        found = _decode(response)
        if "error" in found or response.status_code >= 400 or not found.get("access_token"):
            error = str(found.get("error") or f"HTTP {response.status_code}")
            log.warning("signin.token_refused", provider=self.name, error=error,
                        status=response.status_code)
            raise SignInError(f"{self.name} refused the sign-in ({error}); sign in again")
        return found

    def get(self, url: str, token: str, missing: tuple[int, ...] = ()) -> Any:
        """GET a JSON resource with the person's bearer token; None for a status in
        `missing`; SignInError otherwise on an error status or no answer."""
        try:
            response = self.http.get(url, headers={"Authorization": f"Bearer {token}",
                                                   "Accept": "application/json"})
        except httpx.HTTPError as exc:
            log.warning("signin.provider_unreachable", provider=self.name,
                        error=type(exc).__name__)
            raise SignInError(f"{self.name} did not answer; try again", 502) from None
        if response.status_code in missing:
            return None
        if response.status_code >= 400:
            raise SignInError(f"{self.name} answered {response.status_code}",
                              401 if response.status_code == 401 else 502)
        try:
            return response.json()
        except ValueError:  # e.g. HOIST_OAUTH_API_URL names the web UI or a sign-on proxy
            raise SignInError(f"{self.name}'s API at {url.split('?')[0]} answered with no JSON; "
                              "check HOIST_OAUTH_API_URL", 502) from None


def _decode(response: httpx.Response) -> dict[str, Any]:
    """A token response as JSON, or form-encoded (GitHub without Accept: JSON)."""
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        try:
            found = response.json()
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}
    return dict(parse_qsl(response.text))
