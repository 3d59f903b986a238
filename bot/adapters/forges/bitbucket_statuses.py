"""Where each promotion runs, on Bitbucket Cloud: a build status on the merge commit, one per
environment (key `hoist-<environment>`), moved through the deployment's states. Bitbucket
Cloud's deployments belong to Pipelines and cannot be written from outside, so a commit
status (POST /repositories/{workspace}/{slug}/commit/{sha}/statuses/build, "Commit
statuses") is the nearest: it shows on the commit and on the pull request. Posting the
same key again updates it in place, so a restart never makes a second one."""

from __future__ import annotations

import structlog

from ...core.notices import DeploymentUpdate, Subject
from ..outbox import StatusOutbox
from .bitbucket import BitbucketError, BitbucketForge

log = structlog.get_logger()
# GitHub's deployment states onto Bitbucket's build states (INPROGRESS, SUCCESSFUL,
# FAILED, STOPPED).
STATES = {"queued": "INPROGRESS", "in_progress": "INPROGRESS", "success": "SUCCESSFUL",
          "failure": "FAILED", "inactive": "STOPPED"}


def status_body(subject: Subject, update: DeploymentUpdate, fallback_url: str) -> dict[str, str]:
    """The build status of one deployment update: `url` is required by Bitbucket, so it is
    Hoist's page, else the pull request, else the repository."""
    url = subject.page or (subject.change_request if (subject.change_request or "")
                           .startswith("http") else None) or fallback_url
    return {"key": f"hoist-{subject.environment}"[:40], "state": STATES[update.state],
            "name": f"Hoist: {subject.environment}", "url": url,
            "description": update.description}


class BitbucketStatuses(StatusOutbox):
    """Build statuses through the forge's calls (retry policy and request budget), posted
    in order from an outbox thread."""

    def __init__(self, forge: BitbucketForge, capacity: int = 1000) -> None:
        self.forge = forge
        super().__init__(capacity)

    def _post(self, item: tuple[Subject, DeploymentUpdate]) -> None:
        subject, update = item
        assert subject.merge_sha is not None
        body = status_body(subject, update, f"https://bitbucket.org/{self.forge.full_name}")
        try:
            self.forge._call("build_status", "POST", f"{self.forge.repo}/commit/"
                             f"{subject.merge_sha}/statuses/build", json=body)
        except BitbucketError as exc:
            log.warning("deployments.failed", id=subject.promotion_id, state=update.state,
                        status=exc.status)
