"""What is Bitbucket Cloud's own beyond the shared contract (tests/test_forge_contract.py):
the double speaks the published wire format, labels and reactions have their stand-ins,
merges map onto `merge_strategy`, statuses become build statuses, every request counts
against the hourly budget, and settings and git credentials take Bitbucket's forms."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.adapters.errors import MergeBlocked
from bot.adapters.forges import bitbucket as bitbucket_module
from bot.adapters.forges.access import access_fault
from bot.adapters.forges.bitbucket import BitbucketForge, auth_header, labels_of
from bot.adapters.forges.bitbucket_statuses import BitbucketStatuses, status_body
from bot.adapters.git import GitRepo
from bot.core.notices import DeploymentUpdate, Subject
from bot.flows.services import Services
from bot.settings import Settings, SettingsError
from tests.bitbucket_double import BitbucketDouble, example
from tests.forges import TOKEN, adapter
from tests.support import git

OPTIONAL_DICT = (dict, type(None))
Fields = list[tuple[tuple[str | int, ...], tuple[type, ...]]]
# Every field Hoist reads, with its published JSON type.
FIELDS: dict[str, Fields] = {
    "pullrequest_get": [(("id",), (int,)), (("title",), (str,)), (("description",), (str,)),
                        (("state",), (str,)), (("source", "branch", "name"), (str,)),
                        (("source", "commit", "hash"), (str,)),
                        (("destination", "branch", "name"), (str,)),
                        (("merge_commit",), OPTIONAL_DICT), (("links", "html", "href"), (str,)),
                        (("participants",), (list,))],
    "pullrequests_list": [(("values",), (list,)), (("pagelen",), (int,)), (("page",), (int,))],
    "pullrequest_comment_create": [(("id",), (int,)), (("content", "raw"), (str,)),
                                   (("user", "account_id"), (str,)), (("deleted",), (bool,)),
                                   (("pullrequest", "id"), (int,))],
    "commit_status_build": [(("key",), (str,)), (("state",), (str,)), (("url",), (str,)),
                            (("commit", "hash"), (str,))],
    "workspace_permissions_repositories": [(("values", 0, "permission"), (str,)),
                                           (("values", 0, "user", "uuid"), (str,))],
    "user_permissions_repositories_write": [(("values", 0, "permission"), (str,))],
}


def _dig(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _match(pattern: str, text: str) -> re.Match[str]:
    found = re.fullmatch(pattern, text)
    assert found is not None
    return found


@pytest.fixture
def double(services: Services) -> Iterator[BitbucketDouble]:
    origin = Path(services.git.url.removeprefix("file://"))
    git(origin, "branch", "hoist/dev/app", "main")
    started = BitbucketDouble(origin).start()
    yield started
    started.stop()


@pytest.fixture
def forge(services: Services, double: BitbucketDouble) -> BitbucketForge:
    made = adapter("bitbucket", services.store, double)
    assert isinstance(made, BitbucketForge)
    return made


def test_double_speaks_the_published_wire_format(double: BitbucketDouble) -> None:
    number = double.add_pull("hoist/dev/app", "main", "t", "b")
    double.permissions["bob"] = "write"
    double.add_review(number, "carol")
    sha = double.merge_by_hand(number)
    n = _match(r"(?P<n>\d+)", str(number))
    produced = {
        "pullrequest_get": double.pull_json(number),
        "pullrequests_list": double.list_pulls({"state": "MERGED"}, {}, _match(".*", "/x"))[1],
        "pullrequest_comment_create": double.create_comment(
            {}, {"content": {"raw": "hi"}}, n)[1],
        "commit_status_build": double.build_status(
            {}, {"key": "hoist-prod", "state": "SUCCESSFUL", "url": "https://h.example"},
            _match(r"(?P<rev>\w+)", sha))[1],
        "workspace_permissions_repositories": double.permission(
            {"q": 'user.account_id="bob"'}, {}, _match(".*", "/x"))[1],
        "user_permissions_repositories_write": double.user_permissions({}, {}, n)[1],
    }
    for name, fields in FIELDS.items():
        published = example(name)
        assert set(published) <= set(produced[name]), (name, set(published) -
                                                        set(produced[name]))
        for path, kinds in fields:
            assert isinstance(_dig(published, path), kinds), (name, path)
            assert isinstance(_dig(produced[name], path), kinds), (name, path)
    merged = produced["pullrequest_get"]
    assert merged["state"] == "MERGED" and merged["merge_commit"]["hash"] == sha[:12]
    assert merged["participants"][0]["approved"] is True


def test_labels_stand_in_as_the_descriptions_last_line(forge: BitbucketForge,
                                                      double: BitbucketDouble) -> None:
    cr = forge.propose("p1", "hoist/dev/app", "main", "t", "body\n\nmore", ("hoist",))
    assert cr.url == f"https://bitbucket.org/{double.full_name}/pull-requests/{cr.number}"
    forge.propose("p1", "hoist/dev/app", "main", "t", "body\n\nmore", ("env:dev",))
    description = double.pull_json(cr.number or 0)["description"]
    assert description == "body\n\nmore\n\nHoist-Labels: hoist, env:dev"  # added, never removed
    assert labels_of(description) == ("body\n\nmore", ["hoist", "env:dev"])
    assert labels_of("Hoist-Labels: a") == ("", ["a"])
    assert labels_of("text\n\nHoist-Labels: a\nmore") == ("text\n\nHoist-Labels: a\nmore", [])


def test_the_acknowledgement_is_one_threaded_reply(forge: BitbucketForge,
                                                   double: BitbucketDouble) -> None:
    number = forge.propose("p1", "hoist/dev/app", "main", "t", "b").number or 0
    command = double.add_comment(number, "/hoist approve", "bob")
    forge.react(number, command, "+1")
    forge.comment(number, "@bob: approval recorded (1 of 2)")
    [_, reply] = double.comments[number]
    assert (reply["parent"], reply["body"]) == (command, "\N{WHITE HEAVY CHECK MARK} @bob: "
                                                         "approval recorded (1 of 2)")
    forge.comment(number, "Superseded.")  # not right after a reaction: a comment of its own
    assert double.comments[number][-1]["parent"] is None


def test_merge_strategies_and_refusals(forge: BitbucketForge, double: BitbucketDouble) -> None:
    forge.propose("p1", "hoist/dev/app", "main", "t", "b")
    head = git(double.repo, "rev-parse", "main").strip()
    with pytest.raises(MergeBlocked, match="fast_forward is not allowed"):
        forge.merge("p1", head, "main", "t", "rebase")  # rebase is nearest a fast-forward
    merges = [b for m, b in double.requests if m == "POST" and b.endswith("/merge")]
    assert len(merges) == 1
    double.merge_refusal = "You can't merge until you resolve all merge checks."
    with pytest.raises(MergeBlocked, match="resolve all merge checks"):
        forge.merge("p1", head, "main", "t")
    double.merge_refusal = None
    sha = forge.merge("p1", head, "main", "chore: t\n\nHoist-Promotion: p1", "merge")
    assert len(sha) == 40 and git(double.repo, "rev-parse", "main").strip() == sha


def test_deployment_states_become_build_statuses(forge: BitbucketForge,
                                                 double: BitbucketDouble) -> None:
    sha = git(double.repo, "rev-parse", "main").strip()
    subject = Subject("p1", "guestbook", "prod", "acme/guestbook", "1.0", "1.1",
                      merge_sha=sha, change_request="https://bitbucket.org/acme/m/pull-requests/3")
    statuses = BitbucketStatuses(forge)
    statuses.report(subject, [DeploymentUpdate("queued", "merged"),
                              DeploymentUpdate("success", "runs in prod")])
    assert statuses.outbox.join(10)
    [status] = double.statuses[sha].values()  # one per environment, updated in place
    assert (status["key"], status["state"], status["url"]) == (
        "hoist-prod", "SUCCESSFUL", "https://bitbucket.org/acme/m/pull-requests/3")
    body = status_body(subject, DeploymentUpdate("inactive", "reverted"), "https://f")
    assert body["state"] == "STOPPED"
    no_link = Subject("p1", "guestbook", "dev", "acme/guestbook", None, "1.1", merge_sha=sha,
                      change_request="#3")
    assert status_body(no_link, DeploymentUpdate("failure", "x"), "https://f")["url"] == \
        "https://f"


def test_every_request_counts_against_the_hourly_budget(
        services: Services, double: BitbucketDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    forge = BitbucketForge(services.store, double.full_name, token=TOKEN["bitbucket"],
                           url=double.api_url, hourly=2, timeout=1)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        raise TimeoutError("would wait")

    # The module's own clock only: the double's server thread sleeps too.
    monkeypatch.setattr(bitbucket_module, "time", SimpleNamespace(sleep=sleep))
    forge.repository_id()
    forge.permission("bob")
    asked = len(double.requests)
    with pytest.raises(TimeoutError):
        forge.pull_state(1)
    assert len(double.requests) == asked and waits == [60.0]  # a minute at a time


def test_credentials_take_bitbucket_forms(tmp_path: Path) -> None:
    assert auth_header("ATCTT3x") == "Bearer ATCTT3x"
    assert auth_header("ada:app-pass") == "Basic " + base64.b64encode(b"ada:app-pass").decode()
    env = {"HOIST_FORGE": "bitbucket", "HOIST_BITBUCKET_TOKEN": "ATCTT3x",
           "HOIST_MANIFESTS_REPO": "git@bitbucket.org:acme/manifests.git",
           "HOIST_BITBUCKET_WEBHOOK_SECRET": "hook"}
    found = Settings.from_env(env)
    assert (found.bitbucket_repository, found.bitbucket_url) == (
        "acme/manifests", "https://api.bitbucket.org/2.0")
    assert found.forge_token == "x-token-auth:ATCTT3x"
    assert {"ATCTT3x", "hook"} <= set(found.secrets)
    app = Settings.from_env(env | {"HOIST_BITBUCKET_TOKEN": "ada:app-pass"})
    assert app.forge_token == "ada:app-pass" and "app-pass" in app.secrets
    with pytest.raises(SettingsError, match="HOIST_BITBUCKET_REPOSITORY"):
        Settings.from_env({"HOIST_FORGE": "bitbucket", "HOIST_BITBUCKET_TOKEN": "t",
                           "HOIST_MANIFESTS_REPO": "https://git.example/x.git",
                           "HOIST_WEBHOOK_SECRET": "s"}).check_serve()
    repo = GitRepo("https://bitbucket.org/acme/manifests.git", tmp_path / "c.git",
                   token=found.forge_token)
    basic = base64.b64encode(b"x-token-auth:ATCTT3x").decode()
    assert repo._config_env["GIT_CONFIG_VALUE_0"] == f"Authorization: Basic {basic}"


def test_start_up_check_reads_the_tokens_access(double: BitbucketDouble) -> None:
    env = {"HOIST_FORGE": "bitbucket", "HOIST_BITBUCKET_URL": double.api_url,
           "HOIST_BITBUCKET_REPOSITORY": double.full_name}
    assert access_fault(Settings.from_env(env | {"HOIST_BITBUCKET_TOKEN": "ATCTT3x"})) is None
    app = Settings.from_env(env | {"HOIST_BITBUCKET_TOKEN": "ada:app-pass"})
    assert access_fault(app) is None
    double.token_permissions[base64.b64encode(b"ada:app-pass").decode()] = "read"
    fault = access_fault(app)
    assert fault is not None and "cannot write to acme/manifests (it has: read)" in fault.what
    gone = Settings.from_env(env | {"HOIST_BITBUCKET_TOKEN": "t",
                                    "HOIST_BITBUCKET_REPOSITORY": "acme/other"})
    fault = access_fault(gone)
    assert fault is not None and "does not show acme/other" in fault.what
