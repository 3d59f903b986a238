"""A loopback double of the Bitbucket Data Center REST API 1.0 endpoints Hoist uses, served
under a context path (`/bitbucket`, as many installations run), backed by a real bare
repository: pull-request heads are real refs, merges are real git commits.

Replies are Bitbucket's published examples (shared/fixtures/bitbucket-datacenter/api) with
the fields that change filled in. Where none was published (repository, permissions, groups,
merge refusals, reactions, build statuses) the shape is Bitbucket's REST reference
(RestRepository, RestPermittedUser, paged `values`, `errors[].vetoes`, the comment-likes
reaction), as FORGES-SOURCES.md notes. Bitbucket has no pull-request labels: Hoist writes
them as the description's last line, which this double reads back into `labels` (and the
rest into `body`) so the shared contract suite sees them as on any forge."""

from __future__ import annotations

import copy
import json
import re
from typing import Any, ClassVar

from tests.forge_double import ForgeDouble, Reply
from tests.support import FIXTURES

EXAMPLES = FIXTURES / "bitbucket-datacenter" / "api"
CONTEXT = "/bitbucket"
P = CONTEXT + r"/rest/api/1\.0/projects/(?P<key>[^/]+)"
R = P + r"/repos/(?P<slug>[^/]+)"
PR = R + r"/pull-requests/(?P<n>\d+)"
LABELS = re.compile(r"\n\n---\nHoist labels: (?P<names>[^\n]*)$")
# Hoist's ladder onto Bitbucket's repository permissions (no triage or maintain there).
GRANTS = {"read": "REPO_READ", "triage": "REPO_READ", "write": "REPO_WRITE",
          "maintain": "REPO_WRITE", "admin": "REPO_ADMIN"}
EXCEPTIONS = "com.atlassian.bitbucket.pull."


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def errors(status: int, message: str, exception: str = "", **more: Any) -> Reply:
    return status, {"errors": [{"context": None, "message": message,
                                "exceptionName": exception or None, **more}]}


class BitbucketDataCenterDouble(ForgeDouble):
    kind = "bitbucket-datacenter"
    # The repository the published comment example (atlantis' pr:comment:added) and drone's
    # examples are about (`toRef.repository.id` 1); go-playground's signed examples are
    # about another (4), whose events Hoist confirms by reading them back here.
    repository_id = 1
    REACTIONS: ClassVar[dict[str, str]] = {"+1": "thumbsup", "confused": "thinking_face"}

    def __init__(self, bare_repo: Any, full_name: str = "ACME/manifests") -> None:
        super().__init__(bare_repo, full_name)
        self.project_permissions: dict[str, str] = {}  # login -> PROJECT_* grant
        self.builds: list[tuple[str, dict[str, Any]]] = []  # (sha, build status)
        self.merge_commit_in_pull = True  # older servers only say it in the activities
        self.reactions_supported = True
        self.edits_after_read = 0  # someone edits right after the next reads of a pull

    @property
    def url(self) -> str:
        return super().url + CONTEXT

    def reply_headers(self) -> dict[str, str]:
        return {**super().reply_headers(), "X-AUSERNAME": self.bot_login}

    def refuse(self, method: str, path: str, headers: dict[str, str]) -> Reply | None:
        if not headers.get("authorization", "").startswith("Bearer "):
            return errors(401, "Authentication failed. Please check your credentials.",
                          "com.atlassian.bitbucket.AuthorisationException")
        return None

    # wire shapes ------------------------------------------------------------------------

    def user_json(self, login: str) -> dict[str, Any]:
        data: dict[str, Any] = copy.deepcopy(example("pull_request_comment_create")["author"])
        data.update(name=login, slug=login.lower(), displayName=login.title(),
                    emailAddress=f"{login}@example.com", id=abs(hash(login)) % 10**6)
        data["links"]["self"][0]["href"] = f"https://bitbucket.example/users/{login.lower()}"
        return data

    def repository_json(self) -> dict[str, Any]:
        data: dict[str, Any] = copy.deepcopy(example("pull_request_get")["toRef"]["repository"])
        key, slug = self.full_name.split("/")
        data.update(id=self.repository_id, slug=slug, name=slug)
        data["project"].update(key=key, name=key)
        return data

    def pull_json(self, number: int) -> dict[str, Any]:
        pull = self.pulls[number]
        data: dict[str, Any] = copy.deepcopy(example("pull_request_get"))
        state = "MERGED" if pull["merged"] else "OPEN" if pull["state"] == "open" else "DECLINED"
        description = pull["body"] + (f"\n\n---\nHoist labels: {', '.join(pull['labels'])}"
                                      if pull["labels"] else "")
        data.update(id=number, version=pull.setdefault("version", 0), title=pull["title"],
                    description=description, state=state, open=state == "OPEN",
                    closed=state != "OPEN",
                    reviewers=[self._reviewer(r) for r in self.reviews.get(number, [])])
        if state != "OPEN":
            data["closedDate"] = data["updatedDate"]
        for side, ref in (("fromRef", "head"), ("toRef", "base")):
            sha = pull["merged_head"] if ref == "head" and pull["merged_head"] else \
                self.sha(pull[ref])
            data[side].update(id=f"refs/heads/{pull[ref]}", displayId=pull[ref],
                              latestCommit=sha or "0" * 40, repository=self.repository_json())
        key, slug = self.full_name.split("/")
        data["links"]["self"][0]["href"] = \
            f"https://bitbucket.example/projects/{key}/repos/{slug}/pull-requests/{number}"
        if pull["merged"] and self.merge_commit_in_pull:
            sha = pull["merge_commit_sha"]
            data["properties"] = {"mergeCommit": {"id": sha, "displayId": sha[:11]}}
        return data

    def _reviewer(self, review: dict[str, Any]) -> dict[str, Any]:
        status = {"APPROVED": "APPROVED", "CHANGES_REQUESTED": "NEEDS_WORK"}.get(
            review["state"], "UNAPPROVED")
        return {"user": self.user_json(review["user"]), "role": "REVIEWER",
                "approved": status == "APPROVED", "status": status}

    def comment_json(self, comment: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = copy.deepcopy(example("pull_request_comment_create"))
        data.update(id=comment["id"], text=comment["body"], author=self.user_json(comment["user"]))
        data["properties"]["repositoryId"] = self.repository_id
        return data

    @staticmethod
    def page(values: list[Any], query: dict[str, str]) -> dict[str, Any]:
        start, limit = int(query.get("start", 0)), int(query.get("limit", 25))
        found = values[start:start + limit]
        last = start + limit >= len(values)
        page = {"size": len(found), "limit": limit, "isLastPage": last, "values": found,
                "start": start}
        if not last:
            page["nextPageStart"] = start + limit
        return page

    def _ours(self, m: re.Match[str]) -> bool:
        return f"{m.group('key')}/{m.group('slug')}".lower() == self.full_name.lower()

    def _number(self, m: re.Match[str]) -> int | None:
        number = int(m.group("n"))
        return number if self._ours(m) and number in self.pulls else None

    def _stale(self, number: int, query: dict[str, str], body: Any) -> Reply | None:
        given = query.get("version", body.get("version") if isinstance(body, dict) else None)
        if given is None or int(given) != self.pulls[number].setdefault("version", 0):
            return errors(409, "You are attempting to modify a pull request based on out-of-"
                          "date information.", EXCEPTIONS + "PullRequestOutOfDateException",
                          currentVersion=self.pulls[number]["version"])
        return None

    # routes -------------------------------------------------------------------------------

    def get_repo(self, query: dict[str, str], body: Any, m: re.Match[str]) -> Reply:
        if not self._ours(m):
            return errors(404, f"Repository {m.group('key')}/{m.group('slug')} does not exist.",
                          "com.atlassian.bitbucket.repository.NoSuchRepositoryException")
        return 200, self.repository_json()

    def search_repos(self, query: dict[str, str], body: Any, m: re.Match[str]) -> Reply:
        """GET /repos?permission=REPO_WRITE&projectkey=&name=: ours unless the token's
        `token_permissions` entry says it cannot write."""
        writable = self.token_permissions.get(self.caller, "REPO_WRITE") != "REPO_READ"
        return 200, self.page([self.repository_json()] if writable else [], query)

    def list_pulls(self, query: dict[str, str], body: Any, m: re.Match[str]) -> Reply:
        state, at = query.get("state", "OPEN"), query.get("at", "")
        side = "head" if query.get("direction", "INCOMING") == "OUTGOING" else "base"
        found = [self.pull_json(n) for n, p in sorted(self.pulls.items(), reverse=True)
                 if (state == "ALL" or self.pull_json(n)["state"] == state)
                 and (not at or f"refs/heads/{p[side]}" == at)]
        return 200, self.page(found, query)

    def create_pull(self, query: dict[str, str], body: dict[str, Any], m: re.Match[str]
                    ) -> Reply:
        head = str(body["fromRef"]["id"]).removeprefix("refs/heads/")
        base = str(body["toRef"]["id"]).removeprefix("refs/heads/")
        if self.sha(head) is None or self.sha(base) is None:
            return errors(404, "Repository ref does not exist.",
                          "com.atlassian.bitbucket.repository.NoSuchRefException")
        for number, pull in self.pulls.items():
            if (pull["head"], pull["base"], pull["state"]) == (head, base, "open"):
                return errors(409, "Only one pull request may be open for a given source and "
                              "target branch", EXCEPTIONS + "DuplicatePullRequestException",
                              existingPullRequest=self.pull_json(number))
        description = str(body.get("description") or "")
        number = self.add_pull(head, base, body["title"], description)
        self._describe(number, description)
        return 201, self.pull_json(number)

    def _describe(self, number: int, description: str) -> None:
        found = LABELS.search(description)
        self.pulls[number]["body"] = description[:found.start()] if found else description
        self.pulls[number]["labels"] = [n.strip() for n in found.group("names").split(",")
                                        if n.strip()] if found else []

    def get_pull(self, query: dict[str, str], body: Any, m: re.Match[str]) -> Reply:
        number = self._number(m)
        if number is None:
            return errors(404, f"Pull request {m.group('n')} does not exist in "
                          f"{m.group('key')}/{m.group('slug')}.",
                          EXCEPTIONS + "NoSuchPullRequestException")
        data = self.pull_json(number)
        if self.edits_after_read > 0:  # the version read is stale by the time it is sent
            self.edits_after_read -= 1
            self.pulls[number]["version"] += 1
        return 200, data

    def update_pull(self, query: dict[str, str], body: dict[str, Any], m: re.Match[str]
                    ) -> Reply:
        number = int(m.group("n"))
        stale = self._stale(number, query, body)
        if stale:
            return stale
        pull = self.pulls[number]
        pull["title"] = body.get("title", pull["title"])
        if "description" in body:
            self._describe(number, str(body["description"] or ""))
        pull["version"] += 1
        return 200, self.pull_json(number)

    def merge_pull(self, query: dict[str, str], body: dict[str, Any], m: re.Match[str]
                   ) -> Reply:
        number = int(m.group("n"))
        pull = self.pulls[number]
        if pull["state"] != "open":
            return errors(409, "The pull request is not open.",
                          EXCEPTIONS + "IllegalPullRequestStateException")
        stale = self._stale(number, query, body)
        if stale:
            return stale
        if self.merge_refusal:
            return errors(409, "Merging the pull request has been vetoed.",
                          EXCEPTIONS + "PullRequestMergeVetoedException",
                          vetoes=[{"summaryMessage": self.merge_refusal,
                                   "detailedMessage": f"{self.merge_refusal}: needs a green "
                                                      "build"}])
        strategy = str(body.get("strategyId") or "no-ff")
        title, _, rest = str(body.get("message") or pull["title"]).partition("\n\n")
        landed = self.land(number, "merge" if strategy == "no-ff" else "squash", title, rest)
        if not isinstance(landed, str):
            return errors(409, "The pull request has conflicts and cannot be merged.",
                          EXCEPTIONS + "PullRequestMergeVetoedException",
                          vetoes=[{"summaryMessage": "Conflicts",
                                   "detailedMessage": landed[1]}])
        pull["version"] += 1
        pull["strategy"] = strategy
        return 200, self.pull_json(number)

    def decline_pull(self, query: dict[str, str], body: dict[str, Any], m: re.Match[str]
                     ) -> Reply:
        number = int(m.group("n"))
        stale = self._stale(number, query, body)
        if stale:
            return stale
        self.pulls[number]["state"] = "closed"
        self.pulls[number]["version"] += 1
        return 200, self.pull_json(number)

    def activities(self, query: dict[str, str], body: Any, m: re.Match[str]) -> Reply:
        """The published activities page, newest first, with a MERGED activity (its
        `commit`) once merged."""
        number = self._number(m)
        if number is None:
            return errors(404, "No such pull request", EXCEPTIONS + "NoSuchPullRequestException")
        values: list[dict[str, Any]] = copy.deepcopy(example("pull_request_activities")["values"])
        pull = self.pulls[number]
        if pull["merged"]:
            values.insert(0, {"id": self.new_id(), "createdDate": values[0]["createdDate"],
                              "user": self.user_json(self.bot_login), "action": "MERGED",
                              "commit": {"id": pull["merge_commit_sha"],
                                         "displayId": pull["merge_commit_sha"][:11]}})
        return 200, self.page(values, query)

    def create_comment(self, query: dict[str, str], body: dict[str, Any], m: re.Match[str]
                       ) -> Reply:
        number = int(m.group("n"))
        comment_id = self.add_comment(number, body["text"], self.bot_login)
        return 201, self.comment_json(self.comments[number][-1] | {"id": comment_id})

    def get_comment(self, query: dict[str, str], body: Any, m: re.Match[str]) -> Reply:
        found = self.find_comment(int(m.group("id")))
        if found is None or not self._ours(m) or found[0] != int(m.group("n")):
            return errors(404, f"Comment {m.group('id')} does not exist.",
                          "com.atlassian.bitbucket.comment.NoSuchCommentException")
        return 200, self.comment_json(found[1])

    def react(self, query: dict[str, str], body: Any, m: re.Match[str]) -> Reply:
        if not self.reactions_supported:
            return 404, None  # no comment-likes reactions on this server
        emoticon = m.group("emoticon")
        self.reactions.append((int(m.group("id")), emoticon))
        return 200, {"emoticon": {"shortcut": emoticon, "value": emoticon},
                     "user": self.user_json(self.bot_login)}

    def repo_permissions(self, query: dict[str, str], body: Any, m: re.Match[str]) -> Reply:
        grants = {login: GRANTS[rung] for login, rung in self.permissions.items()
                  if rung in GRANTS}
        grants[self.bot_login] = "REPO_ADMIN"
        return 200, self._grants(grants, query)

    def project_permissions_(self, query: dict[str, str], body: Any, m: re.Match[str]
                             ) -> Reply:
        return 200, self._grants(self.project_permissions, query)

    def _grants(self, grants: dict[str, str], query: dict[str, str]) -> dict[str, Any]:
        """RestPermittedUser values for users whose name contains `filter`, as Bitbucket
        matches it (a substring of name, slug or display name)."""
        needle = query.get("filter", "").lower()
        return self.page([{"user": self.user_json(login), "permission": grant}
                          for login, grant in sorted(grants.items())
                          if needle in login.lower()], query)

    def user_groups(self, query: dict[str, str], body: Any, m: re.Match[str]) -> Reply:
        user = query.get("context", "")
        groups = [{"name": team, "deletable": True}
                  for team, members in sorted(self.team_members.items()) if user in members]
        return 200, self.page(groups, query)

    def build_status(self, query: dict[str, str], body: dict[str, Any], m: re.Match[str]
                     ) -> Reply:
        self.builds.append((m.group("sha"), dict(body)))
        return 204, None


D = BitbucketDataCenterDouble
D.ROUTES = [
    ("GET", R + r"$", D.get_repo),
    ("GET", CONTEXT + r"/rest/api/1\.0/repos$", D.search_repos),
    ("GET", R + r"/pull-requests$", D.list_pulls),
    ("POST", R + r"/pull-requests$", D.create_pull),
    ("GET", PR + r"$", D.get_pull),
    ("PUT", PR + r"$", D.update_pull),
    ("POST", PR + r"/merge$", D.merge_pull),
    ("POST", PR + r"/decline$", D.decline_pull),
    ("GET", PR + r"/activities$", D.activities),
    ("POST", PR + r"/comments$", D.create_comment),
    ("GET", PR + r"/comments/(?P<id>\d+)$", D.get_comment),
    ("PUT", CONTEXT + r"/rest/comment-likes/latest/projects/(?P<key>[^/]+)/repos/(?P<slug>"
     r"[^/]+)/pull-requests/(?P<n>\d+)/comments/(?P<id>\d+)/reactions/(?P<emoticon>[^/]+)$",
     D.react),
    ("GET", R + r"/permissions/users$", D.repo_permissions),
    ("GET", P + r"/permissions/users$", D.project_permissions_),
    ("GET", CONTEXT + r"/rest/api/1\.0/admin/users/more-members$", D.user_groups),
    ("POST", CONTEXT + r"/rest/api/latest/projects/(?P<key>[^/]+)/repos/(?P<slug>[^/]+)/"
     r"commits/(?P<sha>[0-9a-f]+)/builds$", D.build_status),
]
