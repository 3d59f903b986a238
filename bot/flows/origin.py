"""Is a forge event about the manifests repository? (issue 22 §1: it is, or it is nothing.)

A webhook is signed with a secret that one hook, or an organisation's, shares across many
repositories, and change-request numbers repeat from one repository to the next: a comment
on another repository's pull request #7 arrives as validly signed as one on ours. So the
repository id a payload names is matched against the manifests repository's own id, asked
of the forge; naming another (or none) makes it a hint, which counts only once the forge,
read back, confirms it on our change request. Merges and closes are always read back
(chatops._confirm)."""

from __future__ import annotations

import structlog

from ..adapters.forges import Forge
from ..core.events import PullRequestActivity

log = structlog.get_logger()


def about_our_repository(forge: Forge, activity: PullRequestActivity) -> bool:
    """Whether a comment or review counts: it names our repository's id, or the forge has
    it on our change request `activity.number` by the same author with the same text
    (GitHub, GitLab and Gitea: a comment by its id; a review by its id on GitHub, by its
    author elsewhere; a GitLab approval by its author). False, with the warning
    `chatops.foreign_event`, otherwise. Merges and closes pass: they are confirmed apart.
    The local forge has no ids and sends no webhooks: everything passes."""
    ours = forge.repository_id()
    if ours is None or activity.kind in ("merged", "closed") or \
            activity.repository_id == ours:
        return True
    said = activity.body.strip()
    if activity.comment_id is not None:
        found = forge.read_comment(activity.number, activity.comment_id)
        confirmed = found is not None and found[0].lower() == activity.user.lower() and \
            found[1].strip() == said
    else:
        confirmed = said in {text.strip() for text in forge.read_reviews(
            activity.number, activity.user, activity.review_id)}
    if not confirmed:
        log.warning("chatops.foreign_event", number=activity.number, kind=activity.kind,
                    user=activity.user, repository_id=activity.repository_id, ours=ours)
    return confirmed
