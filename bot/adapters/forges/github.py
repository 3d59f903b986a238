"""Forge `github`: pull requests, comments, reactions and permissions through PyGithub,
with retries on 5xx, timeouts and rate limits (honouring Retry-After and
X-RateLimit-Reset) and never on other 4xx. Calls block: the worker thread makes them."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
import structlog
from github import Auth, Github, GithubException, GithubIntegration

from ...telemetry import timed_call
from ..errors import MergeBlocked
from ..store import ChangeRequest, Store
from .retry import policy

log = structlog.get_logger()
T = TypeVar("T")
# Content-creating requests: GitHub's secondary limits count these (POST, PATCH, PUT, DELETE).
WRITES = frozenset({"create_pull", "edit_pull", "add_labels", "merge", "comment", "react",
                    "close_pull"})


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return True
    if isinstance(exc, GithubException):
        message = str(exc.data.get("message", "")) if isinstance(exc.data, dict) else ""
        limited = exc.status in (403, 429) and (
            "rate limit" in message.lower() or "retry-after" in {k.lower() for k in exc.headers or {}})
        return exc.status >= 500 or limited
    return False


def _headers(exc: BaseException) -> Mapping[str, str]:
    return (exc.headers or {}) if isinstance(exc, GithubException) else {}


_retry = policy(_retryable, _headers)


def call(operation: str, fn: Callable[[], T]) -> T:
    """Run one GitHub call with the retry policy; each attempt is timed as `operation`."""
    def attempt() -> T:
        with timed_call("github", operation):
            return fn()
    return _retry(attempt)()


class GitHubForge:
    name = "github"
    # GitHub refuses a longer body: "body is too long (maximum is 65536 characters)".
    body_limit = 65_536  # characters of a change request body

    def __init__(self, store: Store, repository: str, *, token: str | None = None,
                 app_id: str | None = None, private_key: str | None = None,
                 base_url: str = "https://api.github.com", bot_login: str | None = None,
                 timeout: int = 15, pace: float = 1.0) -> None:
        self.store = store
        self.full_name = repository
        self.owner = repository.split("/")[0]
        self.bot_login = bot_login
        if token:
            auth: Any = Auth.Token(token)
        else:
            assert app_id and private_key, "a token or a GitHub App is needed"
            # Installation tokens are fetched and refreshed before expiry by PyGithub.
            app = Auth.AppAuth(int(app_id), private_key)
            integration = GithubIntegration(auth=app, base_url=base_url, timeout=timeout)
            installation = call("app_installation", lambda: integration.get_repo_installation(
                *repository.split("/")))
            auth = app.get_installation_auth(installation.id)
        # `pace` scales PyGithub's spacing of requests (0.25 s) and writes (1 s), which keeps
        # clear of GitHub's secondary rate limits; tests against the double set it to 0.
        self._auth = auth
        self.gh = Github(auth=auth, base_url=base_url, retry=None, timeout=timeout, lazy=True,
                         seconds_between_requests=0.25 * pace, seconds_between_writes=pace)
        self.repo = self.gh.get_repo(repository)
        self._repository_id: str | None = None

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        """`call`, within the budget every replica shares through the store: none while
        GitHub said the primary limit is used up (until its reset), and content-creating
        requests within the secondary limits (budget.SECONDARY_LIMITS)."""
        while True:
            wait = self.store.primary_wait(self.name)
            if wait <= 0 and operation in WRITES:
                wait = self.store.take_write(self.name)
            if wait <= 0:
                break
            log.info("github.budget_wait", operation=operation, seconds=round(wait, 1))
            time.sleep(min(wait, 60.0))
        try:
            return call(operation, fn)
        finally:
            remaining, limit = self.gh.requester.rate_limiting
            if remaining >= 0 and limit > 0:
                self.store.observe_primary(self.name, remaining, limit,
                                           float(self.gh.requester.rate_limiting_resettime))

    def git_token(self) -> str:
        """The token git pushes with: the personal token, or the App's current installation
        token (PyGithub fetches another before this one expires)."""
        return str(call("installation_token", lambda: self._auth.token))

    def _find_open(self, branch: str, base: str) -> Any:
        head = f"{self.owner}:{branch}"
        pulls = self._call("list_pulls", lambda: list(self.repo.get_pulls(
            state="open", head=head, base=base)))
        return pulls[0] if pulls else None

    def propose(self, promotion_id: str, branch: str, base: str, title: str, body: str,
                labels: tuple[str, ...] = ()) -> ChangeRequest:
        """Find the open pull request of the branch (update it in place) or open one.
        Content-creating requests only where something changes: the create, an edit when
        the title or body differ, labels it lacks."""
        pr = self._find_open(branch, base)
        if pr is None:
            try:
                pr = self._call("create_pull", lambda: self.repo.create_pull(
                    base=base, head=branch, title=title, body=body))
            except GithubException as exc:
                if exc.status != 422:
                    raise
                pr = self._find_open(branch, base)  # created by an attempt that timed out
                if pr is None:
                    raise
            log.info("github.pr_opened", number=pr.number, branch=branch)
        if pr.title != title or (pr.body or "") != body:
            self._call("edit_pull", lambda: pr.edit(title=title, body=body))
        # GitHub's "create a pull request" takes no labels: one more write, and only for
        # labels the pull request lacks (the listing and the create answer carry them).
        present = {label.name for label in pr.labels}
        missing = [name for name in labels if name not in present]
        if missing:
            self._call("add_labels", lambda: pr.add_to_labels(*missing))
        return self.store.record_change_request(promotion_id, branch, base, title, body,
                                                pr.number, pr.html_url)

    def merge(self, promotion_id: str, commit: str, base: str, message: str,
              method: str = "squash") -> str:
        """Merge the promotion's pull request with `message` (title, body and trailers)."""
        cr = self.store.change_request(promotion_id)
        assert cr is not None and cr.number is not None
        pr = self._call("get_pull", lambda: self.repo.get_pull(cr.number or 0))
        if not pr.merged:
            title, _, rest = message.partition("\n\n")
            try:
                status = self._call("merge", lambda: pr.merge(
                    commit_title=title, commit_message=rest, merge_method=method, sha=commit))
            except GithubException as exc:
                if exc.status in (405, 409, 422):
                    reason = exc.data.get("message") if isinstance(exc.data, dict) else str(exc)
                    raise MergeBlocked(str(reason)) from None
                raise
            sha = str(status.sha)
        else:
            sha = str(pr.merge_commit_sha)
        self.store.close_change_request(promotion_id, "merged", sha)
        log.info("forge.merged", forge=self.name, promotion=promotion_id, number=cr.number, sha=sha)
        return sha

    def comment(self, number: int, body: str) -> None:
        """Post a comment on the pull request."""
        # lazy: one POST
        self._call("comment", lambda: self.repo.get_issue(number).create_comment(body))

    def react(self, number: int, comment_id: int, content: str) -> None:
        """Add a reaction (+1, confused, eyes, …) to a comment."""
        self._call("react", lambda: self.repo.get_issue(number).get_comment(comment_id)
                   .create_reaction(content))

    def permission(self, user: str) -> str:
        """The user's role on the repository: read, triage, write, maintain, admin or none."""
        return str(self._call("permission", lambda: self.repo.get_collaborator_role_name(user)))

    def teams_of(self, user: str, teams: list[str]) -> list[str]:
        """Which of the org/team slugs the user is an active member of."""
        found = []
        for team in teams:
            org, _, slug = team.partition("/")
            url = f"/orgs/{org}/teams/{slug}/memberships/{user}"

            def membership(url: str = url) -> tuple[Any, Any]:
                return self.gh.requester.requestJsonAndCheck("GET", url)

            try:
                _, data = self._call("team_membership", membership)
                if data.get("state") == "active":
                    found.append(team)
            except GithubException as exc:
                if exc.status != 404:
                    raise
        return found

    def pull_state(self, number: int) -> tuple[str, str | None] | None:
        """Read the pull request back (for a reconcile pass after missed webhooks)."""
        pr = self.repo.get_pull(number)  # lazy: the attribute reads below fetch it
        merged = self._call("pull_state", lambda: bool(pr.merged))
        if merged:
            return "merged", str(pr.merge_commit_sha)
        return str(pr.state), None

    def repository_id(self) -> str:
        """The repository's `id` (GET /repos/{owner}/{repo}), asked once."""
        if self._repository_id is None:
            self._repository_id = str(self._call("repository", lambda: self.repo.id))
        return self._repository_id

    def read_comment(self, number: int, comment_id: int) -> tuple[str, str] | None:
        """GET /repos/{owner}/{repo}/issues/comments/{id}: the comment, if its `issue_url`
        is pull request `number`'s (a pull request's comments are its issue's: GitHub docs,
        "REST API endpoints for issue comments"). 404 (not in this repository): None."""
        def read() -> tuple[str, str, str]:  # lazy: reading the attributes fetches it
            found = self.repo.get_issue(number).get_comment(comment_id)
            return str(found.issue_url), str(found.user.login), str(found.body or "")

        try:
            issue_url, login, body = self._call("read_comment", read)
        except GithubException as exc:
            if exc.status != 404:
                raise
            return None
        return (login, body) if issue_url.endswith(f"/issues/{number}") else None

    def read_reviews(self, number: int, user: str, review_id: int | None) -> list[str]:
        """GET /repos/{owner}/{repo}/pulls/{n}/reviews/{id}: the review's body if `user`
        wrote it (GitHub answers 404 for a review of another pull request)."""
        if review_id is None:
            return []
        try:
            review = self._call("read_review", lambda: self.repo.get_pull(number)
                                .get_review(review_id))
        except GithubException as exc:
            if exc.status != 404:
                raise
            return []
        return [str(review.body or "")] if str(review.user.login).lower() == user.lower() \
            else []

    def close(self, number: int, comment: str) -> None:
        """Close a pull request with a comment saying why."""
        self.comment(number, comment)
        self._call("close_pull", lambda: self.repo.get_pull(number).edit(state="closed"))
