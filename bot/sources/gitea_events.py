"""Gitea and Forgejo webhook events about pull requests, as PullRequestActivity for ChatOps.

Gitea sends comments on pull requests as `X-Gitea-Event: issue_comment` (the finer name is
in `X-Gitea-Event-Type`), so a comment is on a pull request when the body says `is_pull`
(newer) or carries `issue.pull_request` (older); a merge arrives as `action: closed` with
`pull_request.merged: true` (Gitea modules/webhook/type.go, services/webhook/deliver.go).
A review arrives as `pull_request_approved`, `pull_request_rejected` or `pull_request_comment`
(X-Gitea-Event-Type `pull_request_review_approved`, ...): the pull request with `action:
reviewed` and `review: {type, content}`. Older Gitea, and go-playground's examples, say
`pull_request_comment` for a plain comment too, so the body's shape tells them apart."""

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
    moment,
    number,
    stable_id,
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
    """A new comment on a pull request, a review (approving, or with a body that may hold
    commands), a pull request merged or closed; [] for anything else (comments on issues,
    edits, pushes). PayloadError for a body that is not a Gitea event.

    A comment is keyed by its id. A review payload carries no id: it is keyed by the pull
    request, its head commit, the reviewer and a hash of the review's type and text, which
    every hook's delivery of it shares (a delivery id is not signed, and differs per
    hook). Each carries the payload's `repository.id` (Gitea modules/structs/hook.go: every
    issue and pull request payload names its repository)."""
    event = headers.get("x-forgejo-event") or headers.get("x-gitea-event") or ""
    data = json_object(body)
    action = data.get("action")
    repository_id = stable_id(data, "repository", "id")
    delivery = "gitea:" + (headers.get("x-forgejo-delivery") or headers.get("x-gitea-delivery")
                           or body_id(body))
    if event == "issue_comment" or (event == "pull_request_comment" and "comment" in data):
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
                                    str(comment.get("body") or ""), "comment",
                                    moment(comment, "created_at"),
                                    repository_id=repository_id)]
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
                                    "merged" if merged else "closed",
                                    repository_id=repository_id)]
    review = data.get("review")
    if action != "reviewed" or not isinstance(review, dict):
        return []
    kind, said = str(review.get("type", "")), str(review.get("content") or "")
    approved = kind.endswith("approved")
    if not approved and not said.strip():
        return []
    pr, head = number(pull, "number"), text(pull, "head", "sha") or ""
    user = _login(data.get("sender"))
    said_id = body_id(f"{kind}\n{said}".encode())
    return [PullRequestActivity(f"gitea:review:{pr}:{head}:{user.lower()}:{said_id}", pr,
                                None, user, said, "review" if approved else "comment",
                                repository_id=repository_id)]
