"""Bitbucket Cloud's webhooks, from their published payloads: what the parser makes of each
event (named only by X-Event-Key), how the route authenticates (X-Hub-Signature), and that
only activity on pull requests Hoist opened is stored, once however often delivered."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.adapters.store import NewPromotion
from bot.core.events import PullRequestActivity
from bot.flows.services import Services
from bot.settings import Settings
from bot.sources import AuthError, PayloadError, bitbucket_events
from bot.sources.base import hmac_hex
from bot.web.app import create_app
from tests.support import FIXTURES

BB = FIXTURES / "bitbucket-cloud" / "webhooks"
SECRET = "bb-secret"


def payload(name: str) -> tuple[dict[str, str], bytes]:
    """A published body and the headers published with it (lower-cased)."""
    headers = json.loads((BB / f"{name}.headers.json").read_text())
    return {k.lower(): v for k, v in headers.items()}, (BB / f"{name}.json").read_bytes()


def parse(name: str) -> list[PullRequestActivity]:
    return bitbucket_events.pull_request_activity(*payload(name))


def test_comments_are_keyed_by_their_id_and_name_the_commenter_by_account_id() -> None:
    [said] = parse("pullrequest_comment_created")
    assert (said.key, said.number, said.comment_id, said.kind, said.body) == (
        "bitbucket:comment:311512047", 1, 311512047, "comment", "test comment")
    # Not the nickname ("Rutvij Mehta": a display name, with a space, that people change).
    assert said.user == "624de6f6fd5e450070486936"
    assert said.repository_id == "{4402cbae-7790-453a-b29e-5fcab61a84df}"
    assert said.written_at == pytest.approx(1656022209.939925)  # 2022-06-23T22:10:09.939925Z
    headers, body = payload("pullrequest_comment_created")
    data = json.loads(body)
    data["comment"]["deleted"] = True
    assert bitbucket_events.pull_request_activity(headers, json.dumps(data).encode()) == []
    data["comment"].update(deleted=False, inline={"path": "a.yaml", "from": None, "to": 3})
    [inline] = bitbucket_events.pull_request_activity(headers, json.dumps(data).encode())
    assert inline.kind == "comment"  # a comment on a diff line is a comment too


def test_merged_declined_and_approved() -> None:
    [merged] = parse("pullrequest_fulfilled")
    assert (merged.number, merged.kind, merged.body) == (1, "merged", "4f8f6de9d0ff")
    assert merged.user == "557058:2a6349dc-4346-4805-bd84-3abdd0812d17"  # closed_by
    [declined] = parse("pullrequest_rejected")
    assert (declined.number, declined.kind, declined.body) == (2, "closed", "")
    # The docs' template: state is the placeholder "OPEN|MERGED|DECLINED", and no matter.
    [approved] = parse("pullrequest_approved")
    assert (approved.number, approved.kind, approved.user, approved.body) == (
        1, "review", "udfy9suggmzpswxc7n200y3c", "")
    assert approved.key == "bitbucket:approval:1:udfy9suggmzpswxc7n200y3c:" \
                           "2015-04-06T16:34:59.195330+00:00"
    assert approved.repository_id == "{673a6070-3421-46c9-9d48-90745f7bfe8e}"
    for ignored in ("pullrequest_created", "pullrequest_updated", "repo_push"):
        assert parse(ignored) == [], ignored
    headers, body = payload("pullrequest_approved")
    assert bitbucket_events.pull_request_activity(
        headers | {"x-event-key": "pullrequest:unapproved"}, body) == []


def test_a_delivery_is_keyed_by_its_request_uuid_and_bad_bodies_refused() -> None:
    headers, body = payload("pullrequest_fulfilled")
    first = bitbucket_events.pull_request_activity(headers | {"x-request-uuid": "u1"}, body)
    again = bitbucket_events.pull_request_activity(headers | {"x-request-uuid": "u1"}, body)
    assert first == again and first[0].key == "bitbucket:u1"
    with pytest.raises(PayloadError):
        bitbucket_events.pull_request_activity(headers, b'{"repository": {}}')
    with pytest.raises(PayloadError):
        bitbucket_events.pull_request_activity({"x-event-key": "pullrequest:comment_created"},
                                               b'{"pullrequest": {"id": 1}}')


def test_pushes_name_the_branch_they_moved() -> None:
    _, body = payload("repo_push")
    pushed = bitbucket_events.branch_pushed(body)
    assert pushed is not None
    assert (pushed.repository, pushed.branch, pushed.after) == (
        "brydzewski/foo", "master", "141977fedf5cf35aa290ac87d4b5177ac4cd9de1")
    assert pushed.moved_default  # the payload does not say which branch is the main one
    data = json.loads(body)
    data["push"]["changes"][0]["new"] = None  # a deleted branch
    assert bitbucket_events.branch_pushed(json.dumps(data).encode()) is None
    with pytest.raises(PayloadError):
        bitbucket_events.branch_pushed(b'{"push": {}}')


def test_signature_is_the_hmac_of_the_raw_body() -> None:
    _, body = payload("pullrequest_comment_created")
    signed = {"x-hub-signature": "sha256=" + hmac_hex(SECRET, body)}
    bitbucket_events.verify(signed, body, SECRET)
    for wrong in ({}, {"x-hub-signature": hmac_hex(SECRET, body)},
                  {"x-hub-signature": "sha256=" + hmac_hex("other", body)}):
        with pytest.raises(AuthError):
            bitbucket_events.verify(wrong, body, SECRET)
    with pytest.raises(AuthError):
        bitbucket_events.verify(signed, body + b" ", SECRET)


# the route ---------------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path, services: Services) -> TestClient:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="reg",
                        bitbucket_webhook_secret=SECRET)
    return TestClient(create_app(settings, services))


def known(services: Services, number: int) -> None:
    [p] = services.store.ingest([], [NewPromotion("guestbook", "prod", "acme/guestbook",
                                                  "1.4.2", None, time.time(), None)])
    services.store.record_change_request(p.id, "hoist/prod/guestbook", "main", "t", "b",
                                         number)


def signed(name: str) -> tuple[dict[str, str], bytes]:
    headers, body = payload(name)
    return headers | {"x-hub-signature": "sha256=" + hmac_hex(SECRET, body)}, body


def test_route_authenticates_and_stores_activity_once(client: TestClient,
                                                      services: Services) -> None:
    url = "/webhooks/bitbucket"
    headers, body = signed("pullrequest_comment_created")
    unsigned = {k: v for k, v in headers.items() if k != "x-hub-signature"}
    refused = client.post(url, content=body, headers=unsigned)
    assert refused.status_code == 401 and "X-Hub-Signature" in refused.json()["error"]
    tampered = client.post(url, content=body.replace(b"test comment", b"/hoist approve"),
                           headers=headers)
    assert tampered.status_code == 401
    unknown = client.post(url, content=body, headers=headers)  # Hoist opened no #1
    assert unknown.status_code == 202 and unknown.json()["accepted"] == 0
    known(services, 1)
    assert client.post(url, content=body, headers=headers).json() == {
        "accepted": 1, "event": "pullrequest:comment_created"}
    assert client.post(url, content=body, headers=headers).json()["accepted"] == 0
    for name in ("pullrequest_created", "pullrequest_updated", "pullrequest_fulfilled",
                 "pullrequest_rejected", "pullrequest_approved", "repo_push"):
        answer = client.post(url, content=signed(name)[1], headers=signed(name)[0])
        assert answer.status_code == 202, (name, answer.text)  # every published delivery
    assert sorted(c.kind for c in services.store.pending_comments()) == [
        "comment", "merged", "review"]
    disabled = TestClient(create_app(Settings(webhook_secret="x"), services))
    assert disabled.post(url, content=body, headers=headers).status_code == 404
