"""Bitbucket Cloud webhook events, as PullRequestActivity for ChatOps and BranchPushed for
configuration refreshes.

The event is named only by the `X-Event-Key` header (`pullrequest:comment_created`, ...);
the body has no kind of its own ("Event payloads", support.atlassian.com/bitbucket-cloud/
docs/event-payloads). Every body names its `repository` (with its `uuid`, which survives
renames) and the `actor`. People are named by their Atlassian `account_id` (the same on
every Atlassian product; `nickname` is a mutable display name that may hold spaces, and
Bitbucket stopped exposing usernames in 2019), falling back to the Bitbucket `uuid`."""

from __future__ import annotations

import re
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
    text,
)
from .forge_push import BranchPushed

_UUID = re.compile(r"^\{?([0-9a-fA-F-]{36})\}?$")


def verify(headers: Headers, body: bytes, secret: str) -> None:
    """`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body under the webhook's
    secret>` ("Secure webhooks", support.atlassian.com/bitbucket-cloud/docs/manage-webhooks),
    compared in constant time. AuthError when missing or wrong."""
    try:
        check_signature(headers, body, secret, "x-hub-signature")
    except AuthError:
        raise AuthError("missing or wrong X-Hub-Signature") from None


def repository_uuid(value: Any) -> str | None:
    """A repository's `uuid` normalized to `{lowercase-uuid}`, or None when it is not one."""
    found = _UUID.match(value) if isinstance(value, str) else None
    return "{" + found.group(1).lower() + "}" if found else None


def person(user: Any) -> str:
    """Who a user object is: `account_id`, else `uuid` ("" when neither is given)."""
    if not isinstance(user, dict):
        return ""
    return text(user, "account_id") or text(user, "uuid") or ""


def _delivery(headers: Headers, body: bytes) -> str:
    """The same for every retry of a delivery: `X-Request-UUID` (Bitbucket sends it with
    every delivery, and again with a redelivery), else the body's hash."""
    return "bitbucket:" + (headers.get("x-request-uuid") or body_id(body))


def pull_request_activity(headers: Headers, body: bytes) -> list[PullRequestActivity]:
    """A new comment on a pull request, an approval, a pull request merged (`fulfilled`) or
    declined (`rejected`); [] for any other event (created, updated, unapproved, comment
    edits and deletions). PayloadError for a body without the `pullrequest` the event names.

    A comment is keyed by its id. An approval has no id: it is keyed by the pull request, the
    approver and the approval's `date`, which every hook's delivery of it shares."""
    event = headers.get("x-event-key", "")
    if not event.startswith("pullrequest:") or event in ("pullrequest:created",
                                                         "pullrequest:updated"):
        return []
    data = json_object(body)
    pull = data.get("pullrequest")
    if not isinstance(pull, dict):
        raise PayloadError(f"a {event} event without pullrequest")
    pr = number(pull, "id")
    repository = data.get("repository")
    repository_id = repository_uuid(repository.get("uuid")) if isinstance(repository, dict) \
        else None
    if event == "pullrequest:comment_created":
        comment = data.get("comment")
        if not isinstance(comment, dict):
            raise PayloadError("a comment_created event without comment")
        if comment.get("deleted") is True:
            return []
        comment_id = number(comment, "id")
        content = comment.get("content")
        said = str(content.get("raw") or "") if isinstance(content, dict) else ""
        return [PullRequestActivity(
            f"bitbucket:comment:{comment_id}", pr, comment_id,
            person(comment.get("user")) or person(data.get("actor")), said, "comment",
            moment(comment, "created_on"), repository_id=repository_id)]
    if event == "pullrequest:approved":
        approval = data.get("approval")
        if not isinstance(approval, dict):
            raise PayloadError("an approved event without approval")
        user = person(approval.get("user")) or person(data.get("actor"))
        when = text(approval, "date") or body_id(body)
        return [PullRequestActivity(f"bitbucket:approval:{pr}:{user}:{when}", pr, None, user,
                                    "", "review", moment(approval, "date"),
                                    repository_id=repository_id)]
    if event in ("pullrequest:fulfilled", "pullrequest:rejected"):
        merged = event == "pullrequest:fulfilled"
        who = person(pull.get("closed_by")) or person(data.get("actor"))
        sha = (text(pull, "merge_commit", "hash") or "") if merged else ""
        return [PullRequestActivity(_delivery(headers, body), pr, None, who, sha,
                                    "merged" if merged else "closed",
                                    repository_id=repository_id)]
    return []


def branch_pushed(body: bytes) -> BranchPushed | None:
    """The branch a `repo:push` moved: the first of `push.changes[]` whose `new` is a
    branch (a deleted branch has `new: null`); None for tags and deletions. Bitbucket's
    payload does not say which branch is the main one, so any branch counts as it might be.
    PayloadError for a body that is not a push."""
    data = json_object(body)
    push = data.get("push")
    changes = push.get("changes") if isinstance(push, dict) else None
    if not isinstance(changes, list):
        raise PayloadError("a repo:push event needs push.changes")
    for change in changes:
        new = change.get("new") if isinstance(change, dict) else None
        if isinstance(new, dict) and new.get("type") == "branch" and text(new, "name"):
            return BranchPushed(text(data, "repository", "full_name"), str(new["name"]), None,
                                text(new, "target", "hash"))
    return None
