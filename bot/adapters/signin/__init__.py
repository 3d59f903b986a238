"""Sign-in providers: one module each (github, gitlab, gitea, oidc), one interface. Each
speaks the OAuth 2.0 authorization code grant with PKCE S256 (RFC 6749 §4.1, RFC 7636) to
its provider, tells who signed in, and says what that person may do on a project's
repository — asked with the person's own token, never Hoist's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ...settings_signin import SignInSettings

__all__ = ["Person", "Provider", "SignInError", "make_provider"]


class SignInError(RuntimeError):
    """The provider refused or could not finish a sign-in. `reason` is safe to show the
    person (never a token or a secret); `status` the HTTP status to answer with."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Person:
    """Who signed in: the forge login (as ChatOps and git trailers name them) and, for
    OIDC, the groups the provider's claims put them in."""

    login: str
    groups: tuple[str, ...] = ()


class Provider(Protocol):
    name: str

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str,
                      nonce: str) -> str:
        """Where to send the browser: the provider's authorization endpoint with
        response_type=code, client_id, redirect_uri, scope, state and the S256 challenge."""
        ...

    def exchange(self, code: str, redirect_uri: str, code_verifier: str,
                 nonce: str) -> str:
        """Trade the code for the person's access token (RFC 6749 §4.1.3); SignInError when
        the provider refuses (bad code, PKCE mismatch, redirect_uri mismatch)."""
        ...

    def person(self, token: str) -> Person:
        """Who the token belongs to; SignInError when the provider does not say."""
        ...

    def permission(self, token: str, person: Person, forge: object) -> str:
        """The person's rung (none < read < triage < write < maintain < admin) on the
        repository `forge` (a project's forge adapter) serves, asked with their token;
        "none" when the provider hides the repository from them."""
        ...


def make_provider(settings: SignInSettings, timeout: float = 15.0) -> Provider:
    """The provider HOIST_SIGNIN names."""
    if settings.provider == "github":
        from .github import GitHubSignIn
        return GitHubSignIn(settings, timeout)
    if settings.provider == "gitlab":
        from .gitlab import GitLabSignIn
        return GitLabSignIn(settings, timeout)
    if settings.provider == "gitea":
        from .gitea import GiteaSignIn
        return GiteaSignIn(settings, timeout)
    from .oidc import OidcSignIn
    return OidcSignIn(settings, timeout)
