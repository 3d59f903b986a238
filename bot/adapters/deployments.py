"""The forge's view of what runs where. On GitHub each promotion is a Deployment of its
environment on its merge commit, with deployment statuses as it moves, so the repository's
Environments view and the pull request show where each version runs (REST API 2022-11-28,
"Deployments" and "Deployment statuses": docs.github.com/en/rest/deployments).

Statuses are posted from an outbox thread in order, find-or-create: the deployment of a
promotion is found again by its payload, so a restart never makes a second one."""

from __future__ import annotations

from typing import Any

import structlog
from github import Github, GithubException

from ..core.notices import DeploymentUpdate, Subject
from .forges.bitbucket import BitbucketForge
from .forges.bitbucket_datacenter_builds import BuildStatuses
from .forges.bitbucket_statuses import BitbucketStatuses
from .forges.github import call
from .outbox import StatusOutbox

log = structlog.get_logger()
TASK = "deploy:hoist"  # GitHub's `task` field; it keeps Hoist's deployments apart from others'


class GitHubDeployments(StatusOutbox):
    """Deployments through PyGithub's requester (for `log_url`, which PyGithub's helper
    lacks), with the forge's retry policy."""

    def __init__(self, gh: Github, repository: str, capacity: int = 1000) -> None:
        self.requester = gh.requester
        self.base = f"/repos/{repository}/deployments"
        self._ids: dict[str, int] = {}
        super().__init__(capacity)

    def _request(self, operation: str, verb: str, url: str, **kwargs: Any) -> Any:
        def attempt() -> Any:
            return self.requester.requestJsonAndCheck(verb, url, **kwargs)[1]
        return call(operation, attempt)

    def _deployment(self, subject: Subject) -> int:
        """The promotion's deployment: remembered, found by sha + environment + payload, or
        created (no auto-merge and no required contexts: the commit is already merged)."""
        known = self._ids.get(subject.promotion_id)
        if known is not None:
            return known
        assert subject.merge_sha is not None
        found = self._request("list_deployments", "GET", self.base, parameters={
            "sha": subject.merge_sha, "environment": subject.environment, "task": TASK})
        for deployment in found or []:
            payload = deployment.get("payload") or {}
            if isinstance(payload, dict) and payload.get("promotion") == subject.promotion_id:
                self._ids[subject.promotion_id] = int(deployment["id"])
                return int(deployment["id"])
        created = self._request("create_deployment", "POST", self.base, input={
            "ref": subject.merge_sha, "environment": subject.environment, "task": TASK,
            "auto_merge": False, "required_contexts": [],
            "description": f"{subject.image_key} {subject.short_version}"[:140],
            "payload": {"promotion": subject.promotion_id, "image": subject.repository,
                        "version": subject.version_to}})
        self._ids[subject.promotion_id] = int(created["id"])
        log.info("deployments.created", id=subject.promotion_id, env=subject.environment,
                 deployment=created["id"])
        return int(created["id"])

    def _post(self, item: tuple[Subject, DeploymentUpdate]) -> None:
        subject, update = item
        status: dict[str, Any] = {"state": update.state, "description": update.description,
                                  "environment": subject.environment}
        if subject.page:
            status["log_url"] = subject.page
        if update.state == "success":
            status["auto_inactive"] = True  # older deployments there become inactive
        try:
            deployment = self._deployment(subject)
            self._request("deployment_status", "POST", f"{self.base}/{deployment}/statuses",
                          input=status)
        except GithubException as exc:
            log.warning("deployments.failed", id=subject.promotion_id, state=update.state,
                        status=exc.status)


def deployments_for(forge: object) -> GitHubDeployments | BuildStatuses | BitbucketStatuses | None:
    """The deployments a forge offers: GitHub's for the `github` forge, none for the local
    forge (its state is the store, which the page shows)."""
    if isinstance(forge, BitbucketForge):  # commit statuses stand in for deployments
        return BitbucketStatuses(forge)
    gh, repository = getattr(forge, "gh", None), getattr(forge, "full_name", None)
    if getattr(forge, "name", None) == "github" and isinstance(gh, Github) and repository:
        return GitHubDeployments(gh, repository)
    statuses = getattr(forge, "statuses", None)  # a forge's own stand-in (commit statuses)
    if callable(statuses):
        return statuses()  # type: ignore[no-any-return]
    return None
