"""Each forge's double and Hoist's adapter for it, built the same way for every test: the
contract suite, the flow tests and the e2e tests run one code path per forge."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.adapters.forges import Forge
from bot.adapters.forges.azure_devops import AzureDevOpsForge
from bot.adapters.forges.bitbucket import BitbucketForge
from bot.adapters.forges.bitbucket_datacenter import BitbucketDataCenterForge
from bot.adapters.forges.gitea import GiteaForge
from bot.adapters.forges.github import GitHubForge
from bot.adapters.forges.gitlab import GitLabForge
from bot.adapters.store import Store
from bot.core.azure_devops import split_comment_key
from bot.core.events import ImagePushed
from bot.flows.services import Services
from bot.sources.base import hmac_hex
from bot.worker import Worker
from tests.azure_devops_double import AzureDevOpsDouble
from tests.bitbucket_datacenter_double import BitbucketDataCenterDouble
from tests.bitbucket_double import BitbucketDouble, uuid_of
from tests.forge_double import ForgeDouble
from tests.gitea_double import GiteaDouble
from tests.github_double import GitHubDouble
from tests.gitlab_double import GitLabDouble
from tests.support import FIXTURES, commit_file

KINDS = ("github", "gitlab", "gitea", "bitbucket", "bitbucket-datacenter", "azure-devops")
TOKEN = {"github": "ghp_test0token", "gitlab": "glpat-test0token", "gitea": "gitea0test0token",
         "bitbucket": "ATCTT3xFfGN0test0token", "bitbucket-datacenter": "BBDC-test0token",
         "azure-devops": "azdo0test0pat0token"}


def start_double(kind: str, bare_repo: Path) -> ForgeDouble:
    """The started double of forge `kind` over the bare repository."""
    double: ForgeDouble = {"github": GitHubDouble, "gitlab": GitLabDouble,
                           "gitea": GiteaDouble, "bitbucket": BitbucketDouble,
                           "bitbucket-datacenter": BitbucketDataCenterDouble,
                           "azure-devops": AzureDevOpsDouble}[kind](bare_repo)
    return double.start()


def adapter(kind: str, store: Store, double: ForgeDouble, timeout: float = 1.0) -> Forge:
    """Hoist's forge adapter talking to the double, as wiring builds it."""
    if kind == "github":
        return GitHubForge(store, double.full_name, token=TOKEN[kind], base_url=double.url,
                           bot_login=double.bot_login, timeout=int(timeout), pace=0)
    if kind == "gitlab":
        return GitLabForge(store, double.full_name, token=TOKEN[kind], url=double.url,
                           timeout=timeout)
    if kind == "bitbucket-datacenter":
        return BitbucketDataCenterForge(store, double.full_name, token=TOKEN[kind],
                                        url=double.url, timeout=timeout)
    if kind == "bitbucket":
        return BitbucketForge(store, double.full_name, token=TOKEN[kind],
                              url=f"{double.url}/2.0", timeout=timeout)
    if isinstance(double, AzureDevOpsDouble):
        return AzureDevOpsForge(store, double.full_name, token=TOKEN[kind],
                                url=double.api_url, timeout=timeout)
    return GiteaForge(store, double.full_name, token=TOKEN[kind], url=double.url,
                      timeout=timeout)


def service_env(kind: str, double: ForgeDouble, webhook_secret: str) -> dict[str, str]:
    """The HOIST_* settings that point `hoist serve` at the double."""
    if kind == "github":
        return {"HOIST_GITHUB_TOKEN": TOKEN[kind], "HOIST_GITHUB_API_URL": double.url,
                "HOIST_GITHUB_REPOSITORY": double.full_name, "HOIST_GITHUB_PACE": "0",
                "HOIST_GITHUB_WEBHOOK_SECRET": webhook_secret,
                "HOIST_GITHUB_BOT_LOGIN": double.bot_login}
    if kind == "gitlab":
        return {"HOIST_GITLAB_TOKEN": TOKEN[kind], "HOIST_GITLAB_URL": double.url,
                "HOIST_GITLAB_PROJECT": double.full_name,
                "HOIST_GITLAB_WEBHOOK_SECRET": webhook_secret}
    if kind == "bitbucket-datacenter":
        return {"HOIST_FORGE": kind, "HOIST_BITBUCKET_DC_TOKEN": TOKEN[kind],
                "HOIST_BITBUCKET_DC_URL": double.url,
                "HOIST_BITBUCKET_DC_REPOSITORY": double.full_name,
                "HOIST_BITBUCKET_DC_WEBHOOK_SECRET": webhook_secret}
    if kind == "bitbucket":
        return {"HOIST_FORGE": "bitbucket", "HOIST_BITBUCKET_TOKEN": TOKEN[kind],
                "HOIST_BITBUCKET_URL": f"{double.url}/2.0",
                "HOIST_BITBUCKET_REPOSITORY": double.full_name,
                "HOIST_BITBUCKET_WEBHOOK_SECRET": webhook_secret}
    if isinstance(double, AzureDevOpsDouble):
        return {"HOIST_FORGE": kind, "HOIST_AZURE_DEVOPS_TOKEN": TOKEN[kind],
                "HOIST_AZURE_DEVOPS_URL": double.api_url,
                "HOIST_AZURE_DEVOPS_REPOSITORY": double.full_name,
                "HOIST_AZURE_DEVOPS_WEBHOOK_SECRET": webhook_secret}
    return {"HOIST_GITEA_TOKEN": TOKEN[kind], "HOIST_GITEA_URL": double.url,
            "HOIST_GITEA_REPOSITORY": double.full_name,
            "HOIST_GITEA_WEBHOOK_SECRET": webhook_secret}


def named(kind: str, repository_id: int | str) -> str:
    """How forge `kind`'s payloads name the repository with this id (Bitbucket: a uuid)."""
    return uuid_of(repository_id) if kind == "bitbucket" else str(repository_id)


def _about(data: dict[str, Any], repository_id: int | str | None) -> dict[str, Any]:
    """`data` naming the repository (GitLab: project) with id `repository_id`, if given;
    else the one its published example names (Bitbucket: a uuid, made from a number)."""
    if repository_id is None:
        return data
    if "uuid" in data["repository"]:  # Bitbucket
        data["repository"]["uuid"] = uuid_of(repository_id)
    elif "project" in data:  # GitLab
        data["project"]["id"] = repository_id
        if "project_id" in data:
            data["project_id"] = repository_id
    else:
        data["repository"]["id"] = repository_id
    return data


def comment_webhook(kind: str, number: int, user: str, text: str, comment_id: int,
                    secret: str, delivery: str | None = None,
                    written_at: float | None = None, repository_id: int | str | None = None
                    ) -> tuple[str, dict[str, str], bytes]:
    """(route, headers, body) of the forge's webhook for a new comment on change request
    `number`, built from the forge's published example and signed as the forge signs.
    `delivery` is the hook's delivery id (default: one per comment); `written_at` (epoch
    seconds) replaces the example's creation time, in the forge's own format;
    `repository_id` the id of the repository the example names."""
    delivery = delivery or f"d-{comment_id}"
    if kind == "azure-devops":
        return azure_devops_comment(number, user, text, comment_id, secret, written_at,
                                    repository_id)
    if kind == "github":
        data = _about(json.loads((FIXTURES / "github" / "issue_comment.created.json")
                                 .read_text()), repository_id)
        data["issue"]["number"] = number
        data["comment"].update(id=comment_id, body=text)
        data["comment"]["user"].update(login=user, type="User")
        if written_at is not None:
            data["comment"]["created_at"] = _stamp(written_at, "%Y-%m-%dT%H:%M:%SZ")
        body = json.dumps(data).encode()
        return "/webhooks/github", {
            "X-GitHub-Event": "issue_comment", "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": "sha256=" + hmac_hex(secret, body)}, body
    if kind == "gitlab":
        data = _about(json.loads((FIXTURES / "gitlab" / "webhooks" / "note_merge_request.json")
                                 .read_text()), repository_id)
        data["merge_request"]["iid"] = number
        data["object_attributes"].update(id=comment_id, note=text)
        data["user"]["username"] = user
        if written_at is not None:
            data["object_attributes"]["created_at"] = _stamp(written_at, "%Y-%m-%d %H:%M:%S UTC")
        return "/webhooks/gitlab", {"X-Gitlab-Event": "Note Hook", "X-Gitlab-Token": secret,
                                    "X-Gitlab-Event-UUID": delivery}, \
            json.dumps(data).encode()
    if kind == "bitbucket-datacenter":
        return _bitbucket_dc_comment(number, user, text, comment_id, secret, delivery,
                                     written_at, repository_id)
    if kind == "bitbucket":
        data = _about(json.loads((FIXTURES / "bitbucket-cloud" / "webhooks" /
                                  "pullrequest_comment_created.json").read_text()), repository_id)
        data["pullrequest"]["id"] = data["comment"]["pullrequest"]["id"] = number
        data["comment"].update(id=comment_id)
        data["comment"]["content"].update(raw=text, html="")
        data["comment"]["user"].update(account_id=user, nickname=user)
        data["actor"].update(account_id=user, nickname=user)
        if written_at is not None:
            data["comment"]["created_on"] = _stamp(written_at, "%Y-%m-%dT%H:%M:%S.000000+00:00")
        body = json.dumps(data).encode()
        return "/webhooks/bitbucket", {"X-Event-Key": "pullrequest:comment_created",
                                       "X-Request-UUID": delivery,
                                       "X-Hub-Signature": "sha256=" + hmac_hex(secret, body)}, body
    data = _about(json.loads((FIXTURES / "gitea" / "webhooks" /
                              "pull_request_comment_signed.json").read_text()), repository_id)
    data["issue"]["number"] = number
    data["comment"].update(id=comment_id, body=text)
    data["comment"]["user"].update(login=user, username=user)
    if written_at is not None:
        data["comment"]["created_at"] = _stamp(written_at, "%Y-%m-%dT%H:%M:%S+00:00")
    body = json.dumps(data).encode()
    return "/webhooks/gitea", {"X-Gitea-Event": "issue_comment",
                               "X-Gitea-Delivery": delivery,
                               "X-Gitea-Signature": hmac_hex(secret, body)}, body


def review_webhook(kind: str, number: int, user: str, text: str, review_id: int,
                   secret: str, repository_id: int | str | None = None
                   ) -> tuple[str, dict[str, str], bytes]:
    """(route, headers, body) of the forge's webhook for a review of change request `number`
    that comments `text` without approving: GitHub's `pull_request_review` (state
    commented), GitLab's note of a review on a diff line (a DiffNote), Gitea's
    `pull_request_comment` review event, Bitbucket's comment on a diff line (`inline`: its
    reviews have no text), Azure DevOps' reply in a thread (a vote has no text; a reviewer's
    words are comments); each from the forge's published example, about the repository
    with id `repository_id` if given."""
    if kind == "azure-devops":
        return azure_devops_comment(number, user, text, review_id, secret, None,
                                    repository_id, reply=True)
    if kind == "github":
        data = _about(json.loads((FIXTURES / "github" / "pull_request_review.submitted.json")
                                 .read_text()), repository_id)
        data["pull_request"]["number"] = number
        data["review"].update(id=review_id, state="commented", body=text)
        data["review"]["user"].update(login=user, type="User")
        data["sender"]["login"] = user
        body = json.dumps(data).encode()
        return "/webhooks/github", {
            "X-GitHub-Event": "pull_request_review", "X-GitHub-Delivery": f"r-{review_id}",
            "X-Hub-Signature-256": "sha256=" + hmac_hex(secret, body)}, body
    if kind == "gitlab":
        route, headers, body = comment_webhook(kind, number, user, text, review_id, secret,
                                               repository_id=repository_id)
        data = json.loads(body)
        data["object_attributes"].update(type="DiffNote", line_code="1d2e_0_1")
        return route, headers, json.dumps(data).encode()
    if kind == "bitbucket-datacenter":  # a review's words are comments there
        return _bitbucket_dc_comment(number, user, text, review_id, secret, f"r-{review_id}",
                                     None, repository_id)
    if kind == "bitbucket":
        route, headers, body = comment_webhook(kind, number, user, text, review_id, secret,
                                               repository_id=repository_id)
        data = json.loads(body)
        data["comment"]["inline"] = {"path": "apps/guestbook/kustomization.yaml", "from": None,
                                     "to": 3}
        body = json.dumps(data).encode()
        return route, headers | {"X-Hub-Signature": "sha256=" + hmac_hex(secret, body)}, body
    data = _about(json.loads((FIXTURES / "gitea" / "webhooks" /
                              "pull_request_review_approved.json").read_text()), repository_id)
    data["number"] = data["pull_request"]["number"] = number
    data["review"] = {"type": "pull_request_review_comment", "content": text}
    data["sender"].update(login=user, username=user)
    body = json.dumps(data).encode()
    return "/webhooks/gitea", {"X-Gitea-Event": "pull_request_comment",
                               "X-Gitea-Event-Type": "pull_request_review_comment",
                               "X-Gitea-Delivery": f"r-{review_id}",
                               "X-Gitea-Signature": hmac_hex(secret, body)}, body


def _bitbucket_dc_comment(number: int, user: str, text: str, comment_id: int, secret: str,
                          delivery: str, written_at: float | None,
                          repository_id: int | str | None
                          ) -> tuple[str, dict[str, str], bytes]:
    """Bitbucket Data Center's `pr:comment:added` (atlantis' published example), signed with
    X-Hub-Signature; `written_at` as `createdDate` in epoch milliseconds."""
    data = json.loads((FIXTURES / "bitbucket-datacenter" / "webhooks" / "pr_comment_added.json")
                      .read_text())
    data["pullRequest"]["id"] = number
    if repository_id is not None:
        data["pullRequest"]["toRef"]["repository"]["id"] = repository_id
    data["comment"].update(id=comment_id, text=text)
    data["comment"]["author"].update(name=user, slug=user.lower())
    if written_at is not None:
        data["comment"]["createdDate"] = int(written_at * 1000)
    body = json.dumps(data).encode()
    return "/webhooks/bitbucket-datacenter", {
        "X-Event-Key": "pr:comment:added", "X-Request-Id": delivery,
        "X-Hub-Signature": "sha256=" + hmac_hex(secret, body)}, body
def azure_devops_comment(number: int, user: str, text: str, comment_id: int, secret: str,
                         written_at: float | None, repository_id: int | str | None,
                         reply: bool = False) -> tuple[str, dict[str, str], bytes]:
    """Azure DevOps' pull-request comment event (its published example) for comment key
    `comment_id` (core/azure_devops.comment_key: thread and comment; a reply is comment 2
    of the thread), with the secret as the service hook's Basic-auth password."""
    data = json.loads((FIXTURES / "azure-devops" / "webhooks" / "git.pullrequest.comment.json")
                      .read_text())
    thread, said = split_comment_key(comment_id)
    if reply:
        said = 2
    comment = data["resource"]["comment"]
    comment.update(id=said, content=text, parentCommentId=said - 1)
    comment["author"]["uniqueName"] = user
    links = comment["_links"]
    for name in ("self", "threads"):
        links[name]["href"] = re.sub(r"/pullRequests/\d+/threads/\d+", f"/pullRequests/{number}"
                                     f"/threads/{thread}", links[name]["href"])
    links["self"]["href"] = re.sub(r"/comments/\d+$", f"/comments/{said}", links["self"]["href"])
    if written_at is not None:
        comment["publishedDate"] = comment["lastUpdatedDate"] = _stamp(
            written_at, "%Y-%m-%dT%H:%M:%S.000000Z")
    data["resource"]["pullRequest"]["pullRequestId"] = number
    if repository_id is not None:
        data["resource"]["pullRequest"]["repository"]["id"] = repository_id
    auth = base64.b64encode(f"hoist:{secret}".encode()).decode()
    return "/webhooks/azure-devops", {"Authorization": f"Basic {auth}"}, \
        json.dumps(data).encode()


def _stamp(at: float, layout: str) -> str:
    return datetime.fromtimestamp(at, UTC).strftime(layout)


DIGEST = "sha256:" + "c" * 64


def require_two_writers(services: Services, work: Path) -> None:
    """Commit the demo policy with prod gated on two people with write permission."""
    text = (Path(__file__).parents[1] / "manifests-example/demo/hoist.yaml").read_text()
    text = text.replace("    approval: manual", "    approval: {required: 2, permission: write}")
    commit_file(services.git.url, "hoist.yaml", text, work)
    services.git.sync()


def push(tag: str = "1.4.2", event_id: str = "e1", digest: str = DIGEST) -> ImagePushed:
    """A push of localhost:5000/acme/guestbook, as the registry reports it."""
    return ImagePushed("distribution", event_id, "localhost:5000", "acme/guestbook", tag, digest)


def run(services: Services, *pushes: ImagePushed) -> None:
    """Store the pushes and let one worker pass handle them."""
    services.store.add_events(list(pushes), time.time())
    Worker(services).run_once()
