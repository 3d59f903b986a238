"""The sign-in settings (HOIST_SIGNIN and HOIST_OAUTH_*, HOIST_OIDC_*): which provider
people sign in with, the OAuth client Hoist is registered as, and where the provider's
web and API endpoints are. Read by settings.py; secrets are kept out of every repr."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .core.signin import cookie_rules
from .settings_values import SettingsError

PROVIDERS = ("github", "gitlab", "gitea", "oidc")


@dataclass(frozen=True)
class SignInSettings:
    """provider: github | gitlab | gitea | oidc; url: the provider's web base (GitHub
    https://github.com, GitLab and Gitea their root URL, OIDC the issuer); api_url: its API
    base (https://api.github.com, <gitlab>/api/v4, <gitea>/api/v1; unused for OIDC)."""

    provider: str
    client_id: str
    client_secret: str = field(repr=False)
    url: str
    api_url: str
    scopes: str
    groups_claim: str = "groups"
    readers: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()


def _words(value: str | None) -> tuple[str, ...]:
    return tuple(w for w in (value or "").replace(",", " ").split() if w)


def _secret(env: Mapping[str, str]) -> str | None:
    """HOIST_OAUTH_CLIENT_SECRET, else the first line of the HOIST_OAUTH_CLIENT_SECRET_FILE
    file (a mounted Kubernetes Secret)."""
    if env.get("HOIST_OAUTH_CLIENT_SECRET"):
        return env["HOIST_OAUTH_CLIENT_SECRET"]
    name = env.get("HOIST_OAUTH_CLIENT_SECRET_FILE")
    if not name:
        return None
    try:
        return Path(name).read_text().strip() or None
    except OSError as exc:
        raise SettingsError(f"HOIST_OAUTH_CLIENT_SECRET_FILE={name}: cannot be read "
                            f"({exc.strerror})") from None


_DEFAULTS = {  # provider -> (web base, API base from the web base, scopes)
    "github": ("https://github.com", "", "repo"),
    "gitlab": ("https://gitlab.com", "/api/v4", "read_api"),
    "gitea": ("", "/api/v1", "read:user read:repository"),
    "oidc": ("", "", "openid profile"),
}


def signin_settings(env: Mapping[str, str], forge_urls: Mapping[str, str | None]
                    ) -> SignInSettings | None:
    """The sign-in settings, None without HOIST_SIGNIN. `forge_urls` gives each forge's
    configured URL (HOIST_GITLAB_URL, HOIST_GITEA_URL, HOIST_GITHUB_API_URL under key
    `github-api`), the defaults for HOIST_OAUTH_URL and HOIST_OAUTH_API_URL. SettingsError
    naming every missing or unknown variable at once."""
    provider = (env.get("HOIST_SIGNIN") or "").strip().lower()
    if not provider:
        return None
    if provider not in PROVIDERS:
        raise SettingsError(f"HOIST_SIGNIN={provider!r}: expected one of {', '.join(PROVIDERS)}")
    web, api_suffix, scopes = _DEFAULTS[provider]
    url = (env.get("HOIST_OAUTH_URL") or forge_urls.get(provider) or web).rstrip("/")
    api = env.get("HOIST_OAUTH_API_URL") or (
        forge_urls.get("github-api") or "https://api.github.com" if provider == "github"
        else f"{url}{api_suffix}" if url else "")
    client_id, secret = env.get("HOIST_OAUTH_CLIENT_ID"), _secret(env)
    missing = [name for name, value in (
        ("HOIST_OAUTH_CLIENT_ID", client_id),
        ("HOIST_OAUTH_CLIENT_SECRET or HOIST_OAUTH_CLIENT_SECRET_FILE", secret),
        ("HOIST_OAUTH_URL", url)) if not value]
    if missing:
        raise SettingsError(f"HOIST_SIGNIN={provider} needs " + ", ".join(missing))
    assert client_id and secret
    for name, value in (("HOIST_OAUTH_URL", url), ("HOIST_OAUTH_API_URL", api)):
        parts = urlsplit(value)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not parts.hostname or not (parts.scheme == "https" or
                                      (parts.scheme == "http" and loopback)):
            raise SettingsError(f"{name}={value!r}: give the provider's https:// URL (http:// "
                                "only on loopback): codes and tokens travel there")
    return SignInSettings(
        provider, client_id, secret, url, api.rstrip("/"),
        env["HOIST_OAUTH_SCOPES"].strip() if "HOIST_OAUTH_SCOPES" in env else scopes,
        env.get("HOIST_OIDC_GROUPS_CLAIM") or "groups",
        _words(env.get("HOIST_OIDC_READERS")), _words(env.get("HOIST_OIDC_APPROVERS")),
        _words(env.get("HOIST_OIDC_ADMINS")))


def signin_problems(public_url: str | None) -> list[str]:
    """What sign-in lacks to start: an https HOIST_PUBLIC_URL (http on loopback), where the
    provider sends people back and whose origin forms must come from."""
    if not public_url:
        return ["HOIST_SIGNIN needs HOIST_PUBLIC_URL (https://…, or http://127.0.0.1:… for a "
                "trial): the provider sends people back to <HOIST_PUBLIC_URL>/signin/callback"]
    try:
        cookie_rules(public_url)
    except ValueError as exc:
        return [f"HOIST_SIGNIN: {exc}"]
    return []
