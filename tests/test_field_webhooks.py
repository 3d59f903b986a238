"""Webhooks are hints (issue 22 §1): a "merged" or "closed" event is acted on only once the
forge, read back, says so of our change request — and a merge only when its commit is on
the environment branch. A comment or review naming another repository than ours (by its
stable id) counts only once the forge, read back by its id, has it on our change request.
Signed events from another repository with our change request's number, replays and lies
move nothing, on every forge."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.forges import KINDS, comment_webhook, named, review_webhook
from tests.scenario import PROD_FILE, Scenario, prod_files
from tests.support import git, need, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(params=KINDS)
def scenario(request: pytest.FixtureRequest, tmp_path: Path) -> Scenario:
    need("git")
    return Scenario(tmp_path, prod_files(), forge=request.param,
                    env={"HOIST_RECONCILE_INTERVAL": "600"})


def settled(s: Scenario, seconds: float = 2.0) -> None:
    """Give the worker time to act on what it was sent (it must not act)."""
    import time
    time.sleep(seconds)


def test_a_merge_from_another_repository_with_our_number_moves_nothing(
        scenario: Scenario) -> None:
    with scenario as s:
        s.push("1.1.0")
        number = s.pr_number()
        s.wait_state("prod", "proposed", "1.1.0")
        answer = s.merged_event(number, merged=True, sha="f" * 40,
                                repository="mallory/unrelated")
        assert answer.status_code == 202, answer.text
        answer = s.merged_event(number, merged=False, repository="mallory/unrelated")
        assert answer.status_code == 202, answer.text
        settled(s)
        assert s.wait_state("prod", "proposed", "1.1.0")
        assert not s.forge.pulls[number]["merged"]
        assert 'newTag: "1.0.0"' in (s.show("main", PROD_FILE) or "")


def test_a_merge_the_forge_does_not_confirm_is_ignored_and_a_real_one_is_taken(
        scenario: Scenario) -> None:
    with scenario as s:
        s.push("1.1.0")
        number = s.pr_number()
        s.wait_state("prod", "proposed", "1.1.0")
        s.merged_event(number, merged=True, sha="f" * 40)  # a lie: the forge says open
        settled(s)
        s.wait_state("prod", "proposed", "1.1.0")
        sha = s.forge.merge_by_hand(number)  # now it is merged, for real
        s.merged_event(number, merged=True, sha=sha)
        s.wait_state("prod", "promoted", "1.1.0")
        assert git(s.bare, "rev-parse", "main").strip() == sha


def test_a_merge_whose_commit_is_not_on_the_branch_is_not_taken(scenario: Scenario) -> None:
    with scenario as s:
        s.push("1.1.0")
        number = s.pr_number()
        s.wait_state("prod", "proposed", "1.1.0")
        pull = s.forge.pulls[number]
        pull.update(state="closed", merged=True, merge_commit_sha="e" * 40)
        s.merged_event(number, merged=True, sha="e" * 40)
        settled(s)
        assert s.wait_state("prod", "proposed", "1.1.0")


ELSEWHERE = 66600666  # another repository's id, on the same forge and behind the same secret


def test_a_comment_or_review_from_another_repository_never_counts_and_ours_does(
        scenario: Scenario) -> None:
    with scenario as s:
        s.push("1.1.0")
        number = s.pr_number()
        s.wait_state("prod", "proposed", "1.1.0")
        kind, secret = s.forge.kind, s.hook_secret
        # bob (write) approves on another repository's change request with our number.
        for hook in (comment_webhook(kind, number, "bob", "/hoist approve", s.forge.new_id(),
                                     secret, repository_id=ELSEWHERE),
                     review_webhook(kind, number, "bob", "/hoist approve", s.forge.new_id(),
                                    secret, repository_id=ELSEWHERE)):
            answer = s.deliver(hook)
            assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text
        wait_for(lambda: s.service.log_path.read_text().count("chatops.foreign_event") == 2,
                 "both dropped")
        settled(s, 1.0)
        assert s.bot_comments(number) == [] and not s.forge.pulls[number]["merged"]
        assert s.wait_state("prod", "proposed", "1.1.0")["approved_by"] == []
        dropped = next(line for line in s.service.log_path.read_text().splitlines()
                   if "chatops.foreign_event" in line)
        assert f'"repository_id": "{named(kind, ELSEWHERE)}"' in dropped
        assert f'"ours": "{s.forge.repository_id}"' in dropped
        # The same approval naming our repository counts, with no read-back of its id.
        s.deliver(comment_webhook(kind, number, "bob", "/hoist approve", s.forge.new_id(),
                                  secret, repository_id=s.forge.repository_id))
        s.wait_state("prod", "promoted", "1.1.0")
        assert s.forge.pulls[number]["merged"]


def test_a_comment_naming_another_repository_counts_once_the_forge_has_it(
        scenario: Scenario) -> None:
    with scenario as s:
        s.push("1.1.0")
        number = s.pr_number()
        s.wait_state("prod", "proposed", "1.1.0")
        kind, secret = s.forge.kind, s.hook_secret
        # On the forge, under another text: what the payload says is not what was said.
        altered = s.forge.add_comment(number, "LGTM", "bob")
        s.deliver(comment_webhook(kind, number, "bob", "/hoist approve", altered, secret,
                                  repository_id=ELSEWHERE))
        rita = s.forge.add_comment(number, "/hoist approve", "rita")
        s.deliver(comment_webhook(kind, number, "carol", "/hoist approve", rita, secret,
                                  repository_id=ELSEWHERE))  # rita's, claimed by carol
        wait_for(lambda: s.service.log_path.read_text().count("chatops.foreign_event") == 2,
                 "both dropped")
        assert s.bot_comments(number) == [] and not s.forge.pulls[number]["merged"]
        said = s.forge.add_comment(number, "/hoist approve", "bob")
        s.deliver(comment_webhook(kind, number, "bob", "/hoist approve", said, secret,
                                  repository_id=ELSEWHERE))
        s.wait_state("prod", "promoted", "1.1.0")
        assert any("@bob: approval recorded" in c for c in s.bot_comments(number))
