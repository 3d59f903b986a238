"""Where each version runs, on Bitbucket Data Center: Bitbucket has no deployments API for
others to post to, so each promotion's statuses are build statuses of its merge commit, one
key per environment (`hoist/<environment>`), shown on the commit and its pull request.

`POST /rest/api/latest/projects/{key}/repos/{slug}/commits/{sha}/builds` (Data Center 7.4+,
"Build status" REST docs; body `{key, state, name, url, description, ref?}`); servers
without it (404) get the older `POST /rest/build-status/1.0/commits/{sha}`. Posted from an
outbox thread in order; posting the same key again replaces the status (find-or-create for
free)."""

from __future__ import annotations

from typing import Any

import structlog

from ...core.notices import DeploymentUpdate, Subject
from ..outbox import StatusOutbox
from .bitbucket_datacenter_http import BitbucketError, BitbucketHttp

log = structlog.get_logger()
# GitHub's deployment states onto Bitbucket's build states (INPROGRESS, SUCCESSFUL, FAILED):
# a reverted promotion's status fails with the description saying so.
STATES = {"queued": "INPROGRESS", "in_progress": "INPROGRESS", "success": "SUCCESSFUL",
          "failure": "FAILED", "inactive": "FAILED"}


def build_status(subject: Subject, update: DeploymentUpdate, fallback_url: str) -> dict[str, Any]:
    """The build status body for one deployment update (`url` is required by Bitbucket)."""
    return {"key": f"hoist/{subject.environment}", "state": STATES[update.state],
            "name": f"Hoist: {subject.environment}", "description": update.description,
            "url": subject.page or subject.change_request or fallback_url}


class BuildStatuses(StatusOutbox):
    """Deployment updates as build statuses; `report` never blocks or raises."""

    def __init__(self, api: BitbucketHttp, project: str, slug: str, url: str,
                 capacity: int = 1000) -> None:
        self.api = api
        self.repo = f"/projects/{project}/repos/{slug}"
        self.browse = f"{url}/projects/{project}/repos/{slug}/browse"
        self._legacy = False
        super().__init__(capacity, "build-statuses")

    def _post(self, item: tuple[Subject, DeploymentUpdate]) -> None:
        subject, update = item
        if subject.merge_sha is None:
            return
        body = build_status(subject, update, self.browse)
        try:
            if not self._legacy:
                try:
                    self.api.request("build_status", "POST",
                                     f"/api/latest{self.repo}/commits/{subject.merge_sha}/builds",
                                     json=body)
                    return
                except BitbucketError as exc:
                    if exc.status != 404:
                        raise
                    self._legacy = True  # an older server: its build-status plugin
            self.api.request("build_status", "POST",
                             f"/build-status/1.0/commits/{subject.merge_sha}", json=body)
        except BitbucketError as exc:
            log.warning("deployments.failed", id=subject.promotion_id, state=update.state,
                        status=exc.status)
