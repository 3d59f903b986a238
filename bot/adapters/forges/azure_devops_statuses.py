"""Where Azure DevOps shows what runs where: Azure has no deployments API for a repository,
so each deployment state becomes a status named `hoist/{environment}` (genre `deploy`) on
the promotion's merge commit (`POST .../commits/{sha}/statuses`, "Statuses - Create") and on
its pull request (`POST .../pullRequests/{id}/statuses`, "Pull Request Statuses - Create"),
which the pull request's page and branch policies show. States map in
core/azure_devops.status_state. Posted in order from an outbox; never blocks or raises."""

from __future__ import annotations

import re

import structlog

from ...core.azure_devops import status_state
from ...core.notices import DeploymentUpdate, Subject
from ..outbox import StatusOutbox
from .azure_devops_api import API_VERSION, PREVIEW, AzureDevOpsApi, AzureDevOpsError

log = structlog.get_logger()
GENRE = "deploy"
_PULL_URL = re.compile(r"/pullrequest/(\d+)/?$")


class AzureDevOpsStatuses(StatusOutbox):
    def __init__(self, api: AzureDevOpsApi, capacity: int = 1000) -> None:
        self.api = api
        super().__init__(capacity)

    def _post(self, item: tuple[Subject, DeploymentUpdate]) -> None:
        subject, update = item
        status: dict[str, object] = {
            "state": status_state(update.state), "description": update.description,
            "context": {"name": f"hoist/{subject.environment}", "genre": GENRE}}
        if subject.page:
            status["targetUrl"] = subject.page
        found = _PULL_URL.search(subject.change_request or "")
        targets = [(f"{self.api.repo}/commits/{subject.merge_sha}/statuses", API_VERSION)] \
            if subject.merge_sha else []
        if found:  # pull request statuses are a preview API
            targets.append((f"{self.api.repo}/pullRequests/{found.group(1)}/statuses", PREVIEW))
        for url, version in targets:
            try:
                self.api.request("status", "POST", url, version=version, json=status)
            except AzureDevOpsError as exc:
                log.warning("deployments.failed", id=subject.promotion_id, state=update.state,
                            status=exc.status)
