"""A loopback double of the GitHub REST endpoints Hoist uses, backed by a real bare git
repository: pull-request branches are real refs and merging is a real git merge. Responses
are GitHub's published examples (shared/fixtures/github-api) with the fields that change
filled in, so PyGithub runs against it unmodified through its base URL. Faults (502,
timeouts, secondary rate limits) can be injected for the next requests."""

from __future__ import annotations

import copy
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any, ClassVar

import jwt

from tests.forge_double import ForgeDouble, Reply
from tests.support import DATA, FIXTURES

EXAMPLES = FIXTURES / "github-api"
LOCAL_EXAMPLES = DATA / "github-api"  # examples the shared fixtures lack (Deployments)


def example(name: str) -> dict[str, Any]:
    path = EXAMPLES / f"{name}.json"
    if not path.exists():
        path = LOCAL_EXAMPLES / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def app_example(name: str) -> dict[str, Any]:
    """GitHub's published App examples (tests/data/github-app, see its SOURCES.md)."""
    data: dict[str, Any] = json.loads((DATA / "github-app" / f"{name}.json").read_text())
    return data


def _rebase_urls(value: Any, base: str) -> Any:
    if isinstance(value, str):
        return value.replace("https://api.github.com", base)
    if isinstance(value, dict):
        return {k: _rebase_urls(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebase_urls(v, base) for v in value]
    return value


class GitHubDouble(ForgeDouble):
    """Serves /repos/{owner}/{repo}/... for one repository on 127.0.0.1; with `app(...)`,
    also a GitHub App's installation and its short-lived installation tokens."""

    kind = "github"
    # The repository GitHub's published webhook examples are about (Codertocat/Hello-World,
    # id 186853002: pull_request_review.submitted.json, pull_request.opened.json, ...), so
    # their deliveries are this repository's; its full_name stays acme/manifests.
    # Examples about other repositories (issue_comment.created.json: 199540710) are
    # deliveries from elsewhere, which Hoist confirms by reading them back here.
    repository_id = 186853002

    HEADERS: ClassVar[dict[str, str]] = {"X-RateLimit-Remaining": "4999"}

    def __init__(self, bare_repo: Path, full_name: str = "acme/manifests") -> None:
        super().__init__(bare_repo, full_name)
        self.app_id: str | None = None
        self.app_public_key: str | None = None
        self.token_lifetime = 3600.0
        # What the App's installation was granted (GET /repos/{owner}/{repo}/installation).
        self.app_permissions = {"contents": "write", "pull_requests": "write",
                                "issues": "write", "checks": "write", "metadata": "read"}
        self.issued: list[tuple[str, float]] = []  # installation tokens and their expiry
        self.token_uses: list[str] = []
        self.deployments: dict[int, dict[str, Any]] = {}
        self.deployment_statuses: dict[int, list[dict[str, Any]]] = {}
        self.rate_remaining = 4999  # X-RateLimit-Remaining of every answer
        # Pull-request branches (substrings) whose requests are answered this many seconds
        # late: a forge slow for one image only.
        self.slow_branches: dict[str, float] = {}

    def reply_headers(self) -> dict[str, str]:
        """GitHub's primary rate limit headers, on every answer as GitHub sends them."""
        return {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": str(self.rate_remaining),
                "X-RateLimit-Used": str(5000 - self.rate_remaining),
                "X-RateLimit-Reset": str(int(time.time()) + 3600),
                "X-RateLimit-Resource": "core"}

    def delay(self, path: str, query: dict[str, str], body: Any) -> float:
        """How late to answer a request about a pull request on a slow branch."""
        if not self.slow_branches:
            return 0.0
        heads = [query.get("head", ""), str(body.get("head", "") if isinstance(body, dict)
                                            else "")]
        number = re.search(r"/(?:pulls|issues)/(\d+)", path)
        if number and int(number.group(1)) in self.pulls:
            heads.append(str(self.pulls[int(number.group(1))]["head"]))
        return max((seconds for branch, seconds in self.slow_branches.items()
                    if any(branch in head for head in heads)), default=0.0)

    def fault_reply(self, fault: str) -> Reply | None:
        if fault == "secondary":
            return 403, {"message": "You have exceeded a secondary rate limit. Please wait a "
                                    "few minutes before you try again.",
                         "documentation_url": "https://docs.github.com"}, {"Retry-After": "1"}
        return super().fault_reply(fault)

    # GitHub App ------------------------------------------------------------------------------

    def app(self, app_id: str, public_key_pem: str, token_lifetime: float = 3600.0) -> None:
        """Act as GitHub with an App installed on the repository: app routes take the
        app's RS256 JWT, every other route an unexpired installation token."""
        self.app_id, self.app_public_key = app_id, public_key_pem
        self.token_lifetime = token_lifetime

    def refuse(self, method: str, path: str, headers: dict[str, str]) -> Reply | None:
        if self.app_id is None:
            return None
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        if path.startswith("/app/") or path.endswith("/installation"):
            try:  # docs: "Authenticating as a GitHub App" (RS256 JWT, iss = the app's id)
                claims = jwt.decode(credential, self.app_public_key or "", algorithms=["RS256"],
                                    options={"require": ["iat", "exp", "iss"]})
            except jwt.PyJWTError as exc:
                return 401, {"message": f"A JSON web token could not be decoded: {exc}"}
            if scheme.lower() != "bearer" or str(claims["iss"]) != self.app_id:
                return 401, {"message": "Bad credentials"}
            return None
        valid = {token for token, expires in self.issued if expires > time.time()}
        if scheme.lower() not in ("token", "bearer") or credential not in valid:
            return 401, {"message": "Bad credentials",
                         "documentation_url": "https://docs.github.com/rest"}
        self.token_uses.append(credential)
        return None

    def installation(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        data = _rebase_urls(app_example("installation"), self.url)
        data.update(id=77, app_id=int(self.app_id or 0),
                    access_tokens_url=f"{self.url}/app/installations/77/access_tokens",
                    permissions=self.app_permissions)
        return 200, data

    def access_token(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        if m.group("id") != "77":
            return 404, {"message": "Not Found"}
        expires = time.time() + self.token_lifetime
        token = f"ghs_{secrets.token_hex(18)}"
        self.issued.append((token, expires))
        data = app_example("installation-token")
        data.update(token=token, expires_at=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                          time.gmtime(expires)))
        return 201, data

    # representations -------------------------------------------------------------------------

    def user(self, login: str) -> dict[str, Any]:
        data = _rebase_urls(copy.deepcopy(example("pull-request")["user"]), self.url)
        data.update(login=login, id=abs(hash(login)) % 10**6, type="User")
        return dict(data)

    def pull_json(self, number: int) -> dict[str, Any]:
        pull = self.pulls[number]
        base_url = f"{self.url}/repos/{self.full_name}"
        data = _rebase_urls(copy.deepcopy(example("pull-request")), self.url)
        data.update(
            url=f"{base_url}/pulls/{number}", number=number, id=number * 7,
            html_url=f"https://github.example/{self.full_name}/pull/{number}",
            issue_url=f"{base_url}/issues/{number}",
            comments_url=f"{base_url}/issues/{number}/comments",
            state=pull["state"], title=pull["title"], body=pull["body"],
            merged=pull["merged"], merge_commit_sha=pull["merge_commit_sha"],
            merged_at="2026-01-01T00:00:00Z" if pull["merged"] else None,
            labels=[{"id": i, "name": n, "color": "ededed", "default": False,
                     "url": f"{base_url}/labels/{n}", "node_id": "x", "description": None}
                    for i, n in enumerate(pull["labels"])],
            user=self.user("hoist-bot"), draft=False,
        )
        for side in ("head", "base"):
            data[side].update(ref=pull[side], sha=self.sha(pull[side]) or "0" * 40,
                              label=f"{self.full_name.split('/')[0]}:{pull[side]}")
        return dict(data)

    def comment_json(self, number: int, comment_id: int, body: str, login: str) -> dict[str, Any]:
        base_url = f"{self.url}/repos/{self.full_name}"
        data = _rebase_urls(copy.deepcopy(example("issue-comment")), self.url)
        data.update(id=comment_id, body=body, user=self.user(login),
                    url=f"{base_url}/issues/comments/{comment_id}",
                    issue_url=f"{base_url}/issues/{number}")
        return dict(data)

    # routes ----------------------------------------------------------------------------------

    def get_repo(self, query: dict[str, Any], body: dict[str, str], m: re.Match[str]
                 ) -> tuple[int, Any]:
        if not m.group(0).endswith(f"/repos/{self.full_name}"):
            return 404, {"message": "Not Found",
                         "documentation_url": "https://docs.github.com/rest"}
        data = _rebase_urls(copy.deepcopy(example("full-repository")), self.url)
        owner, name = self.full_name.split("/")
        data.update(id=self.repository_id, name=name, full_name=self.full_name,
                    default_branch="main", url=f"{self.url}/repos/{self.full_name}",
                    permissions=self.token_permissions.get(
                        self.caller, {"admin": False, "maintain": False, "push": True,
                                      "triage": True, "pull": True}))
        data["owner"]["login"] = owner
        return 200, data

    def list_pulls(self, query: dict[str, Any], body: dict[str, str], m: re.Match[str]
                   ) -> tuple[int, Any]:
        found = []
        for number, pull in sorted(self.pulls.items()):
            head = query.get("head", "")
            if query.get("state", "open") != "all" and pull["state"] != query.get("state", "open"):
                continue
            if head and head.split(":")[-1] != pull["head"]:
                continue
            if query.get("base") and query["base"] != pull["base"]:
                continue
            found.append(self.pull_json(number))
        return 200, found

    def create_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                    ) -> tuple[int, Any]:
        head, base = body.get("head", "").split(":")[-1], body.get("base", "")
        if self.sha(head) is None or self.sha(base) is None:
            return 422, {"message": "Validation Failed", "errors": [{"field": "head",
                                                                    "code": "invalid"}]}
        if any(p["head"] == head and p["state"] == "open" for p in self.pulls.values()):
            return 422, {"message": "Validation Failed", "errors": [
                {"message": f"A pull request already exists for {head}."}]}
        number = self.add_pull(head, base, body.get("title", ""), body.get("body") or "")
        return 201, self.pull_json(number)

    def get_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                 ) -> tuple[int, Any]:
        number = int(m.group("n"))
        return (200, self.pull_json(number)) if number in self.pulls else (404, {"message":
                                                                                 "Not Found"})

    def edit_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                  ) -> tuple[int, Any]:
        pull = self.pulls[int(m.group("n"))]
        for key in ("title", "body", "state"):
            if key in body:
                pull[key] = body[key]
        return 200, self.pull_json(int(m.group("n")))

    def merge_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                   ) -> tuple[int, Any]:
        number = int(m.group("n"))
        pull = self.pulls[number]
        if self.merge_refusal:
            return 405, {"message": self.merge_refusal}
        if pull["merged"] or pull["state"] != "open":
            return 405, {"message": "Pull Request is not mergeable"}
        landed = self.land(number, "merge" if body.get("merge_method") == "merge" else "squash",
                           body.get("commit_title") or pull["title"],
                           body.get("commit_message") or "", body.get("sha"))
        if not isinstance(landed, str):
            status, why = landed
            return (409, {"message": "Head branch was modified. Review and try the merge "
                                     "again."}) if status == 409 else (405, {"message": why})
        sha = landed
        return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}

    def add_labels(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> tuple[int, Any]:
        pull = self.pulls[int(m.group("n"))]
        names = body.get("labels", []) if isinstance(body, dict) else body
        pull["labels"] = list(dict.fromkeys([*pull["labels"], *names]))
        return 200, self.pull_json(int(m.group("n")))["labels"]

    def create_comment(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                       ) -> tuple[int, Any]:
        number = int(m.group("n"))
        comment_id = self.add_comment(number, body["body"], self.bot_login)
        return 201, self.comment_json(number, comment_id, body["body"], "hoist-bot")

    def get_comment(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET /repos/{owner}/{repo}/issues/comments/{id}: 404 for another repository's."""
        found = self.find_comment(int(m.group("id")))
        if found is None:
            return 404, {"message": "Not Found",
                         "documentation_url": "https://docs.github.com/rest"}
        number, comment = found
        return 200, self.comment_json(number, comment["id"], comment["body"], comment["user"])

    def get_review(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET /repos/{owner}/{repo}/pulls/{n}/reviews/{id}: 404 unless pull request n has
        that review. The shared fixtures hold no review example: the shape is the one
        GitHub's REST docs ("Get a review for a pull request") publish."""
        number = int(m.group("n"))
        review = next((r for r in self.reviews.get(number, [])
                       if r["id"] == int(m.group("id"))), None)
        if review is None:
            return 404, {"message": "Not Found",
                         "documentation_url": "https://docs.github.com/rest"}
        html = f"https://github.example/{self.full_name}/pull/{number}"
        pull_url = f"{self.url}/repos/{self.full_name}/pulls/{number}"
        return 200, {"id": review["id"], "node_id": "PRR_x", "user": self.user(review["user"]),
                     "body": review["body"], "state": review["state"],
                     "html_url": f"{html}#pullrequestreview-{review['id']}",
                     "pull_request_url": pull_url,
                     "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
                     "submitted_at": "2026-01-01T00:00:00Z", "commit_id": "0" * 40,
                     "author_association": "COLLABORATOR"}

    def react(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
              ) -> tuple[int, Any]:
        self.reactions.append((int(m.group("id")), body["content"]))
        return 201, {"id": self.new_id(), "content": body["content"], "user": self.user("hoist-bot"),
                     "created_at": "2026-01-01T00:00:00Z", "node_id": "x"}

    def permission(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                   ) -> tuple[int, Any]:
        data = copy.deepcopy(example("collaborator-permission"))
        role = self.permissions.get(m.group("user"), "none")
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        data.update(permission=legacy, role_name=role, user=self.user(m.group("user")))
        return 200, data

    def deployment_json(self, deployment_id: int) -> dict[str, Any]:
        base_url = f"{self.url}/repos/{self.full_name}"
        data = _rebase_urls(copy.deepcopy(example("deployment")), self.url)
        data.update(self.deployments[deployment_id], id=deployment_id, creator=self.user("hoist-bot"),
                    url=f"{base_url}/deployments/{deployment_id}",
                    statuses_url=f"{base_url}/deployments/{deployment_id}/statuses",
                    repository_url=base_url)
        return dict(data)

    def list_deployments(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                         ) -> tuple[int, Any]:
        found = [self.deployment_json(i) for i, d in sorted(self.deployments.items(), reverse=True)
                 if all(d.get(k) == query[k] for k in ("sha", "environment", "task", "ref")
                        if k in query)]
        return 200, found

    def create_deployment(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                          ) -> tuple[int, Any]:
        ref = body.get("ref", "")
        sha = self.sha(ref) or (ref if self.git("cat-file", "-e", f"{ref}^{{commit}}",
                                                check=False).returncode == 0 else None)
        if sha is None:
            return 422, {"message": f"No ref found for: {ref}"}
        deployment_id = self.new_id()
        environment = body.get("environment", "production")
        self.deployments[deployment_id] = {
            "sha": sha, "ref": ref, "task": body.get("task", "deploy"),
            "payload": body.get("payload", {}), "environment": environment,
            "original_environment": environment, "description": body.get("description"),
            "transient_environment": body.get("transient_environment", False),
            "production_environment": body.get("production_environment",
                                               environment == "production")}
        self.deployment_statuses[deployment_id] = []
        return 201, self.deployment_json(deployment_id)

    def create_deployment_status(self, query: dict[str, Any], body: dict[str, Any],
                                 m: re.Match[str]) -> tuple[int, Any]:
        deployment_id = int(m.group("id"))
        if deployment_id not in self.deployments:
            return 404, {"message": "Not Found"}
        if body.get("state") not in ("error", "failure", "inactive", "in_progress", "queued",
                                     "pending", "success"):
            return 422, {"message": "Validation Failed"}
        if len(body.get("description") or "") > 140:
            return 422, {"message": "description is too long (maximum is 140 characters)"}
        base_url = f"{self.url}/repos/{self.full_name}"
        data = _rebase_urls(copy.deepcopy(example("deployment-status")), self.url)
        status_id = self.new_id()
        log_url = body.get("log_url") or body.get("target_url") or ""
        data.update(id=status_id, state=body["state"], creator=self.user("hoist-bot"),
                    description=body.get("description", ""),
                    environment=body.get("environment") or
                    self.deployments[deployment_id]["environment"],
                    target_url=log_url, log_url=log_url,
                    environment_url=body.get("environment_url", ""),
                    url=f"{base_url}/deployments/{deployment_id}/statuses/{status_id}",
                    deployment_url=f"{base_url}/deployments/{deployment_id}",
                    repository_url=base_url)
        self.deployment_statuses[deployment_id].append(dict(data))
        if body.get("auto_inactive", True) and body["state"] == "success":
            # GitHub marks the environment's earlier successful deployments inactive.
            environment = self.deployments[deployment_id]["environment"]
            for other, statuses in self.deployment_statuses.items():
                if other != deployment_id and statuses and statuses[-1]["state"] == "success" \
                        and self.deployments[other]["environment"] == environment:
                    statuses.append({**statuses[-1], "state": "inactive"})
        return 201, data

    def membership(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                   ) -> tuple[int, Any]:
        team = f"{m.group('org')}/{m.group('team')}"
        if m.group("user") in self.team_members.get(team, set()):
            return 200, {"state": "active", "role": "member",
                         "url": f"{self.url}/orgs/{team}/memberships/{m.group('user')}"}
        return 404, {"message": "Not Found"}


GitHubDouble.ROUTES = [
    ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)$", GitHubDouble.get_repo),
    ("GET", r"/repos/[^/]+/[^/]+/pulls$", GitHubDouble.list_pulls),
    ("POST", r"/repos/[^/]+/[^/]+/pulls$", GitHubDouble.create_pull),
    ("GET", r"/repos/[^/]+/[^/]+/pulls/(?P<n>\d+)$", GitHubDouble.get_pull),
    ("PATCH", r"/repos/[^/]+/[^/]+/pulls/(?P<n>\d+)$", GitHubDouble.edit_pull),
    ("PUT", r"/repos/[^/]+/[^/]+/pulls/(?P<n>\d+)/merge$", GitHubDouble.merge_pull),
    ("POST", r"/repos/[^/]+/[^/]+/issues/(?P<n>\d+)/labels$", GitHubDouble.add_labels),
    ("POST", r"/repos/[^/]+/[^/]+/issues/(?P<n>\d+)/comments$", GitHubDouble.create_comment),
    ("POST", r"/repos/[^/]+/[^/]+/issues/comments/(?P<id>\d+)/reactions$", GitHubDouble.react),
    ("GET", r"/repos/[^/]+/[^/]+/issues/comments/(?P<id>\d+)$", GitHubDouble.get_comment),
    ("GET", r"/repos/[^/]+/[^/]+/pulls/(?P<n>\d+)/reviews/(?P<id>\d+)$",
     GitHubDouble.get_review),
    ("GET", r"/repos/[^/]+/[^/]+/collaborators/(?P<user>[^/]+)/permission$",
     GitHubDouble.permission),
    ("GET", r"/orgs/(?P<org>[^/]+)/teams/(?P<team>[^/]+)/memberships/(?P<user>[^/]+)$",
     GitHubDouble.membership),
    ("GET", r"/repos/[^/]+/[^/]+/deployments$", GitHubDouble.list_deployments),
    ("POST", r"/repos/[^/]+/[^/]+/deployments$", GitHubDouble.create_deployment),
    ("POST", r"/repos/[^/]+/[^/]+/deployments/(?P<id>\d+)/statuses$",
     GitHubDouble.create_deployment_status),
    ("GET", r"/repos/[^/]+/[^/]+/installation$", GitHubDouble.installation),
    ("POST", r"/app/installations/(?P<id>\d+)/access_tokens$", GitHubDouble.access_token),
]
