"""Azure DevOps: the pure rules (comment keys, votes, permission bits, merge strategies,
status states), the service-hook parser and route on the published deliveries
(shared/fixtures/azure-devops/webhooks), the double's replies in the published wire format
(shared/fixtures/azure-devops/api), statuses for the deployment states, and merges that
policies hold."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.adapters.errors import MergeBlocked
from bot.adapters.forges import azure_devops as azure_forge
from bot.adapters.forges.azure_devops import AzureDevOpsForge
from bot.adapters.forges.azure_devops_api import identity_url
from bot.adapters.forges.azure_devops_statuses import AzureDevOpsStatuses
from bot.adapters.store import NewPromotion
from bot.core import azure_devops as rules
from bot.core.notices import DeploymentUpdate, Subject
from bot.flows.services import Services
from bot.settings import Settings
from bot.sources import AuthError, PayloadError
from bot.sources import azure_devops_events as events
from bot.web.app import create_app
from tests.azure_devops_double import AzureDevOpsDouble, example
from tests.forges import TOKEN, adapter
from tests.support import FIXTURES, git, wait_for

HOOKS = FIXTURES / "azure-devops" / "webhooks"
SECRET = "azdo-hook-secret"


def hook(name: str) -> bytes:
    return (HOOKS / f"{name}.json").read_bytes()


def basic(password: str, user: str = "anyone") -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# the pure rules ----------------------------------------------------------------------------


def test_comment_keys_name_thread_and_comment_and_a_thread_opener_by_the_thread() -> None:
    assert rules.comment_key(147, 1) == 147
    assert rules.split_comment_key(rules.comment_key(5, 2)) == (5, 2)
    assert rules.split_comment_key(rules.comment_key(2**31 - 1, 2**15 - 1)) == (2**31 - 1,
                                                                                2**15 - 1)
    for bad in ((0, 1), (1, 0), (2**31, 1), (1, 2**15)):
        with pytest.raises(ValueError):
            rules.comment_key(*bad)


def test_votes_bits_strategies_and_states() -> None:
    assert [rules.approves(v) for v in (10, 5, 0, -5, -10, True, "10")] == [
        True, True, False, False, False, False, False]
    assert [rules.ladder_of(b) for b in (0, 2, 2 | 16384, 2 | 4, 2 | 4 | 2048, 8192, 1)] == [
        "none", "read", "triage", "write", "maintain", "admin", "admin"]
    assert [rules.merge_strategy(m) for m in ("merge", "squash", "rebase", "rebase-merge",
                                              "other")] == [
        "noFastForward", "squash", "rebase", "rebaseMerge", "squash"]
    assert [rules.status_state(s) for s in ("queued", "in_progress", "success", "failure",
                                            "inactive")] == [
        "pending", "pending", "succeeded", "failed", "notApplicable"]


def test_identities_live_on_vssps_for_services_and_on_the_collection_for_server() -> None:
    assert identity_url("https://dev.azure.com/fabrikam") == "https://vssps.dev.azure.com/fabrikam"
    assert identity_url("https://fabrikam.visualstudio.com") == \
        "https://fabrikam.vssps.visualstudio.com"
    server = "https://tfs.example.com/tfs/DefaultCollection"
    assert identity_url(server) == server


# the published deliveries ------------------------------------------------------------------


def test_the_published_comment_is_keyed_by_thread_and_comment() -> None:
    [said] = events.pull_request_activity({}, hook("git.pullrequest.comment"))
    assert (said.number, said.comment_id, said.user, said.body, said.kind) == (
        1, rules.comment_key(5, 2), "fabrikamfiber4@hotmail.com", "This is my comment.",
        "comment")
    assert said.repository_id == "4bc14d40-c903-45e2-872e-0462c7748079"
    assert said.written_at == pytest.approx(1403024146.589889)  # publishedDate
    assert said.key == f"azure-devops:comment:{said.repository_id}:1:{said.comment_id}"


def test_edits_deletions_and_system_comments_never_count() -> None:
    data = json.loads(hook("git.pullrequest.comment"))
    comment = data["resource"]["comment"]
    for change in ({"lastUpdatedDate": "2014-06-17T17:00:00Z"}, {"isDeleted": True},
                   {"commentType": "system"}):
        edited = json.loads(json.dumps(data))
        edited["resource"]["comment"].update(change)
        assert events.pull_request_activity({}, json.dumps(edited).encode()) == [], change
    del comment["_links"]
    with pytest.raises(PayloadError):
        events.pull_request_activity({}, json.dumps(data).encode())


def test_completions_merge_attempts_and_votes() -> None:
    [merged] = events.pull_request_activity({}, hook("git.pullrequest.merged"))
    [updated] = events.pull_request_activity({}, hook("git.pullrequest.updated"))
    assert merged.key == updated.key  # one completion, however it is reported
    assert (merged.kind, merged.number, merged.body) == (
        "merged", 1, "eef717f69257a6333f221566c1c987dc94cc0d72")
    assert events.pull_request_activity({}, hook("git.pullrequest.created")) == []
    attempt = json.loads(hook("git.pullrequest.merged"))
    attempt["resource"].update(status="active", mergeStatus="conflicts")
    assert events.pull_request_activity({}, json.dumps(attempt).encode()) == []
    abandoned = json.loads(hook("git.pullrequest.updated"))
    abandoned["resource"]["status"] = "abandoned"
    [closed] = events.pull_request_activity({}, json.dumps(abandoned).encode())
    assert (closed.kind, closed.body) == ("closed", "")
    voted = json.loads(hook("git.pullrequest.updated"))
    voted["resource"]["status"] = "active"
    voted["resource"]["reviewers"] += [
        {"vote": 10, "uniqueName": "bob@acme.example", "id": "b"},
        {"vote": 5, "uniqueName": "carol@acme.example", "id": "c"},
        {"vote": -10, "uniqueName": "dave@acme.example", "id": "d"}]
    found = events.pull_request_activity({}, json.dumps(voted).encode())
    assert [(a.user, a.kind, a.body) for a in found] == [
        ("bob@acme.example", "review", ""), ("carol@acme.example", "review", "")]
    assert events.pull_request_activity({}, hook("git.push")) == []
    with pytest.raises(PayloadError):
        events.pull_request_activity({}, b'{"eventType": "git.pullrequest.updated"}')


def test_the_published_push_names_the_default_branch() -> None:
    pushed = events.branch_pushed(hook("git.push"))
    assert pushed is not None and pushed.moved_default
    assert (pushed.branch, pushed.default_branch, pushed.after) == (
        "master", "master", "33b55f7cb7e7e245323987634f960cf4a6e6bc74")


def test_basic_auth_password_any_user_or_the_hoist_token_header() -> None:
    events.verify(basic(SECRET), b"{}", SECRET)
    events.verify(basic(SECRET, user=""), b"{}", SECRET)
    events.verify({"x-hoist-token": SECRET}, b"{}", SECRET)
    for wrong in ({}, basic(SECRET[:-1]), basic(SECRET + "x"), {"authorization": "Basic %%%"}):
        with pytest.raises(AuthError):
            events.verify(wrong, b"{}", SECRET)


# the route ---------------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path, services: Services) -> TestClient:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="reg",
                        azure_devops_webhook_secret=SECRET)
    return TestClient(create_app(settings, services))


def test_route_acknowledges_every_published_delivery_once(client: TestClient,
                                                           services: Services) -> None:
    url = "/webhooks/azure-devops"
    body = hook("git.pullrequest.comment")
    assert client.post(url, content=body).status_code == 401
    assert client.post(url, content=body, headers=basic("nope")).status_code == 401
    [p] = services.store.ingest([], [NewPromotion("guestbook", "prod", "acme/guestbook",
                                                  "1.4.2", None, time.time(), None)])
    services.store.record_change_request(p.id, "hoist/prod/guestbook", "main", "t", "b", 1)
    first = client.post(url, content=body, headers=basic(SECRET))
    assert first.json() == {"accepted": 1, "event": events.COMMENT_EVENT}
    assert client.post(url, content=body, headers=basic(SECRET)).json()["accepted"] == 0
    for name in ("git.pullrequest.created", "git.pullrequest.updated",
                 "git.pullrequest.merged", "git.push"):
        answer = client.post(url, content=hook(name), headers=basic(SECRET))
        assert answer.status_code == 202, (name, answer.text)
    bad = client.post(url, content=b'{"resource": {}}', headers=basic(SECRET))
    assert bad.status_code == 400
    disabled = TestClient(create_app(Settings(webhook_secret="x"), services))
    assert disabled.post(url, content=body, headers=basic(SECRET)).status_code == 404


# the double's wire format ------------------------------------------------------------------

Fields = list[tuple[tuple[str, ...], tuple[type, ...]]]
READ: dict[str, Fields] = {  # every field the adapter reads, with its published type
    "pullrequest_get": [(("pullRequestId",), (int,)), (("status",), (str,)),
                        (("title",), (str,)), (("description",), (str,)),
                        (("mergeStatus",), (str,)), (("sourceRefName",), (str,)),
                        (("lastMergeCommit", "commitId"), (str,)),
                        (("repository", "id"), (str,)), (("reviewers",), (list,))],
    "pullrequest_create": [(("pullRequestId",), (int,)), (("title",), (str,)),
                           (("description",), (str,))],
    "pullrequest_thread_create": [(("id",), (int,)), (("comments",), (list,))],
    "pullrequest_reviewer_vote": [(("vote",), (int,)), (("uniqueName",), (str,))],
}


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _check(published: dict[str, Any], produced: dict[str, Any], fields: Fields) -> None:
    assert set(published) <= set(produced), set(published) - set(produced)
    for path, kinds in fields:
        assert isinstance(_dig(published, path), kinds), path
        assert isinstance(_dig(produced, path), kinds), path


@pytest.fixture
def double(services: Services) -> Iterator[AzureDevOpsDouble]:
    origin = Path(services.git.url.removeprefix("file://"))
    git(origin, "branch", "hoist/dev/app", "main")
    started = AzureDevOpsDouble(origin).start()
    yield started
    started.stop()


def test_double_speaks_the_published_wire_format(double: AzureDevOpsDouble) -> None:
    number = double.add_pull("hoist/dev/app", "main", "t", "b")
    double.add_review(number, "bob")
    produced = {"pullrequest_get": double.pull_json(number),
                "pullrequest_create": double.pull_json(number),
                "pullrequest_thread_create": double.create_thread(
                    {}, {"comments": [{"content": "hi"}], "status": 4},
                    _match(number))[1],
                "pullrequest_reviewer_vote": double.reviewer_json(double.reviews[number][0])}
    for name, fields in READ.items():
        published = example(name, "201" if name == "pullrequest_create" else "200")
        _check(published, produced[name], fields)
    comment = produced["pullrequest_thread_create"]["comments"][0]
    assert isinstance(comment["id"], int) and isinstance(comment["content"], str)
    assert isinstance(comment["author"]["uniqueName"], str)
    listed = example("pullrequests_list")
    assert set(listed) == {"value", "count"}  # the list envelope the double answers in too


def _match(number: int) -> Any:
    import re
    found = re.match(r"(?P<n>\d+)", str(number))
    assert found is not None
    return found


# merges that policies hold, and statuses ---------------------------------------------------


def test_a_completion_azure_accepts_but_policies_hold_is_blocked_with_their_names(
        services: Services, double: AzureDevOpsDouble, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    monkeypatch.setattr(azure_forge, "READ_BACK_PAUSE", 0.0)
    forge = adapter("azure-devops", services.store, double)
    forge.propose("p1", "hoist/dev/app", "main", "t", "b")
    head = git(Path(services.git.url.removeprefix("file://")), "rev-parse", "main").strip()
    double.merge_refusal = "ci/guestbook"
    with pytest.raises(MergeBlocked, match=r"Build \(ci/guestbook\): rejected"):
        forge.merge("p1", head, "main", "t")
    assert double.pulls[1]["state"] == "open"


def test_deployment_states_become_commit_and_pull_request_statuses(
        services: Services, double: AzureDevOpsDouble) -> None:
    forge = adapter("azure-devops", services.store, double)
    assert isinstance(forge, AzureDevOpsForge)
    statuses = AzureDevOpsStatuses(forge.api)
    subject = Subject("p1", "guestbook", "prod", "acme/guestbook", "1.0.0", "1.1.0",
                      merge_sha="a" * 40, page="https://hoist.example/p/p1",
                      change_request="https://dev.azure.com/fabrikam/acme/_git/manifests"
                                     "/pullrequest/7")
    statuses.report(subject, [DeploymentUpdate("queued", "merged"),
                              DeploymentUpdate("success", "promoted")])
    wait_for(lambda: len(double.statuses) == 4, "four statuses")
    assert [(s[0].rsplit("/", 2)[-2], s[1], s[2]) for s in double.statuses] == [
        ("a" * 40, "pending", "hoist/prod"), ("7", "pending", "hoist/prod"),
        ("a" * 40, "succeeded", "hoist/prod"), ("7", "succeeded", "hoist/prod")]
    assert double.token_seen and set(double.token_seen) == {TOKEN["azure-devops"]}


def test_start_up_asks_whether_the_token_may_contribute(double: AzureDevOpsDouble) -> None:
    from bot.adapters.forges.access import access_fault
    settings = Settings(forge_choice="azure-devops", azure_devops_url=double.api_url,
                        azure_devops_token=TOKEN["azure-devops"],
                        azure_devops_repository=double.full_name, forge_timeout=2)
    assert access_fault(settings) is None
    double.token_permissions[TOKEN["azure-devops"]] = False
    fault = access_fault(settings)
    assert fault is not None and "cannot contribute" in fault.what
    wrong = Settings(forge_choice="azure-devops", azure_devops_url=double.api_url,
                     azure_devops_token=TOKEN["azure-devops"],
                     azure_devops_repository="acme/elsewhere", forge_timeout=2)
    missing = access_fault(wrong)
    assert missing is not None and "does not show" in missing.what
