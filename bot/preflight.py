"""What `serve` checks before it takes a webhook: its settings' URLs, the config, the
manifests repository (there, fetchable, pushable), the forge's credentials and their
permissions. Each check answers a core.startup.Fault or None; the first fault wins."""

from __future__ import annotations

import re
from pathlib import Path

from .adapters.forges.access import access_fault
from .adapters.git import GitError, GitRepo
from .adapters.git_origin import local_remote_fault
from .core.config import ConfigError, load_config
from .core.startup import Fault, git_fault, url_fault
from .log import redact_url
from .settings import Settings

# git's URL forms: scheme://..., or scp-like user@host:path.
_GIT_URL = re.compile(r"^(?:(?:file|https?|ssh|git)://\S+|[\w.-]+@[\w.-]+:\S+)$")


def settings_fault(settings: Settings) -> Fault | None:
    """A URL setting that is not one."""
    repo = settings.manifests_repo
    if repo and not _GIT_URL.match(repo):
        return Fault(f"HOIST_MANIFESTS_REPO={redact_url(repo, repo)!r} is not a git URL",
                     "use https://host/owner/repo.git, ssh://..., git@host:owner/repo or "
                     "file:///path/to/bare.git")
    urls = [("HOIST_PUBLIC_URL", settings.public_url)]
    if settings.forge == "github":
        urls.append(("HOIST_GITHUB_API_URL", settings.github_api_url))
    if settings.forge == "gitlab":
        urls.append(("HOIST_GITLAB_URL", settings.gitlab_url))
    if settings.forge == "gitea":
        urls.append(("HOIST_GITEA_URL", settings.gitea_url))
    if settings.forge == "bitbucket-datacenter":
        urls.append(("HOIST_BITBUCKET_DC_URL", settings.bitbucket_dc_url))
    if settings.forge == "bitbucket":
        urls.append(("HOIST_BITBUCKET_URL", settings.bitbucket_url))
    if settings.forge == "azure-devops":
        urls.append(("HOIST_AZURE_DEVOPS_URL", settings.azure_devops_url))
    return next((f for f in (url_fault(name, value) for name, value in urls) if f), None)


def config_file_fault(path: Path) -> Fault | None:
    """A `--config` file that is missing or invalid (its first problem, with its line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return Fault(f"--config {path}: {exc.strerror}",
                     "pass an existing hoist.yaml, or omit --config to read the repo's")
    try:
        load_config(text, str(path))
    except ConfigError as exc:
        return Fault(exc.problems[0], f"fix {path} (hoist check --config {path})")
    return None


def branch_config_fault(git: GitRepo, settings: Settings) -> Fault | None:
    """hoist.yaml on the manifests repo's default branch, missing or invalid."""
    name, shown = settings.config_path, redact_url(git.url, git.url)
    tip = git.tip("HEAD") or git.tip("main")
    text = git.read(tip, name) if tip else None
    if tip is None or text is None:
        return Fault(f"{name} is not on the default branch of {shown}",
                     "commit one there (hoist init writes a start), or pass --config")
    try:
        load_config(text, name)
    except ConfigError as exc:
        return Fault(f"{name} at {tip[:12]}: {exc.problems[0].removeprefix(name + ':')}",
                     "fix it on the default branch (hoist check --config FILE)")
    return None


def before_git_fault(settings: Settings) -> Fault | None:
    """The checks a process running the flows makes before its first fetch, in order
    (settings, --config file, a file:// repository, the forge's credentials); the first
    fault found."""
    fault = settings_fault(settings)
    if fault is None and settings.config_file is not None:
        fault = config_file_fault(settings.config_file)
    if fault is None and settings.manifests_repo:
        fault = local_remote_fault(settings.manifests_repo)
    return fault or access_fault(settings)


def fetch_fault(git: GitRepo) -> Fault | None:
    """The first fetch of the manifests repository, failed: why, and whether to retry."""
    try:
        git.sync()
    except GitError as exc:
        return git_fault(redact_url(git.url, git.url), str(exc))
    return None
