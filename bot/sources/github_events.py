"""GitHub webhook events about pull requests, as PullRequestActivity for ChatOps."""

from __future__ import annotations

from typing import Any

from ..core.events import PullRequestActivity
from .base import Headers, body_id, json_object, number, text


def pull_request_activity(headers: Headers, body: bytes) -> list[PullRequestActivity]:
    """The activity an `issue_comment`, `pull_request_review` or `pull_request` event
    reports; [] for anything else (edited comments never re-approve)."""
    event = headers.get("x-github-event", "")
    data = json_object(body)
    key = headers.get("x-github-delivery") or body_id(body)
    action = data.get("action")
    if event == "issue_comment" and action == "created":
        issue, comment = data.get("issue"), data.get("comment")
        if not isinstance(issue, dict) or "pull_request" not in issue or \
                not isinstance(comment, dict):
            return []  # a comment on a plain issue
        if _is_bot(comment.get("user")):
            return []
        return [PullRequestActivity(key, number(issue, "number"), number(comment, "id"),
                                    text(comment, "user", "login") or "", comment.get("body")
                                    or "", "comment")]
    if event == "pull_request_review" and action == "submitted":
        review, pull = data.get("review"), data.get("pull_request")
        if not isinstance(review, dict) or not isinstance(pull, dict):
            return []
        if str(review.get("state", "")).lower() != "approved" or _is_bot(review.get("user")):
            return []
        return [PullRequestActivity(key, number(pull, "number"), None,
                                    text(review, "user", "login") or "", "", "review")]
    if event == "pull_request" and action == "closed":
        pull = data.get("pull_request")
        if not isinstance(pull, dict):
            return []
        merged = bool(pull.get("merged"))
        who = text(pull, "merged_by", "login") if merged else text(data, "sender", "login")
        return [PullRequestActivity(key, number(pull, "number"), None, who or "",
                                    (pull.get("merge_commit_sha") or "") if merged else "",
                                    "merged" if merged else "closed")]
    return []


def _is_bot(user: Any) -> bool:
    return isinstance(user, dict) and user.get("type") == "Bot"
