"""A loopback double of the Azure DevOps REST API 7.1 endpoints Hoist uses, backed by a real
bare repository: pull-request sources are real refs, completions are real git commits.
Answers are the REST spec's published examples (shared/fixtures/azure-devops/api, the
`responses."<status>".body` of each request/response pair) with the fields that change
filled in; where no example was published (repository, labels, likes, policy evaluations,
identities, access control lists, teams, graph descriptors), the shape is the REST
reference's, as FORGES-SOURCES.md notes. The organization is `fabrikam`; `full_name` is
`project/repository`."""

from __future__ import annotations

import base64
import copy
import json
import re
from typing import Any, ClassVar

from bot.core.azure_devops import comment_key, split_comment_key
from tests.azure_devops_people_double import ORG, PEOPLE_ROUTES, PROJECT_ID, AzurePeople
from tests.forge_double import Reply
from tests.support import FIXTURES

EXAMPLES = FIXTURES / "azure-devops" / "api"
R = rf"/{ORG}/(?P<project>[^/]+)/_apis/git/repositories/(?P<repo>[^/]+)"
PR = R + r"/pull[Rr]equests/(?P<n>\d+)"
VOTES = {"APPROVED": 10, "COMMENTED": 0, "CHANGES_REQUESTED": -10}


def example(name: str, status: str = "200") -> Any:
    """The published reply body of request/response pair `name`."""
    return json.loads((EXAMPLES / f"{name}.json").read_text())["responses"][status]["body"]


class AzureDevOpsDouble(AzurePeople):
    kind = "azure-devops"
    # The repository the published service-hook examples about pull requests and comments
    # are about (git.pullrequest.*.json: Fabrikam's 4bc14d40-…).
    repository_id = "4bc14d40-c903-45e2-872e-0462c7748079"
    REACTIONS: ClassVar[dict[str, str]] = {"+1": "like", "confused": "wontFix"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.threads: dict[int, int] = {}  # thread id -> pull request number
        self.statuses: list[tuple[str, str, str]] = []  # (url path, state, context name)
        self.token_seen: list[str] = []

    @property
    def api_url(self) -> str:
        """HOIST_AZURE_DEVOPS_URL for this double (the organization's URL)."""
        return f"{self.url}/{ORG}"

    def refuse(self, method: str, path: str, headers: dict[str, str]) -> Reply | None:
        """Basic auth with an empty user name and the personal access token."""
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return 401, {"message": "TF400813: The user is not authorized."}
        self.caller = base64.b64decode(value).decode().partition(":")[2]
        self.token_seen.append(self.caller)
        return None

    def user_json(self, login: str) -> dict[str, Any]:
        data = dict(example("pullrequest_get")["createdBy"])
        data.update(id=f"00000000-0000-0000-0000-{abs(hash(login)) % 10**12:012d}",
                    displayName=login.title(), uniqueName=login)
        return data

    def repository_json(self) -> dict[str, Any]:
        project, name = self.full_name.split("/")
        data: dict[str, Any] = copy.deepcopy(example("pullrequest_get")["repository"])
        data.update(id=self.repository_id, name=name,
                    url=f"{self.api_url}/_apis/git/repositories/{self.repository_id}",
                    remoteUrl=f"https://dev.azure.com/{ORG}/{project}/_git/{name}")
        data["project"].update(id=PROJECT_ID, name=project)
        return data

    def pull_json(self, number: int) -> dict[str, Any]:
        pull = self.pulls[number]
        done = {"open": "active", "closed": "abandoned"}[pull["state"]] \
            if not pull["merged"] else "completed"
        data: dict[str, Any] = copy.deepcopy(example("pullrequest_get"))
        head = pull["merged_head"] or self.sha(pull["head"]) or "0" * 40
        data.update(repository=self.repository_json(), pullRequestId=number,
                    codeReviewId=number, status=done, title=pull["title"],
                    description=pull["body"], sourceRefName=f"refs/heads/{pull['head']}",
                    targetRefName=f"refs/heads/{pull['base']}",
                    mergeStatus=pull.get("merge_status", "succeeded"),
                    createdBy=self.user_json(self.bot_login),
                    url=f"{self.api_url}/_apis/git/repositories/{self.repository_id}"
                        f"/pullRequests/{number}")
        data["lastMergeSourceCommit"]["commitId"] = head
        data["lastMergeTargetCommit"]["commitId"] = self.sha(pull["base"]) or "0" * 40
        data["lastMergeCommit"]["commitId"] = pull["merge_commit_sha"] or head
        if done != "active":
            data.update(closedDate="2026-01-01T00:00:00Z", closedBy=self.user_json(self.bot_login))
        data["reviewers"] = [self.reviewer_json(r) for r in self.reviews.get(number, [])]
        return data

    def reviewer_json(self, review: dict[str, Any]) -> dict[str, Any]:
        data = dict(example("pullrequest_reviewer_vote"))
        data.update(self.user_json(review["user"]), vote=VOTES.get(review["state"], 0))
        return data

    # people and comments, for tests ---------------------------------------------------------

    def add_comment(self, number: int, body: str, login: str) -> int:
        """`login` opens a thread on pull request `number` with one comment; its key."""
        thread = self.new_id()
        self.threads[thread] = number
        key = comment_key(thread, 1)
        self.comments.setdefault(number, []).append({"id": key, "body": body, "user": login})
        return key

    # routes -------------------------------------------------------------------------------

    def _ours(self, m: re.Match[str]) -> bool:
        return f"{m.group('project')}/{m.group('repo')}" == self.full_name or \
            m.group("repo") == self.repository_id

    def get_repo(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        if not self._ours(m):
            return 404, {"message": "TF401019: The Git repository does not exist."}
        return 200, {**self.repository_json(), "defaultBranch": "refs/heads/main"}

    def list_pulls(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        source, target = (query.get(f"searchCriteria.{k}RefName", "") for k in ("source", "target"))
        status = query.get("searchCriteria.status", "active")
        found = [self.pull_json(n) for n in sorted(self.pulls, reverse=True)]
        found = [p for p in found if status == "all" or p["status"] == status]
        found = [p for p in found if (not source or p["sourceRefName"] == source) and
                 (not target or p["targetRefName"] == target)]
        return 200, {"value": found[:int(query.get("$top", 101))], "count": len(found)}

    def create_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                    ) -> Reply:
        head = str(body.get("sourceRefName", "")).removeprefix("refs/heads/")
        base = str(body.get("targetRefName", "")).removeprefix("refs/heads/")
        if self.sha(head) is None or self.sha(base) is None:
            return 400, {"message": "TF401398: The pull request cannot be activated because "
                                    "the source and/or the target branch no longer exists."}
        if any(p["head"] == head and p["base"] == base and p["state"] == "open"
               for p in self.pulls.values()):
            return 409, {"message": "TF401179: An active pull request for the source and "
                                    "target branch already exists."}
        number = self.add_pull(head, base, body.get("title", ""), body.get("description") or "")
        self.pulls[number]["labels"] = [str(t["name"]) for t in body.get("labels") or []]
        return 201, self.pull_json(number)

    def get_pull(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        number = int(m.group("n"))
        if number not in self.pulls:
            return 404, {"message": "TF401180: The requested pull request was not found."}
        return 200, self.pull_json(number)

    def update_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                    ) -> Reply:
        number = int(m.group("n"))
        pull = self.pulls[number]
        if "title" in body:
            pull["title"] = body["title"]
        if "description" in body:
            pull["body"] = body["description"]
        if body.get("status") == "abandoned":
            pull["state"] = "closed"
        if body.get("status") == "completed":
            return self.complete(number, body)
        return 200, self.pull_json(number)

    def complete(self, number: int, body: dict[str, Any]) -> Reply:
        """Completion: refused (409) when the source moved on; accepted but held when a
        policy rejects (merge_refusal); else merged the way `mergeStrategy` says."""
        pull = self.pulls[number]
        if pull["state"] != "open" or pull["merged"]:
            return 409, {"message": "TF401181: The pull request cannot be edited due to its "
                                    "state."}
        expected = (body.get("lastMergeSourceCommit") or {}).get("commitId")
        if expected != self.sha(pull["head"]):
            return 409, {"message": "TF401192: The source branch has been updated since "
                                    "lastMergeSourceCommit."}
        if self.merge_refusal:
            return 200, self.pull_json(number)
        options = body.get("completionOptions") or {}
        strategy = options.get("mergeStrategy", "noFastForward")
        landed = self.land(number, "merge" if strategy == "noFastForward" else "squash",
                           options.get("mergeCommitMessage") or pull["title"], "", expected)
        if not isinstance(landed, str):
            pull["merge_status"] = "conflicts"
        return 200, self.pull_json(number)

    def policy_evaluations(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        number = int(query.get("artifactId", "").rsplit("/", 1)[-1])
        rejected = self.merge_refusal and self.pulls[number]["state"] == "open"
        found = [{"evaluationId": "6a8b1ef1-25a2-4a0c-8f3a-3b4d5f0c8e11",
                  "artifactId": query["artifactId"], "status": "rejected",
                  "configuration": {"id": 1, "isEnabled": True, "isBlocking": True,
                                    "type": {"displayName": "Build"},
                                    "settings": {"displayName": self.merge_refusal}}}] \
            if rejected else []
        return 200, {"count": len(found), "value": found}

    def labels(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        names = self.pulls[int(m.group("n"))]["labels"]
        return 200, {"count": len(names), "value": [self.label_json(n) for n in names]}

    def add_label(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]) -> Reply:
        names = self.pulls[int(m.group("n"))]["labels"]
        if body["name"] not in names:
            names.append(body["name"])
        return 200, self.label_json(body["name"])

    def label_json(self, name: str) -> dict[str, Any]:
        return {"id": f"00000000-0000-0000-0000-{abs(hash(name)) % 10**12:012d}",
                "name": name, "active": True, "url": f"{self.api_url}/_apis/tags/{name}"}

    def create_thread(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                      ) -> Reply:
        number = int(m.group("n"))
        said = body["comments"][0]["content"]
        thread, _ = split_comment_key(self.add_comment(number, said, self.bot_login))
        data = copy.deepcopy(example("pullrequest_thread_create"))
        status = body.get("status")
        data.update(id=thread, status={1: "active", 4: "closed"}.get(status, status)
                    if isinstance(status, int) else status)
        data["comments"][0].update(content=said, author=self.user_json(self.bot_login))
        return 200, data

    def get_comment(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        found = self.find_comment(comment_key(int(m.group("t")), int(m.group("c"))))
        if found is None or found[0] != int(m.group("n")):
            return 404, {"message": "TF401181: The requested comment was not found."}
        data = copy.deepcopy(example("pullrequest_thread_create")["comments"][0])
        data.update(id=int(m.group("c")), content=found[1]["body"],
                    author=self.user_json(found[1]["user"]))
        return 200, data

    def update_thread(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                      ) -> Reply:
        thread = int(m.group("t"))
        self.reactions.append((comment_key(thread, 1), str(body["status"])))
        data = copy.deepcopy(example("pullrequest_thread_create"))
        data.update(id=thread, status=body["status"])
        return 200, data

    def like(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        self.reactions.append((comment_key(int(m.group("t")), int(m.group("c"))), "like"))
        return 204, None

    def reviewers(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        number = int(m.group("n"))
        if number not in self.pulls:
            return 404, {"message": "TF401180: The requested pull request was not found."}
        found = [self.reviewer_json(r) for r in self.reviews.get(number, [])]
        return 200, {"count": len(found), "value": found}

    def status(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]) -> Reply:
        self.statuses.append((m.group(0), body["state"], body["context"]["name"]))
        name = "commit_status_create" if "/commits/" in m.group(0) else "pullrequest_status_create"
        data = dict(example(name, "201" if name == "commit_status_create" else "200"))
        data.update(state=body["state"], description=body.get("description", ""),
                    context=body["context"])
        return (201 if name == "commit_status_create" else 200), data


AzureDevOpsDouble.ROUTES = [
    ("GET", R + r"$", AzureDevOpsDouble.get_repo),
    ("GET", R + r"/pullrequests$", AzureDevOpsDouble.list_pulls),
    ("POST", R + r"/pullrequests$", AzureDevOpsDouble.create_pull),
    ("GET", PR + r"$", AzureDevOpsDouble.get_pull),
    ("PATCH", PR + r"$", AzureDevOpsDouble.update_pull),
    ("GET", PR + r"/labels$", AzureDevOpsDouble.labels),
    ("POST", PR + r"/labels$", AzureDevOpsDouble.add_label),
    ("POST", PR + r"/threads$", AzureDevOpsDouble.create_thread),
    ("PATCH", PR + r"/threads/(?P<t>\d+)$", AzureDevOpsDouble.update_thread),
    ("GET", PR + r"/threads/(?P<t>\d+)/comments/(?P<c>\d+)$", AzureDevOpsDouble.get_comment),
    ("POST", PR + r"/threads/(?P<t>\d+)/comments/(?P<c>\d+)/likes$", AzureDevOpsDouble.like),
    ("GET", PR + r"/reviewers$", AzureDevOpsDouble.reviewers),
    ("POST", PR + r"/statuses$", AzureDevOpsDouble.status),
    ("POST", R + r"/commits/[0-9a-f]{40}/statuses$", AzureDevOpsDouble.status),
    ("GET", rf"/{ORG}/[^/]+/_apis/policy/evaluations$", AzureDevOpsDouble.policy_evaluations),
    *PEOPLE_ROUTES,
]
