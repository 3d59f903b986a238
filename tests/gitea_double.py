"""A loopback double of the Gitea / Forgejo REST API v1 endpoints Hoist uses, backed by a
real bare repository: pull-request heads are real refs, merges are real git commits.
Responses are Gitea's published examples (shared/fixtures/gitea/api) with the fields that
change filled in; where no example was published (collaborator permission, merge, labels,
reactions, teams), the shape is Gitea's API structs (modules/structs), as FORGES-SOURCES.md
notes."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from tests.forge_double import ForgeDouble, Reply
from tests.support import FIXTURES

EXAMPLES = FIXTURES / "gitea" / "api"
R = r"/api/v1/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
# Hoist's ladder onto what Gitea's collaborator permission says (no triage, no maintain).
ROLES = {"read": "read", "triage": "read", "write": "write", "maintain": "write",
         "admin": "admin"}


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


class GiteaDouble(ForgeDouble):
    kind = "gitea"
    # The repository Gitea's published signed examples are about (pull_request_comment_signed,
    # pull_request_opened_signed, push_signed: example/example, id 1), so their deliveries
    # are this repository's; examples about others (pull_request_merged.json: 46534,
    # pull_request_review_approved.json: 1234) are deliveries from elsewhere, which Hoist
    # confirms by reading them back here.
    repository_id = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.labels: dict[str, int] = {}
        self.teams: dict[str, int] = {}

    def user_json(self, login: str) -> dict[str, Any]:
        data = dict(example("pull_create")["user"])
        data.update(id=abs(hash(login)) % 10**6, login=login, username=login,
                    full_name=login.title())
        return data

    def pull_json(self, number: int) -> dict[str, Any]:
        pull = self.pulls[number]
        data: dict[str, Any] = copy.deepcopy(example("pull_create"))
        data.update(
            id=number * 31, number=number, title=pull["title"], body=pull["body"],
            state="closed" if pull["state"] != "open" else "open", merged=pull["merged"],
            merge_commit_sha=pull["merge_commit_sha"], mergeable=not pull["merged"],
            merged_at="2026-01-01T00:00:00Z" if pull["merged"] else None,
            merged_by=self.user_json(self.bot_login) if pull["merged"] else None,
            url=f"{self.url}/{self.full_name}/pulls/{number}",
            html_url=f"https://gitea.example/{self.full_name}/pulls/{number}",
            labels=[{"id": self.labels[name], "name": name, "color": "ededed",
                     "description": "", "url": ""} for name in pull["labels"]],
            user=self.user_json(self.bot_login),
        )
        for side in ("head", "base"):
            sha = pull["merged_head"] if side == "head" and pull["merged_head"] else \
                self.sha(pull[side])
            data[side].update(ref=pull[side], label=pull[side], sha=sha or "0" * 40)
        return data

    def _pull(self, m: re.Match[str]) -> int | None:
        number = int(m.group("n"))
        return number if number in self.pulls else None

    def list_pulls(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        state = query.get("state", "open")
        matching = [self.pull_json(n) for n, p in sorted(self.pulls.items(), reverse=True)
                    if state == "all" or (p["state"] == "open") == (state == "open")]
        limit, page = int(query.get("limit", 30)), int(query.get("page", 1))
        return 200, matching[(page - 1) * limit:page * limit]

    def create_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                    ) -> Reply:
        head, base = body.get("head", ""), body.get("base", "")
        if self.sha(head) is None or self.sha(base) is None:
            return 404, {"message": "The target couldn't be found.", "errors": []}
        for number, pull in self.pulls.items():
            if pull["head"] == head and pull["base"] == base and pull["state"] == "open":
                return 409, {"message": f"pull request already exists for these targets "
                                        f"[id: {number}, issue_id: {number}, head_repo_id: 1,"
                                        f" base_repo_id: 1, head_branch: {head}, base_branch:"
                                        f" {base}]", "url": ""}
        number = self.add_pull(head, base, body.get("title", ""), body.get("body") or "")
        names = {i: n for n, i in self.labels.items()}
        self.pulls[number]["labels"] = [names[i] for i in body.get("labels") or [] if i in names]
        return 201, self.pull_json(number)

    def get_pull(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        number = self._pull(m)
        return (200, self.pull_json(number)) if number else (404, {"message": "not found"})

    def edit_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                  ) -> Reply:
        number = int(m.group("n"))
        pull = self.pulls[number]
        for key in ("title", "body", "state"):
            if key in body:
                pull[key] = body[key]
        return 201, self.pull_json(number)

    def merge_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                   ) -> Reply:
        number = int(m.group("n"))
        pull = self.pulls[number]
        # routers/api/v1/repo/pull.go MergePullRequest: 404 closed, 405 not allowed or not
        # mergeable, 409 conflicts or the head moved; 200 with an empty body.
        if pull["state"] != "open" and not pull["merged"]:
            return 404, {"message": "The target couldn't be found.", "errors": []}
        if pull["merged"]:
            return 405, {"message": "PR already merged", "url": ""}
        if self.merge_refusal:
            return 405, {"message": self.merge_refusal, "url": ""}
        style = body.get("Do", "merge")
        landed = self.land(number, "merge" if style == "merge" else "squash",
                           body.get("MergeTitleField") or pull["title"],
                           body.get("MergeMessageField") or "", body.get("head_commit_id"))
        if not isinstance(landed, str):
            status, why = landed
            return 409, {"message": "head out of date" if status == 409 else why, "url": ""}
        return 200, None

    def list_labels(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        return 200, [{"id": i, "name": n, "color": "ededed", "description": "", "url": ""}
                     for n, i in self.labels.items()]

    def create_label(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                     ) -> Reply:
        if body["name"] in self.labels:
            return 409, {"message": "label already exists", "url": ""}
        self.labels[body["name"]] = len(self.labels) + 1
        return 201, {"id": self.labels[body["name"]], "name": body["name"],
                     "color": str(body.get("color", "")).lstrip("#"), "description": "",
                     "url": ""}

    def add_labels(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                   ) -> Reply:
        pull = self.pulls[int(m.group("n"))]
        names = {i: n for n, i in self.labels.items()}
        for label in body.get("labels", []):
            name = names.get(label, label) if isinstance(label, int) else label
            if name not in pull["labels"]:
                pull["labels"].append(name)
        return 200, self.pull_json(int(m.group("n")))["labels"]

    def create_comment(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                       ) -> Reply:
        number = int(m.group("n"))
        comment_id = self.add_comment(number, body["body"], self.bot_login)
        data = dict(example("issue_comment_create"))
        data.update(id=comment_id, body=body["body"], user=self.user_json(self.bot_login))
        return 201, data

    def get_comment(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET .../issues/comments/{id} (issue_comment_create.json), with the URLs Gitea's
        Comment struct adds (modules/structs/issue_comment.go): 404 for another
        repository's."""
        found = self.find_comment(int(m.group("id")))
        if found is None:
            return 404, {"message": "The target couldn't be found.", "errors": []}
        number, comment = found
        data = dict(example("issue_comment_create"))
        html = f"https://gitea.example/{self.full_name}/pulls/{number}"
        data.update(id=comment["id"], body=comment["body"], user=self.user_json(comment["user"]),
                    html_url=f"{html}#issuecomment-{comment['id']}", pull_request_url=html,
                    issue_url=html)
        return 200, data

    def list_reviews(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET .../pulls/{n}/reviews, paged: PullReview structs (modules/structs/
        pull_review.go; no published example), states as Gitea names them."""
        number = self._pull(m)
        if number is None:
            return 404, {"message": "The target couldn't be found.", "errors": []}
        states = {"APPROVED": "APPROVED", "COMMENTED": "COMMENT",
                  "CHANGES_REQUESTED": "REQUEST_CHANGES"}
        found = [{"id": r["id"], "user": self.user_json(r["user"]), "body": r["body"],
                  "state": states.get(r["state"], r["state"]), "commit_id": "0" * 40,
                  "stale": False, "official": True, "dismissed": False, "comments_count": 0,
                  "submitted_at": "2026-01-01T00:00:00Z",
                  "html_url": f"https://gitea.example/{self.full_name}/pulls/{number}"
                              f"#issuecomment-{r['id']}",
                  "pull_request_url": f"https://gitea.example/{self.full_name}/pulls/{number}"}
                 for r in self.reviews.get(number, [])]
        limit, page = int(query.get("limit", 30)), int(query.get("page", 1))
        return 200, found[(page - 1) * limit:page * limit]

    def react(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]) -> Reply:
        comment_id = int(m.group("id"))
        status = 200 if (comment_id, body["content"]) in self.reactions else 201
        if status == 201:
            self.reactions.append((comment_id, body["content"]))
        return status, {"user": self.user_json(self.bot_login), "content": body["content"],
                        "created_at": "2026-01-01T00:00:00Z"}

    def permission(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        login = m.group("user")
        role = ROLES.get(self.permissions.get(login, "none"), "none")
        if login == self.bot_login:
            role = "owner"
        return 200, {"permission": role, "role_name": role, "user": self.user_json(login)}

    def current_user(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        return 200, self.user_json(self.bot_login)

    def get_repo(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        """GET /repos/{owner}/{repo} (the fixture) with the token's `permissions`."""
        if f"{m.group('owner')}/{m.group('name')}" != self.full_name:
            return 404, {"message": "The target couldn't be found."}
        data = copy.deepcopy(example("repo_get"))
        owner, name = self.full_name.split("/")
        data.update(id=self.repository_id, name=name, full_name=self.full_name,
                    default_branch="main",
                    permissions=self.token_permissions.get(
                        self.caller, {"admin": False, "push": True, "pull": True}))
        data["owner"].update(login=owner, username=owner)
        return 200, data

    def team_search(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        org, needle = m.group("org"), query.get("q", "").lower()
        found = []
        for team in self.team_members:
            owner, _, name = team.partition("/")
            if owner == org and needle in name.lower():
                team_id = self.teams.setdefault(team, len(self.teams) + 1)
                found.append({"id": team_id, "name": name, "permission": "write"})
        return 200, {"data": found, "ok": True}

    def team_member(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> Reply:
        team = next((t for t, i in self.teams.items() if i == int(m.group("id"))), None)
        if team is None or m.group("user") not in self.team_members.get(team, set()):
            return 404, {"message": "The target couldn't be found.", "errors": []}
        return 200, self.user_json(m.group("user"))


GiteaDouble.ROUTES = [
    ("GET", r"/api/v1/user$", GiteaDouble.current_user),
    ("GET", R + r"$", GiteaDouble.get_repo),
    ("GET", R + r"/issues/comments/(?P<id>\d+)$", GiteaDouble.get_comment),
    ("GET", R + r"/pulls/(?P<n>\d+)/reviews$", GiteaDouble.list_reviews),
    ("GET", R + r"/pulls$", GiteaDouble.list_pulls),
    ("POST", R + r"/pulls$", GiteaDouble.create_pull),
    ("GET", R + r"/pulls/(?P<n>\d+)$", GiteaDouble.get_pull),
    ("PATCH", R + r"/pulls/(?P<n>\d+)$", GiteaDouble.edit_pull),
    ("POST", R + r"/pulls/(?P<n>\d+)/merge$", GiteaDouble.merge_pull),
    ("GET", R + r"/labels$", GiteaDouble.list_labels),
    ("POST", R + r"/labels$", GiteaDouble.create_label),
    ("POST", R + r"/issues/(?P<n>\d+)/labels$", GiteaDouble.add_labels),
    ("POST", R + r"/issues/(?P<n>\d+)/comments$", GiteaDouble.create_comment),
    ("POST", R + r"/issues/comments/(?P<id>\d+)/reactions$", GiteaDouble.react),
    ("GET", R + r"/collaborators/(?P<user>[^/]+)/permission$", GiteaDouble.permission),
    ("GET", r"/api/v1/orgs/(?P<org>[^/]+)/teams/search$", GiteaDouble.team_search),
    ("GET", r"/api/v1/teams/(?P<id>\d+)/members/(?P<user>[^/]+)$", GiteaDouble.team_member),
]
