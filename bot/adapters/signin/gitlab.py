"""Sign-in with GitLab (its OAuth 2 provider: /oauth/authorize and /oauth/token, PKCE
S256). Who: GET /api/v4/user. What on the project: GET /api/v4/projects/:id, whose
`permissions.project_access` and `group_access` are the token's user's access levels
(docs/api/projects.md); the higher counts, mapped as the forge adapter maps roles."""

from __future__ import annotations

from ..forges.gitlab import access_permission
from . import Person, SignInError
from .oauth import OAuthClient


class GitLabSignIn(OAuthClient):
    name = "gitlab"

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str,
                      nonce: str) -> str:
        return self.authorize_at(f"{self.settings.url}/oauth/authorize", redirect_uri,
                                 state, code_challenge)

    def exchange(self, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> str:
        found = self.token_at(f"{self.settings.url}/oauth/token", code, redirect_uri,
                              code_verifier)
        return str(found["access_token"])

    def person(self, token: str) -> Person:
        found = self.get(f"{self.settings.api_url}/user", token)
        if not isinstance(found, dict) or not found.get("username"):
            raise SignInError("gitlab did not say who signed in", 502)
        return Person(str(found["username"]))

    def permission(self, token: str, person: Person, forge: object) -> str:
        project = getattr(forge, "project", None)
        encoded = getattr(project, "encoded_id", None)
        if encoded is None:
            return "none"
        found = self.get(f"{self.settings.api_url}/projects/{encoded}", token,
                         missing=(403, 404))
        access = (found or {}).get("permissions") or {}
        levels = [int(a["access_level"]) for a in (access.get("project_access"),
                                                   access.get("group_access"))
                  if isinstance(a, dict) and a.get("access_level") is not None]
        return access_permission(max(levels)) if levels else "none"
