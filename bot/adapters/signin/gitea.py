"""Sign-in with Gitea or Forgejo (their OAuth2 provider: /login/oauth/authorize,
/login/oauth/access_token, PKCE S256 for confidential and public clients). Who:
GET /api/v1/user. What on the repository: GET /api/v1/repos/{owner}/{repo}, whose
`permissions` ({admin, push, pull}) are the token's user's."""

from __future__ import annotations

from ...core.signin import github_permission
from . import Person, SignInError
from .oauth import OAuthClient


class GiteaSignIn(OAuthClient):
    name = "gitea"

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str,
                      nonce: str) -> str:
        return self.authorize_at(f"{self.settings.url}/login/oauth/authorize", redirect_uri,
                                 state, code_challenge)

    def exchange(self, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> str:
        found = self.token_at(f"{self.settings.url}/login/oauth/access_token", code,
                              redirect_uri, code_verifier)
        return str(found["access_token"])

    def person(self, token: str) -> Person:
        found = self.get(f"{self.settings.api_url}/user", token)
        if not isinstance(found, dict) or not found.get("login"):
            raise SignInError("gitea did not say who signed in", 502)
        return Person(str(found["login"]))

    def permission(self, token: str, person: Person, forge: object) -> str:
        path = str(getattr(forge, "repo", "") or "")
        if not path.startswith("/repos/"):
            return "none"
        found = self.get(f"{self.settings.api_url}{path}", token, missing=(403, 404))
        return github_permission(found.get("permissions") if isinstance(found, dict) else None)
