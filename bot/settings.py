"""Settings from HOIST_* environment variables, built once at start-up and passed down."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .core.polling import parse_poll_setting


class SettingsError(ValueError):
    """The environment does not describe a service that may start."""


def _github_repository(url: str) -> str | None:
    """owner/name of a github.com git URL (https or ssh), else None."""
    match = re.search(r"github\.com[:/]([^/]+)/([^/]+?)(?:\.git)?/?$", url)
    return f"{match.group(1)}/{match.group(2)}" if match else None


def _repository_path(url: str, forge_url: str | None) -> str | None:
    """`group/sub/project` of a git URL (https or ssh) on the forge at `forge_url` (an
    https URL's relative URL root, e.g. `/gitlab`, removed), else None."""
    if not forge_url:
        return None
    match = re.match(r"^[a-z]+://(?:[^@/]+@)?([^/:]+)(?::\d+)?(/[^?#]*)?", forge_url.rstrip("/"))
    if match is None:
        return None
    host, prefix = match.group(1), (match.group(2) or "").strip("/")
    found = re.match(rf"^(?:[a-z+]+://(?:[^@/]+@)?{re.escape(host)}(?::\d+)?/|"
                     rf"(?:[^@/]+@)?{re.escape(host)}:)(.+?)(?:\.git)?/?$", url)
    if found is None:
        return None
    path = found.group(1)
    if prefix and url.startswith(("http://", "https://")):  # ssh paths have no URL root
        if not path.startswith(prefix + "/"):
            return None
        path = path[len(prefix) + 1:]
    return path if "/" in path else None


FORGES = ("local", "github", "gitlab", "gitea", "azure-devops")


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name) or ""
    try:
        value = float(raw) if raw.strip() else default
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


ROLES = ("all", "web", "worker")


@dataclass(frozen=True)
class Settings:
    manifests_repo: str | None = None
    config_path: str = "hoist.yaml"
    config_file: Path | None = None
    data_dir: Path = Path(".hoist")
    webhook_secret: str | None = field(default=None, repr=False)
    api_token: str | None = field(default=None, repr=False)
    github_token: str | None = field(default=None, repr=False)
    github_app_id: str | None = None
    github_private_key: str | None = field(default=None, repr=False)
    github_webhook_secret: str | None = field(default=None, repr=False)
    github_repository: str | None = None
    github_api_url: str = "https://api.github.com"
    github_bot_login: str | None = None
    github_pace: float = 1.0
    forge_choice: str | None = None
    forge_timeout: float = 15.0
    gitlab_url: str = "https://gitlab.com"
    gitlab_token: str | None = field(default=None, repr=False)
    gitlab_project: str | None = None
    gitlab_webhook_secret: str | None = field(default=None, repr=False)
    gitea_url: str | None = None
    gitea_token: str | None = field(default=None, repr=False)
    gitea_repository: str | None = None
    gitea_webhook_secret: str | None = field(default=None, repr=False)
    azure_devops_url: str | None = None  # https://dev.azure.com/ORG or a Server collection
    azure_devops_token: str | None = field(default=None, repr=False)
    azure_devops_repository: str | None = None  # project/repository
    azure_devops_webhook_secret: str | None = field(default=None, repr=False)
    argocd_token: str | None = field(default=None, repr=False)
    notify_url: str | None = field(default=None, repr=False)
    notify_urls: tuple[str, ...] = field(default=(), repr=False)
    ui_token: str | None = field(default=None, repr=False)
    public_url: str | None = None
    gar_audience: str | None = None
    gar_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    gar_service_account: str | None = None
    insecure_demo: bool = False
    insecure_registries: tuple[str, ...] = ()
    log_format: str = "auto"
    poll_interval: float = 1.0
    reconcile_interval: float = 300.0
    signing_key: str | None = field(default=None, repr=False)
    signing_key_file: Path | None = None
    signing_format: str | None = None
    signing_passphrase: str | None = field(default=None, repr=False)
    poll_registries: str | None = None  # off, on, or a default interval (flows/poll.py)
    database_url: str | None = field(default=None, repr=False)
    workers: int = 4
    lease_seconds: float = 30.0
    role: str = "all"
    migrate: bool = True
    header_timeout: float = 10.0  # seconds for a request's line and headers (web/server.py)
    max_connections: int = 256  # open HTTP connections at once
    config_max_age: float = 5.0  # seconds between fetches of hoist.yaml's branch

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every HOIST_* variable; unset ones keep their defaults. SettingsError for a
        number that is not one."""
        env = os.environ if env is None else env
        return cls(
            manifests_repo=env.get("HOIST_MANIFESTS_REPO") or None,
            config_path=env.get("HOIST_CONFIG") or "hoist.yaml",
            data_dir=Path(env.get("HOIST_DATA_DIR") or ".hoist"),
            webhook_secret=env.get("HOIST_WEBHOOK_SECRET") or None,
            api_token=env.get("HOIST_API_TOKEN") or None,
            github_token=env.get("HOIST_GITHUB_TOKEN") or None,
            github_app_id=env.get("HOIST_GITHUB_APP_ID") or None,
            github_private_key=env.get("HOIST_GITHUB_PRIVATE_KEY") or None,
            github_webhook_secret=env.get("HOIST_GITHUB_WEBHOOK_SECRET") or None,
            github_repository=env.get("HOIST_GITHUB_REPOSITORY") or _github_repository(
                env.get("HOIST_MANIFESTS_REPO") or ""),
            github_api_url=env.get("HOIST_GITHUB_API_URL") or "https://api.github.com",
            github_bot_login=env.get("HOIST_GITHUB_BOT_LOGIN") or None,
            github_pace=float(env.get("HOIST_GITHUB_PACE") or 1.0),
            forge_choice=(env.get("HOIST_FORGE") or "").strip().lower() or None,
            forge_timeout=float(env.get("HOIST_FORGE_TIMEOUT") or 15.0),
            gitlab_url=(env.get("HOIST_GITLAB_URL") or "https://gitlab.com").rstrip("/"),
            gitlab_token=env.get("HOIST_GITLAB_TOKEN") or None,
            gitlab_project=env.get("HOIST_GITLAB_PROJECT") or _repository_path(
                env.get("HOIST_MANIFESTS_REPO") or "",
                env.get("HOIST_GITLAB_URL") or "https://gitlab.com"),
            gitlab_webhook_secret=env.get("HOIST_GITLAB_WEBHOOK_SECRET") or None,
            gitea_url=(env.get("HOIST_GITEA_URL") or "").rstrip("/") or None,
            gitea_token=env.get("HOIST_GITEA_TOKEN") or None,
            gitea_repository=env.get("HOIST_GITEA_REPOSITORY") or _repository_path(
                env.get("HOIST_MANIFESTS_REPO") or "", env.get("HOIST_GITEA_URL")),
            gitea_webhook_secret=env.get("HOIST_GITEA_WEBHOOK_SECRET") or None,
            azure_devops_url=(env.get("HOIST_AZURE_DEVOPS_URL") or "").rstrip("/") or None,
            azure_devops_token=env.get("HOIST_AZURE_DEVOPS_TOKEN") or None,
            azure_devops_repository=env.get("HOIST_AZURE_DEVOPS_REPOSITORY") or None,
            azure_devops_webhook_secret=env.get("HOIST_AZURE_DEVOPS_WEBHOOK_SECRET") or None,
            argocd_token=env.get("HOIST_ARGOCD_TOKEN") or None,
            notify_url=env.get("HOIST_NOTIFY_URL") or None,
            notify_urls=tuple((env.get("HOIST_NOTIFY_URLS") or "").split()),
            ui_token=env.get("HOIST_UI_TOKEN") or None,
            public_url=env.get("HOIST_PUBLIC_URL") or None,
            gar_audience=env.get("HOIST_GAR_AUDIENCE") or None,
            gar_jwks_url=env.get("HOIST_GAR_JWKS_URL") or "https://www.googleapis.com/oauth2/v3/certs",
            gar_service_account=env.get("HOIST_GAR_SERVICE_ACCOUNT") or None,
            insecure_demo=_flag(env.get("HOIST_INSECURE_DEMO")),
            insecure_registries=tuple(
                h.strip() for h in (env.get("HOIST_INSECURE_REGISTRIES") or "").split(",")
                if h.strip()),
            log_format=env.get("HOIST_LOG_FORMAT") or "auto",
            poll_interval=_number(env, "HOIST_POLL_INTERVAL", 1.0, 0.01),
            reconcile_interval=_number(env, "HOIST_RECONCILE_INTERVAL", 300.0, 0.0),
            signing_key=env.get("HOIST_SIGNING_KEY") or None,
            signing_key_file=Path(env["HOIST_SIGNING_KEY_FILE"])
            if env.get("HOIST_SIGNING_KEY_FILE") else None,
            signing_format=env.get("HOIST_SIGNING_FORMAT") or None,
            signing_passphrase=env.get("HOIST_SIGNING_PASSPHRASE") or None,
            poll_registries=env.get("HOIST_POLL_REGISTRIES") or None,
            database_url=env.get("HOIST_DATABASE_URL") or None,
            workers=int(_number(env, "HOIST_WORKERS", 4, 1)),
            lease_seconds=_number(env, "HOIST_LEASE_SECONDS", 30.0, 1.0),
            role=env.get("HOIST_ROLE") or "all",
            migrate=_flag(env.get("HOIST_MIGRATE"), default=True),
            header_timeout=_number(env, "HOIST_HEADER_TIMEOUT", 10.0, 0.1),
            max_connections=int(_number(env, "HOIST_MAX_CONNECTIONS", 256, 1)),
            config_max_age=_number(env, "HOIST_CONFIG_MAX_AGE", 5.0, 0.0),
        )

    @property
    def store_url(self) -> str:
        """HOIST_DATABASE_URL, else the SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'hoist.db').resolve()}"

    @property
    def _credentials(self) -> list[str]:
        """The forges whose credentials are set."""
        return [name for name, present in (
            ("github", self.github_token or self.github_app_id),
            ("gitlab", self.gitlab_token), ("gitea", self.gitea_token),
            ("azure-devops", self.azure_devops_token)) if present]

    @property
    def forge(self) -> str:
        """HOIST_FORGE, else the forge whose credentials are set (`github` with a token or
        an App, `gitlab`, `gitea`), else the embedded `local` forge."""
        return self.forge_choice or next(iter(self._credentials), "local")

    @property
    def forge_token(self) -> str | None:
        """The chosen forge's token, for git over https (None for a GitHub App)."""
        return {"github": self.github_token, "gitlab": self.gitlab_token,
                "gitea": self.gitea_token, "azure-devops": self.azure_devops_token}.get(self.forge)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction."""
        values = (self.webhook_secret, self.api_token, self.github_token,
                  self.github_private_key, self.github_webhook_secret, self.argocd_token,
                  self.notify_url, self.ui_token, *self.notify_urls, self.signing_key,
                  self.signing_passphrase, self.database_url, self.gitlab_token,
                  self.gitlab_webhook_secret, self.gitea_token, self.gitea_webhook_secret,
                  self.azure_devops_token, self.azure_devops_webhook_secret,
                  *_passwords(self.database_url))
        return tuple(v for v in values if v)

    def check_serve(self) -> None:
        """Raise SettingsError unless the service may start with these settings in its
        role (a `web` process runs no flows: it needs no manifests repository or forge)."""
        if self.role not in ROLES:
            raise SettingsError(f"unknown role {self.role!r}; one of {', '.join(ROLES)}")
        if self.role != "web":
            self._check_flows()
        if self.role != "worker" and not self.webhook_secret and not self.insecure_demo:
            raise SettingsError(
                "HOIST_WEBHOOK_SECRET is not set: refusing to accept unauthenticated webhooks "
                "(set HOIST_INSECURE_DEMO=1 only for a local demo)"
            )

    def _check_flows(self) -> None:
        """What running the flows needs: a manifests repository, one forge's settings,
        the polling and notification settings."""
        if not self.manifests_repo:
            raise SettingsError("HOIST_MANIFESTS_REPO is not set (a git URL; file:// works)")
        self._check_forge()
        if self.forge == "github" and not self.github_repository:
            raise SettingsError("HOIST_GITHUB_REPOSITORY (owner/name) is not set and cannot be "
                                "read from HOIST_MANIFESTS_REPO")
        if self.github_app_id and not self.github_private_key:
            raise SettingsError("HOIST_GITHUB_APP_ID needs HOIST_GITHUB_PRIVATE_KEY")
        try:
            parse_poll_setting(self.poll_registries)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        from .adapters.notify import check_urls  # Apprise says which URLs it understands

        check_urls(self.notify_urls, self.notify_url)

    def _check_forge(self) -> None:
        if self.forge_choice is None and len(self._credentials) > 1:
            raise SettingsError(f"credentials for {' and '.join(self._credentials)} are both "
                                "set: set HOIST_FORGE to the forge that hosts the manifests")
        if self.forge not in FORGES:
            raise SettingsError(f"HOIST_FORGE={self.forge!r}: expected one of "
                                f"{', '.join(FORGES)}")
        needed = {"github": [("HOIST_GITHUB_TOKEN or HOIST_GITHUB_APP_ID",
                              self.github_token or self.github_app_id)],
                  "gitlab": [("HOIST_GITLAB_TOKEN", self.gitlab_token),
                             ("HOIST_GITLAB_PROJECT (group/sub/project or an id; read from a "
                              "HOIST_MANIFESTS_REPO on HOIST_GITLAB_URL)", self.gitlab_project)],
                  "gitea": [("HOIST_GITEA_URL", self.gitea_url),
                            ("HOIST_GITEA_TOKEN", self.gitea_token),
                            ("HOIST_GITEA_REPOSITORY (owner/name; read from a "
                             "HOIST_MANIFESTS_REPO on HOIST_GITEA_URL)", self.gitea_repository)],
                  "azure-devops": [("HOIST_AZURE_DEVOPS_URL", self.azure_devops_url),
                                   ("HOIST_AZURE_DEVOPS_TOKEN", self.azure_devops_token),
                                   ("HOIST_AZURE_DEVOPS_REPOSITORY (project/repository)",
                                    self.azure_devops_repository)]}
        for name, value in needed.get(self.forge, []):
            if not value:
                raise SettingsError(f"HOIST_FORGE={self.forge} needs {name}")


def _passwords(url: str | None) -> tuple[str, ...]:
    """The password inside a database URL, so logs can redact it: as a URL parser reads it
    (userinfo up to the first `@`) and as its writer may have meant it (up to the last `@`,
    when a password holds an unescaped `@` or `/`), each raw and percent-decoded."""
    if not url or "://" not in url:
        return ()
    authority = url.split("://", 1)[1].split("?", 1)[0]
    found = {urlsplit(url).password or "", authority.rpartition("@")[0].partition(":")[2]}
    return tuple(v for p in found for v in {p, unquote(p)} if v)
