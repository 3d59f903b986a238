"""GitLab's and Gitea's webhooks, from their published payloads: what each parser makes of
them, how each route authenticates, and that only activity on change requests Hoist opened
is stored (once, however often it is delivered)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.adapters.store import NewPromotion
from bot.core.events import PullRequestActivity
from bot.flows.services import Services
from bot.settings import Settings
from bot.sources import AuthError, PayloadError, gitea_events, github_events, gitlab_events
from bot.web.app import create_app
from tests.support import FIXTURES

GL = FIXTURES / "gitlab" / "webhooks"
GT = FIXTURES / "gitea" / "webhooks"
GITEA_TEST_SECRET = "IsWishesWereHorsesWedAllBeEatingSteak!"  # go-playground's test secret


def payload(folder: Path, name: str) -> tuple[dict[str, str], bytes]:
    """A published body and the headers published with it (lower-cased)."""
    headers_file = folder / f"{name}.headers.json"
    headers = json.loads(headers_file.read_text()) if headers_file.exists() else {}
    return {k.lower(): v for k, v in headers.items()}, (folder / f"{name}.json").read_bytes()


def gitlab(name: str) -> list[PullRequestActivity]:
    return gitlab_events.merge_request_activity(*payload(GL, name))


def gitea(name: str, event: str | None = None) -> list[PullRequestActivity]:
    headers, body = payload(GT, name)
    if event:
        headers["x-gitea-event"] = event
    return gitea_events.pull_request_activity(headers, body)


def test_gitlab_notes_on_merge_requests_are_chatops_comments() -> None:
    [note] = gitlab("note_merge_request")
    assert (note.number, note.comment_id, note.user, note.kind) == (1, 1244, "root", "comment")
    assert note.body == "This MR needs work." and note.key == "gitlab:note:1244"
    [com] = gitlab("note_merge_request_gitlab_com")
    assert (com.number, com.user, com.body) == (1, "sytses", "lgtm")
    assert gitlab("note_issue") == []  # a note on anything else is acknowledged, ignored


def test_gitlab_merge_request_actions_routed_on_the_body() -> None:
    [merged] = gitlab("merge_request_merge")  # sent as X-Gitlab-Event: Service Hook
    assert (merged.number, merged.kind, merged.user, merged.body) == (
        4, "merged", "anbraten", "43411b53d670203e887c4985c4e58e8e6b7c109e")
    [closed] = gitlab("merge_request_close")
    assert (closed.number, closed.kind, closed.body) == (4, "closed", "")
    [approved] = gitlab("merge_request_approved")
    assert (approved.number, approved.kind, approved.user) == (3, "review", "anbraten")
    for ignored in ("merge_request_open", "merge_request_update", "merge_request_docs",
                    "pipeline", "push_hook_event_docs"):
        assert gitlab(ignored) == [], ignored
    system_hook = {"x-gitlab-event": "System Hook"}
    assert gitlab_events.merge_request_activity(
        system_hook, (GL / "merge_request_merge.json").read_bytes())[0].kind == "merged"


def test_gitlab_delivery_keys_survive_retries() -> None:
    body = (GL / "merge_request_close.json").read_bytes()
    first = gitlab_events.merge_request_activity({"idempotency-key": "k1",
                                                  "x-gitlab-event-uuid": "u1"}, body)
    retry = gitlab_events.merge_request_activity({"idempotency-key": "k1",
                                                  "x-gitlab-event-uuid": "u2"}, body)
    assert first[0].key == retry[0].key == "gitlab:k1"
    assert gitlab_events.merge_request_activity({"x-gitlab-event-uuid": "u3"}, body)[0].key \
        == "gitlab:u3"


def test_gitlab_edited_and_system_notes_never_count() -> None:
    data = json.loads((GL / "note_merge_request.json").read_text())
    data["object_attributes"]["action"] = "update"
    assert gitlab_events.merge_request_activity({}, json.dumps(data).encode()) == []
    data["object_attributes"].update(action="create", system=True)
    assert gitlab_events.merge_request_activity({}, json.dumps(data).encode()) == []
    with pytest.raises(PayloadError):
        gitlab_events.merge_request_activity({}, b'{"object_kind": "note"}')


def test_gitlab_token_is_compared_whole() -> None:
    gitlab_events.verify({"x-gitlab-token": "s3cret"}, b"{}", "s3cret")
    for wrong in ({}, {"x-gitlab-token": "s3cre"}, {"authorization": "Bearer s3cret"}):
        with pytest.raises(AuthError):
            gitlab_events.verify(wrong, b"{}", "s3cret")


def test_gitea_comments_on_pull_requests_only() -> None:
    [signed] = gitea("pull_request_comment_signed", "issue_comment")  # what Gitea really sends
    assert (signed.number, signed.comment_id, signed.user, signed.body) == (2, 6, "example",
                                                                           "example")
    assert signed.key == "gitea:comment:6"
    [older] = gitea("pull_request_comment_created")  # no is_pull: issue.pull_request is set
    assert (older.number, older.comment_id, older.user, older.body) == (2, 45, "unknwon",
                                                                       "run gofmt")
    assert gitea("issue_comment_signed") == []  # a comment on a plain issue
    assert gitea("pull_request_comment_signed")[0].number == 2  # as go-playground labels it


def test_gitea_pull_requests_merged_closed_and_reviewed() -> None:
    [merged] = gitea("pull_request_merged")
    assert (merged.number, merged.kind, merged.user, merged.body) == (
        1, "merged", "anbraten", "f2440f050054df0f8ecabcace648f1683509064c")
    [closed] = gitea("pull_request_closed")
    assert (closed.number, closed.kind, closed.body) == (1, "closed", "")
    [review] = gitea("pull_request_review_approved", "pull_request_approved")
    assert (review.number, review.kind, review.user) == (7, "review", "a_nice_user")
    for ignored in ("pull_request_opened", "pull_request_synchronized", "push_signed"):
        assert gitea(ignored) == [], ignored


def test_gitea_and_forgejo_signatures() -> None:
    for name in ("pull_request_comment_signed", "issue_comment_signed", "push_signed",
                 "pull_request_opened_signed"):
        headers, body = payload(GT, name)
        gitea_events.verify(headers, body, GITEA_TEST_SECRET)
        with pytest.raises(AuthError):
            gitea_events.verify(headers, body + b" ", GITEA_TEST_SECRET)
    body = b'{"action": "created"}'
    forgejo = {"x-forgejo-signature": hmac.new(b"k", body, hashlib.sha256).hexdigest()}
    gitea_events.verify(forgejo, body, "k")
    with pytest.raises(AuthError):
        gitea_events.verify({}, body, "k")


# the routes ------------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path, services: Services) -> TestClient:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="reg",
                        gitlab_webhook_secret="gl-secret",
                        gitea_webhook_secret=GITEA_TEST_SECRET)
    return TestClient(create_app(settings, services))


def known(services: Services, number: int) -> None:
    """A promotion whose change request is number `number`."""
    [p] = services.store.ingest([], [NewPromotion("guestbook", "prod", "acme/guestbook",
                                                  "1.4.2", None, time.time(), None)])
    services.store.record_change_request(p.id, "hoist/prod/guestbook", "main", "t", "b",
                                         number)


def test_gitlab_route(client: TestClient, services: Services) -> None:
    headers, body = payload(GL, "note_merge_request")
    url = "/webhooks/gitlab"
    assert client.post(url, content=body, headers=headers).status_code == 401
    wrong = client.post(url, content=body, headers=headers | {"X-Gitlab-Token": "nope"})
    assert wrong.status_code == 401 and "X-Gitlab-Token" in wrong.json()["error"]
    ok = headers | {"X-Gitlab-Token": "gl-secret"}
    unknown = client.post(url, content=body, headers=ok)  # Hoist opened no !1
    assert unknown.status_code == 202 and unknown.json()["accepted"] == 0
    assert services.store.pending_comments() == []
    known(services, 1)
    assert client.post(url, content=body, headers=ok).json() == {"accepted": 1,
                                                                  "event": "note"}
    assert client.post(url, content=body, headers=ok).json()["accepted"] == 0  # redelivered
    issue_headers, issue_body = payload(GL, "note_issue")
    ignored = client.post(url, content=issue_body, headers=issue_headers | ok)
    assert ignored.status_code == 202 and ignored.json()["accepted"] == 0
    bad = client.post(url, content=b'{"object_kind": "merge_request"}', headers=ok)
    assert bad.status_code == 400 and "error" in bad.json()
    assert [c.kind for c in services.store.pending_comments()] == ["comment"]


def test_gitea_route(client: TestClient, services: Services) -> None:
    headers, body = payload(GT, "pull_request_comment_signed")
    headers["x-gitea-event"] = "issue_comment"
    url = "/webhooks/gitea"
    known(services, 2)
    assert client.post(url, content=body, headers=headers).json() == {
        "accepted": 1, "event": "issue_comment"}
    assert client.post(url, content=body, headers=headers).json()["accepted"] == 0
    tampered = client.post(url, content=body.replace(b"example", b"exampl3"), headers=headers)
    assert tampered.status_code == 401
    issue_headers, issue_body = payload(GT, "issue_comment_signed")
    assert client.post(url, content=issue_body, headers=issue_headers).json()["accepted"] == 0
    no_event = client.post(url, content=body, headers={"x-gitea-signature":
                                                       headers["x-gitea-signature"]})
    assert no_event.status_code == 400
    disabled = TestClient(create_app(Settings(webhook_secret="x"), services))
    assert disabled.post(url, content=body, headers=headers).status_code == 404
    assert disabled.post("/webhooks/gitlab", content=body).status_code == 404


# reviews and comments count once, by their own id ------------------------------------------

GH = FIXTURES / "github"


def github(event: str, data: dict[str, object], delivery: str) -> list[PullRequestActivity]:
    return github_events.pull_request_activity(
        {"x-github-event": event, "x-github-delivery": delivery}, json.dumps(data).encode())


def test_github_comments_and_reviews_are_keyed_by_their_own_id() -> None:
    comment = json.loads((GH / "issue_comment.created.json").read_text())
    first, again = (github("issue_comment", comment, d) for d in ("repo-hook", "org-hook"))
    assert first == again
    assert (first[0].key, first[0].written_at) == (
        f"github:comment:{comment['comment']['id']}", 1572106163.0)  # 2019-10-26T16:09:23Z
    review = json.loads((GH / "pull_request_review.submitted.json").read_text())
    assert github("pull_request_review", review, "d1") == []  # commented, no body: nothing
    for state, kind in (("commented", "comment"), ("changes_requested", "comment"),
                        ("approved", "review")):
        review["review"].update(state=state, body="/hoist approve")
        [said] = github("pull_request_review", review, state)
        assert (said.key, said.kind, said.body, said.comment_id, said.user) == (
            "github:review:237895671", kind, "/hoist approve", None, "Codertocat")
        assert said.written_at == 1557933638.0  # review.submitted_at 2019-05-15T15:20:38Z
    review["review"]["body"] = None
    assert github("pull_request_review", review, "d2")[0].kind == "review"  # approval alone


def test_gitlab_notes_carry_when_they_were_written() -> None:
    [note] = gitlab("note_merge_request")
    assert note.written_at == 1431886896.0  # "2015-05-17 18:21:36 UTC"
    data = json.loads((GL / "note_merge_request.json").read_text())
    data["object_attributes"].update(type="DiffNote", created_at="2026-01-02T03:04:05.5Z")
    [diff_note] = gitlab_events.merge_request_activity({}, json.dumps(data).encode())
    assert (diff_note.kind, diff_note.key, diff_note.written_at) == (
        "comment", "gitlab:note:1244", 1767323045.5)  # a review's note is a comment


def test_gitea_reviews_with_a_body_are_comments_keyed_without_the_delivery() -> None:
    data = json.loads((GT / "pull_request_review_approved.json").read_text())
    for event, kind, said in (("pull_request_approved", "review", "juhu thats a great idea"),
                              ("pull_request_rejected", "comment", "/hoist hold"),
                              ("pull_request_comment", "comment", "/hoist approve")):
        data["review"].update(type=f"pull_request_review_{event.split('_')[-1]}",
                              content=said)
        sent = json.dumps(data).encode()
        first, again = (gitea_events.pull_request_activity(
            {"x-gitea-event": event, "x-gitea-delivery": d}, sent) for d in ("d1", "d2"))
        assert first == again, event
        assert (first[0].number, first[0].kind, first[0].body, first[0].user) == (
            7, kind, said, "a_nice_user")
        assert first[0].key.startswith("gitea:review:7:07977177c2cd7d46bad37b8472a9d50e7acb9d1f:")
    data["review"].update(type="pull_request_review_comment", content="")
    assert gitea_events.pull_request_activity({"x-gitea-event": "pull_request_comment"},
                                              json.dumps(data).encode()) == []
    [comment] = gitea("pull_request_comment_signed", "issue_comment")
    assert comment.written_at == 1646811094.0  # 2022-03-09T16:31:34+09:00


def test_every_activity_names_the_repository_its_published_payload_is_about() -> None:
    """GitHub and Gitea `repository.id`, GitLab `project.id`, as text; None when a payload
    names none. A GitHub review carries its own id too, to be read back by."""
    comment = json.loads((GH / "issue_comment.created.json").read_text())
    review = json.loads((GH / "pull_request_review.submitted.json").read_text())
    review["review"]["body"] = "/hoist approve"
    closed = json.loads((GH / "pull_request.closed.json").read_text())
    found = [github("issue_comment", comment, "d1")[0], github("pull_request_review", review,
                                                                "d2")[0],
             github("pull_request", closed, "d3")[0], gitlab("note_merge_request")[0],
             gitlab("merge_request_merge")[0], gitlab("merge_request_approved")[0],
             gitea("pull_request_comment_signed", "issue_comment")[0],
             gitea("pull_request_merged")[0],
             gitea("pull_request_review_approved", "pull_request_approved")[0]]
    assert [a.repository_id for a in found] == [
        "199540710", "186853002", "219188321", "5", "32059612", "32059612", "1", "46534",
        "1234"]
    assert [a.review_id for a in found] == [None, 237895671] + [None] * 7
    del comment["repository"]
    assert github("issue_comment", comment, "d4")[0].repository_id is None
