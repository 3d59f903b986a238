"""End to end on every forge: `hoist serve` as a process, Debian's docker-registry notifying
it of a real skopeo push, and the forge's loopback double over the real bare manifests repo.
GitHub runs as a GitHub App. One registry serves the whole module (its notifications go to
the one port every test's service listens on); each test pushes its own tags."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.registry import LocalRegistry, free_port, write_oci_layout
from tests.audit_check import assert_audit_reads_back
from tests.azure_devops_double import AzureDevOpsDouble
from tests.forge_double import ForgeDouble
from tests.forges import KINDS, comment_webhook, service_env, start_double
from tests.github_double import GitHubDouble
from tests.support import git, need, wait_for
from tests.test_e2e import service_for
from tests.test_github_app import APP_ID, key_pair

PROD = "hoist/prod/guestbook"
pytestmark = pytest.mark.e2e
_tags = itertools.count(2)


class Stack:
    """The module's registry and the port and token every test's service uses."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.service_port = free_port()
        self.token = secrets.token_hex(16)
        self.registry = LocalRegistry(
            workdir / "registry", free_port(),
            f"http://127.0.0.1:{self.service_port}/webhooks/registry/distribution", self.token)

    def push(self, tag: str) -> str:
        """Push guestbook:`tag` (new content each time); its digest."""
        layout = self.workdir / f"layout-{tag}"
        digest = write_oci_layout(layout, tag, f"guestbook {tag}")
        self.registry.push(layout, tag, "acme/guestbook")
        return digest


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    need("git", "docker-registry", "skopeo")
    stack = Stack(tmp_path_factory.mktemp("registry"))
    stack.registry.start()
    yield stack
    stack.registry.stop()


@pytest.fixture
def on_forge(request: pytest.FixtureRequest, stack: Stack, tmp_path: Path
             ) -> Iterator[tuple[Any, ForgeDouble, Path, str]]:
    """`hoist serve` on forge `request.param` (its double started), prod gated on two
    people with write permission; (service, double, origin repo, forge webhook secret)."""
    kind = request.param
    hook_secret = f"{kind}-{secrets.token_hex(8)}"
    origin_dir = tmp_path / "origin" / "manifests.git"
    double = start_double(kind, origin_dir)
    env = service_env(kind, double, hook_secret)
    private = ""
    if isinstance(double, GitHubDouble):  # as most organisations run bots: an App
        private, public = key_pair()
        double.app(APP_ID, public)
        del env["HOIST_GITHUB_TOKEN"]
        env.update(HOIST_GITHUB_APP_ID=APP_ID, HOIST_GITHUB_PRIVATE_KEY=private)
    env.update(HOIST_FORGE_TIMEOUT="1", HOIST_RECONCILE_INTERVAL="1")
    double.timeout_seconds = 1.5
    service, origin, _ = service_for(tmp_path, stack.registry.host, "", env,
                                     approval="{required: 2, permission: write}")
    assert origin == origin_dir
    service.port, service.env["HOIST_WEBHOOK_SECRET"] = stack.service_port, stack.token
    double.permissions.update(rita="read", bob="write", carol="write")
    service.start()
    yield service, double, origin, hook_secret
    service.stop()
    double.stop()
    log = (tmp_path / "hoist.log").read_text()
    secrets_used = [hook_secret, stack.token, *(t for t, _ in getattr(double, "issued", []))]
    for value in [*secrets_used, *(env[k] for k in env if k.endswith("_TOKEN"))]:
        assert value not in log
    if private:
        assert private.splitlines()[1] not in log


def prod_number(double: ForgeDouble) -> int:
    found = wait_for(lambda: next((n for n, p in double.pulls.items()
                                   if p["head"] == PROD and p["state"] == "open"), None),
                     "the prod change request", 60)
    return int(found)


@pytest.mark.parametrize("on_forge", KINDS, indirect=True)
def test_push_to_change_request_approved_by_two_permitted_users_despite_faults(
        on_forge: tuple[Any, ForgeDouble, Path, str], stack: Stack) -> None:
    service, double, origin, hook_secret = on_forge
    # The first lookup fails (502); the create is done but answered too late (timeout);
    # its retry is rate limited (429 with Retry-After) and then finds the change request.
    double.inject("502", "ok", "timeout", "429")
    tag = f"1.4.{next(_tags)}"
    stack.push(tag)
    number = prod_number(double)
    wait_for(lambda: double.pulls[number]["labels"] == ["hoist", "env:prod"], "the labels")

    def comment(user: str, text: str) -> None:
        comment_id = double.add_comment(number, text, user)
        route, headers, body = comment_webhook(double.kind, number, user, text,
                                               comment_id, hook_secret)
        answer = httpx.post(f"{service.url}{route}", content=body, timeout=10,
                            headers=headers | {"Content-Type": "application/json"})
        assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text

    comment("rita", "/hoist approve")
    wait_for(lambda: any("refused: @rita has read permission" in c["body"]
                         for c in double.comments.get(number, [])), "rita refused")
    comment("bob", "/hoist approve")
    comment("carol", "Ship it\n/hoist approve")
    wait_for(lambda: double.pulls[number]["merged"], "the prod change request to merge", 30)
    message = git(origin, "log", "-1", "--format=%B", "--grep=Hoist-Environment: prod", "main")
    assert message.startswith(f"chore(deploy): promote guestbook to {tag} in prod\n")
    assert "Hoist-Approved-By: bob, carol\n" in message
    wait_for(lambda: service.promotion_in("prod", "promoted"), "prod promoted")
    if double.kind == "bitbucket":  # deployment states as build statuses on merge commits
        wait_for(lambda: any(s["key"] == "hoist-prod" and s["state"] == "SUCCESSFUL"
                             for found in getattr(double, "statuses", {}).values()
                             for s in found.values()), "prod's build status")
    if isinstance(double, AzureDevOpsDouble):  # no deployments API: statuses stand in
        wait_for(lambda: ("succeeded", "hoist/prod") in {s[1:] for s in double.statuses},
                 "prod's deployment status")
    assert sorted(p["head"] for p in double.pulls.values()) == [
        "hoist/dev/guestbook", PROD, "hoist/staging/guestbook"]  # exactly one each
    assert not double.faults  # every injected fault was met
    assert assert_audit_reads_back(origin, service.promotions()) == 3


@pytest.mark.parametrize("on_forge", KINDS, indirect=True)
def test_change_requests_closed_or_merged_by_hand_with_lost_webhooks_are_reconciled(
        on_forge: tuple[Any, ForgeDouble, Path, str], stack: Stack) -> None:
    service, double, origin, _ = on_forge
    stack.push(f"1.4.{next(_tags)}")
    closed = prod_number(double)
    double.close_by_hand(closed)  # nobody tells Hoist: the webhook is lost
    wait_for(lambda: service.promotion_in("prod", "aborted"), "the close to be noticed")
    digest = stack.push(f"1.4.{next(_tags)}")
    merged = prod_number(double)
    assert merged != closed
    sha = double.merge_by_hand(merged)
    prod = wait_for(lambda: service.promotion_in("prod", "promoted"), "the merge to be noticed")
    assert prod["merge_sha"] == sha and prod["digest"] == digest
    assert f"digest: {digest}" in git(origin, "show",
                                      "main:apps/guestbook/overlays/prod/kustomization.yaml")
