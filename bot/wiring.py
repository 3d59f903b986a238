"""Build the adapters and services from Settings: the one place that knows them all."""

from __future__ import annotations

import structlog
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

from .adapters.argocd import ArgoCdClient
from .adapters.config_source import ConfigSource
from .adapters.deployments import deployments_for
from .adapters.forges import Forge
from .adapters.forges.azure_devops import AzureDevOpsForge
from .adapters.forges.azure_devops_statuses import AzureDevOpsStatuses
from .adapters.forges.bitbucket import BitbucketForge
from .adapters.forges.bitbucket_datacenter import BitbucketDataCenterForge
from .adapters.forges.gitea import GiteaForge
from .adapters.forges.github import GitHubForge
from .adapters.forges.gitlab import GitLabForge
from .adapters.forges.local import LocalForge
from .adapters.git import GitRepo
from .adapters.git_origin import repoint
from .adapters.notify import Notifier
from .adapters.oidc import OidcVerifier
from .adapters.registry import RegistryClient, load_credentials
from .adapters.rendering import RenderEngine
from .adapters.signing import CommitSigner, SigningError, key_from_settings
from .adapters.store import Store
from .adapters.verify.attest import load_attestation_key
from .adapters.verify.keys import KeyProblem
from .adapters.verify.verifier import Verifier
from .core.polling import parse_poll_setting
from .flows.services import Services
from .log import redact_url
from .settings import Settings
from .sources import Source, build_sources

__all__ = ["ConfigSource", "build_services", "build_store"]

log = structlog.get_logger()


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


def start_signer(settings: Settings) -> CommitSigner | None:
    """The commit signing key made ready (held in memory only: nothing of it outlives the
    process), or None when no key is configured; SigningError when it cannot sign (or
    the attestation key cannot be read)."""
    attestation_key(settings)
    key = key_from_settings(settings.signing_key, settings.signing_key_file,
                            settings.signing_format, settings.signing_passphrase)
    if key is None:
        return None
    signer = CommitSigner(key)
    log.info("git.signing", format=signer.format, key=signer.key_id)
    return signer


def attestation_key(settings: Settings) -> EllipticCurvePrivateKey | None:
    """Hoist's attestation key (HOIST_ATTESTATION_KEY[_FILE]), or None; SigningError when
    it cannot be read."""
    try:
        return load_attestation_key(settings.attestation_key, settings.attestation_key_file,
                                    settings.attestation_passphrase)
    except KeyProblem as exc:
        raise SigningError(f"HOIST_ATTESTATION_KEY: {exc}") from None


def build_services(settings: Settings, store: Store | None = None,
                   signer: CommitSigner | None = None) -> Services:
    """Store, git cache (fetched), forge and config source for these settings. SigningError
    when a signing key is configured but unusable; GitError when the fetch fails."""
    assert settings.manifests_repo is not None
    signer = signer or start_signer(settings)
    store = store or build_store(settings)
    git = GitRepo(settings.manifests_repo, settings.data_dir / "manifests.git",
                  token=settings.forge_token, signer=signer.sign if signer else None)
    forge = build_forge(settings, store, git)
    if isinstance(forge, GitHubForge) and settings.github_app_id:
        git.token = forge.git_token  # an installation token, refreshed before it expires
    if isinstance(forge, BitbucketDataCenterForge):
        git.auth_scheme = "bearer"
    old = repoint(git.path, git.url)  # a cache filled from another repository is re-made
    if old is not None:
        log.warning("git.cache_repointed", cache=str(git.path), was=old,
                    now=redact_url(git.url, git.url))
    git.sync()
    registry = RegistryClient(load_credentials(), settings.insecure_registries)
    services = Services(store, git, forge,
                        ConfigSource(git, settings.config_path, settings.config_file,
                                     max_age=settings.config_max_age),
                        registry, settings.github_bot_login or _own_login(forge))
    services.argocd = lambda server: ArgoCdClient(server, settings.argocd_token)
    services.notify = Notifier(settings.notify_urls, settings.notify_url)
    services.public_url = settings.public_url
    services.deployments = deployments_for(forge)
    if isinstance(forge, AzureDevOpsForge):  # no deployments API: commit and PR statuses
        services.deployments = AzureDevOpsStatuses(forge.api)
    services.polling = parse_poll_setting(settings.poll_registries)
    services.renderer = RenderEngine(settings.render_timeout) if settings.render else None
    services.verifier = Verifier(registry, settings.sigstore_trusted_root, attestation_key(settings))
    return services


def build_forge(settings: Settings, store: Store, git: GitRepo) -> Forge:
    """The forge HOIST_FORGE (or the credentials set) names."""
    timeout = settings.forge_timeout
    if settings.forge == "github":
        assert settings.github_repository is not None
        return GitHubForge(store, settings.github_repository, token=settings.github_token,
                           app_id=settings.github_app_id,
                           private_key=settings.github_private_key,
                           base_url=settings.github_api_url, bot_login=settings.github_bot_login,
                           pace=settings.github_pace, timeout=int(max(timeout, 1)))
    if settings.forge == "gitlab":
        assert settings.gitlab_token and settings.gitlab_project
        return GitLabForge(store, settings.gitlab_project, token=settings.gitlab_token,
                           url=settings.gitlab_url, timeout=timeout)
    if settings.forge == "gitea":
        assert settings.gitea_token and settings.gitea_url and settings.gitea_repository
        return GiteaForge(store, settings.gitea_repository, token=settings.gitea_token,
                          url=settings.gitea_url, timeout=timeout)
    if settings.forge == "bitbucket-datacenter":
        assert settings.bitbucket_dc_token and settings.bitbucket_dc_url
        assert settings.bitbucket_dc_repository
        return BitbucketDataCenterForge(store, settings.bitbucket_dc_repository,
                                        token=settings.bitbucket_dc_token,
                                        url=settings.bitbucket_dc_url, timeout=timeout)
    if settings.forge == "bitbucket":
        assert settings.bitbucket_token and settings.bitbucket_repository
        return BitbucketForge(store, settings.bitbucket_repository,
                              token=settings.bitbucket_token, url=settings.bitbucket_url,
                              timeout=timeout)
    if settings.forge == "azure-devops":
        assert settings.azure_devops_token and settings.azure_devops_url and \
            settings.azure_devops_repository
        return AzureDevOpsForge(store, settings.azure_devops_repository,
                                token=settings.azure_devops_token,
                                url=settings.azure_devops_url, timeout=timeout)
    return LocalForge(store, git)


def _own_login(forge: Forge) -> str | None:
    """Hoist's own account on GitLab, Gitea, Bitbucket or Azure DevOps (its comments never
    count), asked once at start; unknown (and logged) when the forge does not answer yet."""
    if not isinstance(forge, GitLabForge | GiteaForge | BitbucketForge | BitbucketDataCenterForge
                      | AzureDevOpsForge):
        return None
    try:
        return forge.bot_login
    except Exception as exc:
        log.warning("forge.whoami_failed", forge=forge.name, error=str(exc))
        return None


def build_sources_for(settings: Settings) -> dict[str, Source]:
    """Webhook sources; Artifact Registry requires Pub/Sub OIDC tokens when an audience is set."""
    verifier = None
    if settings.gar_audience:
        verifier = OidcVerifier(settings.gar_audience, settings.gar_jwks_url,
                                settings.gar_service_account)
    return build_sources(verifier)
