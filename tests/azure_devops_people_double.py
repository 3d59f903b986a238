"""The people side of the Azure DevOps double: identities found by sign-in name, the Git
Repositories access control list of the repository (its entries' `extendedInfo` carry each
identity's effective permissions), teams, Graph descriptors and Graph's membership check
(answered by status only, as graph_membership_check.json publishes). Shapes from the REST
reference ("Identities - Read Identities", "Access Control Lists - Query", "Teams - Get",
"Descriptors - Get", "Memberships - Check Membership Existence")."""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.forge_double import ForgeDouble, Handler, Reply

ORG = "fabrikam"
PROJECT_ID = "a7573007-bbb3-4341-b726-0c4148a07853"  # pullrequest_get.json's project
# Git Repositories bits each rung of Hoist's ladder stands for (core/azure_devops.ladder_of).
BITS = {"none": 0, "read": 2, "triage": 2 | 16384, "write": 2 | 4 | 16 | 16384,
        "maintain": 2 | 4 | 16 | 16384 | 128 | 2048, "admin": 0xFFFF}


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


class AzurePeople(ForgeDouble):
    """Who is who on the double's organization."""

    def known(self, login: str) -> bool:
        return login == self.bot_login or login in self.permissions or any(
            login in members for members in self.team_members.values())

    @staticmethod
    def descriptor(login: str) -> str:
        return f"Microsoft.IdentityModel.Claims.ClaimsIdentity;acme.example\\{login}"

    def connection_data(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET {org}/_apis/connectionData: who the token is."""
        me = {"id": "00000000-0000-0000-0000-00000000b07b", "descriptor":
              self.descriptor(self.bot_login), "providerDisplayName": "Hoist", "isActive": True,
              "properties": {"Account": {"$type": "System.String", "$value": self.bot_login}}}
        return 200, {"authenticatedUser": me, "authorizedUser": me,
                     "instanceId": "c12d0eb8-e382-443b-9f9c-c52cba5014c2",
                     "locationServiceData": {}}

    def has_permissions(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET _apis/permissions/{namespace}/{bits}?tokens=...: one bool per token, for the
        caller (security_permissions_get.json); a token in `token_permissions` answers
        what it says there."""
        tokens = [t for t in query.get("tokens", "").split(",") if t]
        allowed = self.token_permissions.get(self.caller, True)
        return 200, {"count": len(tokens), "value": [bool(allowed)] * len(tokens)}

    def identities(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        login = query.get("filterValue", "")
        if query.get("searchFilter") != "General" or not self.known(login):
            return 200, {"count": 0, "value": []}
        return 200, {"count": 1, "value": [{
            "id": f"00000000-0000-0000-0000-{abs(hash(login)) % 10**12:012d}",
            "descriptor": self.descriptor(login), "subjectDescriptor": f"aad.{_b64(login)}",
            "providerDisplayName": login.title(), "isActive": True, "isContainer": False,
            "members": [], "memberOf": [], "memberIds": [], "resourceVersion": 2,
            "metaTypeId": 0, "properties": {
                "Account": {"$type": "System.String", "$value": login},
                "Mail": {"$type": "System.String", "$value": f"{login}@acme.example"}}}]}

    def access_control(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        token = f"repoV2/{PROJECT_ID}/{self.repository_id}"
        if query.get("token") != token:
            return 200, {"count": 0, "value": []}
        descriptor = query.get("descriptors", "")
        login = descriptor.rpartition("\\")[2]
        role = "admin" if login == self.bot_login else self.permissions.get(login, "none")
        entry = {"descriptor": descriptor, "allow": 0, "deny": 0, "extendedInfo": {
            "effectiveAllow": BITS[role], "effectiveDeny": 0, "inheritedAllow": BITS[role],
            "inheritedDeny": 0}}
        return 200, {"count": 1, "value": [{"inheritPermissions": True, "token": token,
                                            "acesDictionary": {descriptor: entry}}]}

    def team(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        team = f"{m.group('project')}/{m.group('team')}"
        if team not in self.team_members:
            return 404, {"message": f"TF400898: The team {team} does not exist."}
        return 200, {"id": f"{abs(hash(team)) % 10**8:08d}-0000-0000-0000-000000000000",
                     "name": m.group("team"), "projectName": m.group("project"),
                     "projectId": PROJECT_ID, "description": "", "identityUrl": ""}

    def graph_descriptor(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        return 200, {"value": f"vssgp.{_b64(m.group('id'))}"}

    def membership(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        login = base64.urlsafe_b64decode(m.group("subject") + "==").decode()
        team_id = base64.urlsafe_b64decode(m.group("container") + "==").decode()
        for team, members in self.team_members.items():
            if f"{abs(hash(team)) % 10**8:08d}-" in team_id and login in members:
                return 200, None
        return 404, None


PEOPLE_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", rf"/{ORG}/_apis/connectionData$", AzurePeople.connection_data),
    ("GET", rf"/{ORG}/_apis/identities$", AzurePeople.identities),
    ("GET", rf"/{ORG}/_apis/permissions/[0-9a-f-]+/\d+/?$", AzurePeople.has_permissions),
    ("GET", rf"/{ORG}/_apis/accesscontrollists/[0-9a-f-]+$", AzurePeople.access_control),
    ("GET", rf"/{ORG}/_apis/projects/(?P<project>[^/]+)/teams/(?P<team>[^/]+)$",
     AzurePeople.team),
    ("GET", rf"/{ORG}/_apis/graph/descriptors/(?P<id>[^/]+)$", AzurePeople.graph_descriptor),
    ("HEAD", rf"/{ORG}/_apis/graph/memberships/aad\.(?P<subject>[^/]+)/vssgp\.(?P<container>[^/]+)$",
     AzurePeople.membership),
]
