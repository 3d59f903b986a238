"""Issue 21 §3 on every forge, through the public contracts: `hoist serve` as a process, a
file:// manifests repository, the forge's double, and the forge's signed webhooks built from
its published examples. A command counts once, where a person wrote it (prose, a review's
body), for what they saw (not for content that replaced it). Rebuilt from the field cases
chatops/03-indented-code-block-ignored (bors-ng/bors-ng#173), chatops/09-command-in-review-
body (kubernetes/test-infra#3124) and webhooks/05-same-comment-second-hook-after-update."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.demo.registry import free_port
from tests.forge_double import ForgeDouble
from tests.forges import KINDS, comment_webhook, review_webhook, service_env, start_double
from tests.support import DATA, ServiceProcess, git, wait_for

IMAGE = "registry.example.com/acme/guestbook"
PROD_FILE = "apps/guestbook/prod/kustomization.yaml"
PROD = "hoist/prod/guestbook"


@dataclass
class Served:
    """`hoist serve` on one forge's double, prod gated by the test's approval policy."""

    service: ServiceProcess
    double: ForgeDouble
    origin: Path
    hook_secret: str
    token: str

    def push(self, tag: str) -> None:
        """The registry notifies a push of guestbook:`tag` (Distribution's own format)."""
        data = json.loads((DATA / "distribution-2.8-manifest-push.json").read_text())
        event = data["events"][0]
        event["id"] = str(uuid.uuid4())
        event["target"].update(tag=tag, digest="sha256:" + f"{tag}".encode().hex().ljust(64, "0"))
        event["request"]["host"] = "registry.example.com"
        event["target"]["url"] = f"https://registry.example.com/v2/acme/guestbook/manifests/" \
                                 f"{event['target']['digest']}"
        answer = httpx.post(f"{self.service.url}/webhooks/registry/distribution", json=data,
                            headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        assert answer.status_code == 202, answer.text

    def number(self, tag: str) -> int:
        """The prod change request, once it proposes `tag`."""
        def proposed() -> int | None:
            number = self.double.number_for(PROD)
            shown = git(self.origin, "show", f"{PROD}:{PROD_FILE}") if number else ""
            return number if f'newTag: "{tag}' in shown else None
        return int(wait_for(proposed, f"the prod change request to propose {tag}", 30))

    def send(self, hook: tuple[str, dict[str, str], bytes]) -> int:
        """Deliver a forge webhook; how many new things Hoist stored."""
        route, headers, body = hook
        answer = httpx.post(f"{self.service.url}{route}", content=body, timeout=10,
                            headers=headers | {"Content-Type": "application/json"})
        assert answer.status_code == 202, answer.text
        return int(answer.json()["accepted"])

    def comment(self, number: int, user: str, text: str,
                written_at: float | None = None) -> int:
        """`user` comments `text` on the forge, which delivers it; the comment's id."""
        comment_id = self.double.add_comment(number, text, user)
        self.send(comment_webhook(self.double.kind, number, user, text, comment_id,
                                  self.hook_secret, written_at=written_at))
        return comment_id

    def review(self, number: int, user: str, text: str) -> int:
        """`user` reviews with `text` on the forge (GitLab: a note on a diff line), which
        delivers it; how many new things Hoist stored."""
        kind = self.double.kind
        review_id = self.double.add_comment(number, text, user) if kind in (
            "gitlab", "bitbucket", "bitbucket-datacenter") else \
            self.double.add_review(number, user, text, state="COMMENTED")
        return self.send(review_webhook(kind, number, user, text, review_id, self.hook_secret))

    def replies(self, number: int) -> list[str]:
        return [c["body"] for c in self.double.comments.get(number, [])
                if c["user"] == self.double.bot_login]

    def reply(self, number: int, containing: str) -> str:
        """Wait for Hoist's reply in the thread that contains `containing`."""
        return str(wait_for(lambda: next((r for r in self.replies(number) if containing in r),
                                         None), f"a reply saying {containing!r}", 20))


def hoist_yaml(approval: str) -> str:
    return ("images:\n  guestbook:\n"
            f"    repository: {IMAGE}\n"
            "    tags: {semver: \">=1.0.0 <2.0.0\"}\n    pin: tag@digest\n"
            "environments:\n  - name: prod\n    branch: main\n"
            f"    approval: {approval}\n"
            f"    targets:\n      - {{file: {PROD_FILE}, image: guestbook}}\n")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[str, str], Served]]:
    """serve(forge, approval): a started `hoist serve` and double, stopped afterwards."""
    started: list[Served] = []

    def start(kind: str, approval: str) -> Served:
        seed, origin = tmp_path / "seed", tmp_path / "origin" / "manifests.git"
        (seed / PROD_FILE).parent.mkdir(parents=True)
        (seed / "hoist.yaml").write_text(hoist_yaml(approval))
        (seed / PROD_FILE).write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n"
            f"  - name: {IMAGE}\n    newTag: \"1.0.0\"\n")
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
        git(seed, "init", "-q", "-b", "main")
        git(seed, "add", "-A")
        git(seed, "-c", "user.name=seed", "-c", "user.email=seed@example.com", "commit", "-qm",
            "chore: initial manifests")
        git(seed, "push", "-q", str(origin), "main")
        double = start_double(kind, origin)
        double.permissions.update(rita="read", bob="write", carol="write", dave="write",
                                  erin="write")
        hook_secret, token = f"{kind}-{secrets.token_hex(8)}", secrets.token_hex(8)
        env = {"HOIST_MANIFESTS_REPO": f"file://{origin}",
               "HOIST_DATA_DIR": str(tmp_path / "data"), "HOIST_WEBHOOK_SECRET": token,
               "HOIST_API_TOKEN": "api-" + token, "HOIST_POLL_INTERVAL": "0.2",
               "HOIST_LOG_FORMAT": "json", "HOIST_FORGE_TIMEOUT": "3",
               **service_env(kind, double, hook_secret)}
        service = ServiceProcess(free_port(), env, tmp_path / "hoist.log")
        served = Served(service, double, origin, hook_secret, token)
        started.append(served)
        service.start()
        return served

    yield start
    for served in started:
        served.service.stop()
        served.double.stop()


def landed(on: Served) -> str:
    """The message of the newest commit on main that promoted into prod."""
    return git(on.origin, "log", "-1", "--format=%B", "--grep=Hoist-Environment: prod", "main")


def redelivered(headers: dict[str, str], delivery: str) -> dict[str, str]:
    """The headers of the same body delivered by another hook: another delivery id (which no
    forge signs)."""
    return {k: delivery if k.lower() in ("x-github-delivery", "x-gitlab-event-uuid",
                                         "x-gitea-delivery", "x-request-uuid") else v
            for k, v in headers.items()}


# Shown, quoted or hidden: never a command (CommonMark §4.4-4.6, §5.1, §6.1).
NOT_COMMANDS = (
    "For the record, the command is:\n\n    /hoist approve\n\nbut I am not approving yet.",
    "\t/hoist approve",
    "```\n/hoist approve\n```",
    "~~~\n/hoist approve",
    "> /hoist approve\n> > /hoist approve",
    "<!--\n/hoist approve\n-->",
    "Run `/hoist approve` once QA is done.",
)


@pytest.mark.parametrize("kind", KINDS)
def test_commands_in_code_quotes_or_comments_never_count_and_a_review_body_does(
        serve: Callable[[str, str], Served], kind: str) -> None:
    on = serve(kind, "{required: 1, permission: write}")
    on.push("1.1.0")
    number = on.number("1.1.0")
    for text in NOT_COMMANDS:
        on.comment(number, "bob", text)
    on.comment(number, "bob", "Where are we?\r\n/hoist status")  # handled after the others
    assert "approved by nobody yet" in on.reply(number, "promotion `")
    assert not on.double.pulls[number]["merged"]
    assert len(on.replies(number)) == 1  # shown commands get no reply at all
    # A review's body is a comment: its command counts, with the same authorization.
    assert on.review(number, "rita", "/hoist approve") == 1
    on.reply(number, "refused: @rita has read permission")
    on.review(number, "bob", "Checked the diff.\n\n/hoist approve")
    assert "approval recorded (1 of 1)" in on.reply(number, "@bob: approval")
    wait_for(lambda: on.double.pulls[number]["merged"], "the change request to merge", 20)
    assert "Hoist-Approved-By: bob\n" in landed(on)


@pytest.mark.parametrize("kind", KINDS)
def test_a_comment_counts_once_and_only_for_the_version_its_author_saw(
        serve: Callable[[str, str], Served], kind: str) -> None:
    on = serve(kind, "{required: 2, permission: write}")
    on.push("1.1.0")
    number = on.number("1.1.0")
    route, headers, body = comment_webhook(kind, number, "bob", "/hoist approve",
                                           on.double.add_comment(number, "/hoist approve",
                                                                 "bob"),
                                           on.hook_secret, delivery="repository-hook")
    assert on.send((route, headers, body)) == 1
    on.reply(number, "approval recorded (1 of 2)")
    # The organisation's hook delivers the same comment (same id, same signed body).
    assert on.send((route, redelivered(headers, "organisation-hook"), body)) == 0
    time.sleep(1.1)  # the forges date comments to the second
    written = time.time()  # carol writes her approval of 1.1.0 now; it arrives late
    late = on.double.add_comment(number, "/hoist approve", "carol")
    time.sleep(1.1)
    on.push("1.2.0")
    assert on.number("1.2.0") == number  # the same change request, updated
    reset = on.reply(number, "no longer count")
    assert "Approvals by @bob were for 1.1.0 and no longer count: 1.2.0 needs 2 approvals " \
           "from people with write permission" in reset
    assert on.send((route, redelivered(headers, "third-hook"), body)) == 0
    on.send(comment_webhook(kind, number, "carol", "/hoist approve", late, on.hook_secret,
                            written_at=written))
    stale = on.reply(number, "@carol:")
    assert "was for 1.1.0, before this change request was updated to 1.2.0, and does not " \
           "count" in stale
    assert not on.double.pulls[number]["merged"]
    on.comment(number, "dave", "/hoist approve", written_at=time.time())
    on.reply(number, "@dave: approval recorded (1 of 2)")
    on.comment(number, "erin", "LGTM\n/hoist approve")  # the example's old date: receipt rules
    wait_for(lambda: on.double.pulls[number]["merged"], "the change request to merge", 20)
    assert "Hoist-Approved-By: dave, erin\n" in landed(on) and 'newTag: "1.2.0' in git(
        on.origin, "show", f"main:{PROD_FILE}")


def test_freeze_on_a_change_request_freezes_its_environment_until_unfrozen(
        serve: Callable[[str, str], Served]) -> None:
    on = serve("github", "{required: 1, permission: write}")
    on.push("1.1.0")
    number = on.number("1.1.0")
    on.comment(number, "rita", "/hoist freeze")
    on.reply(number, "refused: @rita has read permission")
    on.comment(number, "bob", "/hoist freeze incident 42")
    on.reply(number, "prod is frozen: nothing is planned or merged there until `unfreeze`.")
    on.comment(number, "bob", "/hoist approve")
    on.reply(number, "approval recorded (1 of 1)")
    time.sleep(2.0)  # several worker passes: a frozen environment merges nothing
    assert not on.double.pulls[number]["merged"]
    on.comment(number, "carol", "/hoist unfreeze")
    on.reply(number, "prod is unfrozen.")
    wait_for(lambda: on.double.pulls[number]["merged"], "the change request to merge", 20)
