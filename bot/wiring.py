"""Build the adapters and services from Settings: the one place that knows them all."""

from __future__ import annotations

from pathlib import Path

from .adapters.argocd import ArgoCdClient
from .adapters.git import GitRepo
from .adapters.github import GitHubForge
from .adapters.local_forge import LocalForge
from .adapters.notify import Notifier
from .adapters.oidc import OidcVerifier
from .adapters.registry import RegistryClient, load_credentials
from .adapters.store import Store
from .core.config import Config, ConfigError, load_config
from .flows.services import Forge, Services
from .settings import Settings
from .sources import Source, build_sources


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


def build_store(settings: Settings, migrate: bool | None = None) -> Store:
    """The store HOIST_DATABASE_URL names (else SQLite in the data directory), migrated to
    this Hoist's schema unless migrate is False (then it must already be current).
    SchemaError, StoreUnavailable, BadDatabaseUrl as Store raises them."""
    return Store(settings.store_url, settings.migrate if migrate is None else migrate,
                 pool_size=settings.workers + 4)


def build_web_services(settings: Settings, store: Store) -> Services:
    """What a `web` process needs: the store. Its git cache and forge are never used (it
    runs no flows), so nothing is fetched and no forge is asked anything."""
    git = GitRepo(settings.manifests_repo or "file:///nonexistent",
                  settings.data_dir / "manifests.git")
    return Services(store, git, LocalForge(store, git),
                    ConfigSource(git, settings.config_path, settings.config_file))


def build_services(settings: Settings, store: Store | None = None) -> Services:
    """Store, git cache, forge and config source for these settings."""
    assert settings.manifests_repo is not None
    store = store or build_store(settings)
    git = GitRepo(settings.manifests_repo, settings.data_dir / "manifests.git",
                  token=settings.github_token)
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
    services.notify = Notifier(settings.notify_url)
    return services


def build_sources_for(settings: Settings) -> dict[str, Source]:
    """Webhook sources; Artifact Registry requires Pub/Sub OIDC tokens when an audience is set."""
    verifier = None
    if settings.gar_audience:
        verifier = OidcVerifier(settings.gar_audience, settings.gar_jwks_url,
                                settings.gar_service_account)
    return build_sources(verifier)
