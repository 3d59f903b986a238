"""Forge `gitea`: pull requests on Gitea or Forgejo through their REST API v1 over httpx
(Forgejo keeps Gitea's v1 API: one adapter serves both). Labels are ids there, so they are
looked up (and created once) by name."""

from __future__ import annotations

from typing import Any

import httpx
import structlog

from ..errors import MergeBlocked
from ..store import ChangeRequest, Store
from .retry import Transient, call

log = structlog.get_logger()
PAGE = 50
# Collaborator permission (`GET /repos/{owner}/{repo}/collaborators/{user}/permission`:
# none, read, write, admin, owner) onto Hoist's ladder; Gitea has no triage or maintain.
_LADDER = {"owner": "admin", "admin": "admin", "write": "write", "read": "read"}


class GiteaError(RuntimeError):
    """A 4xx answer other than 429: never retried."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class GiteaForge:
    name = "gitea"
    # Gitea and Forgejo keep the body in a TEXT column: 65,535 bytes on MySQL, the least.
    body_limit = 65_535  # characters of a change request body

    def __init__(self, store: Store, repository: str, *, token: str, url: str,
                 timeout: float = 15, bot_login: str | None = None) -> None:
        self.store = store
        self.repo = f"/repos/{repository}"
        self.http = httpx.Client(base_url=f"{url.rstrip('/')}/api/v1", timeout=timeout,
                                 headers={"Authorization": f"token {token}",
                                          "Accept": "application/json"})
        self._bot_login = bot_login
        self._labels: dict[str, int] = {}
        self._repository_id: str | None = None

    def _call(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        """One API call with the retry policy: the decoded JSON body (None when empty);
        GiteaError for a 4xx."""
        def attempt() -> httpx.Response:
            response = self.http.request(method, path, **kwargs)
            if response.status_code >= 500 or response.status_code == 429:
                raise Transient(response.status_code, response.headers, response.text[:200])
            return response

        response = call("gitea", operation, attempt)
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message") or response.reason_phrase)
            except ValueError:
                message = response.reason_phrase
            raise GiteaError(response.status_code, message)
        return response.json() if response.content.strip() else None

    @property
    def bot_login(self) -> str:
        """The login of the token's account (GET /user), asked once."""
        if self._bot_login is None:
            self._bot_login = str(self._call("user", "GET", "/user")["login"])
        return self._bot_login

    def _find_open(self, branch: str, base: str) -> dict[str, Any] | None:
        page = 1
        while True:
            pulls = self._call("list_pulls", "GET", f"{self.repo}/pulls",
                               params={"state": "open", "limit": PAGE, "page": page})
            for pull in pulls:
                if pull["head"]["ref"] == branch and pull["base"]["ref"] == base:
                    return dict(pull)
            if len(pulls) < PAGE:
                return None
            page += 1

    def propose(self, promotion_id: str, branch: str, base: str, title: str, body: str,
                labels: tuple[str, ...] = ()) -> ChangeRequest:
        """Find the open pull request of the branch (update it in place) or open one."""
        pull = self._find_open(branch, base)
        if pull is None:
            # Labels go with the create (CreatePullRequestOption.labels): one write, not two.
            ids = [self._label_id(name) for name in labels]
            try:
                pull = self._call("create_pull", "POST", f"{self.repo}/pulls", json={
                    "head": branch, "base": base, "title": title, "body": body,
                    "labels": ids})
            except GiteaError as exc:
                if exc.status != 409:  # "pull request already exists": a timed-out attempt
                    raise
                pull = self._find_open(branch, base)
                if pull is None:
                    raise
            assert pull is not None
            log.info("gitea.pr_opened", number=pull["number"], branch=branch)
        number = int(pull["number"])
        if pull["title"] != title or (pull.get("body") or "") != body:
            self._call("edit_pull", "PATCH", f"{self.repo}/pulls/{number}",
                       json={"title": title, "body": body})
        present = {label["name"] for label in pull.get("labels") or []}
        missing = [name for name in labels if name not in present]
        if missing:
            ids = [self._label_id(name) for name in missing]
            self._call("add_labels", "POST", f"{self.repo}/issues/{number}/labels",
                       json={"labels": ids})
        return self.store.record_change_request(promotion_id, branch, base, title, body,
                                                number, pull.get("html_url"))

    def _label_id(self, name: str) -> int:
        """The repository label's id, created (grey) when the repository has none."""
        if name not in self._labels:
            for label in self._call("labels", "GET", f"{self.repo}/labels",
                                    params={"limit": PAGE}):
                self._labels[label["name"]] = int(label["id"])
        if name not in self._labels:
            try:
                label = self._call("create_label", "POST", f"{self.repo}/labels",
                                   json={"name": name, "color": "#ededed"})
                self._labels[name] = int(label["id"])
            except GiteaError:
                self._labels.clear()  # created meanwhile: read them again
                return self._label_id(name)
        return self._labels[name]

    def merge(self, promotion_id: str, commit: str, base: str, message: str,
              method: str = "squash") -> str:
        """Merge with `Do: merge|squash|rebase`, `message` as title and body, only while
        the head is still `commit`."""
        cr = self.store.change_request(promotion_id)
        assert cr is not None and cr.number is not None
        path = f"{self.repo}/pulls/{cr.number}"
        pull = self._call("get_pull", "GET", path)
        if not pull.get("merged"):
            title, _, rest = message.partition("\n\n")
            try:
                self._call("merge", "POST", f"{path}/merge", json={
                    "Do": method, "MergeTitleField": title, "MergeMessageField": rest,
                    "head_commit_id": commit, "delete_branch_after_merge": False})
            except GiteaError as exc:
                # 405 not allowed or not mergeable (protection, checks, approvals), 409
                # conflicts or the head moved, 404 closed (routers/api/v1/repo/pull.go).
                if exc.status in (404, 405, 409, 422):
                    raise MergeBlocked(exc.message or f"HTTP {exc.status}") from None
                raise
            pull = self._call("get_pull", "GET", path)
        sha = str(pull["merge_commit_sha"])
        self.store.close_change_request(promotion_id, "merged", sha)
        log.info("forge.merged", forge=self.name, promotion=promotion_id, number=cr.number,
                 sha=sha)
        return sha

    def comment(self, number: int, body: str) -> None:
        """Post a comment on the pull request (an issue comment, as Gitea keeps them)."""
        self._call("comment", "POST", f"{self.repo}/issues/{number}/comments",
                   json={"body": body})

    def react(self, number: int, comment_id: int, content: str) -> None:
        """Add a reaction (+1, confused) to a comment."""
        self._call("react", "POST", f"{self.repo}/issues/comments/{comment_id}/reactions",
                   json={"content": content})

    def permission(self, user: str) -> str:
        """The user's permission on the repository (owner and admin are admin)."""
        try:
            found = self._call("permission", "GET",
                               f"{self.repo}/collaborators/{user}/permission")
        except GiteaError as exc:
            if exc.status == 404:  # no such user
                return "none"
            if exc.status == 403:  # routers/api/v1/repo/collaborators.go
                raise GiteaError(403, "reading another user's permission needs the token's "
                                      f"account to be an administrator of {self.repo[7:]}"
                                 ) from None
            raise
        return _LADDER.get(str(found.get("permission", "none")).lower(), "none")

    def teams_of(self, user: str, teams: list[str]) -> list[str]:
        """Which of the `org/team` teams the user is a member of."""
        member_of = []
        for team in teams:
            org, _, name = team.partition("/")
            found = self._call("team_search", "GET", f"/orgs/{org}/teams/search",
                               params={"q": name})
            match = [t for t in found.get("data") or [] if str(t["name"]).lower() ==
                     name.lower()]
            if not match:
                continue
            try:
                self._call("team_member", "GET", f"/teams/{match[0]['id']}/members/{user}")
            except GiteaError as exc:
                if exc.status != 404:
                    raise
                continue
            member_of.append(team)
        return member_of

    def pull_state(self, number: int) -> tuple[str, str | None] | None:
        """Read the pull request back (for a reconcile pass after missed webhooks)."""
        pull = self._call("pull_state", "GET", f"{self.repo}/pulls/{number}")
        if pull.get("merged"):
            return "merged", pull.get("merge_commit_sha")
        return ("closed", None) if pull.get("state") == "closed" else ("open", None)

    def repository_id(self) -> str:
        """The repository's `id` (GET /repos/{owner}/{repo}), asked once."""
        if self._repository_id is None:
            self._repository_id = str(self._call("repository", "GET", self.repo)["id"])
        return self._repository_id

    def read_comment(self, number: int, comment_id: int) -> tuple[str, str] | None:
        """GET /repos/{owner}/{repo}/issues/comments/{id} (404 when it is not this
        repository's): its author and body, if its `pull_request_url` (or `issue_url`) is
        pull request `number`'s (modules/structs/issue_comment.go)."""
        try:
            found = self._call("read_comment", "GET", f"{self.repo}/issues/comments/{comment_id}")
        except GiteaError as exc:
            if exc.status != 404:
                raise
            return None
        url = str(found.get("pull_request_url") or found.get("issue_url") or "").rstrip("/")
        if not url.endswith(f"/{number}"):
            return None
        return _login(found.get("user")), str(found.get("body") or "")

    def read_reviews(self, number: int, user: str, review_id: int | None) -> list[str]:
        """GET /repos/{owner}/{repo}/pulls/{n}/reviews, every page: the bodies of `user`'s
        reviews (a review webhook carries no review id to read one back by)."""
        said, page = [], 1
        while True:
            try:
                reviews = self._call("reviews", "GET", f"{self.repo}/pulls/{number}/reviews",
                                     params={"limit": PAGE, "page": page})
            except GiteaError as exc:
                if exc.status != 404:  # no such pull request
                    raise
                return []
            said += [str(r.get("body") or "") for r in reviews
                     if _login(r.get("user")).lower() == user.lower()]
            if len(reviews) < PAGE:
                return said
            page += 1

    def close(self, number: int, comment: str) -> None:
        """Close a pull request with a comment saying why."""
        self.comment(number, comment)
        self._call("close_pull", "PATCH", f"{self.repo}/pulls/{number}",
                   json={"state": "closed"})


def _login(user: Any) -> str:
    if not isinstance(user, dict):
        return ""
    return str(user.get("login") or user.get("username") or "")
