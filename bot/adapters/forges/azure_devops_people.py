"""Who may do what on Azure DevOps, for another user than the token's.

`_apis/permissions/{namespace}/{bits}` answers for the calling identity only, so a
commenter's permission is read from the Git Repositories security namespace's access
control list for the repository's token (`repoV2/{projectId}/{repositoryId}`), asked for
the commenter's identity descriptor with `includeExtendedInfo=true`: the entry's
`extendedInfo.effectiveAllow` / `effectiveDeny` are the permissions the identity has there,
inherited ones (project, groups) included ("Access Control Lists - Query", the same call
`az devops security permission show` makes). The bits map onto Hoist's ladder in
core/azure_devops.ladder_of. The identity is found by its sign-in name
(`_apis/identities?searchFilter=General`); team membership is Graph's membership check
(`HEAD _apis/graph/memberships/{subject}/{container}`: 200 member, 404 not)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ...core.azure_devops import ladder_of
from .azure_devops_api import PREVIEW, AzureDevOpsApi, AzureDevOpsError

GIT_REPOSITORIES = "2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87"


def identity(api: AzureDevOpsApi, user: str) -> dict[str, Any] | None:
    """The identity whose account (sign-in name) is `user`: `descriptor` (for ACLs) and
    `subjectDescriptor` (for Graph); None when there is none."""
    found = api.request("identity", "GET", f"{api.identities}/_apis/identities", params={
        "searchFilter": "General", "filterValue": user, "queryMembership": "None"})
    candidates = [i for i in (found or {}).get("value") or [] if isinstance(i, dict)]
    for candidate in candidates:
        account = ((candidate.get("properties") or {}).get("Account") or {}).get("$value")
        if isinstance(account, str) and account.lower() == user.lower():
            return candidate
    return candidates[0] if len(candidates) == 1 else None


def permission(api: AzureDevOpsApi, token: str, user: str) -> str:
    """The user's rung on the ladder for the repository's security token; "none" when Azure
    knows no such user."""
    person = identity(api, user)
    descriptor = person.get("descriptor") if person else None
    if not descriptor:
        return "none"
    found = api.request("access_control", "GET",
                        f"{api.url}/_apis/accesscontrollists/{GIT_REPOSITORIES}", params={
                            "token": token, "descriptors": descriptor,
                            "includeExtendedInfo": "true", "recurse": "false"})
    allowed = denied = 0
    for acl in (found or {}).get("value") or []:
        for entry in (acl.get("acesDictionary") or {}).values():
            if str(entry.get("descriptor", "")).lower() != str(descriptor).lower():
                continue
            extended = entry.get("extendedInfo") or {}
            allowed |= int(extended.get("effectiveAllow", entry.get("allow", 0)) or 0)
            denied |= int(extended.get("effectiveDeny", entry.get("deny", 0)) or 0)
    return ladder_of(allowed & ~denied)


def teams_of(api: AzureDevOpsApi, user: str, teams: list[str]) -> list[str]:
    """Which of the `project/team` teams (a project's team, or a `[project]` group named
    like one) the user is a direct member of."""
    person = identity(api, user)
    subject = person.get("subjectDescriptor") if person else None
    if not subject:
        return []
    member_of = []
    for team in teams:
        project, _, name = team.partition("/")
        found = api.request("team", "GET", f"{api.url}/_apis/projects/{quote(project, safe='')}"
                            f"/teams/{quote(name, safe='')}", missing=(404,))
        if not found or not found.get("id"):
            continue
        container = api.request("descriptor", "GET",
                                f"{api.identities}/_apis/graph/descriptors/{found['id']}",
                                version=PREVIEW, missing=(404,))
        if not container or not container.get("value"):
            continue
        try:
            api.request("membership", "HEAD", f"{api.identities}/_apis/graph/memberships/"
                        f"{subject}/{container['value']}", version=PREVIEW)
        except AzureDevOpsError as exc:
            if exc.status != 404:  # 404: not a member
                raise
            continue
        member_of.append(team)
    return member_of
