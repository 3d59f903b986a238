"""The contract every forge passes: each adapter (PyGithub, python-gitlab, httpx for Gitea)
against its loopback double over the real bare manifests repository, first call by call,
then through the worker (ChatOps, supersession, refusals, reconcile, faults)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.errors import MergeBlocked
from bot.adapters.forges import Forge
from bot.core.events import PullRequestActivity
from bot.core.machine import State
from bot.flows.services import Services
from bot.worker import Worker
from tests.forge_double import ForgeDouble
from tests.forges import KINDS, adapter, push, require_two_writers, run, start_double
from tests.support import commit_file, git

PROD = "hoist/prod/guestbook"


@pytest.fixture(params=KINDS)
def double(request: pytest.FixtureRequest, services: Services) -> Iterator[ForgeDouble]:
    started = start_double(request.param, Path(services.git.url.removeprefix("file://")))
    started.timeout_seconds = 1.5
    yield started
    started.stop()


@pytest.fixture
def on_forge(services: Services, double: ForgeDouble, tmp_path: Path) -> Services:
    """Services whose forge is the double's; prod needs two people with write permission."""
    require_two_writers(services, tmp_path / "cfg")
    services.forge = adapter(double.kind, services.store, double)
    services.bot_login = double.bot_login
    return services


def say(services: Services, number: int, user: str, body: str, key: str,
        kind: str = "comment", repository_id: str | None = "ours",
        comment_id: int | None = None) -> None:
    """Someone comments on change request `number` (as its webhook would report, naming our
    repository unless `repository_id` says which)."""
    if comment_id is None and kind == "comment":
        comment_id = 500 + sum(map(ord, key))
    named = services.forge.repository_id() if repository_id == "ours" else repository_id
    services.store.add_comments([PullRequestActivity(
        key, number, comment_id, user, body, kind, repository_id=named)], time.time())
    Worker(services).run_once()


def origin(services: Services) -> str:
    return services.git.url.removeprefix("file://")


def landed_message(services: Services, env: str) -> str:
    """The message of the newest commit on main that promoted into `env`."""
    return git(origin(services), "log", "-1", "--format=%B", f"--grep=Hoist-Environment: {env}",
               "main")


# the adapter, call by call ---------------------------------------------------------------


def _branch(services: Services, name: str) -> None:
    git(origin(services), "branch", name, "main")


def _branch_with_change(services: Services, work: Path, branch: str) -> str:
    """Push a branch with one commit on top of main; its sha."""
    subprocess.run(["git", "clone", "-q", services.git.url, str(work / "clone")], check=True)
    clone = work / "clone"
    (clone / "app.txt").write_text("v2\n")
    git(clone, "add", "app.txt")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "app v2")
    git(clone, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
    return git(clone, "rev-parse", "HEAD").strip()


def _forge(services: Services) -> Forge:
    return services.forge


def test_propose_finds_or_creates_and_updates_in_place_with_labels(
        on_forge: Services, double: ForgeDouble) -> None:
    _branch(on_forge, "hoist/dev/app")
    forge = _forge(on_forge)
    first = forge.propose("p1", "hoist/dev/app", "main", "t1", "b1", ("hoist", "env:dev"))
    again = forge.propose("p2", "hoist/dev/app", "main", "t2", "b2", ("hoist", "env:dev"))
    assert first.number == again.number and first.number is not None
    assert len(double.pulls) == 1
    pull = double.pulls[first.number]
    assert (pull["title"], pull["body"], pull["labels"]) == ("t2", "b2", ["hoist", "env:dev"])
    assert first.url and str(first.number) in first.url
    # Proposing what is already there creates no content (forges rate-limit writes).
    written = len([r for r in double.requests if r[0] != "GET"])
    forge.propose("p2", "hoist/dev/app", "main", "t2", "b2", ("hoist", "env:dev"))
    assert len([r for r in double.requests if r[0] != "GET"]) == written


def test_comment_react_permission_teams_and_close(on_forge: Services,
                                                  double: ForgeDouble) -> None:
    _branch(on_forge, "hoist/dev/app")
    forge = _forge(on_forge)
    number = forge.propose("p1", "hoist/dev/app", "main", "t", "b").number
    assert number is not None
    forge.comment(number, "hello")
    [note] = double.comments[number]
    forge.react(number, note["id"], "+1")
    forge.react(number, note["id"], "confused")
    assert double.reactions == [(note["id"], double.REACTIONS["+1"]),
                                (note["id"], double.REACTIONS["confused"])]
    double.permissions.update(rita="read", bob="write", ada="admin")
    assert [forge.permission(u) for u in ("rita", "bob", "ada", "nobody")] == \
        ["read", "write", "admin", "none"]
    double.team_members["acme/deployers"] = {"bob"}
    assert forge.teams_of("bob", ["acme/deployers", "acme/other"]) == ["acme/deployers"]
    assert forge.teams_of("rita", ["acme/deployers"]) == []
    assert forge.pull_state(number) == ("open", None)
    forge.close(number, "Aborted by @bob.")
    assert forge.pull_state(number) == ("closed", None)
    assert double.comments[number][-1]["body"] == "Aborted by @bob."


def test_reads_back_the_repository_id_comments_and_reviews(on_forge: Services,
                                                           double: ForgeDouble) -> None:
    for branch in ("hoist/dev/app", "hoist/dev/other"):
        _branch(on_forge, branch)
    forge = _forge(on_forge)
    number = forge.propose("p1", "hoist/dev/app", "main", "t", "b").number
    other = forge.propose("p2", "hoist/dev/other", "main", "t", "b").number
    assert number is not None and other is not None
    asked = len(double.requests)
    assert forge.repository_id() == forge.repository_id() == str(double.repository_id)
    assert len(double.requests) == asked + 1  # asked once
    said = double.add_comment(number, "LGTM\n/hoist approve", "bob")
    assert forge.read_comment(number, said) == ("bob", "LGTM\n/hoist approve")
    assert forge.read_comment(other, said) is None  # ours, but on another change request
    assert forge.read_comment(number, double.new_id()) is None  # not this repository's
    review = double.add_review(number, "carol", "Checked.\n/hoist approve")
    double.add_review(number, "dave", "Not yet.", state="CHANGES_REQUESTED")
    # A GitLab or Bitbucket review (an Azure DevOps vote) is an approval, with no text; dave's
    # request for changes is none.
    texts = {"gitlab": ([""], []), "bitbucket": ([""], []),
             "bitbucket-datacenter": ([""], []), "azure-devops": ([""], [])}.get(
        double.kind, (["Checked.\n/hoist approve"], ["Not yet."]))
    assert forge.read_reviews(number, "Carol", review) == texts[0]
    assert forge.read_reviews(number, "dave", review + 1) == texts[1]
    assert forge.read_reviews(other, "carol", review) == []
    assert forge.read_reviews(number, "erin", double.new_id()) == []


def test_activity_naming_another_repository_counts_only_once_the_forge_confirms_it(
        on_forge: Services, double: ForgeDouble) -> None:
    double.permissions.update(bob="write", carol="write", dave="write")
    run(on_forge, push())
    number = double.number_for(PROD)
    assert number is not None
    replies = len(double.comments.get(number, []))
    # Another repository's comment and review, with our change request's number.
    say(on_forge, number, "bob", "/hoist approve", "f1", repository_id="66600666",
        comment_id=double.new_id())
    say(on_forge, number, "carol", "/hoist approve", "f2", kind="review",
        repository_id="66600666")
    assert len(double.comments.get(number, [])) == replies  # never replied to
    promotion = on_forge.store.promotion_for_number(number)
    assert promotion is not None and promotion.approved_by == ()
    # One naming another repository (or none) that the forge has on our change request.
    found = double.add_comment(number, "/hoist approve", "dave")
    say(on_forge, number, "dave", "/hoist approve", "f3", repository_id=None,
        comment_id=found)
    assert "@dave: approval recorded (1 of 2)" in double.comments[number][-1]["body"]
    say(on_forge, number, "bob", "/hoist approve", "f4", comment_id=double.new_id())
    assert double.pulls[number]["merged"]  # ours by its id: counts, as ever
    assert "Hoist-Approved-By: dave, bob" in landed_message(on_forge, "prod")


@pytest.mark.parametrize("method", ["squash", "merge"])
def test_merge_lands_the_message_and_is_idempotent(on_forge: Services, double: ForgeDouble,
                                                   tmp_path: Path, method: str) -> None:
    head = _branch_with_change(on_forge, tmp_path, "hoist/dev/app")
    commit_file(on_forge.git.url, "other.txt", "main moved on\n", tmp_path / "w2")
    forge = _forge(on_forge)
    forge.propose("p1", "hoist/dev/app", "main", "t", "b")
    message = "chore(deploy): promote app\n\nbody\n\nHoist-Promotion: p1\nHoist-Approved-By: bob"
    sha = forge.merge("p1", head, "main", message, method)
    assert git(origin(on_forge), "show", "main:app.txt") == "v2\n"
    assert git(origin(on_forge), "show", "main:other.txt") == "main moved on\n"
    assert sha == git(origin(on_forge), "rev-parse", "main").strip()
    found = git(origin(on_forge), "log", "--format=%B", "--grep=Hoist-Promotion: p1", "main")
    assert "Hoist-Approved-By: bob" in found
    assert forge.merge("p1", head, "main", message, method) == sha  # already merged
    number = on_forge.store.change_request("p1").number  # type: ignore[union-attr]
    assert forge.pull_state(number or 0) == ("merged", sha)


def test_refused_merge_raises_merge_blocked_and_other_4xx_are_not_retried(
        on_forge: Services, double: ForgeDouble) -> None:
    _branch(on_forge, "hoist/dev/app")
    forge = _forge(on_forge)
    forge.propose("p1", "hoist/dev/app", "main", "t", "b")
    head = git(origin(on_forge), "rev-parse", "main").strip()
    with pytest.raises(MergeBlocked):  # the head moved: refused, not retried
        forge.merge("p1", "0" * 40, "main", "t")
    double.merge_refusal = "ci_must_pass"
    before = len(double.requests)
    with pytest.raises(MergeBlocked):
        forge.merge("p1", head, "main", "t")
    calls = double.requests[before:]
    assert [c for c in calls if c[0] in ("PUT", "POST", "PATCH")] == [calls[1]]  # one attempt


def test_faults_are_retried_to_exactly_one_change_request(on_forge: Services,
                                                           double: ForgeDouble) -> None:
    _branch(on_forge, "hoist/dev/app")
    # The lookup fails once (502); the create is done but answered too late (timeout),
    # its retry is rate limited (429, Retry-After) and then finds it already exists.
    double.inject("502", "ok", "timeout", "429")
    cr = _forge(on_forge).propose("p1", "hoist/dev/app", "main", "t", "b", ("hoist",))
    assert len(double.pulls) == 1 and double.pulls[1]["labels"] == ["hoist"]
    assert cr.number == 1 and not double.faults


# through the worker ----------------------------------------------------------------------


def test_change_requests_per_environment_chatops_two_permitted_users_merge(
        on_forge: Services, double: ForgeDouble) -> None:
    double.permissions.update(rita="read", bob="write", carol="maintain")
    run(on_forge, push())
    heads = sorted((p["head"], p["merged"]) for p in double.pulls.values())
    assert heads == [("hoist/dev/guestbook", True), (PROD, False),
                     ("hoist/staging/guestbook", True)]
    number = double.number_for(PROD)
    assert number is not None
    prod = double.pulls[number]
    assert prod["labels"] == ["hoist", "env:prod"]
    assert prod["title"] == "chore(deploy): promote guestbook to 1.4.2 in prod"
    say(on_forge, number, "rita", "/hoist approve", "c1")
    assert "refused: @rita has read permission" in double.comments[number][-1]["body"]
    say(on_forge, number, "bob", "LGTM\n/hoist approve", "c2")
    say(on_forge, number, "bob", "/hoist approve", "c3")
    assert "nobody counts twice" in double.comments[number][-1]["body"]
    say(on_forge, number, double.bot_login, "/hoist approve", "c4")
    assert not double.pulls[number]["merged"]
    say(on_forge, number, "carol", "", "c5", kind="review")  # an approving review
    assert not double.pulls[number]["merged"]  # reviews count only with `reviews: true`
    say(on_forge, number, "carol", "/hoist approve", "c6")
    assert double.pulls[number]["merged"]
    message = landed_message(on_forge, "prod")
    assert "Hoist-Approved-By: bob, carol" in message
    reactions = [content for _, content in double.reactions]
    assert reactions.count(double.REACTIONS["+1"]) == 2
    assert reactions.count(double.REACTIONS["confused"]) == 3
    assert {p.environment: p.state for p in on_forge.store.promotions()} == {
        "dev": State.PROMOTED, "staging": State.PROMOTED, "prod": State.PROMOTED}


def test_newer_push_supersedes_in_place_and_next_push_after_merge(
        on_forge: Services, double: ForgeDouble) -> None:
    run(on_forge, push())
    run(on_forge, push("1.5.0", "e2", "sha256:" + "d" * 64))
    prod_pulls = [p for p in double.pulls.values() if p["head"] == PROD]
    assert len(prod_pulls) == 1 and prod_pulls[0]["state"] == "open"
    assert prod_pulls[0]["title"] == "chore(deploy): promote guestbook to 1.5.0 in prod"
    number = double.number_for(PROD)
    assert number is not None
    assert any(c["body"].startswith("Superseded: promotion") for c in double.comments[number])
    dev = [p for p in double.pulls.values() if p["head"] == "hoist/dev/guestbook"]
    assert len(dev) == 2 and all(p["merged"] for p in dev)  # a new one after each merge
    assert 'newTag: "1.5.0"' in git(origin(on_forge), "show",
                                    "main:apps/guestbook/overlays/dev/kustomization.yaml")


def test_refusal_becomes_a_comment_and_a_held_promotion(on_forge: Services,
                                                        double: ForgeDouble) -> None:
    double.merge_refusal = "ci_must_pass"
    run(on_forge, push())
    [dev] = [p for p in on_forge.store.promotions() if p.environment == "dev"]
    assert dev.state is State.HELD and "merge refused" in (dev.reason or "")
    number = double.number_for("hoist/dev/guestbook")
    assert number is not None
    assert double.comments[number][-1]["body"].startswith("Hoist could not merge:")


@pytest.mark.parametrize("by_hand", ["merged", "closed"])
def test_reconcile_notices_a_change_request_whose_webhook_was_lost(
        on_forge: Services, double: ForgeDouble, by_hand: str) -> None:
    run(on_forge, push())
    number = double.number_for(PROD)
    assert number is not None
    if by_hand == "merged":
        sha = double.merge_by_hand(number)
    else:
        double.close_by_hand(number)
    Worker(on_forge, reconcile_every=10**12).run_once()  # a fresh worker reconciles at once
    prod = on_forge.store.promotion_for_number(number)
    assert prod is not None
    if by_hand == "merged":
        assert prod.state is State.PROMOTED and prod.merge_sha == sha
    else:
        assert prod.state is State.ABORTED


def test_faults_through_the_worker_leave_exactly_one_change_request_each(
        on_forge: Services, double: ForgeDouble) -> None:
    double.inject("502", "ok", "timeout", "429")  # the lookup, then the create (late)
    run(on_forge, push())
    assert sorted(p["head"] for p in double.pulls.values()) == [
        "hoist/dev/guestbook", PROD, "hoist/staging/guestbook"]
    assert {p.environment: p.state for p in on_forge.store.promotions()} == {
        "dev": State.PROMOTED, "staging": State.PROMOTED, "prod": State.PROPOSED}
