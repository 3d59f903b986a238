"""Forge `gitlab`: merge requests, notes, award emoji and member access levels through
python-gitlab (REST API v4), on gitlab.com or a self-managed instance.

python-gitlab's own retrying is off: its requests session raises `Transient` for a 5xx or
429 answer, so the policy in retry.py (Retry-After honoured, capped, never other 4xx) is
the same as every other forge's."""

from __future__ import annotations

from typing import Any

import gitlab
import requests
import structlog
from gitlab.exceptions import GitlabError

from ..errors import MergeBlocked
from ..store import ChangeRequest, Store
from .retry import Transient, call

log = structlog.get_logger()

# GitLab's access levels (docs: api/members.md "Roles") onto Hoist's permission ladder:
# Guest and Planner read, Reporter triages, Developer writes, Maintainer maintains, Owner
# administers. Minimal access (5) is none.
_LADDER = ((50, "admin"), (40, "maintain"), (30, "write"), (20, "triage"), (10, "read"))
# GitHub's reaction names onto GitLab's award emoji names.
_EMOJI = {"+1": "thumbsup", "-1": "thumbsdown", "confused": "confused", "eyes": "eyes"}
# Refusals of PUT .../merge (docs: api/merge_requests.md "Merge a merge request"): 401 not
# allowed to merge, 405 not mergeable (draft, closed, pipeline, approvals), 406 conflicts,
# 409 the head moved (`sha` mismatch), 422 other merge checks.
_REFUSED = (401, 403, 405, 406, 409, 422)


class _Session(requests.Session):
    """Hands 5xx and 429 answers to the shared retry policy instead of python-gitlab."""

    def request(self, method: str, url: str, *args: Any,  # type: ignore[override]
                **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(response.status_code, response.headers, response.reason or "")
        return response


def access_permission(level: int) -> str:
    """A GitLab access level (10 Guest … 50 Owner) as a rung of Hoist's ladder."""
    return next((name for floor, name in _LADDER if level >= floor), "none")


def _code(exc: GitlabError) -> int:
    return int(exc.response_code or 0)


class GitLabForge:
    name = "gitlab"
    # GitLab keeps up to 1 MiB of description (docs: issuable text fields); a round 1,000,000.
    body_limit = 1_000_000  # characters of a change request body

    def __init__(self, store: Store, project: str, *, token: str,
                 url: str = "https://gitlab.com", timeout: float = 15,
                 bot_login: str | None = None) -> None:
        self.store = store
        self.gl = gitlab.Gitlab(url, private_token=token, timeout=timeout, session=_Session(),
                                retry_transient_errors=False,
                                per_page=100)
        self.project = self.gl.projects.get(project, lazy=True)
        self._bot_login = bot_login
        self._project_id: str | None = None

    @property
    def bot_login(self) -> str:
        """The username of the token's account (GET /user), asked once."""
        if self._bot_login is None:
            call("gitlab", "user", self.gl.auth)
            assert self.gl.user is not None
            self._bot_login = str(self.gl.user.username)
        return self._bot_login

    def _mr(self, iid: int) -> Any:
        return self.project.mergerequests.get(iid, lazy=True)

    def _find_open(self, branch: str, base: str) -> Any:
        found = call("gitlab", "list_merge_requests", lambda: self.project.mergerequests.list(
            state="opened", source_branch=branch, target_branch=base, get_all=True))
        return found[0] if found else None

    def propose(self, promotion_id: str, branch: str, base: str, title: str, body: str,
                labels: tuple[str, ...] = ()) -> ChangeRequest:
        """Find the open merge request of the branch (update it in place) or open one that
        removes its source branch once merged."""
        mr = self._find_open(branch, base)
        if mr is None:
            try:
                mr = call("gitlab", "create_merge_request", lambda: self.project.mergerequests
                          .create({"source_branch": branch, "target_branch": base,
                                   "title": title, "description": body,
                                   "remove_source_branch": True, "labels": ",".join(labels)}))
            except GitlabError as exc:
                # 409 "Another open merge request already exists for this source branch":
                # created by an attempt that timed out.
                if _code(exc) != 409:
                    raise
                mr = self._find_open(branch, base)
                if mr is None:
                    raise
            log.info("gitlab.mr_opened", iid=mr.iid, branch=branch)
        missing = [label for label in labels if label not in (mr.labels or [])]
        if mr.title != title or (mr.description or "") != body or missing:
            mr.title, mr.description = title, body
            if missing:
                mr.add_labels = ",".join(missing)
            call("gitlab", "edit_merge_request", mr.save)
        return self.store.record_change_request(promotion_id, branch, base, title, body,
                                                int(mr.iid), str(mr.web_url))

    def merge(self, promotion_id: str, commit: str, base: str, message: str,
              method: str = "squash") -> str:
        """Accept the merge request with `message`. `squash` squashes it; `merge` and
        `rebase` do not, and the project's merge method (merge commit, semi-linear,
        fast-forward) decides the rest: GitLab chooses no method per merge request."""
        cr = self.store.change_request(promotion_id)
        assert cr is not None and cr.number is not None
        iid = cr.number
        mr = call("gitlab", "get_merge_request", lambda: self.project.mergerequests.get(iid))
        if mr.state != "merged":
            data: dict[str, Any] = {"sha": commit, "squash": method == "squash",
                                    "should_remove_source_branch": True,
                                    "merge_commit_message": message}
            if method == "squash":
                # The trailers go on the squash commit; a merge commit above it (the
                # project's merge method "merge commit") gets the title only, so `hoist
                # audit` sees each promotion once.
                data["squash_commit_message"] = message
                data["merge_commit_message"] = message.partition("\n")[0]
            path = f"/projects/{self.project.encoded_id}/merge_requests/{iid}/merge"
            try:
                result = call("gitlab", "merge", lambda: self.gl.http_put(path, post_data=data))
            except GitlabError as exc:
                if _code(exc) in _REFUSED:
                    raise MergeBlocked(self._why_not(iid, exc)) from None
                raise
            assert isinstance(result, dict)
            sha = _merged_sha(result, fast_forward=False)
            if sha is None:  # the reply may leave merge_commit_sha empty: read it back
                mr = call("gitlab", "get_merge_request", lambda: self.project.mergerequests
                          .get(iid))
                sha = _merged_sha(mr.attributes)
        else:
            sha = _merged_sha(mr.attributes)
        assert sha is not None
        self.store.close_change_request(promotion_id, "merged", sha)
        log.info("forge.merged", forge=self.name, promotion=promotion_id, number=iid, sha=sha)
        return sha

    def _why_not(self, iid: int, exc: GitlabError) -> str:
        """A refusal says only "405 Method Not Allowed": GitLab's `detailed_merge_status`
        (ci_must_pass, not_approved, draft_status, conflict, ...) says why."""
        try:
            mr = call("gitlab", "get_merge_request", lambda: self.project.mergerequests.get(iid))
            status = mr.attributes.get("detailed_merge_status")
        except GitlabError:
            status = None
        return f"{exc.error_message}" + (f" (detailed_merge_status: {status})" if status else "")

    def comment(self, number: int, body: str) -> None:
        """Post a note on the merge request."""
        call("gitlab", "note", lambda: self._mr(number).notes.create({"body": body}))

    def react(self, number: int, comment_id: int, content: str) -> None:
        """Award an emoji (thumbsup, confused) to a note of the merge request."""
        note = self._mr(number).notes.get(comment_id, lazy=True)
        try:
            call("gitlab", "award_emoji", lambda: note.awardemojis.create(
                {"name": _EMOJI.get(content, content)}))
        except GitlabError as exc:
            # GitLab answers 404 "Award Emoji Name has already been taken" for a repeat.
            if "already been taken" not in str(exc.error_message):
                raise

    def permission(self, user: str) -> str:
        """The user's access level on the project, inherited ones included."""
        members = call("gitlab", "members", lambda: self.project.members_all.list(
            query=user, get_all=True))
        for member in members:
            if str(member.username).lower() == user.lower() and \
                    member.attributes.get("state", "active") == "active":
                return access_permission(int(member.access_level))
        return "none"

    def teams_of(self, user: str, teams: list[str]) -> list[str]:
        """Which of the groups (full paths, `org/sub`) the user is an active member of."""
        found = call("gitlab", "user_by_name", lambda: self.gl.users.list(username=user))
        if not found:
            return []
        uid = found[0].id
        member_of = []
        for team in teams:
            members: Any = self.gl.groups.get(team, lazy=True).members_all

            def get(members: Any = members) -> Any:
                return members.get(uid)

            try:
                member = call("gitlab", "group_member", get)
            except GitlabError as exc:
                if _code(exc) != 404:
                    raise
                continue
            if member.attributes.get("state", "active") == "active":
                member_of.append(team)
        return member_of

    def pull_state(self, number: int) -> tuple[str, str | None] | None:
        """Read the merge request back (for a reconcile pass after missed webhooks)."""
        mr = call("gitlab", "merge_request_state", lambda: self.project.mergerequests
                  .get(number))
        if mr.state == "merged":
            return "merged", _merged_sha(mr.attributes)
        return ("closed", None) if mr.state == "closed" else ("open", None)

    def repository_id(self) -> str:
        """The project's numeric `id` (GET /projects/:id, by its path), asked once."""
        if self._project_id is None:
            path = f"/projects/{self.project.encoded_id}"
            found = call("gitlab", "project", lambda: self.gl.http_get(path))
            assert isinstance(found, dict)
            self._project_id = str(found["id"])
        return self._project_id

    def read_comment(self, number: int, comment_id: int) -> tuple[str, str] | None:
        """GET /projects/:id/merge_requests/:iid/notes/:note_id (docs: api/notes.md "Get
        single merge request note"): its author's username and body; None on 404 (no such
        note on that merge request)."""
        path = f"/projects/{self.project.encoded_id}/merge_requests/{number}/notes/{comment_id}"
        try:
            note = call("gitlab", "read_note", lambda: self.gl.http_get(path))
        except GitlabError as exc:
            if _code(exc) != 404:
                raise
            return None
        assert isinstance(note, dict)
        return str(note["author"]["username"]), str(note.get("body") or "")

    def read_reviews(self, number: int, user: str, review_id: int | None) -> list[str]:
        """GET /projects/:id/merge_requests/:iid/approvals (docs: api/merge_request_approvals.md):
        [""] when `user` is among `approved_by` (an approval has no text), else []. A
        review's notes are notes, read back with read_comment."""
        path = f"/projects/{self.project.encoded_id}/merge_requests/{number}/approvals"
        try:
            found = call("gitlab", "approvals", lambda: self.gl.http_get(path))
        except GitlabError as exc:
            if _code(exc) != 404:
                raise
            return []
        assert isinstance(found, dict)
        names = {str(a["user"]["username"]).lower() for a in found.get("approved_by") or []}
        return [""] if user.lower() in names else []

    def close(self, number: int, comment: str) -> None:
        """Close a merge request with a note saying why."""
        self.comment(number, comment)
        mr = self._mr(number)
        mr.state_event = "close"
        call("gitlab", "close_merge_request", mr.save)


def _merged_sha(attributes: dict[str, Any], fast_forward: bool = True) -> str | None:
    """The commit that landed: the merge commit, else the squash commit, else (a
    fast-forward, read back from a merged merge request) the head itself."""
    if attributes.get("state") != "merged":
        return None
    keys = ("merge_commit_sha", "squash_commit_sha") + (("sha",) if fast_forward else ())
    for key in keys:
        if attributes.get(key):
            return str(attributes[key])
    return None
