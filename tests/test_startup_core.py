"""The start-up decisions, backoff and forge push parsing: pure, no doubles."""

from __future__ import annotations

import json

import pytest

from bot.core.backoff import Backoff, describe
from bot.core.startup import (
    git_fault,
    github_app_fault,
    github_token_fault,
    gitlab_fault,
    http_fault,
    store_fault,
    url_fault,
)
from bot.sources.forge_push import branch_pushed
from tests.support import FIXTURES


def test_forge_answers_name_what_is_missing() -> None:
    assert github_token_fault("a/b", {"push": True, "pull": True}) is None
    fault = github_token_fault("a/b", {"admin": False, "push": False, "pull": True})
    assert fault is not None and not fault.transient and "(it has: pull)" in fault.line
    app = github_app_fault("a/b", {"contents": "read", "issues": "write"})
    assert app is not None and "contents: write, pull_requests: write" in app.line
    assert github_app_fault("a/b", {"contents": "write", "pull_requests": "write",
                                    "issues": "write"}) is None
    assert gitlab_fault("g/p", {"project_access": None, "group_access": {"access_level": 30}}) \
        is None
    assert "level 20" in (gitlab_fault("g/p", {"project_access": {"access_level": 20}})
                          or pytest.fail()).line
    assert http_fault("GitHub", "HOIST_GITHUB_TOKEN", "a/b", 200, "OK") is None
    assert not (http_fault("GitHub", "V", "a/b", 401, "Bad credentials") or pytest.fail()
                ).transient
    assert (http_fault("GitHub", "V", "a/b", 503, "Unavailable") or pytest.fail()).transient


def test_git_and_store_faults_tell_a_person_from_a_pause() -> None:
    assert not git_fault("file:///x", "git fetch failed: fatal: '/x' does not appear to be "
                         "a git repository").transient
    assert git_fault("https://h/r", "git fetch failed: fatal: unable to access "
                     "'https://h/r/': Failed to connect to h port 443: Connection refused"
                     ).transient
    assert not store_fault('FATAL:  password authentication failed for user "h"').transient
    assert store_fault("connection refused").transient
    assert url_fault("HOIST_PUBLIC_URL", "hoist.example.com") is not None
    assert url_fault("HOIST_PUBLIC_URL", "https://hoist.example.com") is None


def test_backoff_doubles_to_its_cap_and_forgets_on_success() -> None:
    backoff = Backoff(base=1.0, cap=4.0)
    assert [backoff.failed("lane:x", 0.0)[1] for _ in range(4)] == [1.0, 2.0, 4.0, 4.0]
    assert not backoff.due("lane:x", 3.9) and backoff.due("lane:x", 4.0)
    backoff.succeeded("lane:x")
    assert backoff.failed("lane:x", 10.0) == (1, 1.0)
    assert describe(KeyError("main")) == "KeyError: 'main'"


@pytest.mark.parametrize(("path", "branch", "default"), [
    ("gitlab/webhooks/push_hook_event_docs.json", "master", "master"),
    ("gitea/webhooks/push_signed.json", "master", "master"),
])
def test_forge_push_events_name_the_branch_they_moved(path: str, branch: str,
                                                      default: str) -> None:
    pushed = branch_pushed((FIXTURES / path).read_bytes())
    assert pushed is not None and pushed.branch == branch and pushed.moved_default
    tag = json.loads((FIXTURES / path).read_text()) | {"ref": "refs/tags/v1"}
    assert branch_pushed(json.dumps(tag).encode()) is None


def test_a_github_push_on_another_branch_is_not_the_default() -> None:
    body = {"ref": "refs/heads/hoist/dev/x", "after": "0" * 40,
            "repository": {"full_name": "acme/manifests", "default_branch": "main"}}
    pushed = branch_pushed(json.dumps(body).encode())
    assert pushed is not None and not pushed.moved_default
