"""Bitbucket Data Center's webhooks, from its published payloads: what the parser makes of
them (both date formats), how the route authenticates (X-Hub-Signature), that the test
delivery is acknowledged, and that only activity on pull requests Hoist opened is stored,
once however often it is delivered."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.adapters.store import NewPromotion
from bot.core.events import PullRequestActivity
from bot.flows.services import Services
from bot.settings import Settings
from bot.sources import AuthError, PayloadError
from bot.sources import bitbucket_datacenter_events as events
from bot.sources.base import hmac_hex
from bot.web.app import create_app
from tests.support import FIXTURES

HOOKS = FIXTURES / "bitbucket-datacenter" / "webhooks"
SECRET = "secret"  # go-playground's test secret (FORGES-SOURCES.md)
DRONE_SECRET = "71295b197fa25f4356d2fb9965df3f2379d903d7"  # drone's, for repo_refs_changed


def payload(name: str) -> tuple[dict[str, str], bytes]:
    """A published body and the headers published with it (lower-cased)."""
    headers_file = HOOKS / f"{name}.headers.json"
    headers = json.loads(headers_file.read_text()) if headers_file.exists() else {}
    return {k.lower(): v for k, v in headers.items()}, (HOOKS / f"{name}.json").read_bytes()


def parsed(name: str, event: str | None = None) -> list[PullRequestActivity]:
    headers, body = payload(name)
    if event:
        headers["x-event-key"] = event
    return events.pull_request_activity(headers, body)


def test_comments_are_chatops_comments_keyed_by_their_id() -> None:
    [comment] = parsed("pr_comment_added")  # published without headers: eventKey in the body
    assert (comment.number, comment.comment_id, comment.user, comment.body, comment.kind) == (
        1, 1, "lkysow", "atlantis plan", "comment")
    assert comment.key == "bitbucket-datacenter:comment:1" and comment.repository_id == "1"
    assert comment.written_at == 1532208030.682  # createdDate, epoch milliseconds
    assert parsed("pr_comment_edited_signed") == []  # an edit never counts


def test_approvals_merges_and_closes() -> None:
    [approved] = parsed("pr_reviewer_approved_signed")
    assert (approved.number, approved.kind, approved.user, approved.body) == (5, "review", "tux",
                                                                              "")
    assert approved.repository_id == "4"
    assert approved.written_at == datetime(2019, 3, 1, 9, 35, 38, tzinfo=UTC).timestamp()
    [merged] = parsed("pr_merged")
    assert (merged.number, merged.kind, merged.user, merged.body, merged.repository_id) == (
        3, "merged", "jcitizen", "83f836ca538dc4f43d29fda46a5b85ea49f1b8e7", "1")
    assert parsed("pr_merged_signed")[0].body == "cbf26be7bfc8394906abbd571498fb8d28888b58"
    [declined] = parsed("pr_declined")
    assert (declined.number, declined.kind, declined.body) == (2, "closed", "")
    [deleted] = parsed("pr_declined", "pr:deleted")
    assert deleted.kind == "closed"
    for ignored in ("pr_opened", "pr_opened_signed", "pr_from_ref_updated",
                    "repo_refs_changed_signed"):
        assert parsed(ignored) == [], ignored
    for event in ("pr:reviewer:unapproved", "pr:reviewer:needs_work", "pr:comment:deleted"):
        assert parsed("pr_reviewer_approved_signed", event) == [], event
    with pytest.raises(PayloadError):
        events.pull_request_activity({"x-event-key": "pr:merged"}, b'{"eventKey": "x"}')


def test_redeliveries_share_their_keys() -> None:
    for name in ("pr_merged", "pr_reviewer_approved_signed", "pr_comment_added"):
        first = parsed(name)
        again = events.pull_request_activity({"x-request-id": "another"}, payload(name)[1]) \
            if name == "pr_comment_added" else parsed(name)
        assert first[0].key == again[0].key, name


def test_both_date_formats() -> None:
    assert events.when({"date": "2018-07-05T19:21:30+0000"}, "date") == \
        datetime(2018, 7, 5, 19, 21, 30, tzinfo=UTC).timestamp()
    assert events.when({"createdDate": 1530818490848}, "createdDate") == 1530818490.848
    assert events.when({"date": "yesterday"}, "date") is None
    assert events.when({}, "date") is None


def test_signatures() -> None:
    for name in ("pr_opened_signed", "pr_merged_signed", "pr_comment_edited_signed",
                 "pr_reviewer_approved_signed"):
        headers, body = payload(name)
        events.verify(headers, body, SECRET)
        with pytest.raises(AuthError):
            events.verify(headers, body + b" ", SECRET)
        with pytest.raises(AuthError):
            events.verify(headers, body, "not-the-secret")
    headers, body = payload("repo_refs_changed_signed")
    events.verify(headers, body, DRONE_SECRET)
    with pytest.raises(AuthError):
        events.verify({}, body, DRONE_SECRET)


def test_refs_changed_names_the_branch() -> None:
    pushed = events.branches_pushed(payload("repo_refs_changed_signed")[1])
    assert pushed is not None
    assert (pushed.repository, pushed.branch, pushed.after) == (
        "PRJ/my-repo", "master", "823b2230a56056231c9425d63758fa87078a66b4")
    assert pushed.moved_default  # Bitbucket does not say which branch is the default
    tag = b'{"changes": [{"refId": "refs/tags/v1", "toHash": "a"}]}'
    assert events.branches_pushed(tag) is None
    with pytest.raises(PayloadError):
        events.branches_pushed(b"{}")


# the route -------------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path, services: Services) -> TestClient:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="reg",
                        bitbucket_dc_webhook_secret=SECRET)
    return TestClient(create_app(settings, services))


def known(services: Services, number: int) -> None:
    [p] = services.store.ingest([], [NewPromotion("guestbook", "prod", "acme/guestbook",
                                                  "1.4.2", None, time.time(), None)])
    services.store.record_change_request(p.id, "hoist/prod/guestbook", "main", "t", "b",
                                         number)


URL = "/webhooks/bitbucket-datacenter"


def test_route(client: TestClient, services: Services) -> None:
    headers, body = payload("pr_reviewer_approved_signed")
    unknown = client.post(URL, content=body, headers=headers)  # Hoist opened no #5
    assert unknown.status_code == 202 and unknown.json()["accepted"] == 0
    known(services, 5)
    assert client.post(URL, content=body, headers=headers).json() == {
        "accepted": 1, "event": "pr:reviewer:approved"}
    assert client.post(URL, content=body, headers=headers).json()["accepted"] == 0
    tampered = client.post(URL, content=body.replace(b"tux", b"tuz"), headers=headers)
    assert tampered.status_code == 401 and "X-Hub-Signature" in tampered.json()["error"]
    assert client.post(URL, content=body).status_code == 401
    for name in ("pr_opened_signed", "pr_merged_signed", "pr_comment_edited_signed"):
        answer = client.post(URL, content=payload(name)[1], headers=payload(name)[0])
        assert answer.status_code == 202, name
    assert [c.kind for c in services.store.pending_comments()] == ["review", "merged"]
    ping = b'{"test": true}'
    signed = {"x-hub-signature": "sha256=" + hmac_hex(SECRET, ping)}
    assert client.post(URL, content=ping, headers=signed | {"x-event-key": "diagnostics:ping"}
                       ).json() == {"pong": True}
    assert client.post(URL, content=ping, headers=signed).status_code == 400  # no event key
    bad = b'{"eventKey": "pr:merged"}'
    answer = client.post(URL, content=bad, headers={
        "x-hub-signature": "sha256=" + hmac_hex(SECRET, bad)})
    assert answer.status_code == 400
    disabled = TestClient(create_app(Settings(webhook_secret="x"), services))
    assert disabled.post(URL, content=body, headers=headers).status_code == 404


def test_route_refreshes_on_a_push(tmp_path: Path, services: Services) -> None:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="reg",
                        bitbucket_dc_webhook_secret=DRONE_SECRET)
    headers, body = payload("repo_refs_changed_signed")
    answer = TestClient(create_app(settings, services)).post(URL, content=body, headers=headers)
    assert answer.status_code == 202 and answer.json() == {"refreshed": True}
