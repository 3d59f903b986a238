"""Forge `bitbucket`: pull requests on Bitbucket Cloud through its REST API 2.0 over httpx
(developer.atlassian.com/cloud/bitbucket/rest; "Pull requests", "Commit statuses",
"Workspaces", "Users").

What Bitbucket lacks, and what stands in for it:
- labels: the description's last line `Hoist-Labels: hoist, env:prod` (and the `hoist/`
  branch prefix, which names every Hoist pull request);
- reactions: a threaded reply to the command (`parent`), which becomes Hoist's answer;
- a merge guarded by the head commit: the head is read back right before merging;
- teams: workspace groups, through the 1.0 groups endpoint Bitbucket still serves.
People are Atlassian account ids (sources/bitbucket_events.py says why)."""

from __future__ import annotations

import base64
import threading
import time
from typing import Any

import httpx
import structlog

from ..errors import MergeBlocked
from ..store import ChangeRequest, Store
from .retry import Transient, call

log = structlog.get_logger()
PAGE = 50
LABELS = "Hoist-Labels: "
# Repository permission (admin, write, read) onto Hoist's ladder; no triage or maintain.
_LADDER = {"admin": "admin", "write": "write", "read": "read"}
# Hoist's merge methods onto `merge_strategy` (squash, merge_commit, fast_forward): a
# rebase is nearest a fast-forward, which lands the branch's commits as they are.
STRATEGIES = {"squash": "squash", "merge": "merge_commit", "rebase": "fast_forward"}
# "API request limits": 1,000 requests an hour per user for repository data, a rolling hour.
HOURLY = 1000
# The acknowledgement reply is the very next call's to complete, on the same thread.
_ACK = {"+1": "\N{WHITE HEAVY CHECK MARK}", "confused": "\N{BLACK QUESTION MARK ORNAMENT}"}


class BitbucketError(RuntimeError):
    """A 4xx answer other than 429: never retried. `message` is Bitbucket's `error.message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def auth_header(token: str) -> str:
    """An access token (repository, project or workspace) is a Bearer token; `user:secret`
    (an app password, or an Atlassian API token) is Basic."""
    if ":" in token:
        return "Basic " + base64.b64encode(token.encode()).decode()
    return f"Bearer {token}"


def labels_of(description: str) -> tuple[str, list[str]]:
    """(the description without Hoist's label line, the labels it names)."""
    head, sep, last = description.rpartition("\n\n")
    if last.startswith(LABELS) and "\n" not in last:
        return (head if sep else ""), [n.strip() for n in last[len(LABELS):].split(",")
                                       if n.strip()]
    return description, []


class BitbucketForge:
    name = "bitbucket"
    # Bitbucket Cloud documents none; 262,144 as Dependabot keeps (longer bodies were accepted).
    body_limit = 262_144  # characters of a change request body

    def __init__(self, store: Store, repository: str, *, token: str,
                 url: str = "https://api.bitbucket.org/2.0", timeout: float = 15,
                 hourly: int = HOURLY, bot_login: str | None = None) -> None:
        self.store = store
        self.full_name = repository
        self.workspace, _, self.slug = repository.partition("/")
        self.repo = f"/repositories/{repository}"
        url = url.rstrip("/")
        # Groups live on the 1.0 API beside 2.0 ("Temporary support for limited 1.0 API
        # resources": /1.0/groups).
        self.v1 = (url[:-4] if url.endswith("/2.0") else url) + "/1.0"
        self.http = httpx.Client(base_url=url, timeout=timeout, headers={
            "Authorization": auth_header(token), "Accept": "application/json"})
        self.limits = ((3600.0, hourly),)
        self._bot_login = bot_login
        self._repository_id: str | None = None
        self._pending = threading.local()

    def _call(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        """One API call within the hourly budget every replica shares (each request
        counts), with the retry policy: the decoded JSON body (None when empty);
        BitbucketError for a 4xx."""
        if operation != "ack":
            self._pending.ack = None
        while (wait := self.store.take_write(self.name, limits=self.limits)) > 0:
            log.info("bitbucket.budget_wait", operation=operation, seconds=round(wait, 1))
            time.sleep(min(wait, 60.0))

        def attempt() -> httpx.Response:
            response = self.http.request(method, path, **kwargs)
            if response.status_code >= 500 or response.status_code == 429:
                raise Transient(response.status_code, response.headers, response.text[:200])
            return response

        response = call("bitbucket", operation, attempt)
        if response.status_code >= 400:
            try:
                found = response.json().get("error") or {}
                message = str(found.get("message") or response.reason_phrase)
            except (ValueError, AttributeError):
                message = response.reason_phrase
            raise BitbucketError(response.status_code, message)
        return response.json() if response.content.strip() else None

    def _pages(self, operation: str, path: str, params: dict[str, Any]) -> list[Any]:
        """Every `values` of a paged answer, following `next` ("Pagination")."""
        found: list[Any] = []
        page = self._call(operation, "GET", path, params={**params, "pagelen": PAGE})
        while True:
            found += page.get("values") or []
            if not page.get("next"):
                return found
            page = self._call(operation, "GET", str(page["next"]))

    @property
    def bot_login(self) -> str:
        """The token's account id (GET /user), asked once."""
        if self._bot_login is None:
            me = self._call("user", "GET", "/user")
            self._bot_login = str(me.get("account_id") or me.get("uuid"))
        return self._bot_login

    def _find_open(self, branch: str, base: str) -> dict[str, Any] | None:
        query = f'source.branch.name="{branch}" AND destination.branch.name="{base}"'
        for pull in self._pages("list_pulls", f"{self.repo}/pullrequests",
                                {"state": "OPEN", "q": query}):
            if pull["source"]["branch"]["name"] == branch and \
                    pull["destination"]["branch"]["name"] == base:
                return dict(pull)
        return None

    def propose(self, promotion_id: str, branch: str, base: str, title: str, body: str,
                labels: tuple[str, ...] = ()) -> ChangeRequest:
        """Find the open pull request of the branch (update it in place) or open one; the
        labels go on the description's last line, added to those it names."""
        pull = self._find_open(branch, base)
        if pull is None:
            description = body + (f"\n\n{LABELS}{', '.join(labels)}" if labels else "")
            try:
                pull = self._call("create_pull", "POST", f"{self.repo}/pullrequests", json={
                    "title": title, "description": description,
                    "source": {"branch": {"name": branch}},
                    "destination": {"branch": {"name": base}}, "close_source_branch": False})
            except BitbucketError as exc:
                pull = self._find_open(branch, base) if exc.status in (400, 409) else None
                if pull is None:  # not a create that timed out after it was done
                    raise
            assert pull is not None
            log.info("bitbucket.pr_opened", number=pull["id"], branch=branch)
        number = int(pull["id"])
        _, present = labels_of(str(pull.get("description") or ""))
        wanted = present + [name for name in labels if name not in present]
        description = body + (f"\n\n{LABELS}{', '.join(wanted)}" if wanted else "")
        if pull["title"] != title or (pull.get("description") or "") != description:
            self._call("edit_pull", "PUT", f"{self.repo}/pullrequests/{number}",
                       json={"title": title, "description": description})
        link = ((pull.get("links") or {}).get("html") or {}).get("href")
        return self.store.record_change_request(promotion_id, branch, base, title, body,
                                                number, link)

    def merge(self, promotion_id: str, commit: str, base: str, message: str,
              method: str = "squash") -> str:
        """Merge with `merge_strategy`, `message` as the commit message. Bitbucket's merge
        takes no expected head, so the head is read back first: a moved head is refused."""
        cr = self.store.change_request(promotion_id)
        assert cr is not None and cr.number is not None
        path = f"{self.repo}/pullrequests/{cr.number}"
        pull = self._call("get_pull", "GET", path)
        if pull.get("state") == "OPEN":
            head = str(pull["source"]["commit"]["hash"])
            if not commit.startswith(head):  # Bitbucket gives 12 of the 40 hex digits
                raise MergeBlocked(f"the head moved to {head}, not {commit[:12]}")
            try:
                pull = self._call("merge", "POST", f"{path}/merge", json={
                    "type": "pullrequest", "message": message, "close_source_branch": False,
                    "merge_strategy": STRATEGIES.get(method, method)}) or {}
            except BitbucketError as exc:
                # 400 merge checks (approvals, builds, tasks), conflicts or a strategy the
                # branch does not allow; 403 a branch restriction; 409 a merge under way.
                if exc.status in (400, 403, 404, 409):
                    raise MergeBlocked(exc.message or f"HTTP {exc.status}") from None
                raise
            for _ in range(30):  # 202: merged in the background ("merge task")
                if pull.get("state") == "MERGED":
                    break
                time.sleep(1.0)
                pull = self._call("get_pull", "GET", path)
        if pull.get("state") != "MERGED":
            raise MergeBlocked(f"the pull request is {str(pull.get('state')).lower()}")
        sha = self._full_sha(str(pull["merge_commit"]["hash"]))
        self.store.close_change_request(promotion_id, "merged", sha)
        log.info("forge.merged", forge=self.name, promotion=promotion_id, number=cr.number,
                 sha=sha)
        return sha

    def _full_sha(self, short: str) -> str:
        """`merge_commit.hash` is 12 hex digits: the commit's full hash (GET /commit/{rev})."""
        if len(short) == 40:
            return short
        return str(self._call("commit", "GET", f"{self.repo}/commit/{short}")["hash"])

    def comment(self, number: int, body: str) -> None:
        """Post a comment; right after `react` on the same thread, it is the reply `react`
        began (its mark first), threaded under the command it answers."""
        ack = getattr(self._pending, "ack", None)
        if ack is not None and ack[0] == number:
            self._call("ack", "PUT", f"{self.repo}/pullrequests/{number}/comments/{ack[1]}",
                       json={"content": {"raw": f"{ack[2]} {body}"}})
        else:
            self._post(number, body)
        self._pending.ack = None

    def _post(self, number: int, body: str, parent: int | None = None) -> int:
        data: dict[str, Any] = {"content": {"raw": body}}
        if parent is not None:
            data["parent"] = {"id": parent}
        made = self._call("comment", "POST", f"{self.repo}/pullrequests/{number}/comments",
                          json=data)
        return int(made["id"])

    def react(self, number: int, comment_id: int, content: str) -> None:
        """Bitbucket has no reactions: reply to the comment with a mark (✅ for +1, ❓ for
        confused); the next `comment` on the pull request completes that reply."""
        mark = _ACK.get(content, content)
        reply = self._post(number, mark, parent=comment_id)
        self._pending.ack = (number, reply, mark)

    def permission(self, user: str) -> str:
        """The user's permission on the repository, from the workspace's repository
        permissions (admin, write, read; GET /workspaces/{ws}/permissions/repositories/{slug},
        which needs a workspace administrator's token)."""
        field = "uuid" if user.startswith("{") else "account_id"
        try:
            found = self._pages("permission", f"/workspaces/{self.workspace}/permissions/"
                                f"repositories/{self.slug}", {"q": f'user.{field}="{user}"'})
        except BitbucketError as exc:
            if exc.status == 403:
                raise BitbucketError(403, "reading people's permissions needs a token of a "
                                          f"workspace administrator of {self.workspace}"
                                     ) from None
            raise
        roles = [_LADDER.get(str(p.get("permission")), "none") for p in found]
        return max(roles, key=("none", "read", "write", "admin").index, default="none")

    def teams_of(self, user: str, teams: list[str]) -> list[str]:
        """Which of the `workspace/group-slug` groups the user is a member of
        (GET /1.0/groups/{workspace}/{group_slug}/members)."""
        member_of = []
        for team in teams:
            workspace, _, slug = team.partition("/")
            try:
                members = self._call("group_members", "GET",
                                     f"{self.v1}/groups/{workspace}/{slug}/members")
            except BitbucketError as exc:
                if exc.status != 404:
                    raise
                continue
            if any(user in (m.get("account_id"), m.get("uuid")) for m in members or []):
                member_of.append(team)
        return member_of

    def pull_state(self, number: int) -> tuple[str, str | None] | None:
        """Read the pull request back: MERGED (with its full merge sha), DECLINED or
        SUPERSEDED (closed), else open."""
        pull = self._call("pull_state", "GET", f"{self.repo}/pullrequests/{number}")
        if pull.get("state") == "MERGED":
            return "merged", self._full_sha(str(pull["merge_commit"]["hash"]))
        return ("closed", None) if pull.get("state") in ("DECLINED", "SUPERSEDED") \
            else ("open", None)

    def repository_id(self) -> str:
        """The repository's `uuid` (GET /repositories/{workspace}/{slug}), asked once."""
        if self._repository_id is None:
            found = self._call("repository", "GET", self.repo)
            self._repository_id = str(found["uuid"]).lower()
        return self._repository_id

    def read_comment(self, number: int, comment_id: int) -> tuple[str, str] | None:
        """GET .../pullrequests/{n}/comments/{id}: its author and raw text, if it is on pull
        request `number` and not deleted."""
        try:
            found = self._call("read_comment", "GET",
                               f"{self.repo}/pullrequests/{number}/comments/{comment_id}")
        except BitbucketError as exc:
            if exc.status != 404:
                raise
            return None
        if found.get("deleted") or (found.get("pullrequest") or {}).get("id") != number:
            return None
        user = found.get("user") or {}
        return (str(user.get("account_id") or user.get("uuid") or ""),
                str((found.get("content") or {}).get("raw") or ""))

    def read_reviews(self, number: int, user: str, review_id: int | None) -> list[str]:
        """An approval is a review with no text: [""] when `user` approves pull request
        `number` now (its `participants[].approved`), else []."""
        try:
            pull = self._call("reviews", "GET", f"{self.repo}/pullrequests/{number}")
        except BitbucketError as exc:
            if exc.status != 404:
                raise
            return []
        return [""] if any(p.get("approved") and user.lower() in (
            str((p.get("user") or {}).get("account_id")).lower(),
            str((p.get("user") or {}).get("uuid")).lower()) for p in
            pull.get("participants") or []) else []

    def close(self, number: int, comment: str) -> None:
        """Decline a pull request with a comment saying why."""
        self._post(number, comment)
        self._call("decline", "POST", f"{self.repo}/pullrequests/{number}/decline")
