"""Forge `azure-devops`: pull requests on Azure DevOps Services or Server through the REST
API 7.1 over httpx (azure_devops_api.py). The official `azure-devops` Python package is a
generated client, still in beta and behind the service, so Hoist speaks the documented
REST API itself.

Shapes: a pull request is `GitPullRequest` (`pullRequestId`, `status` active | completed |
abandoned, `mergeStatus`, `lastMergeSourceCommit`, `lastMergeCommit`); comments are
threads (`GitPullRequestCommentThread`) of comments, named by thread and comment id
(core/azure_devops.comment_key); labels are pull-request tags (`pullRequests/{id}/labels`);
a reaction is a like on the comment; reviews are reviewer votes. Merging completes the pull
request (`PATCH status=completed` with `lastMergeSourceCommit` and `completionOptions`,
"Pull Requests - Update"); what policies refuse is read from `_apis/policy/evaluations`."""

from __future__ import annotations

import time
from typing import Any

import structlog

from ...core.azure_devops import approves, merge_strategy, split_comment_key
from ..errors import MergeBlocked
from ..store import ChangeRequest, Store
from . import azure_devops_people as people
from .azure_devops_api import PREVIEW, AzureDevOpsApi, AzureDevOpsError

log = structlog.get_logger()
MAX_DESCRIPTION = 4000  # GitPullRequest.description is limited to 4000 characters
# Completion is asynchronous: the pull request is read back this often, this far apart.
READ_BACKS, READ_BACK_PAUSE = 6, 0.5
_REFUSED_MERGES = ("conflicts", "rejectedByPolicy", "failure")


class AzureDevOpsForge:
    name = "azure-devops"
    # Azure DevOps: "A description for a pull request must not be longer than 4000 characters".
    body_limit = 4_000  # characters of a change request body

    def __init__(self, store: Store, repository: str, *, token: str, url: str,
                 timeout: float = 15, bot_login: str | None = None) -> None:
        self.store = store
        self.api = AzureDevOpsApi(store, url, repository, token, timeout)
        self._bot_login = bot_login
        self._repository: dict[str, Any] | None = None

    @property
    def bot_login(self) -> str:
        """The token's account (`authenticatedUser.properties.Account` of GET
        {org}/_apis/connectionData), asked once."""
        if self._bot_login is None:
            found = self.api.request("whoami", "GET", f"{self.api.url}/_apis/connectionData",
                                     version=PREVIEW)
            account = ((found or {}).get("authenticatedUser") or {}).get("properties") or {}
            self._bot_login = str((account.get("Account") or {}).get("$value") or "")
        return self._bot_login

    def _repo(self) -> dict[str, Any]:
        """GET .../git/repositories/{repo}: `id` (a GUID), `project.id`, `remoteUrl`; once."""
        if self._repository is None:
            self._repository = dict(self.api.request("repository", "GET", self.api.repo))
        return self._repository

    def _pull(self, number: int, operation: str = "get_pull") -> dict[str, Any]:
        return dict(self.api.request(operation, "GET", f"{self.api.repo}/pullrequests/{number}"))

    def _find_open(self, branch: str, base: str) -> dict[str, Any] | None:
        found = self.api.request("list_pulls", "GET", f"{self.api.repo}/pullrequests", params={
            "searchCriteria.sourceRefName": f"refs/heads/{branch}",
            "searchCriteria.targetRefName": f"refs/heads/{base}",
            "searchCriteria.status": "active", "$top": 100})
        pulls = [p for p in found.get("value") or [] if p.get("status") == "active"]
        return dict(pulls[0]) if pulls else None

    def propose(self, promotion_id: str, branch: str, base: str, title: str, body: str,
                labels: tuple[str, ...] = ()) -> ChangeRequest:
        """Find the active pull request of the branch (update it in place) or open one, with
        `labels` as its tags. Writes only what changes."""
        description = body[:MAX_DESCRIPTION]
        pull = self._find_open(branch, base)
        if pull is None:
            try:
                pull = self.api.request("create_pull", "POST", f"{self.api.repo}/pullrequests",
                                        json={"sourceRefName": f"refs/heads/{branch}",
                                              "targetRefName": f"refs/heads/{base}",
                                              "title": title, "description": description,
                                              "labels": [{"name": n} for n in labels]})
            except AzureDevOpsError as exc:
                # TF401179 "An active pull request for the source and target branch already
                # exists": a create that timed out, then done.
                if exc.status != 409 or (pull := self._find_open(branch, base)) is None:
                    raise
            assert pull is not None
            log.info("azure_devops.pr_opened", number=pull["pullRequestId"], branch=branch)
        number = int(pull["pullRequestId"])
        if pull.get("title") != title or (pull.get("description") or "") != description:
            self.api.request("edit_pull", "PATCH", f"{self.api.repo}/pullrequests/{number}",
                             json={"title": title, "description": description})
        if labels:
            path = f"{self.api.repo}/pullRequests/{number}/labels"
            present = {str(t.get("name")) for t in (self.api.request(
                "labels", "GET", path, version=PREVIEW) or {}).get("value") or []
                if t.get("active", True)}
            for name in [n for n in labels if n not in present]:
                self.api.request("add_label", "POST", path, version=PREVIEW, json={"name": name})
        return self.store.record_change_request(promotion_id, branch, base, title, body,
                                                number, self._web_url(number))

    def _web_url(self, number: int) -> str:
        remote = self._repository.get("remoteUrl") if self._repository else None
        base = remote or f"{self.api.project_url}/_git/{self.api.repository}"
        return f"{base}/pullrequest/{number}"

    def merge(self, promotion_id: str, commit: str, base: str, message: str,
              method: str = "squash") -> str:
        """Complete the pull request by `method` (merge: noFastForward, squash, rebase,
        rebase-merge: rebaseMerge) with `message`, only while its source is still `commit`.
        MergeBlocked with Azure's reason when it refuses (a 4xx), when the merge fails
        (conflicts, rejected by policy) or when policies hold completion back."""
        cr = self.store.change_request(promotion_id)
        assert cr is not None and cr.number is not None
        path = f"{self.api.repo}/pullrequests/{cr.number}"
        pull = self._pull(cr.number)
        if pull.get("status") == "abandoned":
            raise MergeBlocked("the pull request is abandoned")
        if pull.get("status") != "completed":
            try:
                self.api.request("complete", "PATCH", path, json={
                    "status": "completed", "lastMergeSourceCommit": {"commitId": commit},
                    "completionOptions": {"mergeStrategy": merge_strategy(method),
                                          "mergeCommitMessage": message,
                                          "deleteSourceBranch": False, "bypassPolicy": False,
                                          "transitionWorkItems": False}})
            except AzureDevOpsError as exc:
                if exc.status == 401:
                    raise
                raise MergeBlocked(exc.message or f"HTTP {exc.status}") from None
            pull = self._completed(cr.number)
        sha = str(pull["lastMergeCommit"]["commitId"])
        self.store.close_change_request(promotion_id, "merged", sha)
        log.info("forge.merged", forge=self.name, promotion=promotion_id, number=cr.number,
                 sha=sha)
        return sha

    def _completed(self, number: int) -> dict[str, Any]:
        """The pull request once completed; MergeBlocked when its merge failed or policies
        hold it (a completion Azure accepted may still not happen)."""
        for attempt in range(READ_BACKS):
            pull = self._pull(number, "read_back")
            if pull.get("status") == "completed" and pull.get("lastMergeCommit"):
                return pull
            if pull.get("mergeStatus") in _REFUSED_MERGES:
                raise MergeBlocked(f"merge {pull['mergeStatus']}: {self._policies(number)}")
            held = self._policies(number)
            if held:
                raise MergeBlocked(held)
            time.sleep(READ_BACK_PAUSE * (attempt + 1))
        raise MergeBlocked(f"not completed (merge status {pull.get('mergeStatus')})")

    def _policies(self, number: int) -> str:
        """The blocking policies not yet approved ("Build: rejected; Minimum number of
        reviewers: queued"), from GET {project}/_apis/policy/evaluations?artifactId=
        vstfs:///CodeReview/CodeReviewId/{projectId}/{pullRequestId}."""
        artifact = f"vstfs:///CodeReview/CodeReviewId/{self._repo()['project']['id']}/{number}"
        found = self.api.request("policy_evaluations", "GET",
                                 f"{self.api.project_url}/_apis/policy/evaluations",
                                 version=PREVIEW, params={"artifactId": artifact})
        held = []
        for evaluation in found.get("value") or []:
            configuration = evaluation.get("configuration") or {}
            if evaluation.get("status") in ("approved", "notApplicable") or \
                    configuration.get("isBlocking") is False:
                continue
            kind = (configuration.get("type") or {}).get("displayName") or "policy"
            name = (configuration.get("settings") or {}).get("displayName")
            held.append(f"{kind} ({name})" if name else kind)
            held[-1] += f": {evaluation.get('status')}"
        return "; ".join(held)

    def comment(self, number: int, body: str) -> None:
        """Open a thread with one comment. Its status is `closed` (4): Hoist's notes never
        hold completion under a "comments must be resolved" policy."""
        self.api.request("comment", "POST", f"{self.api.repo}/pullRequests/{number}/threads",
                         json={"comments": [{"parentCommentId": 0, "content": body,
                                             "commentType": 1}], "status": 4})

    def react(self, number: int, comment_id: int, content: str) -> None:
        """Azure has no reactions. `+1`: like the comment (POST .../likes). `confused`: mark
        the thread "won't fix" when the comment opened it (Hoist's reply says why); a reply
        in someone's thread is left alone."""
        thread, said = split_comment_key(comment_id)
        path = f"{self.api.repo}/pullRequests/{number}/threads/{thread}"
        if content == "+1":
            self.api.request("like", "POST", f"{path}/comments/{said}/likes", version=PREVIEW)
        elif said == 1:
            self.api.request("thread_status", "PATCH", path, json={"status": "wontFix"})

    def permission(self, user: str) -> str:
        """The user's effective Git Repositories permissions on the repository, on the
        ladder (azure_devops_people)."""
        repo = self._repo()
        return people.permission(self.api, f"repoV2/{repo['project']['id']}/{repo['id']}",
                                 user)

    def teams_of(self, user: str, teams: list[str]) -> list[str]:
        """Which of the `project/team` teams the user is a direct member of."""
        return people.teams_of(self.api, user, teams)

    def pull_state(self, number: int) -> tuple[str, str | None] | None:
        """completed → merged (with `lastMergeCommit`), abandoned → closed, else open."""
        pull = self._pull(number, "pull_state")
        if pull.get("status") == "completed":
            return "merged", (pull.get("lastMergeCommit") or {}).get("commitId")
        return ("closed", None) if pull.get("status") == "abandoned" else ("open", None)

    def repository_id(self) -> str:
        """The repository's GUID (lower-cased), asked once."""
        return str(self._repo()["id"]).lower()

    def read_comment(self, number: int, comment_id: int) -> tuple[str, str] | None:
        """GET .../pullRequests/{n}/threads/{t}/comments/{c}: its author's `uniqueName` and
        its `content`; None when pull request `number` has no such comment (404) or it was
        deleted."""
        thread, said = split_comment_key(comment_id)
        if thread <= 0 or said <= 0:
            return None  # not a key Hoist made: no comment has it
        found = self.api.request(
            "read_comment", "GET",
            f"{self.api.repo}/pullRequests/{number}/threads/{thread}/comments/{said}",
            missing=(400, 404))
        if not isinstance(found, dict) or found.get("isDeleted") or \
                found.get("commentType") == "system":
            return None
        return str((found.get("author") or {}).get("uniqueName") or ""), \
            str(found.get("content") or "")

    def read_reviews(self, number: int, user: str, review_id: int | None) -> list[str]:
        """GET .../pullRequests/{n}/reviewers: [""] when `user` votes to approve (10, or 5
        with suggestions; a vote has no text), else []."""
        found = self.api.request("reviewers", "GET",
                                 f"{self.api.repo}/pullRequests/{number}/reviewers",
                                 missing=(404,))
        for reviewer in (found or {}).get("value") or []:
            if str(reviewer.get("uniqueName") or "").lower() == user.lower() and \
                    approves(reviewer.get("vote")):
                return [""]
        return []

    def close(self, number: int, comment: str) -> None:
        """Abandon the pull request with a comment saying why."""
        self.comment(number, comment)
        self.api.request("abandon", "PATCH", f"{self.api.repo}/pullrequests/{number}",
                         json={"status": "abandoned"})
