"""A person's commit on Hoist's branch is never discarded (renovatebot/renovate#9376,
shared/cases/field/lifecycle/05): a newer push holds the promotion and says so; `/hoist retry`
replaces the branch; merging the change request as it is takes the person's commit, and
Hoist proposes the newer version on top of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenario import PROD_FILE, Scenario, prod_files
from tests.support import git, need, wait_for

BRANCH = "hoist/prod/guestbook"
CONFIG = "apps/guestbook/prod/config.env"
pytestmark = pytest.mark.e2e


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    need("git")
    return Scenario(tmp_path, prod_files())


def person_commits_then_newer_push(s: Scenario) -> tuple[int, str]:
    s.push("1.1.0")
    number = s.pr_number()
    sha = s.commit_by_hand(BRANCH, {CONFIG: "FEATURE_X=on\n"},
                           "fix: config the new version needs")
    s.push("1.2.0")
    held = s.wait_state("prod", "held", "1.2.0")
    assert "commits Hoist did not make" in held["reason"] and sha[:12] in held["reason"]
    return number, sha


def test_a_persons_commit_holds_the_newer_version_and_the_thread_names_it(
        scenario: Scenario) -> None:
    with scenario as s:
        number, sha = person_commits_then_newer_push(s)
        said = wait_for(lambda: [c for c in s.bot_comments(number) if sha[:12] in c],
                        "the thread to name the commit")
        assert "Dana Dev <dana@example.com>" in said[0] and "/hoist retry" in said[0]
        assert "fix: config the new version needs" in said[0]
        # The branch is as the person left it: their commit on top of Hoist's 1.1.0.
        assert s.show(BRANCH, CONFIG) == "FEATURE_X=on\n"
        assert git(s.bare, "rev-parse", BRANCH).strip() == sha
        assert 'newTag: "1.1.0"' in (s.show(BRANCH, PROD_FILE) or "")
        assert not s.forge.pulls[number]["merged"]


def test_retry_replaces_the_branch_with_the_newer_version(scenario: Scenario) -> None:
    with scenario as s:
        number, sha = person_commits_then_newer_push(s)
        s.github_comment(number, "rita", "/hoist retry")  # read permission: refused
        wait_for(lambda: any("refused" in c for c in s.bot_comments(number)), "rita refused")
        assert git(s.bare, "rev-parse", BRANCH).strip() == sha
        s.github_comment(number, "bob", "/hoist retry")
        wait_for(lambda: 'newTag: "1.2.0"' in (s.show(BRANCH, PROD_FILE) or ""), "the branch replaced")
        assert s.show(BRANCH, CONFIG) is None
        s.github_comment(number, "carol", "/hoist approve")
        wait_for(lambda: s.forge.pulls[number]["merged"], "1.2.0 merged")
        assert 'newTag: "1.2.0"' in (s.show("main", PROD_FILE) or "")


def test_merged_as_it_is_keeps_the_commit_and_the_newer_version_follows(
        scenario: Scenario) -> None:
    with scenario as s:
        number, _ = person_commits_then_newer_push(s)
        s.forge.merge_by_hand(number)
        s.github_merged(number)
        # What merged is what the branch held: 1.1.0 and the person's config.
        assert s.show("main", CONFIG) == "FEATURE_X=on\n"
        wait_for(lambda: 'newTag: "1.2.0"' in (s.show(BRANCH, PROD_FILE) or "")
                 and s.show(BRANCH, CONFIG) == "FEATURE_X=on\n",
                 "1.2.0 proposed on top of the merged branch")
        newer = s.pr_number()
        s.github_comment(newer, "bob", "/hoist approve")
        wait_for(lambda: s.forge.pulls[newer]["merged"], "1.2.0 merged")
        assert 'newTag: "1.2.0"' in (s.show("main", PROD_FILE) or "")
        assert s.show("main", CONFIG) == "FEATURE_X=on\n"


def test_hoists_own_commits_on_its_branch_are_replaced_without_a_word(
        scenario: Scenario) -> None:
    """The neighbour that must not hold: the branch holds only Hoist's commits."""
    with scenario as s:
        s.push("1.1.0")
        number = s.pr_number()
        s.push("1.2.0")
        wait_for(lambda: 'newTag: "1.2.0"' in (s.show(BRANCH, PROD_FILE) or ""), "the branch updated")
        assert not any("did not make" in c for c in s.bot_comments(number))
        s.wait_state("prod", "proposed", "1.2.0")
