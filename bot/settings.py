"""Settings from HOIST_* environment variables, built once at start-up and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .core.polling import parse_poll_setting
from .settings_signin import SignInSettings, signin_problems, signin_settings
from .settings_values import (
    SettingsError,
    flag,
    github_repository,
    number,
    passwords,
    repository_path,
)

__all__ = ["FORGES", "ROLES", "Settings", "SettingsError"]


FORGES = ("local", "github", "gitlab", "gitea", "bitbucket", "bitbucket-datacenter",
          "azure-devops")


ROLES = ("all", "web", "worker")
# Every numeric HOIST_* variable and its least value.
_NUMBERS = {"HOIST_GITHUB_PACE": float("-inf"), "HOIST_FORGE_TIMEOUT": float("-inf"),
            "HOIST_POLL_INTERVAL": 0.01, "HOIST_RECONCILE_INTERVAL": 0.0, "HOIST_WORKERS": 1,
            "HOIST_LEASE_SECONDS": 1.0, "HOIST_HEADER_TIMEOUT": 0.1,
            "HOIST_MAX_CONNECTIONS": 1, "HOIST_CONFIG_MAX_AGE": 0.0, "HOIST_RENDER_TIMEOUT": 0.1}


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
    bitbucket_dc_url: str | None = None
    bitbucket_dc_token: str | None = field(default=None, repr=False)
    bitbucket_dc_repository: str | None = None  # PROJECT/repo
    bitbucket_dc_webhook_secret: str | None = field(default=None, repr=False)
    bitbucket_url: str = "https://api.bitbucket.org/2.0"
    bitbucket_token: str | None = field(default=None, repr=False)  # token or user:app-password
    bitbucket_repository: str | None = None  # workspace/repo
    bitbucket_webhook_secret: str | None = field(default=None, repr=False)
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
    attestation_key: str | None = field(default=None, repr=False)  # flows/verify.py
    attestation_key_file: Path | None = None
    attestation_passphrase: str | None = field(default=None, repr=False)
    sigstore_trusted_root: str | None = None  # a trusted_root.json; else sigstore's own
    poll_registries: str | None = None  # off, on, or a default interval (flows/poll.py)
    database_url: str | None = field(default=None, repr=False)
    workers: int = 4
    lease_seconds: float = 30.0
    role: str = "all"
    migrate: bool = True
    header_timeout: float = 10.0  # seconds for a request's line and headers (web/server.py)
    max_connections: int = 256  # open HTTP connections at once
    config_max_age: float = 5.0  # seconds between fetches of hoist.yaml's branch
    projects_file: Path | None = None  # HOIST_PROJECTS: many manifests repos (core/projects.py)
    render: bool = True  # render each change with Kustomize/Helm and check schemas (issue 26)
    render_timeout: float = 60.0  # seconds one render may take
    signin: SignInSettings | None = None  # HOIST_SIGNIN and HOIST_OAUTH_* (settings_signin)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every HOIST_* variable; unset ones keep their defaults. SettingsError for a
        number that is not one, naming every such variable at once."""
        env = os.environ if env is None else env
        wrong = []
        for name, minimum in _NUMBERS.items():
            try:
                number(env, name, minimum, minimum)
            except SettingsError as exc:
                wrong.append(str(exc))
        if wrong:
            raise SettingsError("; ".join(wrong))
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
            github_repository=env.get("HOIST_GITHUB_REPOSITORY") or github_repository(
                env.get("HOIST_MANIFESTS_REPO") or ""),
            github_api_url=env.get("HOIST_GITHUB_API_URL") or "https://api.github.com",
            github_bot_login=env.get("HOIST_GITHUB_BOT_LOGIN") or None,
            github_pace=number(env, "HOIST_GITHUB_PACE", 1.0, float("-inf")),
            forge_choice=(env.get("HOIST_FORGE") or "").strip().lower() or None,
            forge_timeout=number(env, "HOIST_FORGE_TIMEOUT", 15.0, float("-inf")),
            gitlab_url=(env.get("HOIST_GITLAB_URL") or "https://gitlab.com").rstrip("/"),
            gitlab_token=env.get("HOIST_GITLAB_TOKEN") or None,
            gitlab_project=env.get("HOIST_GITLAB_PROJECT") or repository_path(
                env.get("HOIST_MANIFESTS_REPO") or "",
                env.get("HOIST_GITLAB_URL") or "https://gitlab.com"),
            gitlab_webhook_secret=env.get("HOIST_GITLAB_WEBHOOK_SECRET") or None,
            gitea_url=(env.get("HOIST_GITEA_URL") or "").rstrip("/") or None,
            gitea_token=env.get("HOIST_GITEA_TOKEN") or None,
            gitea_repository=env.get("HOIST_GITEA_REPOSITORY") or repository_path(
                env.get("HOIST_MANIFESTS_REPO") or "", env.get("HOIST_GITEA_URL")),
            gitea_webhook_secret=env.get("HOIST_GITEA_WEBHOOK_SECRET") or None,
            bitbucket_dc_url=(env.get("HOIST_BITBUCKET_DC_URL") or "").rstrip("/") or None,
            bitbucket_dc_token=env.get("HOIST_BITBUCKET_DC_TOKEN") or None,
            bitbucket_dc_repository=env.get("HOIST_BITBUCKET_DC_REPOSITORY") or None,
            bitbucket_dc_webhook_secret=env.get("HOIST_BITBUCKET_DC_WEBHOOK_SECRET") or None,
            bitbucket_url=(env.get("HOIST_BITBUCKET_URL") or "https://api.bitbucket.org/2.0"
                           ).rstrip("/"),
            bitbucket_token=env.get("HOIST_BITBUCKET_TOKEN") or None,
            bitbucket_repository=env.get("HOIST_BITBUCKET_REPOSITORY") or repository_path(
                env.get("HOIST_MANIFESTS_REPO") or "", "https://bitbucket.org"),
            bitbucket_webhook_secret=env.get("HOIST_BITBUCKET_WEBHOOK_SECRET") or None,
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
            insecure_demo=flag(env.get("HOIST_INSECURE_DEMO")),
            insecure_registries=tuple(
                h.strip() for h in (env.get("HOIST_INSECURE_REGISTRIES") or "").split(",")
                if h.strip()),
            log_format=env.get("HOIST_LOG_FORMAT") or "auto",
            poll_interval=number(env, "HOIST_POLL_INTERVAL", 1.0, 0.01),
            reconcile_interval=number(env, "HOIST_RECONCILE_INTERVAL", 300.0, 0.0),
            signing_key=env.get("HOIST_SIGNING_KEY") or None,
            signing_key_file=Path(env["HOIST_SIGNING_KEY_FILE"])
            if env.get("HOIST_SIGNING_KEY_FILE") else None,
            signing_format=env.get("HOIST_SIGNING_FORMAT") or None,
            signing_passphrase=env.get("HOIST_SIGNING_PASSPHRASE") or None,
            attestation_key=env.get("HOIST_ATTESTATION_KEY") or None,
            attestation_key_file=Path(env["HOIST_ATTESTATION_KEY_FILE"])
            if env.get("HOIST_ATTESTATION_KEY_FILE") else None,
            attestation_passphrase=env.get("HOIST_ATTESTATION_PASSPHRASE") or None,
            sigstore_trusted_root=env.get("HOIST_SIGSTORE_TRUSTED_ROOT") or None,
            poll_registries=env.get("HOIST_POLL_REGISTRIES") or None,
            database_url=env.get("HOIST_DATABASE_URL") or None,
            workers=int(number(env, "HOIST_WORKERS", 4, 1)),
            lease_seconds=number(env, "HOIST_LEASE_SECONDS", 30.0, 1.0),
            role=env.get("HOIST_ROLE") or "all",
            migrate=flag(env.get("HOIST_MIGRATE"), default=True),
            header_timeout=number(env, "HOIST_HEADER_TIMEOUT", 10.0, 0.1),
            max_connections=int(number(env, "HOIST_MAX_CONNECTIONS", 256, 1)),
            config_max_age=number(env, "HOIST_CONFIG_MAX_AGE", 5.0, 0.0),
            projects_file=Path(env["HOIST_PROJECTS"]) if env.get("HOIST_PROJECTS") else None,
            render=flag(env.get("HOIST_RENDER"), default=True),
            render_timeout=number(env, "HOIST_RENDER_TIMEOUT", 60.0, 0.1),
            signin=signin_settings(env, {"gitlab": env.get("HOIST_GITLAB_URL"), "gitea": env.get(
                "HOIST_GITEA_URL"), "github-api": env.get("HOIST_GITHUB_API_URL")}),
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
            ("bitbucket", self.bitbucket_token),
            ("bitbucket-datacenter", self.bitbucket_dc_token),
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
                "gitea": self.gitea_token, "azure-devops": self.azure_devops_token,
                "bitbucket-datacenter": self.bitbucket_dc_token,
                # Bitbucket's git takes an access token as x-token-auth's password, an app
                # password as its user's ("Using access tokens", support.atlassian.com).
                "bitbucket": self.bitbucket_token if ":" in (self.bitbucket_token or ":")
                else f"x-token-auth:{self.bitbucket_token}"}.get(self.forge)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction."""
        values = (self.webhook_secret, self.api_token, self.github_token,
                  self.github_private_key, self.github_webhook_secret, self.argocd_token,
                  self.notify_url, self.ui_token, *self.notify_urls, self.signing_key,
                  self.signing_passphrase, self.attestation_key, self.attestation_passphrase,
                  self.database_url, self.gitlab_token,
                  self.gitlab_webhook_secret, self.gitea_token, self.gitea_webhook_secret,
                  self.bitbucket_dc_token, self.bitbucket_dc_webhook_secret,
                  self.bitbucket_token, (self.bitbucket_token or "").rpartition(":")[2],
                  self.bitbucket_webhook_secret,
                  self.azure_devops_token, self.azure_devops_webhook_secret,
                  *passwords(self.database_url),
                  self.signin.client_secret if self.signin else None)
        return tuple(v for v in values if v)

    def check_serve(self) -> None:
        """Raise SettingsError unless the service may start with these settings in its
        role (a `web` process runs no flows: it needs no manifests repository or forge).
        Every missing or invalid variable is named in its one line, `; ` between them."""
        if self.role not in ROLES:
            raise SettingsError(f"unknown role {self.role!r}; one of {', '.join(ROLES)}")
        problems = self._flow_problems() if self.role != "web" else []
        if self.role != "worker" and not self.webhook_secret and not self.insecure_demo:
            problems.append(
                "HOIST_WEBHOOK_SECRET is not set: refusing to accept unauthenticated webhooks "
                "(set HOIST_INSECURE_DEMO=1 only for a local demo)"
            )
        if self.signin is not None:
            problems += signin_problems(self.public_url)
        if problems:
            raise SettingsError("; ".join(problems))

    def _flow_problems(self) -> list[str]:
        """What running the flows needs and lacks: a manifests repository, one forge's
        settings, the polling setting."""
        if self.projects_file is not None:  # each project's are checked as it opens
            return []
        problems = [] if self.manifests_repo else [
            "HOIST_MANIFESTS_REPO is not set (a git URL; file:// works)"]
        problems += self._forge_problems()
        if self.forge == "github" and not self.github_repository and self.manifests_repo:
            problems.append("HOIST_GITHUB_REPOSITORY (owner/name) is not set and cannot be "
                            "read from HOIST_MANIFESTS_REPO")
        if self.github_app_id and not self.github_private_key:
            problems.append("HOIST_GITHUB_APP_ID needs HOIST_GITHUB_PRIVATE_KEY")
        try:
            parse_poll_setting(self.poll_registries)
        except ValueError as exc:
            problems.append(str(exc))
        return problems

    def _forge_problems(self) -> list[str]:
        if self.forge_choice is None and len(self._credentials) > 1:
            return [f"credentials for {' and '.join(self._credentials)} are both "
                    "set: set HOIST_FORGE to the forge that hosts the manifests"]
        if self.forge not in FORGES:
            return [f"HOIST_FORGE={self.forge!r}: expected one of {', '.join(FORGES)}"]
        needed = {"github": [("HOIST_GITHUB_TOKEN or HOIST_GITHUB_APP_ID",
                              self.github_token or self.github_app_id)],
                  "gitlab": [("HOIST_GITLAB_TOKEN", self.gitlab_token),
                             ("HOIST_GITLAB_PROJECT (group/sub/project or an id; read from a "
                              "HOIST_MANIFESTS_REPO on HOIST_GITLAB_URL)", self.gitlab_project)],
                  "gitea": [("HOIST_GITEA_URL", self.gitea_url),
                            ("HOIST_GITEA_TOKEN", self.gitea_token),
                            ("HOIST_GITEA_REPOSITORY (owner/name; read from a "
                             "HOIST_MANIFESTS_REPO on HOIST_GITEA_URL)", self.gitea_repository)],
                  "bitbucket-datacenter": [
                      ("HOIST_BITBUCKET_DC_URL", self.bitbucket_dc_url),
                      ("HOIST_BITBUCKET_DC_TOKEN", self.bitbucket_dc_token),
                      ("HOIST_BITBUCKET_DC_REPOSITORY (PROJECT/repo)",
                       self.bitbucket_dc_repository)],
                  "bitbucket": [("HOIST_BITBUCKET_TOKEN", self.bitbucket_token),
                                ("HOIST_BITBUCKET_REPOSITORY (workspace/repo; read from a "
                                 "bitbucket.org HOIST_MANIFESTS_REPO)", self.bitbucket_repository)],
                  "azure-devops": [("HOIST_AZURE_DEVOPS_URL", self.azure_devops_url),
                                   ("HOIST_AZURE_DEVOPS_TOKEN", self.azure_devops_token),
                                   ("HOIST_AZURE_DEVOPS_REPOSITORY (project/repository)",
                                    self.azure_devops_repository)]}
        return [f"HOIST_FORGE={self.forge} needs {name}"
                for name, value in needed.get(self.forge, []) if not value]
