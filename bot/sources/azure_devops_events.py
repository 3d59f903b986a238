"""Azure DevOps service-hook events (the Web Hooks consumer) as PullRequestActivity.

Service hooks are not signed: there is no HMAC. A subscription authenticates with HTTP
Basic (a user name and password set on it) and/or HTTP headers set on it ("Web Hooks"
service-hook consumer docs), so Hoist takes its secret as the Basic password (any user
name) or in an `X-Hoist-Token` header, compared in constant time.

Events are routed on the body's `eventType` ("Service hooks event reference"):
`ms.vss-code.git-pullrequest-comment-event` (resource: `comment` + `pullRequest`; the thread
id is only in the comment's `_links`), `git.pullrequest.created|updated|merged` (resource:
the pull request; a completion arrives as `updated` with `status: completed`, and `merged`
fires on every merge *attempt*, so only `status` says whether it merged) and `git.push`
(resource: `refUpdates`, `repository.defaultBranch`)."""

from __future__ import annotations

import re
from typing import Any

from ..core.azure_devops import approves, comment_key
from ..core.events import PullRequestActivity
from .base import AuthError, Headers, PayloadError, check_token, json_object, moment, number, text
from .forge_push import BranchPushed

COMMENT_EVENT = "ms.vss-code.git-pullrequest-comment-event"
PULL_REQUEST_EVENTS = ("git.pullrequest.created", "git.pullrequest.updated",
                       "git.pullrequest.merged")
PUSH_EVENT = "git.push"
_THREAD = re.compile(r"/threads/(\d+)(?:/comments/(\d+))?/?$")


def verify(headers: Headers, body: bytes, secret: str) -> None:
    """The secret as the Basic-auth password (any user name), or in `X-Hoist-Token` (a
    header set on the subscription), compared in constant time. AuthError otherwise."""
    try:
        check_token(headers, secret)
    except AuthError:
        raise AuthError("missing or wrong Basic-auth password (or X-Hoist-Token)") from None


def event_type(body: bytes) -> str:
    """The delivery's `eventType`; PayloadError when the body is not a service-hook event."""
    found = text(json_object(body), "eventType")
    if found is None:
        raise PayloadError("a service hook event needs `eventType`")
    return found


def repository_guid(data: Any) -> str | None:
    """A repository's `id` (a GUID, lower-cased; any positive integer as its digits), or
    None when absent."""
    value = data.get("id") if isinstance(data, dict) else None
    if isinstance(value, str) and value.strip():
        return value.strip().lower()
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    return None


def _user(identity: Any) -> str:
    """An identity's `uniqueName` (the sign-in name Hoist knows people by)."""
    return text(identity, "uniqueName") or "" if isinstance(identity, dict) else ""


def _thread_id(comment: dict[str, Any]) -> int:
    """The comment's thread, from `_links.self` or `_links.threads`."""
    for link in ("self", "threads"):
        href = text(comment, "_links", link, "href") or ""
        found = _THREAD.search(href.split("?")[0])
        if found:
            return int(found.group(1))
    raise PayloadError("a pull request comment without its thread's link")


def _comment(resource: dict[str, Any]) -> list[PullRequestActivity]:
    comment, pull = resource.get("comment"), resource.get("pullRequest")
    if not isinstance(comment, dict) or not isinstance(pull, dict):
        raise PayloadError("a comment event without comment and pullRequest")
    if comment.get("isDeleted") is True or comment.get("commentType") == "system":
        return []
    published, updated = moment(comment, "publishedDate"), moment(comment, "lastUpdatedDate")
    if published is not None and updated is not None and updated > published:
        return []  # an edit: commands are read from what was written first
    thread, pr = _thread_id(comment), number(pull, "pullRequestId")
    try:
        key = comment_key(thread, number(comment, "id"))
    except ValueError as exc:
        raise PayloadError(str(exc)) from None
    repository = repository_guid(pull.get("repository"))
    said = comment.get("content")
    return [PullRequestActivity(
        f"azure-devops:comment:{repository}:{pr}:{key}", pr, key, _user(comment.get("author")),
        said if isinstance(said, str) else "", "comment", published, repository_id=repository)]


def _pull_request(event: str, pull: dict[str, Any]) -> list[PullRequestActivity]:
    pr, status = number(pull, "pullRequestId"), text(pull, "status")
    repository = repository_guid(pull.get("repository"))
    if status in ("completed", "abandoned"):
        merged = status == "completed"
        sha = text(pull, "lastMergeCommit", "commitId") if merged else None
        who = _user(pull.get("closedBy")) or _user(pull.get("createdBy"))
        # Keyed by what it claims (a read-back confirms it): `updated` and `merged` both
        # report one completion; a claim of another merge commit is another event.
        return [PullRequestActivity(f"azure-devops:pr:{repository}:{pr}:{status}:{sha}", pr, None,
                                    who, sha or "", "merged" if merged else "closed",
                                    moment(pull, "closedDate"), repository_id=repository)]
    if event != "git.pullrequest.updated" or status != "active":
        return []  # opened, or a merge attempt that did not complete
    reviewers = pull.get("reviewers")
    approving = [r for r in reviewers if isinstance(r, dict) and approves(r.get("vote"))
                 and r.get("isContainer") is not True and _user(r)] \
        if isinstance(reviewers, list) else []
    # A vote has no id and no text: keyed by who voted what, however often it is delivered.
    return [PullRequestActivity(
        f"azure-devops:vote:{repository}:{pr}:{_user(r).lower()}:{r.get('vote')}", pr, None,
        _user(r), "", "review", repository_id=repository) for r in approving]


def pull_request_activity(headers: Headers, body: bytes) -> list[PullRequestActivity]:
    """A new comment on a pull request (keyed by repository, pull request, thread and
    comment id: comment ids repeat from thread to thread), an approving vote (10 or 5) by a
    person on a `git.pullrequest.updated`, a pull request completed or abandoned; [] for
    anything else (edits, deletions, system comments, pushes, other events). PayloadError
    for a body that is not such an event. Each carries `resource.repository.id` (comments:
    `resource.pullRequest.repository.id`)."""
    data = json_object(body)
    event = text(data, "eventType")
    resource = data.get("resource")
    if event is None or not isinstance(resource, dict):
        raise PayloadError("a service hook event needs `eventType` and `resource`")
    if event == COMMENT_EVENT:
        return _comment(resource)
    if event in PULL_REQUEST_EVENTS:
        return _pull_request(event, resource)
    return []


def branch_pushed(body: bytes) -> BranchPushed | None:
    """The branch a `git.push` moved (its first `refUpdates` entry under refs/heads/), with
    the repository's `defaultBranch`; None when only tags moved. PayloadError otherwise."""
    resource = json_object(body).get("resource")
    updates = resource.get("refUpdates") if isinstance(resource, dict) else None
    if not isinstance(resource, dict) or not isinstance(updates, list):
        raise PayloadError("a git.push event needs resource.refUpdates")
    repository = resource.get("repository")
    default = text(repository, "defaultBranch") if isinstance(repository, dict) else None
    heads = [u for u in updates if isinstance(u, dict) and
             (text(u, "name") or "").startswith("refs/heads/")]
    if not heads:
        return None
    moved = next((u for u in heads if default and text(u, "name") == default), heads[0])
    name = text(repository, "name") if isinstance(repository, dict) else None
    return BranchPushed(name, str(text(moved, "name")).removeprefix("refs/heads/"),
                        default.removeprefix("refs/heads/") if default else None,
                        text(moved, "newObjectId"))
