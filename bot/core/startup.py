"""What `serve` checks before it says it is ready, decided on plain answers: a fault a
person must fix (serve stops with one line) or a transient one (serve waits and retries)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fault:
    """What is wrong (`what`, naming the thing) and what to do about it (`fix`);
    `transient` faults are retried (the forge answered 5xx, the store is not up yet)."""

    what: str
    fix: str
    transient: bool = False

    @property
    def line(self) -> str:
        """The one line shown to a person: `<what>: <fix>` (what alone when it says both)."""
        return f"{self.what}: {self.fix}" if self.fix else self.what


_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://(?:[^@/\s]*@)?[^/\s:?#@]+(?::\d+)?(?:[/?#]\S*)?$")


def url_fault(name: str, value: str | None, schemes: tuple[str, ...] = ("http", "https")
              ) -> Fault | None:
    """A setting holding a URL (`name=value`) that is not one with these schemes and a host."""
    if not value:
        return None
    found = _URL.match(value)
    if found and found.group(1).lower() in schemes:
        return None
    return Fault(f"{name}={value!r} is not a URL",
                 f"set it to a {' or '.join(s + '://' for s in schemes)}host/... URL")


# git's own words for a remote that will never answer differently without a person: a
# missing repository, refused credentials, an unknown host. Anything else (timeouts,
# refused connections, 5xx) is retried.
_GIT_FATAL = re.compile(
    r"does not appear to be a git repository|not found|authentication failed|"
    r"could not read (username|password)|permission denied|returned error: 40[134]|"
    r"could not resolve host|invalid username|unable to access '[^']*': URL", re.I)


def git_fault(shown_url: str, message: str) -> Fault:
    """What a failed fetch of the manifests repository (its URL shown without credentials,
    git's message) means for start-up."""
    reason = message.removeprefix("git fetch failed: ").splitlines()[-1] if message else "?"
    if _GIT_FATAL.search(message):
        return Fault(f"HOIST_MANIFESTS_REPO={shown_url} cannot be fetched ({reason})",
                     "point it at a git repository Hoist's credentials may read and push to")
    return Fault(f"the manifests repository {shown_url} did not answer ({reason})",
                 "retrying", transient=True)


def http_fault(forge: str, variable: str, target: str, status: int, message: str) -> Fault | None:
    """What a forge's answer to Hoist's first request means: None for 2xx; a person's
    fault for 401/403/404 (credentials refused, repository not visible); else transient."""
    if status < 300:
        return None
    if status == 401:
        return Fault(f"{forge} refuses {variable} ({status} {message})",
                     f"set {variable} to a valid, unexpired token")
    if status in (403, 404):
        return Fault(f"{forge} does not show {target} to {variable} ({status} {message})",
                     f"check the repository name and give {variable} access to it")
    return Fault(f"{forge} answered {status} for {target} ({message})", "retrying",
                 transient=True)


def github_token_fault(repository: str, permissions: Mapping[str, Any] | None) -> Fault | None:
    """GET /repos/{owner}/{repo}'s `permissions` for a token: Hoist pushes branches and
    opens pull requests, so it needs `push` (contents, pull requests and issues: write)."""
    if permissions and permissions.get("push"):
        return None
    have = ", ".join(sorted(k for k, v in (permissions or {}).items() if v)) or "none"
    return Fault(f"HOIST_GITHUB_TOKEN cannot push to {repository} (it has: {have})",
                 "give the token write access to contents, pull requests and issues "
                 "(classic: the repo scope)")


APP_NEEDS = {"contents": "write", "pull_requests": "write", "issues": "write"}


def github_app_fault(repository: str, permissions: Mapping[str, Any] | None) -> Fault | None:
    """A GitHub App installation's `permissions` ({name: read|write}) on the repository."""
    granted = permissions or {}
    missing = [f"{name}: {level}" for name, level in APP_NEEDS.items()
               if granted.get(name) not in (level, "admin")]
    if not missing:
        return None
    return Fault(f"the GitHub App installed on {repository} lacks {', '.join(missing)}",
                 "grant these permissions in the App's settings and accept them on the "
                 "installation")


GITLAB_DEVELOPER = 30  # pushes branches, opens and merges merge requests


def gitlab_fault(project: str, permissions: Mapping[str, Any] | None) -> Fault | None:
    """GET /projects/:id's `permissions` (project_access and group_access, each with an
    access_level or null): Hoist needs Developer (30) or more."""
    found = permissions or {}
    levels = [int((found.get(k) or {}).get("access_level") or 0)
              for k in ("project_access", "group_access")]
    if max(levels) >= GITLAB_DEVELOPER:
        return None
    return Fault(f"HOIST_GITLAB_TOKEN has access level {max(levels)} on {project}",
                 "give its user the Developer role (30) or more on the project")


def gitea_fault(repository: str, permissions: Mapping[str, Any] | None) -> Fault | None:
    """GET /repos/{owner}/{repo}'s `permissions` ({admin, push, pull}): Hoist needs push."""
    if permissions and permissions.get("push"):
        return None
    return Fault(f"HOIST_GITEA_TOKEN cannot push to {repository}",
                 "give its user write access to the repository")


def bitbucket_fault(repository: str, values: Any) -> Fault | None:
    """GET /user/permissions/repositories?q=repository.full_name="…"'s `values` (the token's
    user's `permission`: admin, write, read; none listed: no access): Hoist needs write."""
    found = [v.get("permission") for v in values if isinstance(v, dict)] \
        if isinstance(values, list) else []
    if any(p in ("write", "admin") for p in found):
        return None
    return Fault(f"HOIST_BITBUCKET_TOKEN's user cannot write to {repository} "
                 f"(it has: {', '.join(map(str, found)) or 'no access'})",
                 "give the user write access to the repository")
def azure_devops_fault(repository: str, allowed: Any) -> Fault | None:
    """GET _apis/permissions/{Git Repositories}/{Contribute | Contribute to pull
    requests}?tokens=repoV2/{project}/{repository} answers `value`: [bool] for the token's
    own identity (REST "Permissions - Has Permissions"): Hoist pushes branches and opens,
    comments on and completes pull requests."""
    if isinstance(allowed, list) and allowed and all(v is True for v in allowed):
        return None
    return Fault(f"HOIST_AZURE_DEVOPS_TOKEN cannot contribute to {repository}",
                 "give the token the Code (Read & write) scope and its user Contribute and "
                 "Contribute to pull requests on the repository")


# A database server's words for what only a person can change.
_STORE_FATAL = re.compile(r"password authentication failed|authentication failed|"
                          r"does not exist|no pg_hba\.conf entry|permission denied|"
                          r"unable to open database file|readonly database|read-only file",
                          re.I)


def store_fault(message: str) -> Fault:
    """What an unreachable store (the driver's message, password hidden) means at start:
    refused credentials or a missing database need a person; anything else is waited for."""
    if _STORE_FATAL.search(message):
        return Fault(f"the store refuses Hoist ({message})",
                     "fix HOIST_DATABASE_URL (user, password, database) or HOIST_DATA_DIR")
    return Fault(f"the store is unreachable ({message})", "retrying", transient=True)
