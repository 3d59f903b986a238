"""Field scenarios through the public contracts: a `file://` manifests repo seeded from a few
files, `hoist serve` as a process, a forge double, registry pushes and signed forge webhooks
as their senders make them. The shape of shared/cases/field/lib/hoistcase.py, on the
project's own helpers, so the cases and their neighbours run as tests."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx

from bot.demo.registry import free_port
from bot.sources.base import hmac_hex
from tests.forge_double import ForgeDouble
from tests.forges import service_env, start_double
from tests.support import FIXTURES, ServiceProcess, git, wait_for

REGISTRY = "registry.example.com"
IMAGE = f"{REGISTRY}/acme/guestbook"
PROD_FILE = "apps/guestbook/prod/kustomization.yaml"


def digest_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def push_to(url: str, token: str, tag: str, repository: str = "acme/guestbook"
            ) -> httpx.Response:
    """POST a CNCF Distribution notification of `repository:tag` (its digest from both) to
    the Hoist at url; asserts 202."""
    digest = digest_of(f"{repository}:{tag}")
    body = {"events": [{
        "id": str(uuid.uuid4()), "timestamp": "2026-01-01T00:00:00Z", "action": "push",
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": digest, "length": 1, "repository": repository, "tag": tag,
                   "url": f"https://{REGISTRY}/v2/{repository}/manifests/{digest}"},
        "request": {"id": str(uuid.uuid4()), "addr": "127.0.0.1", "host": REGISTRY,
                    "method": "PUT", "useragent": "docker/27"},
        "actor": {}, "source": {"addr": REGISTRY}}]}
    answer = httpx.post(f"{url}/webhooks/registry/distribution", json=body,
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 202, answer.text
    return answer


def kustomization(tag: str, image: str = IMAGE) -> str:
    return ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"resources:\n  - ../../base\nimages:\n  - name: {image}\n    newTag: \"{tag}\"\n")


def prod_files(approval: str = "{required: 1, permission: write}", env_extra: str = "",
               tags: str = '{semver: ">=1.0.0 <2.0.0"}') -> dict[str, str]:
    """One image (guestbook) and one environment (prod, on main) gated by `approval`."""
    return {"hoist.yaml": (
        f"images:\n  guestbook:\n    repository: {IMAGE}\n    tags: {tags}\n"
        f"    pin: tag@digest\nenvironments:\n  - name: prod\n    branch: main\n"
        f"    approval: {approval}\n{env_extra}    targets:\n"
        f"      - {{file: {PROD_FILE}, image: guestbook}}\n"),
        PROD_FILE: kustomization("1.0.0")}


class Scenario:
    """A manifests repo, a forge double (or the local forge) and `hoist serve` on them."""

    def __init__(self, tmp_path: Path, files: dict[str, str], forge: str | None = "github",
                 env: dict[str, str] | None = None) -> None:
        self.tmp = tmp_path
        self.bare = tmp_path / "origin" / "manifests.git"
        self.hook_secret = "hook-" + secrets.token_hex(6)
        self.token = secrets.token_hex(8)
        seed = tmp_path / "seed"
        for path, text in files.items():
            (seed / path).parent.mkdir(parents=True, exist_ok=True)
            (seed / path).write_text(text)
        self.bare.parent.mkdir(parents=True)
        git(tmp_path, "init", "-q", "--bare", "-b", "main", str(self.bare))
        git(seed, "init", "-q", "-b", "main")
        git(seed, "add", "-A")
        git(seed, "-c", "user.name=seed", "-c", "user.email=seed@example.com", "commit", "-q",
            "-m", "chore: initial manifests")
        git(seed, "push", "-q", str(self.bare), "main")
        shutil.rmtree(seed)
        settings = {"HOIST_MANIFESTS_REPO": f"file://{self.bare}",
                    "HOIST_DATA_DIR": str(tmp_path / "data"),
                    "HOIST_WEBHOOK_SECRET": self.token, "HOIST_API_TOKEN": "api-" + self.token,
                    "HOIST_POLL_INTERVAL": "0.2", "HOIST_LOG_FORMAT": "json",
                    "HOIST_RECONCILE_INTERVAL": "2", "HOIST_WORKERS": "2",
                    "HOIST_FORGE_TIMEOUT": "3"}
        self.double: ForgeDouble | None = None
        if forge:
            self.double = start_double(forge, self.bare)
            self.double.permissions.update(rita="read", bob="write", carol="write",
                                           dave="write", erin="admin")
            settings.update(service_env(forge, self.double, self.hook_secret))
        settings.update(env or {})
        self.service = ServiceProcess(free_port(), settings, tmp_path / "hoist.log")

    def __enter__(self) -> Scenario:
        self.service.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.service.stop()
        if self.double is not None:
            self.double.stop()

    @property
    def url(self) -> str:
        return self.service.url

    @property
    def forge(self) -> ForgeDouble:
        assert self.double is not None, "this scenario runs on the local forge"
        return self.double

    # git ------------------------------------------------------------------------------
    def show(self, ref: str, path: str) -> str | None:
        found = subprocess.run(["git", "-C", str(self.bare), "show", f"{ref}:{path}"],
                               capture_output=True, text=True)
        return found.stdout if found.returncode == 0 else None

    def commit_by_hand(self, branch: str, changes: dict[str, str], message: str,
                       author: str = "Dana Dev", email: str = "dana@example.com") -> str:
        """A person commits `changes` on `branch` and pushes; the new commit's sha."""
        work = self.tmp / f"hand-{uuid.uuid4().hex[:6]}"
        git(self.tmp, "clone", "-q", "-b", branch, f"file://{self.bare}", str(work))
        for path, text in changes.items():
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_text(text)
        git(work, "add", "-A")
        git(work, "-c", f"user.name={author}", "-c", f"user.email={email}", "commit", "-q",
            "-m", message)
        git(work, "push", "-q", "origin", f"HEAD:{branch}")
        sha = git(work, "rev-parse", "HEAD").strip()
        shutil.rmtree(work)
        return sha

    # registry -------------------------------------------------------------------------
    def push(self, tag: str, repository: str = "acme/guestbook") -> httpx.Response:
        """A CNCF Distribution notification of `repository:tag` (its digest from both)."""
        return push_to(self.url, self.token, tag, repository)

    # the API --------------------------------------------------------------------------
    def promotions(self) -> list[dict[str, Any]]:
        return self.service.promotions()

    def promotion(self, pid: str) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/api/promotions/{pid}", timeout=5).json())

    def wait_state(self, env: str, state: str, tag: str | None = None,
                   timeout: float = 40) -> dict[str, Any]:
        """The promotion of `env` (of `tag`, if given) once it is in `state`."""
        def found() -> dict[str, Any] | None:
            return next((p for p in self.promotions() if p["environment"] == env
                         and p["state"] == state
                         and (tag is None or f":{tag}@" in p["image"]
                              or p["image"].endswith(f":{tag}"))), None)
        return dict(wait_for(found, f"{env} {tag or ''} {state}", timeout))

    # the forge ------------------------------------------------------------------------
    def pr_number(self, env: str = "prod", image: str = "guestbook") -> int:
        head = f"hoist/{env}/{image}"
        return int(wait_for(lambda: max((n for n, p in self.forge.pulls.items()
                                         if p["head"] == head and p["state"] == "open"),
                                        default=None), f"the {env} change request", 40))

    def bot_comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.forge.comments.get(number, [])
                if c["user"] == self.forge.bot_login]

    def github_event(self, event: str, data: dict[str, Any],
                     delivery: str | None = None) -> httpx.Response:
        body = json.dumps(data).encode()
        return httpx.post(f"{self.url}/webhooks/github", content=body, timeout=10, headers={
            "X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": "sha256=" + hmac_hex(self.hook_secret, body),
            "Content-Type": "application/json"})

    def forge_event(self, data: dict[str, Any], event: str) -> httpx.Response:
        """`data` posted to the forge's route, signed as that forge signs (GitHub and Gitea:
        HMAC-SHA256 of the body; GitLab: the secret token); `event` is GitHub's or Gitea's
        event name (GitLab routes on the body)."""
        body = json.dumps(data).encode()
        kind = self.forge.kind
        headers = {"Content-Type": "application/json"}
        if kind == "github":
            headers |= {"X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
                        "X-Hub-Signature-256": "sha256=" + hmac_hex(self.hook_secret, body)}
        elif kind == "gitlab":
            headers |= {"X-Gitlab-Event": "Merge Request Hook",
                        "X-Gitlab-Token": self.hook_secret}
        elif kind == "bitbucket-datacenter":
            headers |= {"X-Event-Key": event, "X-Request-Id": str(uuid.uuid4()),
                        "X-Hub-Signature": "sha256=" + hmac_hex(self.hook_secret, body)}
        elif kind == "bitbucket":
            headers |= {"X-Event-Key": event, "X-Request-UUID": str(uuid.uuid4()),
                        "X-Hub-Signature": "sha256=" + hmac_hex(self.hook_secret, body)}
        elif kind == "azure-devops":  # a service hook's Basic auth: any user, the secret
            headers["Authorization"] = "Basic " + base64.b64encode(
                f"hoist:{self.hook_secret}".encode()).decode()
        else:
            headers |= {"X-Gitea-Event": event, "X-Gitea-Delivery": str(uuid.uuid4()),
                        "X-Gitea-Signature": hmac_hex(self.hook_secret, body)}
        return httpx.post(f"{self.url}/webhooks/{kind}", content=body, headers=headers,
                          timeout=10)

    def deliver(self, hook: tuple[str, dict[str, str], bytes]) -> httpx.Response:
        """Post a (route, headers, body) webhook made by tests.forges (comment_webhook,
        review_webhook)."""
        route, headers, body = hook
        return httpx.post(f"{self.url}{route}", content=body, timeout=10,
                          headers=headers | {"Content-Type": "application/json"})

    def merged_event(self, number: int, merged: bool = True, sha: str | None = None,
                     repository: str | None = None) -> httpx.Response:
        """The forge's own "pull request closed" webhook (its published example) for
        change request `number`, merged or not, optionally claiming another repository."""
        kind = self.forge.kind
        head = self.forge.pulls[number]["head"]
        if kind == "github":
            data = json.loads((FIXTURES / "github" / "pull_request.closed.json").read_text())
            data.update(action="closed", number=number)
            data["pull_request"].update(number=number, state="closed", merged=merged,
                                        merge_commit_sha=sha)
            data["pull_request"]["head"]["ref"] = head
            if repository:
                data["repository"].update(id=66600666, full_name=repository,
                                          name=repository.split("/")[1])
            return self.forge_event(data, "pull_request")
        if kind == "gitlab":
            data = json.loads((FIXTURES / "gitlab" / "webhooks" / "merge_request_merge.json")
                              .read_text())
            data["object_attributes"].update(iid=number, source_branch=head,
                                             action="merge" if merged else "close",
                                             state="merged" if merged else "closed",
                                             merge_commit_sha=sha)
            if repository:
                data["project"].update(id=66600666, path_with_namespace=repository)
            return self.forge_event(data, "")
        if kind == "bitbucket-datacenter":
            data = json.loads((FIXTURES / "bitbucket-datacenter" / "webhooks" /
                               ("pr_merged.json" if merged else "pr_declined.json")).read_text())
            data["pullRequest"].update(id=number, properties={"mergeCommit": {"id": sha}})
            data["pullRequest"]["fromRef"]["id"] = f"refs/heads/{head}"
            if repository:
                data["pullRequest"]["toRef"]["repository"].update(
                    id=66600666, slug=repository.split("/")[1])
            return self.forge_event(data, data["eventKey"])
        if kind == "bitbucket":
            name = "pullrequest_fulfilled" if merged else "pullrequest_rejected"
            data = json.loads((FIXTURES / "bitbucket-cloud" / "webhooks" / f"{name}.json")
                              .read_text())
            data["pullrequest"].update(id=number, merge_commit={"hash": sha} if sha else None)
            data["pullrequest"]["source"]["branch"]["name"] = head
            if repository:
                data["repository"].update(uuid="{00000000-0000-0000-0000-000066600666}",
                                          full_name=repository)
            return self.forge_event(data, f"pullrequest:{name.split('_')[1]}")
        if kind == "azure-devops":
            data = json.loads((FIXTURES / "azure-devops" / "webhooks" /
                               "git.pullrequest.updated.json").read_text())
            data["resource"].update(pullRequestId=number, sourceRefName=f"refs/heads/{head}",
                                    status="completed" if merged else "abandoned")
            data["resource"]["lastMergeCommit"]["commitId"] = sha or ""
            data["resource"]["repository"]["id"] = 66600666 if repository else \
                self.forge.repository_id
            return self.forge_event(data, "")
        data = json.loads((FIXTURES / "gitea" / "webhooks" / "pull_request_merged.json")
                          .read_text())
        data.update(action="closed", number=number)
        data["pull_request"].update(number=number, merged=merged, state="closed",
                                    merge_commit_sha=sha)
        data["pull_request"]["head"]["ref"] = head
        if repository:
            data["repository"].update(id=66600666, full_name=repository,
                                      name=repository.split("/")[1])
        return self.forge_event(data, "pull_request")

    def github_comment(self, number: int, user: str, text: str,
                       delivery: str | None = None) -> httpx.Response:
        """GitHub's issue_comment webhook (its published example) for a new comment."""
        comment_id = self.forge.add_comment(number, text, user)
        data = json.loads((FIXTURES / "github" / "issue_comment.created.json").read_text())
        data["issue"]["number"] = number
        data["comment"].update(id=comment_id, body=text)
        data["comment"]["user"].update(login=user, type="User")
        data["sender"].update(login=user, type="User")
        return self.github_event("issue_comment", data, delivery)

    def github_merged(self, number: int, sender: str = "dana") -> httpx.Response:
        """GitHub's pull_request `closed` webhook for a pull request merged on the forge."""
        pull = self.forge.pulls[number]
        data = json.loads((FIXTURES / "github" / "pull_request.closed.json").read_text())
        data.update(action="closed", number=number)
        data["pull_request"].update(number=number, state="closed", merged=True,
                                    merge_commit_sha=pull.get("merge_commit_sha"))
        data["pull_request"]["head"]["ref"] = pull["head"]
        data["pull_request"]["base"]["ref"] = pull["base"]
        data["sender"]["login"] = sender
        return self.github_event("pull_request", data)
