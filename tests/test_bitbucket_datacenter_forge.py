"""What only Bitbucket Data Center needs, beyond the shared contract suite: versions that go
stale between a read and a write, merge vetoes in Bitbucket's words, merge commits only the
activities name, servers without reactions, project-level permissions, build statuses for
deployments, Bearer tokens for git, and the start-up check of the token's access."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.deployments import deployments_for
from bot.adapters.errors import MergeBlocked
from bot.adapters.forges.access import access_fault
from bot.adapters.forges.bitbucket_datacenter import BitbucketDataCenterForge, split_labels
from bot.adapters.git import GitRepo
from bot.core.notices import DeploymentUpdate, Subject
from bot.flows.services import Services
from bot.settings import Settings
from tests.bitbucket_datacenter_double import BitbucketDataCenterDouble
from tests.forges import TOKEN, adapter
from tests.support import git, wait_for

KIND = "bitbucket-datacenter"


@pytest.fixture
def double(services: Services) -> Iterator[BitbucketDataCenterDouble]:
    origin = Path(services.git.url.removeprefix("file://"))
    git(origin, "branch", "hoist/dev/app", "main")
    started = BitbucketDataCenterDouble(origin).start()
    yield started
    started.stop()


@pytest.fixture
def forge(services: Services, double: BitbucketDataCenterDouble) -> BitbucketDataCenterForge:
    made = adapter(KIND, services.store, double)
    assert isinstance(made, BitbucketDataCenterForge)
    return made


def _head(services: Services) -> str:
    return git(Path(services.git.url.removeprefix("file://")), "rev-parse", "main").strip()


def test_labels_stand_in_the_description_and_accumulate(
        forge: BitbucketDataCenterForge, double: BitbucketDataCenterDouble) -> None:
    number = forge.propose("p1", "hoist/dev/app", "main", "t", "body", ("hoist",)).number
    assert number is not None
    forge.propose("p1", "hoist/dev/app", "main", "t", "body 2", ("env:dev",))
    assert (double.pulls[number]["body"], double.pulls[number]["labels"]) == (
        "body 2", ["hoist", "env:dev"])
    assert split_labels("no labels here") == ("no labels here", [])


def test_a_stale_version_is_read_again_and_the_write_retried(
        services: Services, forge: BitbucketDataCenterForge,
        double: BitbucketDataCenterDouble) -> None:
    number = forge.propose("p1", "hoist/dev/app", "main", "t", "b").number
    assert number is not None
    double.edits_after_read = 1
    sha = forge.merge("p1", _head(services), "main", "chore: x\n\nbody", "merge")
    assert double.pulls[number]["merged"] and double.pulls[number]["strategy"] == "no-ff"
    assert sha == _head(services) and double.edits_after_read == 0
    assert len([r for r in double.requests if r[1].endswith("/merge")]) == 2


def test_vetoes_become_the_refusal_and_the_head_is_checked(
        services: Services, forge: BitbucketDataCenterForge,
        double: BitbucketDataCenterDouble) -> None:
    forge.propose("p1", "hoist/dev/app", "main", "t", "b")
    double.merge_refusal = "Requires 2 successful builds"
    with pytest.raises(MergeBlocked, match=r"Requires 2 successful builds: .*green build"):
        forge.merge("p1", _head(services), "main", "t")
    with pytest.raises(MergeBlocked, match="head of the pull request moved"):
        forge.merge("p1", "0" * 40, "main", "t")


def test_the_merge_commit_from_the_activities_on_older_servers(
        services: Services, forge: BitbucketDataCenterForge,
        double: BitbucketDataCenterDouble) -> None:
    double.merge_commit_in_pull = False
    number = forge.propose("p1", "hoist/dev/app", "main", "t", "b").number
    sha = forge.merge("p1", _head(services), "main", "t", "squash")
    assert double.pulls[number or 0]["strategy"] == "squash"
    assert forge.pull_state(number or 0) == ("merged", sha)
    assert forge.pull_state(999) == ("closed", None)  # deleted


def test_no_reactions_is_no_error_and_project_grants_count(
        forge: BitbucketDataCenterForge, double: BitbucketDataCenterDouble) -> None:
    number = forge.propose("p1", "hoist/dev/app", "main", "t", "b").number
    double.reactions_supported = False
    forge.react(number or 0, 5, "+1")
    assert double.reactions == []
    double.permissions.update(bob="read", bobby="admin")
    double.project_permissions.update(bob="PROJECT_WRITE")
    assert forge.permission("bob") == "write"  # the higher of repository and project
    assert forge.permission("Bobby") == "admin"  # `filter` matches bob too: exact names only
    assert forge.bot_login == double.bot_login


def test_deployment_updates_are_build_statuses_of_the_merge_commit(
        forge: BitbucketDataCenterForge, double: BitbucketDataCenterDouble) -> None:
    statuses = deployments_for(forge)
    assert statuses is not None
    subject = Subject("p1", "guestbook", "prod", "acme/guestbook", "1.4.1", "1.4.2",
                      merge_sha="b" * 40)
    statuses.report(subject, [DeploymentUpdate("queued", "merged"),
                              DeploymentUpdate("success", "runs in prod")])
    wait_for(lambda: len(double.builds) == 2, "both statuses")
    assert [(sha, b["key"], b["state"]) for sha, b in double.builds] == [
        ("b" * 40, "hoist/prod", "INPROGRESS"), ("b" * 40, "hoist/prod", "SUCCESSFUL")]
    assert double.builds[0][1]["url"].endswith("/projects/ACME/repos/manifests/browse")


def test_git_over_https_sends_the_token_as_bearer(tmp_path: Path) -> None:
    repo = GitRepo("https://git.example.com/bitbucket/scm/acme/manifests.git", tmp_path / "c",
                   token="BBDC-x")
    repo.auth_scheme = "bearer"
    assert "Authorization: Bearer BBDC-x" in repo._config_env.values()


def test_the_start_up_check_names_a_token_that_cannot_write(
        double: BitbucketDataCenterDouble, tmp_path: Path) -> None:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, forge_choice=KIND,
                        bitbucket_dc_url=double.url, bitbucket_dc_token=TOKEN[KIND],
                        bitbucket_dc_repository=double.full_name)
    assert access_fault(settings) is None
    double.token_permissions[TOKEN[KIND]] = "REPO_READ"
    fault = access_fault(settings)
    assert fault is not None and "cannot write to ACME/manifests" in fault.what
    missing = Settings(manifests_repo="unused", data_dir=tmp_path, forge_choice=KIND,
                       bitbucket_dc_url=double.url, bitbucket_dc_token=TOKEN[KIND],
                       bitbucket_dc_repository="ACME/other")
    assert "does not show ACME/other" in (access_fault(missing) or fault).what
