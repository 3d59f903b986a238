"""Sign-in with GitHub: an OAuth App, or a GitHub App's user access tokens (the same web
flow: /login/oauth/authorize and /login/oauth/access_token on github.com; PKCE is honoured
by both). Who: GET /user. What on the repository: GET /repos/{owner}/{repo}, whose
`permissions` are the token's user's (docs.github.com, "Get a repository")."""

from __future__ import annotations

from ...core.signin import github_permission
from . import Person, SignInError
from .oauth import OAuthClient


class GitHubSignIn(OAuthClient):
    name = "github"

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
            raise SignInError(f"{self.name} did not say who signed in", 502)
        return Person(str(found["login"]))

    def permission(self, token: str, person: Person, forge: object) -> str:
        repository = getattr(forge, "full_name", None)
        if not repository:
            return "none"
        found = self.get(f"{self.settings.api_url}/repos/{repository}", token,
                         missing=(403, 404))
        return github_permission(found.get("permissions") if isinstance(found, dict) else None)
