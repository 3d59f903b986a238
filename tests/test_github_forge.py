"""GitHub-only behaviour of the GitHub forge (real PyGithub against the GitHub double, backed
by the real bare manifests repo), and the double's wire format against GitHub's published
examples; what every forge does is in test_forge_contract.py."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.forges.github import GitHubForge
from bot.core.events import PullRequestActivity
from bot.core.machine import State
from bot.flows.services import Services
from bot.worker import Worker
from tests.forges import DIGEST, push, require_two_writers, run
from tests.github_double import GitHubDouble, example
from tests.support import commit_file, git

BOTH_ENGINES = True  # this suite runs on SQLite and on PostgreSQL (conftest)



@pytest.fixture
def double(services: Services) -> Iterator[GitHubDouble]:
    github = GitHubDouble(Path(services.git.url.removeprefix("file://"))).start()
    github.timeout_seconds = 2.5
    yield github
    github.stop()


@pytest.fixture
def gh(services: Services, double: GitHubDouble, tmp_path: Path) -> Services:
    """Services whose forge is GitHub (the double); prod needs two writers."""
    require_two_writers(services, tmp_path / "cfg")
    services.forge = GitHubForge(services.store, "acme/manifests", token="t0ken",
                                 base_url=double.url, bot_login="hoist-bot", timeout=1,
                                 pace=0)
    services.bot_login = "hoist-bot"
    return services


def comment(services: Services, number: int, user: str, body: str, key: str) -> None:
    # As the webhook route stores it: naming the repository (the double's), so it counts.
    services.store.add_comments([PullRequestActivity(
        key, number, 500 + len(key), user, body, "comment",
        repository_id=str(GitHubDouble.repository_id))], time.time())
    Worker(services).run_once()


def test_hold_resume_status_help_and_unknown_pull_requests(gh: Services,
                                                           double: GitHubDouble) -> None:
    double.permissions.update(bob="write", carol="admin")
    run(gh, push())
    number = next(n for n, p in double.pulls.items() if p["head"] == "hoist/prod/guestbook")
    comment(gh, number, "bob", "/hoist hold waiting for the load test", "h1")
    prod = gh.store.promotion_for_number(number)
    assert prod is not None and prod.state is State.HELD
    comment(gh, number, "carol", "/hoist approve", "h2")
    assert "not approved" in double.comments[number][-1]["body"]
    comment(gh, number, "bob", "/hoist status\n/hoist resume\n/hoist help", "h3")
    reply = double.comments[number][-1]["body"]
    assert "is held; approved by nobody yet; held by bob: waiting for the load test" in reply
    assert "resumed." in reply and "/hoist promote <env>" in reply
    comment(gh, 999, "bob", "/hoist approve", "h4")  # a pull request Hoist does not know
    assert 999 not in double.comments


def test_proposing_again_creates_content_only_for_what_changed(gh: Services,
                                                               double: GitHubDouble) -> None:
    run(gh, push())
    number = next(n for n, p in double.pulls.items() if p["head"] == "hoist/prod/guestbook")
    prod = gh.store.promotion_for_number(number)
    cr = gh.store.change_request(prod.id) if prod else None
    assert cr is not None and double.pulls[number]["labels"] == ["hoist", "env:prod"]

    def writes() -> list[tuple[str, str]]:  # what GitHub's secondary limits count
        return [r for r in double.requests if r[0] != "GET"]

    before = len(writes())
    gh.forge.propose(cr.promotion_id, cr.branch, "main", cr.title, cr.body, ("hoist", "env:prod"))
    assert writes()[before:] == []  # nothing new: not even the labels again
    gh.forge.propose(cr.promotion_id, cr.branch, "main", cr.title + "!", cr.body,
                     ("hoist", "env:prod"))
    assert writes()[before:] == [("PATCH", f"/repos/acme/manifests/pulls/{number}")]


# The fields Hoist and PyGithub read, and their JSON types, in GitHub's published examples.
READ_FIELDS: dict[str, list[tuple[tuple[str, ...], type]]] = {
    "pull-request": [(("number",), int), (("state",), str), (("title",), str),
                     (("body",), str), (("url",), str), (("html_url",), str),
                     (("issue_url",), str), (("merged",), bool),
                     (("merge_commit_sha",), str), (("head", "ref"), str),
                     (("head", "sha"), str), (("base", "ref"), str), (("labels",), list),
                     (("user", "login"), str)],
    "issue-comment": [(("id",), int), (("body",), str), (("url",), str),
                      (("user", "login"), str)],
    "collaborator-permission": [(("permission",), str), (("role_name",), str),
                                (("user", "login"), str)],
    "full-repository": [(("full_name",), str), (("default_branch",), str), (("url",), str)],
}


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def test_double_speaks_githubs_published_wire_format(gh: Services, double: GitHubDouble) -> None:
    double.permissions["bob"] = "maintain"
    run(gh, push())
    number = next(iter(double.pulls))
    produced = {
        "pull-request": double.pull_json(number),
        "issue-comment": double.comment_json(number, 1, "hi", "bob"),
        "collaborator-permission": double.permission(
            {}, {}, _match(r"(?P<user>\w+)", "bob"))[1],
        "full-repository": double.get_repo({}, {}, _match(r".*", "/repos/acme/manifests"))[1],
    }
    for name, fields in READ_FIELDS.items():
        published = example(name)
        for path, kind in fields:
            assert isinstance(_dig(published, path), kind), (name, path)
            assert isinstance(_dig(produced[name], path), kind), (name, path)
    assert produced["collaborator-permission"]["permission"] == "write"  # legacy field
    assert produced["collaborator-permission"]["role_name"] == "maintain"


def _match(pattern: str, text: str) -> re.Match[str]:
    found = re.match(pattern, text)
    assert found is not None
    return found


def test_abort_during_rollout_reverts_in_git_and_quarantines(
        gh: Services, double: GitHubDouble, tmp_path: Path) -> None:
    from tests.prometheus_stack import CanaryApp

    app = CanaryApp("1.0.0")  # never runs the new version: the rollout waits for sync
    text = (Path(__file__).parents[1] / "manifests-example/demo/hoist.yaml").read_text()
    text = text.replace("    approval: manual", "    approval: manual\n    canary:\n"
                        "      analysis:\n        interval: 0s\n"
                        f"        health: {{url: 'http://{app.address}/healthz', "
                        "version: {json: version}}")
    commit_file(gh.git.url, "hoist.yaml", text, tmp_path / "cfg2")
    gh.git.sync()
    double.permissions.update(bob="write")
    run(gh, push())
    number = next(n for n, p in double.pulls.items() if p["head"] == "hoist/prod/guestbook")
    comment(gh, number, "bob", "/hoist approve", "a1")
    prod = gh.store.promotion_for_number(number)
    assert prod is not None and prod.state is State.ANALYZING
    comment(gh, number, "bob", "/hoist abort the load test failed", "a2")
    prod = gh.store.promotion(prod.id)
    assert prod.state is State.REVERTED
    origin_repo = gh.git.url.removeprefix("file://")
    head = git(origin_repo, "log", "-1", "--format=%B", "main")
    assert head.startswith("revert(deploy): roll back guestbook in prod")
    assert "Hoist-Evidence: aborted by bob: the load test failed" in head
    assert "Hoist-Reverts: " in head
    assert 'newTag: "1.0.0"' in git(origin_repo, "show",
                                    "main:apps/guestbook/overlays/prod/kustomization.yaml")
    assert gh.store.quarantined(prod.repository, DIGEST)
    comment(gh, number, "bob", "/hoist unquarantine", "a3")
    assert not gh.store.quarantined(prod.repository, DIGEST)
    app.stop()


def test_replicas_share_one_budget_of_github_writes(gh: Services, double: GitHubDouble) -> None:
    from sqlalchemy import insert

    from bot.adapters.store.tables import forge_writes
    from bot.web.metrics import Metrics

    run(gh, push())
    number = next(n for n, p in double.pulls.items() if p["head"] == "hoist/prod/guestbook")
    # Other replicas made GitHub's 80 content-creating requests of the last minute.
    full = time.time() - 59.5
    with gh.store.engine.begin() as conn:
        conn.execute(insert(forge_writes), [{"forge": "github", "at": full}] * 80)
    posted = len(double.comments.get(number, []))
    started = time.monotonic()
    gh.forge.comment(number, "after the budget allows")
    assert time.monotonic() - started >= 0.3  # it waited for the window, not GitHub's 403
    assert len(double.comments[number]) == posted + 1
    scraped = Metrics(gh.store).registry.get_sample_value
    assert scraped("hoist_forge_rate_remaining", {"forge": "github", "limit": "primary"}) == 4999
    assert scraped("hoist_forge_rate_remaining",
                   {"forge": "github", "limit": "secondary_60s"}) is not None
