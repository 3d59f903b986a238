"""Hostile input: generated payloads never crash a parser or the app; limits hold."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.commands import parse_commands
from bot.flows.services import Services
from bot.settings import Settings
from bot.sources import SOURCES, PayloadError
from bot.sources.github_events import pull_request_activity
from bot.web.app import create_app
from tests.support import FIXTURES

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12),
                                                                      children, max_size=5),
    max_leaves=20,
)
KEYS = ["events", "target", "tag", "repository", "push_data", "repo_name", "type", "event_data",
        "resources", "resource_url", "data", "docker_url", "updated_tags", "detail", "message",
        "action", "package", "package_version", "domain", "image_name", "repo_key", "Type",
        "Message", "source", "detail-type", "registry", "digest", "pushes", "issue", "comment"]
shaped = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS),
                                                                      children, max_size=6),
    max_leaves=25,
)


def _parse_all(body: bytes, headers: dict[str, str]) -> None:
    for source in SOURCES.values():
        try:
            pushes = source.parse(headers, body)
        except PayloadError:
            continue
        assert isinstance(pushes, list)
    with contextlib.suppress(PayloadError, KeyError, TypeError, ValueError):
        pull_request_activity(headers, body)  # the route answers 400 for these


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(json_values, shaped))
def test_every_parser_survives_generated_json(value: Any) -> None:
    for event in ("package", "issue_comment", "pull_request", "pull_request_review"):
        _parse_all(json.dumps(value).encode(), {"x-github-event": event})


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300))
def test_every_parser_survives_arbitrary_bytes(body: bytes) -> None:
    _parse_all(body, {})


def test_deeply_nested_json_is_a_clean_refusal() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    for source in SOURCES.values():
        with pytest.raises(PayloadError, match="nested too deeply"):
            source.parse({}, body)


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_chatops_parser_never_raises(text: str) -> None:
    for command in parse_commands(text):
        assert command.name


@pytest.fixture
def client(tmp_path: Path, services: Services) -> TestClient:
    settings_ = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="s",
                         github_webhook_secret="g", api_token="a")
    return TestClient(create_app(settings_, services), raise_server_exceptions=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=shaped, source=st.sampled_from(sorted(SOURCES)), signed=st.booleans())
def test_app_never_answers_5xx(client: TestClient, value: Any, source: str,
                               signed: bool) -> None:
    headers = {"Authorization": "Bearer s"} if signed else {}
    body = json.dumps(value).encode()
    for url in (f"/webhooks/registry/{source}", "/webhooks/github"):
        response = client.post(url, content=body, headers={**headers,
                                                          "X-GitHub-Event": "issue_comment"})
        assert response.status_code < 500, (url, response.text)
        assert isinstance(response.json(), dict)


def test_unsigned_wrongly_signed_and_replayed_requests(client: TestClient) -> None:
    body = (FIXTURES / "github" / "ping.json").read_bytes()
    for headers in ({}, {"X-Hub-Signature-256": "sha256=" + "0" * 64},
                    {"X-Hub-Signature-256": "garbage"}):
        assert client.post("/webhooks/github", content=body,
                           headers={**headers, "X-GitHub-Event": "ping"}).status_code == 401
    for source in SOURCES:
        assert client.post(f"/webhooks/registry/{source}", content=b"{}",
                           headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_oversized_bodies_are_refused_streamed_or_declared(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b" " * 65536  # 2.5 MiB, sent without a Content-Length

    streamed = client.post("/webhooks/registry/distribution", content=chunks(),
                           headers={"Authorization": "Bearer s"})
    assert streamed.status_code == 413
    declared = client.post("/webhooks/registry/distribution", content=b"{}",
                           headers={"Authorization": "Bearer s", "Content-Length": "99999999"})
    assert declared.status_code in (400, 413)
