"""Build the adapters and services from Settings: the one place that knows them all."""

from __future__ import annotations

import atexit
from pathlib import Path

import structlog

from .adapters.argocd import ArgoCdClient
from .adapters.deployments import deployments_for
from .adapters.git import GitRepo
from .adapters.github import GitHubForge
from .adapters.local_forge import LocalForge
from .adapters.notify import Notifier
from .adapters.oidc import OidcVerifier
from .adapters.registry import RegistryClient, load_credentials
from .adapters.signing import CommitSigner, key_from_settings
from .adapters.store import Store
from .core.config import Config, ConfigError, load_config
from .core.polling import parse_poll_setting
from .flows.services import Forge, Services
from .settings import Settings
from .sources import Source, build_sources

log = structlog.get_logger()


class ConfigSource:
    """hoist.yaml from a local file, or from the manifests repo's default branch (cached
    by commit, so policy changes land like any reviewed change)."""

    def __init__(self, git: GitRepo, repo_path: str, local_file: Path | None) -> None:
        self.git = git
        self.repo_path = repo_path
        self.local_file = local_file
        self._cache: tuple[str, Config] | None = None

    def __call__(self) -> Config:
        if self.local_file is not None:
            text = self.local_file.read_text(encoding="utf-8")
            return load_config(text, str(self.local_file))
        ref = self.git.tip("HEAD") or self.git.tip("main")
        if ref is None:
            raise ConfigError([f"{self.repo_path}:1: (file): the manifests repository is empty"])
        if self._cache is None or self._cache[0] != ref:
            found = self.git.read(ref, self.repo_path)
            if found is None:
                raise ConfigError([f"{self.repo_path}:1: (file): not found in the manifests repo"])
            self._cache = (ref, load_config(found, self.repo_path))
        return self._cache[1]


def start_signer(settings: Settings) -> CommitSigner | None:
    """The commit signing key set up for git (removed again when the process exits), or
    None when no key is configured; SigningError when it cannot sign."""
    key = key_from_settings(settings.signing_key, settings.signing_key_file,
                            settings.signing_format, settings.signing_passphrase)
    if key is None:
        return None
    signer = CommitSigner(key)
    atexit.register(signer.close)
    log.info("git.signing", format=signer.format, key=signer.key_id)
    return signer


def build_services(settings: Settings) -> Services:
    """Store, git cache, forge and config source for these settings. SigningError when a
    signing key is configured but unusable."""
    assert settings.manifests_repo is not None
    signer = start_signer(settings)
    store = Store(settings.data_dir / "hoist.db")
    git = GitRepo(settings.manifests_repo, settings.data_dir / "manifests.git",
                  token=settings.github_token, signing=signer.git_config if signer else None)
    git.sync()
    forge: Forge = LocalForge(store, git)
    if settings.forge == "github":
        assert settings.github_repository is not None
        forge = GitHubForge(store, settings.github_repository, token=settings.github_token,
                            app_id=settings.github_app_id,
                            private_key=settings.github_private_key,
                            base_url=settings.github_api_url, bot_login=settings.github_bot_login,
                            pace=settings.github_pace)
    registry = RegistryClient(load_credentials(), settings.insecure_registries)
    services = Services(store, git, forge,
                        ConfigSource(git, settings.config_path, settings.config_file),
                        registry, settings.github_bot_login)
    services.argocd = lambda server: ArgoCdClient(server, settings.argocd_token)
    services.notify = Notifier(settings.notify_urls, settings.notify_url)
    services.public_url = settings.public_url
    services.deployments = deployments_for(forge)
    services.polling = parse_poll_setting(settings.poll_registries)
    return services


def build_sources_for(settings: Settings) -> dict[str, Source]:
    """Webhook sources; Artifact Registry requires Pub/Sub OIDC tokens when an audience is set."""
    verifier = None
    if settings.gar_audience:
        verifier = OidcVerifier(settings.gar_audience, settings.gar_jwks_url,
                                settings.gar_service_account)
    return build_sources(verifier)
