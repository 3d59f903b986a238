"""Several projects in one `hoist serve` (HOIST_PROJECTS): one registry push fans out to
every project whose hoist.yaml names the image, each promoting in its own repository on its
own forge (the local forge and the Gitea double); forge webhooks are routed by repository
and a delivery about no project's repository is dropped; a ChatOps command acts on its own
project only; a broken project and a slow forge leave the others' timing alone."""

from __future__ import annotations

import json
import secrets
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.manifests import make_manifests_repo
from bot.demo.registry import free_port
from bot.sources.base import hmac_hex
from tests.forges import TOKEN, comment_webhook, start_double
from tests.gitea_double import GiteaDouble
from tests.scenario import REGISTRY, push_to
from tests.support import ServiceProcess, git, need, wait_for

pytestmark = pytest.mark.e2e


class Served:
    """A `hoist serve` over a projects file, and what it needs to be talked to."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.token = secrets.token_hex(16)
        self.file = tmp_path / "projects.yaml"
        self.service = ServiceProcess(free_port(), {
            "HOIST_PROJECTS": str(self.file), "HOIST_DATA_DIR": str(tmp_path / "data"),
            "HOIST_WEBHOOK_SECRET": self.token, "HOIST_API_TOKEN": "api-" + self.token,
            "HOIST_POLL_INTERVAL": "0.2", "HOIST_LOG_FORMAT": "json", **env},
            tmp_path / "hoist.log")
        self.url = self.service.url

    def projects(self, *entries: str) -> None:
        self.file.write_text("projects:\n" + "".join(entries))

    def push(self, tag: str, repository: str = "acme/guestbook") -> None:
        push_to(self.url, self.token, tag, repository)

    def promotions(self, project: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/p/{project}/api/promotions?limit=20", timeout=5)
        if answer.status_code == 503:  # not opened yet: the answer says so
            assert f"project {project} is not ready" in answer.json()["error"]
            return []
        found: list[dict[str, Any]] = answer.json()["promotions"]
        return found

    def promotion(self, project: str, env: str, state: str, tag: str | None = None
                  ) -> dict[str, Any] | None:
        return next((p for p in self.promotions(project) if p["environment"] == env and
                     p["state"] == state and tag in (None, p["tag"])), None)

    def log(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.service.log_path.read_text().splitlines()
                if line.startswith("{")]


def entry(name: str, repo: str, forge: str = "{kind: local}") -> str:
    return f"  - name: {name}\n    repo: {repo}\n    forge: {forge}\n"


def gitea_entry(name: str, repo: str, double: GiteaDouble) -> str:
    return entry(name, repo, f"{{kind: gitea, url: '{double.url}', repository: "
                 f"{double.full_name}, token_env: {name.upper()}_TOKEN, "
                 f"webhook_secret_env: {name.upper()}_HOOK}}")


@pytest.fixture
def stop_after() -> Iterator[Any]:
    started: list[Any] = []
    yield started.append
    for thing in reversed(started):
        thing.stop()


def _repo(tmp_path: Path, name: str, hoist_yaml: str | None = None) -> str:
    url = make_manifests_repo(tmp_path / name, REGISTRY)
    if hoist_yaml is not None:
        work = tmp_path / f"{name}-work"
        git(tmp_path, "clone", "-q", url, str(work))
        (work / "hoist.yaml").write_text(hoist_yaml)
        git(work, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qam", "broken")
        git(work, "push", "-q", "origin", "HEAD:main")
    return url


def _trailer(repo_url: str, branch: str) -> str:
    message = git(repo_url.removeprefix("file://"), "log", "-1", "--format=%B", branch)
    return next(line.split(": ", 1)[1] for line in message.splitlines()
                if line.startswith("Hoist-Promotion: "))


def test_one_push_reaches_each_project_each_in_its_own_repository_and_forge(
        tmp_path: Path, stop_after: Any) -> None:
    need("git")
    shop_repo = _repo(tmp_path, "shop")
    pay_repo = _repo(tmp_path, "pay")
    double = start_double("gitea", Path(pay_repo.removeprefix("file://")))
    assert isinstance(double, GiteaDouble)
    stop_after(double)
    double.permissions["carol"] = "write"
    hook = secrets.token_hex(8)
    served = Served(tmp_path, {"PAY_TOKEN": TOKEN["gitea"], "PAY_HOOK": hook})
    served.projects(entry("shop", shop_repo), gitea_entry("pay", pay_repo, double))
    served.service.start()
    stop_after(served.service)
    wait_for(lambda: len(served.promotions("pay")) == 0 and httpx.get(
        f"{served.url}/p/pay/api/promotions", timeout=5).status_code == 200, "pay to open")

    served.push("1.4.2")  # one webhook; both projects' hoist.yaml name guestbook
    shop = wait_for(lambda: served.promotion("shop", "prod", "proposed"), "shop's prod CR")
    pay = wait_for(lambda: served.promotion("pay", "prod", "proposed"), "pay's prod CR")
    assert shop["id"] != pay["id"]
    # Each change request in its own repository: its branch's commit names its promotion.
    assert _trailer(shop_repo, "hoist/prod/guestbook") == shop["id"]
    assert _trailer(pay_repo, "hoist/prod/guestbook") == pay["id"]
    assert [p["head"] for p in double.open_pulls()] == ["hoist/prod/guestbook"]  # pay's only
    listing = httpx.get(f"{served.url}/api/projects", timeout=5).json()["projects"]
    assert [p["name"] for p in listing] == ["shop", "pay"]
    assert httpx.get(f"{served.url}/p/nope/api/promotions", timeout=5).status_code == 404

    # A Gitea comment on pay's change request, sent to the one unprefixed route: routed to
    # pay by its repository, it approves pay's promotion and nobody else's.
    number = double.number_for("hoist/prod/guestbook")
    assert number is not None
    route, headers, body = comment_webhook("gitea", number, "carol", "/hoist approve", 7001,
                                           hook, repository_id=double.repository_id)
    data = json.loads(body)
    data["repository"]["full_name"] = double.full_name
    body = json.dumps(data).encode()
    headers["X-Gitea-Signature"] = hmac_hex(hook, body)
    answer = httpx.post(served.url + route, content=body, headers=headers, timeout=10)
    assert answer.status_code == 202 and answer.json().get("accepted") == 1, answer.text
    wait_for(lambda: served.promotion("pay", "prod", "promoted")
             or served.promotion("pay", "prod", "merged"), "pay's prod to be merged")
    assert served.promotion("shop", "prod", "proposed") is not None

    # A delivery about a repository no project names: acknowledged, dropped, logged.
    data["repository"]["full_name"] = "acme/someone-else"
    other = json.dumps(data).encode()
    headers["X-Gitea-Signature"] = hmac_hex(hook, other)
    answer = httpx.post(served.url + route, content=other, headers=headers, timeout=10)
    assert (answer.status_code, answer.json()["ignored"]) == (202, "not ours")
    assert any(e.get("event") == "webhook.not_ours" and
               e.get("repository") == "acme/someone-else" for e in served.log())


def _push_to_cr(served: Served, project: str, tag: str) -> float:
    """Seconds from a push of `tag` until `project`'s dev change request for it exists."""
    started = time.monotonic()
    served.push(tag)

    def proposed() -> bool:
        return any(p["environment"] == "dev" and p["tag"] == tag and p["change_request"]
                   for p in served.promotions(project))

    wait_for(proposed, f"{project}'s dev CR for {tag}", timeout=60)
    return time.monotonic() - started


def test_a_broken_project_and_a_slow_forge_leave_the_others_timing_alone_and_removing_one_keeps_its_history(
        tmp_path: Path, stop_after: Any) -> None:
    need("git")
    fast_repo = _repo(tmp_path, "fast")
    broken_repo = _repo(tmp_path, "broken", "images: [not, a, mapping\n")
    slow_repo = _repo(tmp_path, "slow")
    double = start_double("gitea", Path(slow_repo.removeprefix("file://")))
    assert isinstance(double, GiteaDouble)
    stop_after(double)
    double.delay = lambda path, query, body: 0.5  # type: ignore[method-assign]
    served = Served(tmp_path, {"SLOW_TOKEN": TOKEN["gitea"], "SLOW_HOOK": "x"})
    served.projects(entry("fast", fast_repo))
    served.service.start()
    stop_after(served.service)
    wait_for(lambda: httpx.get(f"{served.url}/p/fast/api/promotions",
                               timeout=5).status_code == 200, "fast to open")
    _push_to_cr(served, "fast", "1.0.0")  # warm: first clone, first config read
    alone = [_push_to_cr(served, "fast", f"1.0.{i}") for i in range(1, 4)]

    # The broken project and the slow forge join (the file is read again live).
    served.projects(entry("fast", fast_repo), entry("broken", broken_repo),
                    gitea_entry("slow", slow_repo, double))
    wait_for(lambda: httpx.get(f"{served.url}/p/slow/api/promotions",
                               timeout=5).status_code == 200, "slow to open", timeout=60)
    together = [_push_to_cr(served, "fast", f"1.1.{i}") for i in range(1, 4)]
    ratio = statistics.median(together) / statistics.median(alone)
    print(f"fast push->CR alone {alone} with broken+slow {together}: ratio {ratio:.2f}")
    assert ratio <= 1.5, (alone, together)
    # The slow project did its work too (every push reached it), just slowly.
    wait_for(lambda: served.promotions("slow"), "slow to have promotions", timeout=60)
    assert served.promotions("broken") == []  # its hoist.yaml starts nothing
    assert any(e.get("event") == "config.invalid" and e.get("project") == "broken"
               for e in served.log())

    # Removing a project stops its work; its history stays in the store.
    served.projects(entry("fast", fast_repo))
    wait_for(lambda: httpx.get(f"{served.url}/p/slow/api/promotions",
                               timeout=5).status_code == 404, "slow to stop", timeout=30)
    served.service.stop()
    from bot.adapters.store import Store

    store = Store(tmp_path / "data" / "hoist.db")
    assert "slow" in store.project_names() and store.scoped("slow").promotions()
    store.close()
