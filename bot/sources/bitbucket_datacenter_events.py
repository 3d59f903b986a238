"""Bitbucket Data Center (and Server) webhooks, as PullRequestActivity for ChatOps and as
branch pushes ("Event payload" reference, Bitbucket Data Center docs).

`X-Event-Key` names the event (the body's `eventKey` says it too); with a secret set, every
delivery carries `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. Pull-request
events carry `pullRequest` (`id`, `toRef.repository.id` the repository it merges into);
`pr:comment:added` adds `comment` (`id`, `text`, `author.name`, `createdDate`);
`pr:reviewer:approved` adds `participant` (`user`, `status`, `lastReviewedCommit`);
`pr:merged` a `pullRequest.properties.mergeCommit.id`. Times come in two formats: epoch
milliseconds (`createdDate`, `closedDate`) and ISO 8601 with a `+0000` offset (`date`):
both are read. `diagnostics:ping` is the "Test connection" delivery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.events import PullRequestActivity
from .base import (
    AuthError,
    Headers,
    PayloadError,
    body_id,
    check_signature,
    json_object,
    moment,
    number,
    stable_id,
    text,
)
from .forge_push import BranchPushed

PREFIX = "bitbucket-datacenter"
PING = "diagnostics:ping"
CLOSED = ("pr:declined", "pr:deleted")


def verify(headers: Headers, body: bytes, secret: str) -> None:
    """`X-Hub-Signature: sha256=…` compared in constant time; AuthError otherwise."""
    try:
        check_signature(headers, body, secret, "x-hub-signature")
    except AuthError:
        raise AuthError("missing or wrong X-Hub-Signature") from None


def event_key(headers: Headers, body: bytes) -> str:
    """`X-Event-Key`, else the body's `eventKey`; "" when neither says."""
    found = headers.get("x-event-key", "")
    if found:
        return found
    try:
        return text(json_object(body), "eventKey") or ""
    except PayloadError:
        return ""


def when(data: Mapping[str, Any], key: str) -> float | None:
    """Epoch seconds of a time given as epoch milliseconds or as ISO 8601 (`+0000` offsets
    too); None when absent or malformed."""
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value) / 1000.0
    return moment(data, key)


def _name(user: Any) -> str:
    if not isinstance(user, dict):
        return ""
    return text(user, "name") or text(user, "slug") or ""


def pull_request_activity(headers: Headers, body: bytes) -> list[PullRequestActivity]:
    """A new comment, an approval, a pull request merged, declined or deleted; [] for
    anything else (opened, new commits, edited or deleted comments, needs-work and
    unapprovals, pings). PayloadError for a pull-request event without its pull request.

    A comment is keyed by its id; an approval by the pull request, the reviewer and the
    commit approved; a merge or close by its body (a redelivery is the same body)."""
    event = event_key(headers, body)
    if not event.startswith("pr:"):
        return []
    data = json_object(body)
    pull = data.get("pullRequest")
    if not isinstance(pull, dict):
        raise PayloadError(f"a {event} event without pullRequest")
    pr = number(pull, "id")
    repository_id = stable_id(pull, "toRef", "repository", "id")
    actor = _name(data.get("actor"))
    if event == "pr:comment:added":
        comment = data.get("comment")
        if not isinstance(comment, dict):
            raise PayloadError("a pr:comment:added event without comment")
        comment_id = number(comment, "id")
        return [PullRequestActivity(f"{PREFIX}:comment:{comment_id}", pr, comment_id,
                                    _name(comment.get("author")) or actor,
                                    str(comment.get("text") or ""), "comment",
                                    when(comment, "createdDate") or when(data, "date"),
                                    repository_id=repository_id)]
    if event == "pr:reviewer:approved":
        participant = data.get("participant")
        participant = participant if isinstance(participant, dict) else {}
        user = _name(participant.get("user")) or actor
        head = text(participant, "lastReviewedCommit") or \
            text(pull, "fromRef", "latestCommit") or ""
        return [PullRequestActivity(f"{PREFIX}:approved:{pr}:{user.lower()}:{head}", pr, None,
                                    user, "", "review", when(data, "date"),
                                    repository_id=repository_id)]
    if event == "pr:merged" or event in CLOSED:
        merged = event == "pr:merged"
        sha = (text(pull, "properties", "mergeCommit", "id") or "") if merged else ""
        return [PullRequestActivity(f"{PREFIX}:{body_id(body)}", pr, None, actor, sha,
                                    "merged" if merged else "closed",
                                    repository_id=repository_id)]
    return []


def branches_pushed(body: bytes) -> BranchPushed | None:
    """The branch a `repo:refs_changed` event moved (its first branch change; Bitbucket
    does not say which branch is the default, so any branch counts as possibly it); None
    for tag-only changes. PayloadError for a body without `changes`."""
    data = json_object(body)
    changes = data.get("changes")
    if not isinstance(changes, list):
        raise PayloadError("a repo:refs_changed event needs `changes`")
    key, slug = text(data, "repository", "project", "key"), text(data, "repository", "slug")
    for change in changes:
        if not isinstance(change, dict):
            continue
        ref = text(change, "refId") or text(change, "ref", "id") or ""
        if ref.startswith("refs/heads/"):
            return BranchPushed(f"{key}/{slug}" if key and slug else None,
                                ref.removeprefix("refs/heads/"), None, text(change, "toHash"))
    return None
