"""Gitea and Forgejo webhook events about pull requests, as PullRequestActivity for ChatOps.

Gitea sends comments on pull requests as `X-Gitea-Event: issue_comment` (the finer name is
in `X-Gitea-Event-Type`), so a comment is on a pull request when the body says `is_pull`
(newer) or carries `issue.pull_request` (older); a merge arrives as `action: closed` with
`pull_request.merged: true` (Gitea modules/webhook/type.go, services/webhook/deliver.go)."""

from __future__ import annotations

from typing import Any

from ..core.events import PullRequestActivity
from .base import (
    AuthError,
    Headers,
    PayloadError,
    body_id,
    check_signature,
    json_object,
    number,
    text,
)


def verify(headers: Headers, body: bytes, secret: str) -> None:
    """`X-Forgejo-Signature` or `X-Gitea-Signature`: the lowercase hex HMAC-SHA256 of the
    raw body under the webhook secret, compared in constant time. AuthError otherwise."""
    header = "x-forgejo-signature" if headers.get("x-forgejo-signature") else \
        "x-gitea-signature"
    try:
        check_signature(headers, body, secret, header, prefix="")
    except AuthError:
        raise AuthError("missing or wrong X-Gitea-Signature / X-Forgejo-Signature") from None


def _login(user: Any) -> str:
    if not isinstance(user, dict):
        return ""
    return text(user, "login") or text(user, "username") or ""


def pull_request_activity(headers: Headers, body: bytes) -> list[PullRequestActivity]:
    """A new comment on a pull request, an approving review, a pull request merged or
    closed; [] for anything else (comments on issues, edits, pushes). PayloadError for a
    body that is not a Gitea event."""
    event = headers.get("x-forgejo-event") or headers.get("x-gitea-event") or ""
    data = json_object(body)
    action = data.get("action")
    delivery = "gitea:" + (headers.get("x-forgejo-delivery") or headers.get("x-gitea-delivery")
                           or body_id(body))
    if event in ("issue_comment", "pull_request_comment"):
        issue, comment = data.get("issue"), data.get("comment")
        if action != "created":
            return []
        if not isinstance(issue, dict) or not isinstance(comment, dict):
            raise PayloadError("an issue_comment event without issue and comment")
        if not (data.get("is_pull") is True or isinstance(issue.get("pull_request"), dict)):
            return []  # a comment on a plain issue
        comment_id = number(comment, "id")
        return [PullRequestActivity(f"gitea:comment:{comment_id}", number(issue, "number"),
                                    comment_id, _login(comment.get("user")),
                                    str(comment.get("body") or ""), "comment")]
    if not event.startswith("pull_request"):
        return []
    pull = data.get("pull_request")
    if not isinstance(pull, dict):
        raise PayloadError("a pull_request event without pull_request")
    if action == "closed":
        merged = pull.get("merged") is True
        who = _login(pull.get("merged_by")) if merged else _login(data.get("sender"))
        return [PullRequestActivity(delivery, number(pull, "number"), None,
                                    who or _login(data.get("sender")),
                                    str(pull.get("merge_commit_sha") or "") if merged else "",
                                    "merged" if merged else "closed")]
    review = data.get("review")
    if action == "reviewed" and isinstance(review, dict) and \
            str(review.get("type", "")).endswith("approved"):
        head = text(pull, "head", "sha") or ""
        user = _login(data.get("sender"))
        return [PullRequestActivity(
            f"gitea:approval:{number(pull, 'number')}:{head}:{user.lower()}",
            number(pull, "number"), None, user, "", "review")]
    return []
