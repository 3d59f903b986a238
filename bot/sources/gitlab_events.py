"""GitLab webhook events about merge requests, as PullRequestActivity for ChatOps.

Routed on the body's `object_kind`, never on `X-Gitlab-Event`, which says `Service Hook`
or `System Hook` for the same bodies when an integration or a system hook sends them
(GitLab docs: user/project/integrations/webhook_events.md)."""

from __future__ import annotations

import hmac

from ..core.events import PullRequestActivity
from .base import (
    AuthError,
    Headers,
    PayloadError,
    body_id,
    json_object,
    moment,
    number,
    stable_id,
    text,
)


def verify(headers: Headers, body: bytes, secret: str) -> None:
    """GitLab signs nothing: `X-Gitlab-Token` carries the webhook's secret token verbatim;
    compared in constant time. AuthError when missing or wrong."""
    given = headers.get("x-gitlab-token", "")
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        raise AuthError("missing or wrong X-Gitlab-Token")


def _delivery(headers: Headers, body: bytes) -> str:
    """The same for every retry of a delivery: `Idempotency-Key` (GitLab 17.4+), else
    `X-Gitlab-Event-UUID`, else the body's hash."""
    return "gitlab:" + (headers.get("idempotency-key") or headers.get("x-gitlab-event-uuid")
                        or body_id(body))


def merge_request_activity(headers: Headers, body: bytes) -> list[PullRequestActivity]:
    """A note on a merge request (a comment), an approval (a review), a merge request
    merged or closed; [] for anything else: notes on issues, commits or snippets, system
    notes, edited notes (they never re-approve), other merge-request actions. PayloadError
    for a body that is not a GitLab event. Each carries the payload's `project.id`
    (GitLab docs, webhook_events.md: note and merge request events name their project)."""
    data = json_object(body)
    kind = data.get("object_kind")
    attributes = data.get("object_attributes")
    if kind not in ("note", "merge_request"):
        return []
    if not isinstance(attributes, dict):
        raise PayloadError("object_attributes is not an object")
    user = text(data, "user", "username") or ""
    project_id = stable_id(data, "project", "id")
    if kind == "note":
        if attributes.get("noteable_type") != "MergeRequest" or attributes.get("system") \
                or attributes.get("action") not in (None, "create"):
            return []
        merge_request = data.get("merge_request")
        if not isinstance(merge_request, dict):
            raise PayloadError("a merge-request note without merge_request")
        note_id = number(attributes, "id")
        # A note's id is the same in every delivery of it, a manual resend included. A
        # review's notes (its summary and its diff notes) arrive as notes like any other.
        return [PullRequestActivity(f"gitlab:note:{note_id}", number(merge_request, "iid"),
                                    note_id, user, str(attributes.get("note") or ""),
                                    "comment", moment(attributes, "created_at"),
                                    repository_id=project_id)]
    iid = number(attributes, "iid")
    action = attributes.get("action")
    if action == "merge":
        return [PullRequestActivity(_delivery(headers, body), iid, None, user,
                                    str(attributes.get("merge_commit_sha") or ""), "merged",
                                    repository_id=project_id)]
    if action == "close":
        return [PullRequestActivity(_delivery(headers, body), iid, None, user, "", "closed",
                                    repository_id=project_id)]
    if action in ("approval", "approved"):
        # GitLab may send both (`approval` for the person, `approved` once the rules are
        # met): one approval per person and head commit.
        head = text(attributes, "last_commit", "id") or ""
        return [PullRequestActivity(f"gitlab:approval:{iid}:{head}:{user.lower()}", iid, None,
                                    user, "", "review", repository_id=project_id)]
    return []
