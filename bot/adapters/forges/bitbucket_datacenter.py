"""Forge `bitbucket-datacenter`: pull requests on Bitbucket Data Center (and Server) through
its REST API 1.0 over httpx (bitbucket_datacenter_http.py).

What differs from GitHub, and what Hoist does instead:
- No pull-request labels: the labels stand in the description's last lines, after a rule,
  as `Hoist labels: hoist, env:prod`, kept (and added to) on every update.
- Pull requests carry a `version`; updates, merges and declines send it and a stale one is
  refused with 409 (`PullRequestOutOfDateException`): Hoist reads the pull request again
  and retries.
- A merge cannot be pinned to a head commit: Hoist checks `fromRef.latestCommit` first.
- Reactions are the comment-likes plugin's emoticons (Data Center 8.x); where the server has
  none, the reply comment Hoist posts anyway is the acknowledgement.
- An approval has no text; a review's words are pull-request comments.
- Permissions are granted per repository and per project (REPO_*/PROJECT_*); `teams:` are
  Bitbucket groups."""

from __future__ import annotations

from typing import Any

import structlog

from ..errors import MergeBlocked
from ..store import ChangeRequest, Store
from .bitbucket_datacenter_builds import BuildStatuses
from .bitbucket_datacenter_http import BitbucketError, BitbucketHttp

log = structlog.get_logger()
LABELS = "\n\n---\nHoist labels: "
# Hoist's merge methods onto Bitbucket's merge strategy ids ("Merge strategies", Bitbucket
# Data Center docs): squash, a merge commit (no fast-forward), rebase then fast-forward.
STRATEGIES = {"squash": "squash", "merge": "no-ff", "rebase": "rebase-ff-only"}
# GitHub's reaction names onto Bitbucket's emoticon shortcuts.
EMOTICONS = {"+1": "thumbsup", "confused": "thinking_face"}
# REPO_* and PROJECT_* permissions onto Hoist's ladder (no triage or maintain there).
_LADDER = {"REPO_ADMIN": "admin", "PROJECT_ADMIN": "admin", "REPO_WRITE": "write",
           "PROJECT_WRITE": "write", "REPO_READ": "read", "PROJECT_READ": "read"}
_RANK = ("none", "read", "write", "admin")
ATTEMPTS = 3  # of a versioned write whose version went stale meanwhile


def split_labels(description: str) -> tuple[str, list[str]]:
    """(body, labels) of a description Hoist wrote: the labels line is its last."""
    body, found, line = description.rpartition(LABELS)
    if not found or "\n" in line:
        return description, []
    return body, [name.strip() for name in line.split(",") if name.strip()]


def with_labels(body: str, labels: list[str]) -> str:
    return f"{body}{LABELS}{', '.join(labels)}" if labels else body


def _stale(exc: BitbucketError) -> bool:
    return exc.status == 409 and exc.exception.endswith("OutOfDateException")


class BitbucketDataCenterForge:
    name = "bitbucket-datacenter"
    # Bitbucket Data Center: "a non-empty value less than 32768 characters" (BSERV-14135).
    body_limit = 32_767  # characters of a change request body

    def __init__(self, store: Store, repository: str, *, token: str, url: str,
                 timeout: float = 15, bot_login: str | None = None) -> None:
        self.store = store
        self.project, _, self.slug = repository.partition("/")
        self.url = url.rstrip("/")
        self.api = BitbucketHttp(store, url, token, timeout)
        self.repo = f"/api/1.0/projects/{self.project}/repos/{self.slug}"
        self._bot_login = bot_login
        self._repository_id: str | None = None

    @property
    def bot_login(self) -> str:
        """The token's user (the `X-AUSERNAME` its answers carry), asked once."""
        if self._bot_login is None:
            self.repository_id()
            self._bot_login = self.api.user or ""
        return self._bot_login

    def statuses(self) -> BuildStatuses:
        """Deployment updates as build statuses of the merge commits."""
        return BuildStatuses(self.api, self.project, self.slug, self.url)

    def _pull(self, number: int) -> dict[str, Any]:
        return dict(self.api.request("get_pull", "GET", f"{self.repo}/pull-requests/{number}"))

    def _find_open(self, branch: str, base: str) -> dict[str, Any] | None:
        """The open pull request from `branch` into `base` (OUTGOING: `at` is its source)."""
        for pull in self.api.pages("list_pulls", f"{self.repo}/pull-requests", state="OPEN",
                                   direction="OUTGOING", at=f"refs/heads/{branch}"):
            if pull["fromRef"]["id"] == f"refs/heads/{branch}" and \
                    pull["toRef"]["id"] == f"refs/heads/{base}":
                return pull
        return None

    def _ref(self, branch: str) -> dict[str, Any]:
        return {"id": f"refs/heads/{branch}",
                "repository": {"slug": self.slug, "project": {"key": self.project}}}

    def propose(self, promotion_id: str, branch: str, base: str, title: str, body: str,
                labels: tuple[str, ...] = ()) -> ChangeRequest:
        """Find the open pull request of the branch (update it in place) or open one; the
        labels go in its description (see the module's docstring)."""
        pull = self._find_open(branch, base)
        if pull is None:
            try:
                pull = self.api.request("create_pull", "POST", f"{self.repo}/pull-requests",
                                        json={"title": title,
                                              "description": with_labels(body, list(labels)),
                                              "fromRef": self._ref(branch),
                                              "toRef": self._ref(base)})
            except BitbucketError as exc:
                # DuplicatePullRequestException: an attempt that timed out made it.
                if exc.status != 409:
                    raise
                pull = self._find_open(branch, base)
                if pull is None:
                    raise
            assert pull is not None
            log.info("bitbucket_datacenter.pr_opened", number=pull["id"], branch=branch)
        number = int(pull["id"])
        for _ in range(ATTEMPTS):
            _, present = split_labels(str(pull.get("description") or ""))
            description = with_labels(body, present + [n for n in labels if n not in present])
            if pull["title"] == title and str(pull.get("description") or "") == description:
                break
            try:
                pull = self.api.request("edit_pull", "PUT", f"{self.repo}/pull-requests/{number}",
                                        json={"version": pull["version"], "title": title,
                                              "description": description})
                break
            except BitbucketError as exc:
                if not _stale(exc):
                    raise
                pull = self._pull(number)
        return self.store.record_change_request(promotion_id, branch, base, title, body,
                                                number, _link(pull))

    def merge(self, promotion_id: str, commit: str, base: str, message: str,
              method: str = "squash") -> str:
        """Merge with the strategy for `method` and `message`, only while the head is still
        `commit`; a refusal (vetoes of merge checks, required builds or approvals, a
        conflict) raises MergeBlocked with Bitbucket's words."""
        cr = self.store.change_request(promotion_id)
        assert cr is not None and cr.number is not None
        pull = self._pull(cr.number)
        for _ in range(ATTEMPTS):
            if pull["state"] != "OPEN":
                break
            if pull["fromRef"].get("latestCommit") != commit:
                raise MergeBlocked(f"the head of the pull request moved from {commit[:12]}")
            version = pull["version"]
            try:
                pull = self.api.request(
                    "merge", "POST", f"{self.repo}/pull-requests/{cr.number}/merge",
                    params={"version": version},
                    json={"version": version, "message": message, "autoSubject": False,
                          "strategyId": STRATEGIES.get(method, method)})
            except BitbucketError as exc:
                if _stale(exc):
                    pull = self._pull(cr.number)
                    continue
                if exc.status in (400, 401, 403, 404, 409):
                    raise MergeBlocked(exc.reason or f"HTTP {exc.status}") from None
                raise
        if pull["state"] != "MERGED":
            raise MergeBlocked(f"the pull request is {str(pull['state']).lower()}")
        sha = self._merge_sha(cr.number, pull)
        self.store.close_change_request(promotion_id, "merged", sha)
        log.info("forge.merged", forge=self.name, promotion=promotion_id, number=cr.number,
                 sha=sha)
        return sha

    def _merge_sha(self, number: int, pull: dict[str, Any]) -> str:
        """`properties.mergeCommit.id` where the pull request carries it, else the commit of
        its MERGED activity (older servers' pull requests do not say)."""
        found = ((pull.get("properties") or {}).get("mergeCommit") or {}).get("id")
        if found:
            return str(found)
        for activity in self.api.pages("activities",
                                       f"{self.repo}/pull-requests/{number}/activities"):
            if activity.get("action") == "MERGED" and (activity.get("commit") or {}).get("id"):
                return str(activity["commit"]["id"])
        raise MergeBlocked(f"Bitbucket did not say which commit merged #{number}")

    def comment(self, number: int, body: str) -> None:
        """Post a (general) comment on the pull request."""
        self.api.request("comment", "POST", f"{self.repo}/pull-requests/{number}/comments",
                         json={"text": body})

    def react(self, number: int, comment_id: int, content: str) -> None:
        """An emoticon reaction (comment-likes REST API, Data Center 8.x); nothing where the
        server has no reactions (404): Hoist's reply is the acknowledgement there."""
        emoticon = EMOTICONS.get(content, content)
        path = (f"/comment-likes/latest/projects/{self.project}/repos/{self.slug}/"
                f"pull-requests/{number}/comments/{comment_id}/reactions/{emoticon}")
        try:
            self.api.request("react", "PUT", path)
        except BitbucketError as exc:
            if exc.status not in (404, 405):
                raise
            log.info("bitbucket_datacenter.no_reactions", number=number, status=exc.status)

    def permission(self, user: str) -> str:
        """The higher of the user's repository and project permissions as granted to the
        user (GET …/permissions/users?filter=; the token's user needs admin there)."""
        best = "none"
        for scope in (self.repo, f"/api/1.0/projects/{self.project}"):
            try:
                for grant in self.api.pages("permission", f"{scope}/permissions/users",
                                            filter=user):
                    if _named(grant.get("user"), user):
                        rung = _LADDER.get(str(grant.get("permission")), "none")
                        best = max(best, rung, key=_RANK.index)
            except BitbucketError as exc:
                if exc.status in (401, 403):
                    raise BitbucketError(exc.status, "reading permissions needs the token's "
                                         f"user to administer {self.project}/{self.slug}",
                                         exc.errors) from None
                raise
        return best

    def teams_of(self, user: str, teams: list[str]) -> list[str]:
        """Which of `teams` (Bitbucket group names) the user is in (GET /admin/users/
        more-members?context=<user>; the token's user needs ADMIN)."""
        try:
            groups = {str(g.get("name", "")).lower() for g in self.api.pages(
                "groups", "/api/1.0/admin/users/more-members", context=user)}
        except BitbucketError as exc:
            if exc.status != 404:  # no such user
                raise
            return []
        return [team for team in teams if team.lower() in groups]

    def pull_state(self, number: int) -> tuple[str, str | None] | None:
        """Read the pull request back (a deleted one, 404, is closed)."""
        try:
            pull = self._pull(number)
        except BitbucketError as exc:
            if exc.status != 404:
                raise
            return "closed", None
        if pull["state"] == "MERGED":
            return "merged", self._merge_sha(number, pull)
        return ("open", None) if pull["state"] == "OPEN" else ("closed", None)

    def repository_id(self) -> str:
        """The repository's `id` (GET /projects/{key}/repos/{slug}), asked once."""
        if self._repository_id is None:
            self._repository_id = str(self.api.request("repository", "GET", self.repo)["id"])
        return self._repository_id

    def read_comment(self, number: int, comment_id: int) -> tuple[str, str] | None:
        """GET …/pull-requests/{n}/comments/{id}: its author and text; None when pull
        request `number` of this repository has no such comment (404)."""
        try:
            found = self.api.request("read_comment", "GET",
                                     f"{self.repo}/pull-requests/{number}/comments/{comment_id}")
        except BitbucketError as exc:
            if exc.status != 404:
                raise
            return None
        return _name(found.get("author")), str(found.get("text") or "")

    def read_reviews(self, number: int, user: str, review_id: int | None) -> list[str]:
        """[""] when `user` approves pull request `number` now (its `reviewers[].status`
        APPROVED: an approval has no text), else []."""
        try:
            pull = self._pull(number)
        except BitbucketError as exc:
            if exc.status != 404:
                raise
            return []
        people = [*(pull.get("reviewers") or []), *(pull.get("participants") or [])]
        return [""] if any(_named(p.get("user"), user) and p.get("status") == "APPROVED"
                           for p in people if isinstance(p, dict)) else []

    def close(self, number: int, comment: str) -> None:
        """Decline the pull request with a comment saying why."""
        self.comment(number, comment)
        pull = self._pull(number)
        for _ in range(ATTEMPTS):
            if pull["state"] != "OPEN":
                return
            try:
                self.api.request("decline", "POST",
                                 f"{self.repo}/pull-requests/{number}/decline",
                                 params={"version": pull["version"]},
                                 json={"version": pull["version"]})
                return
            except BitbucketError as exc:
                if not _stale(exc):
                    raise
                pull = self._pull(number)


def _name(user: Any) -> str:
    if not isinstance(user, dict):
        return ""
    return str(user.get("name") or user.get("slug") or "")


def _named(user: Any, login: str) -> bool:
    return isinstance(user, dict) and login.lower() in (
        str(user.get("name") or "").lower(), str(user.get("slug") or "").lower())


def _link(pull: dict[str, Any]) -> str | None:
    links = (pull.get("links") or {}).get("self") or []
    return str(links[0]["href"]) if links and isinstance(links[0], dict) else None
