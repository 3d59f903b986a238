"""GitHub webhook events about pull requests, as PullRequestActivity for ChatOps."""

from __future__ import annotations

from typing import Any

from ..core.events import PullRequestActivity
from .base import Headers, body_id, json_object, moment, number, stable_id, text


def pull_request_activity(headers: Headers, body: bytes) -> list[PullRequestActivity]:
    """The activity an `issue_comment`, `pull_request_review` or `pull_request` event
    reports; [] for anything else (edited comments never re-approve).

    A comment is keyed by its id and a review by its id (`github:comment:<id>`,
    `github:review:<id>`): GitHub sends one delivery per configured webhook (a repository's
    and an organisation's), each with its own X-GitHub-Delivery, and that header is not
    covered by X-Hub-Signature-256, so a replayed body may carry any delivery id. A review
    in any state is a comment whose body may hold commands; an approving one is kind
    `review` (an approval where `reviews: true`), the others kind `comment`. Each carries
    the payload's `repository.id` (GitHub docs, "Webhook events and payloads": every
    repository event names its repository)."""
    event = headers.get("x-github-event", "")
    data = json_object(body)
    key = headers.get("x-github-delivery") or body_id(body)
    action = data.get("action")
    repository_id = stable_id(data, "repository", "id")
    if event == "issue_comment" and action == "created":
        issue, comment = data.get("issue"), data.get("comment")
        if not isinstance(issue, dict) or "pull_request" not in issue or \
                not isinstance(comment, dict):
            return []  # a comment on a plain issue
        if _is_bot(comment.get("user")):
            return []
        comment_id = number(comment, "id")
        return [PullRequestActivity(f"github:comment:{comment_id}", number(issue, "number"),
                                    comment_id, text(comment, "user", "login") or "",
                                    comment.get("body") or "", "comment",
                                    moment(comment, "created_at"),
                                    repository_id=repository_id)]
    if event == "pull_request_review" and action == "submitted":
        review, pull = data.get("review"), data.get("pull_request")
        if not isinstance(review, dict) or not isinstance(pull, dict) or \
                _is_bot(review.get("user")):
            return []
        approved = str(review.get("state", "")).lower() == "approved"
        said = str(review.get("body") or "")
        if not approved and not said.strip():
            return []  # a review of code comments only: nothing for Hoist
        # No comment id: GitHub has no reactions on reviews, the reply says it all.
        review_id = number(review, "id")
        return [PullRequestActivity(f"github:review:{review_id}",
                                    number(pull, "number"), None,
                                    text(review, "user", "login") or "", said,
                                    "review" if approved else "comment",
                                    moment(review, "submitted_at"),
                                    repository_id=repository_id, review_id=review_id)]
    if event == "pull_request" and action == "closed":
        pull = data.get("pull_request")
        if not isinstance(pull, dict):
            return []
        merged = bool(pull.get("merged"))
        who = text(pull, "merged_by", "login") if merged else text(data, "sender", "login")
        return [PullRequestActivity(key, number(pull, "number"), None, who or "",
                                    (pull.get("merge_commit_sha") or "") if merged else "",
                                    "merged" if merged else "closed",
                                    repository_id=repository_id)]
    return []


def _is_bot(user: Any) -> bool:
    return isinstance(user, dict) and user.get("type") == "Bot"
