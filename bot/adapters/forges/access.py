"""Ask the forge, once at start, whether Hoist's credentials may do its work on the
manifests repository (core/startup.py decides what each answer means)."""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from ...core.startup import (
    Fault,
    azure_devops_fault,
    bitbucket_fault,
    gitea_fault,
    github_app_fault,
    github_token_fault,
    gitlab_fault,
    http_fault,
)
from ...settings import Settings
from .azure_devops_people import GIT_REPOSITORIES
from .bitbucket import auth_header

CONTRIBUTE_BITS = 4 | 16384  # GenericContribute | PullRequestContribute


def _get(forge: str, variable: str, target: str, url: str, headers: dict[str, str],
         timeout: float) -> tuple[dict[str, Any], Fault | None]:
    """The JSON object at url, or the fault its answer (or its silence) means."""
    try:
        response = httpx.get(url, headers=headers, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        return {}, Fault(f"{forge} at {url.split('/', 3)[2]} did not answer ({exc})",
                         "retrying", transient=True)
    try:
        data = response.json()
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    message = str(data.get("message") or response.reason_phrase)
    return data, http_fault(forge, variable, target, response.status_code, message)


def _app_jwt(app_id: str, private_key: str) -> str:
    """A GitHub App's RS256 JWT (docs: "Generating a JSON Web Token for a GitHub App")."""
    now = int(time.time())
    return jwt.encode({"iat": now - 60, "exp": now + 540, "iss": app_id}, private_key,
                      algorithm="RS256")


def access_fault(settings: Settings) -> Fault | None:
    """What stops the forge's credentials from doing Hoist's work, or None (the local
    forge needs nothing). Never raises: an unreachable forge is a transient fault."""
    timeout = max(settings.forge_timeout, 1.0)
    if settings.forge == "github" and settings.github_repository:
        repo = settings.github_repository
        base = settings.github_api_url.rstrip("/")
        if settings.github_token:
            data, fault = _get("GitHub", "HOIST_GITHUB_TOKEN", repo, f"{base}/repos/{repo}",
                               {"Authorization": f"Bearer {settings.github_token}",
                                "Accept": "application/vnd.github+json"}, timeout)
            return fault or github_token_fault(repo, data.get("permissions"))
        if settings.github_app_id and settings.github_private_key:
            try:
                token = _app_jwt(settings.github_app_id, settings.github_private_key)
            except (ValueError, jwt.PyJWTError) as exc:
                return Fault(f"HOIST_GITHUB_PRIVATE_KEY cannot sign ({exc})",
                             "set it to the App's PEM private key")
            data, fault = _get("GitHub", "HOIST_GITHUB_APP_ID", repo,
                               f"{base}/repos/{repo}/installation",
                               {"Authorization": f"Bearer {token}",
                                "Accept": "application/vnd.github+json"}, timeout)
            return fault or github_app_fault(repo, data.get("permissions"))
    if settings.forge == "gitlab" and settings.gitlab_token and settings.gitlab_project:
        project = settings.gitlab_project
        data, fault = _get("GitLab", "HOIST_GITLAB_TOKEN", project,
                           f"{settings.gitlab_url}/api/v4/projects/{quote(project, safe='')}",
                           {"PRIVATE-TOKEN": settings.gitlab_token}, timeout)
        return fault or gitlab_fault(project, data.get("permissions"))
    if settings.forge == "gitea" and settings.gitea_token and settings.gitea_url:
        repo = settings.gitea_repository or ""
        data, fault = _get("Gitea", "HOIST_GITEA_TOKEN", repo,
                           f"{settings.gitea_url}/api/v1/repos/{repo}",
                           {"Authorization": f"token {settings.gitea_token}"}, timeout)
        return fault or gitea_fault(repo, data.get("permissions"))
    if settings.forge == "bitbucket-datacenter" and settings.bitbucket_dc_token and \
            settings.bitbucket_dc_url:
        return _bitbucket_dc_fault(settings, timeout)
    if settings.forge == "bitbucket" and settings.bitbucket_token:
        return _bitbucket(settings, settings.bitbucket_token, timeout)
    if settings.forge == "azure-devops" and settings.azure_devops_token and \
            settings.azure_devops_url and settings.azure_devops_repository:
        return _azure_devops_fault(settings.azure_devops_url, settings.azure_devops_repository,
                                   settings.azure_devops_token, timeout)
    return None


def _bitbucket_dc_fault(settings: Settings, timeout: float) -> Fault | None:
    """GET the repository, then whether the token may write to it: GET /repos?permission=
    REPO_WRITE&projectkey=&name= lists it only if so (Bitbucket Data Center REST 1.0)."""
    assert settings.bitbucket_dc_token and settings.bitbucket_dc_url
    repo = settings.bitbucket_dc_repository or ""
    project, _, slug = repo.partition("/")
    api = f"{settings.bitbucket_dc_url}/rest/api/1.0"
    headers = {"Authorization": f"Bearer {settings.bitbucket_dc_token}"}
    data, fault = _get("Bitbucket", "HOIST_BITBUCKET_DC_TOKEN", repo,
                       f"{api}/projects/{project}/repos/{slug}", headers, timeout)
    if fault:
        return fault
    found, fault = _get("Bitbucket", "HOIST_BITBUCKET_DC_TOKEN", repo,
                        f"{api}/repos?permission=REPO_WRITE&projectkey={quote(project)}"
                        f"&name={quote(str(data.get('name') or slug))}&limit=1000",
                        headers, timeout)
    if fault or any(r.get("id") == data.get("id") for r in found.get("values") or []
                    if isinstance(r, dict)):
        return fault
    return Fault(f"HOIST_BITBUCKET_DC_TOKEN cannot write to {repo}",
                 "give the token (or its user) REPO_WRITE on the repository; REPO_ADMIN "
                 "to read who may approve")


def _bitbucket(settings: Settings, token: str, timeout: float) -> Fault | None:
    """The repository must be visible; an app password's user must have write on it (an
    access token has no user of its own: its scopes were chosen when it was made)."""
    repo, base = settings.bitbucket_repository or "", settings.bitbucket_url
    auth = {"Authorization": auth_header(token)}
    _, fault = _get("Bitbucket", "HOIST_BITBUCKET_TOKEN", repo, f"{base}/repositories/{repo}",
                    auth, timeout)
    if fault or ":" not in token:
        return fault
    query = quote(f'repository.full_name="{repo}"')
    data, fault = _get("Bitbucket", "HOIST_BITBUCKET_TOKEN", repo,
                       f"{base}/user/permissions/repositories?q={query}", auth, timeout)
    return fault or bitbucket_fault(repo, data.get("values"))


def _azure_devops_fault(url: str, repository: str, token: str, timeout: float
                        ) -> Fault | None:
    """The repository (GET .../git/repositories/{repo}), then the token's own Contribute and
    Contribute-to-pull-requests bits on it (Basic auth: an empty user name and the PAT)."""
    headers = {"Authorization": "Basic " + base64.b64encode(f":{token}".encode()).decode()}
    project, _, name = repository.partition("/")
    variable = "HOIST_AZURE_DEVOPS_TOKEN"
    data, fault = _get("Azure DevOps", variable, repository,
                       f"{url}/{quote(project, safe='')}/_apis/git/repositories/"
                       f"{quote(name, safe='')}?api-version=7.1", headers, timeout)
    if fault:
        return fault
    token_of_repo = f"repoV2/{(data.get('project') or {}).get('id')}/{data.get('id')}"
    data, fault = _get("Azure DevOps", variable, repository,
                       f"{url}/_apis/permissions/{GIT_REPOSITORIES}/{CONTRIBUTE_BITS}"
                       f"?tokens={quote(token_of_repo, safe='')}&api-version=7.1", headers,
                       timeout)
    return fault or azure_devops_fault(repository, data.get("value"))
