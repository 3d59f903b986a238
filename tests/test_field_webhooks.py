"""Webhooks are hints (issue 22 §1): a "merged" or "closed" event is acted on only once the
forge, read back, says so of our change request — and a merge only when its commit is on
the environment branch. Signed events from another repository with our change request's
number, replays and lies move nothing, on every forge."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.forges import KINDS
from tests.scenario import PROD_FILE, Scenario, prod_files
from tests.support import git, need

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
