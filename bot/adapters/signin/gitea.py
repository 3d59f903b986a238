"""Sign-in with Gitea or Forgejo (their OAuth2 provider: /login/oauth/authorize,
/login/oauth/access_token, PKCE S256 for confidential and public clients). Who:
GET /api/v1/user. What on the repository: GET /api/v1/repos/{owner}/{repo}, whose
`permissions` ({admin, push, pull}) are the token's user's."""

from __future__ import annotations

from ...core.signin import github_permission
from . import Person
from .github import GitHubSignIn


class GiteaSignIn(GitHubSignIn):
    """GitHub's web flow and `/user` at Gitea's own paths; only the repository is named
    differently (the forge adapter's API path)."""

    name = "gitea"

    def permission(self, token: str, person: Person, forge: object) -> str:
        path = str(getattr(forge, "repo", "") or "")
        if not path.startswith("/repos/"):
            return "none"
        found = self.get(f"{self.settings.api_url}{path}", token, missing=(403, 404))
        return github_permission(found.get("permissions") if isinstance(found, dict) else None)
