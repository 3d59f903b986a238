"""Registry polling: tags listed through the OCI distribution API (pages, auth, 404),
new tags fed to the inbox once, busy registries backed off; end to end with the real
docker-registry sending no notifications, a skopeo push, and the same push by webhook."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from bot.adapters.registry import Credentials, RegistryBusy, RegistryClient
from bot.core.events import ImagePushed
from bot.core.polling import PollSetting, parse_poll_setting
from bot.demo.manifests import distribution_envelope
from bot.demo.registry import LocalRegistry, free_port, write_oci_layout
from bot.flows.poll import poll_registries
from bot.flows.services import Services
from bot.worker import Worker
from tests.signing_keys import ssh_key
from tests.support import git, need, wait_for
from tests.test_e2e import service_for, stop_after  # noqa: F401 (a fixture)

API = "http://localhost:5000/v2/acme/guestbook"
DIGEST = "sha256:" + "3" * 64
CHALLENGE = ('Bearer realm="https://auth.example.com/token",service="registry.example.com"')


@respx.mock
def test_tags_follow_link_pages_with_a_bearer_token() -> None:
    base = "https://registry.example.com/v2/acme/app/tags/list"
    respx.get(base, params={"n": "1000", "last": "1.1"}).respond(
        json={"name": "acme/app", "tags": ["2.0"]},
        headers={"Link": '<https://elsewhere.example.com/v2/acme/app/tags/list?last=2.0>; '
                         'rel="next"'})  # never followed: credentials stay with their host
    first = respx.get(base, params={"n": "1000"})
    first.side_effect = [
        httpx.Response(401, headers={"WWW-Authenticate": CHALLENGE}),
        httpx.Response(200, json={"name": "acme/app", "tags": ["1.0", "1.1"]}, headers={
            "Link": '</v2/acme/app/tags/list?n=1000&last=1.1>; rel="next"'}),
    ]
    token = respx.get("https://auth.example.com/token").respond(json={"token": "t0k"})
    client = RegistryClient({"registry.example.com": Credentials("me", "pw")})
    assert client.tags("registry.example.com/acme/app") == ["1.0", "1.1", "2.0"]
    assert token.calls[0].request.url.params["scope"] == "repository:acme/app:pull"
    assert respx.calls[-1].request.headers["authorization"] == "Bearer t0k"
    respx.get("https://registry.example.com/v2/acme/new/tags/list").respond(404, json={
        "errors": [{"code": "NAME_UNKNOWN"}]})
    assert client.tags("registry.example.com/acme/new") == []  # nothing pushed yet


@respx.mock
def test_a_busy_registry_is_asked_once_and_says_when_to_come_back() -> None:
    route = respx.get("https://ghcr.io/v2/acme/app/tags/list").respond(
        429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    with pytest.raises(RegistryBusy) as busy:
        RegistryClient().tags("ghcr.io/acme/app")
    assert route.call_count == 1  # no sleeping retries inside a worker pass
    assert busy.value.retry_after is not None and busy.value.retry_after > 3600


def test_poll_setting() -> None:
    assert parse_poll_setting(None) == PollSetting()
    assert parse_poll_setting("off") == PollSetting()
    assert parse_poll_setting("on") == PollSetting(enabled=True)
    assert parse_poll_setting("5m") == PollSetting(enabled=True, default=300.0)
    with pytest.raises(ValueError, match="HOIST_POLL_REGISTRIES must be"):
        parse_poll_setting("sometimes")


def dev_promotions(services: Services) -> list[tuple[str | None, str | None]]:
    return [(p.tag, p.digest) for p in services.store.promotions() if p.environment == "dev"]


@respx.mock
def test_backoff_baseline_new_tags_and_one_promotion_per_push(services: Services) -> None:
    services.registry = RegistryClient()
    services.polling = PollSetting(enabled=True, default=60.0)
    tags = respx.get(f"{API}/tags/list", params={"n": "1000"})
    tags.side_effect = [
        httpx.Response(429, headers={"Retry-After": "120"}),
        httpx.Response(503),
        httpx.Response(200, json={"tags": ["1.0.0", "1.4.2"]}),
        httpx.Response(200, json={"tags": ["1.0.0", "1.4.2", "1.4.3"]}),
        httpx.Response(200, json={"tags": ["1.0.0", "1.4.2", "1.4.3"]}),
    ]
    head = respx.head(f"{API}/manifests/1.4.3").respond(
        headers={"Docker-Content-Digest": DIGEST})
    t0 = 1_000_000.0
    assert poll_registries(services, t0) == 0  # 429: come back in 120 s
    assert poll_registries(services, t0 + 100) == 0 and tags.call_count == 1
    assert poll_registries(services, t0 + 121) == 0  # 503, no Retry-After: 4 x 60 s
    assert poll_registries(services, t0 + 300) == 0 and tags.call_count == 2
    assert poll_registries(services, t0 + 362) == 0  # the first listing is the baseline
    assert tags.call_count == 3 and head.call_count == 0
    assert poll_registries(services, t0 + 400) == 0 and tags.call_count == 3
    assert poll_registries(services, t0 + 423) == 1  # 1.4.3 is new
    assert poll_registries(services, t0 + 484) == 0 and head.call_count == 1

    services.polling = PollSetting()  # the worker below polls no more
    Worker(services).run_once()
    assert dev_promotions(services) == [("1.4.3", DIGEST)]
    # The same push through webhooks, with the digest and without (Docker Hub sends none).
    services.store.add_events([
        ImagePushed("distribution", "w1", "localhost:5000", "acme/guestbook", "1.4.3", DIGEST),
        ImagePushed("dockerhub", "w2", "localhost:5000", "acme/guestbook", "1.4.3", None),
    ], time.time())
    Worker(services).run_once()
    assert dev_promotions(services) == [("1.4.3", DIGEST)]


def logged(log: Path, event: str) -> list[dict[str, Any]]:
    """The JSON log lines of one event."""
    return [json.loads(line) for line in log.read_text().splitlines()
            if f'"event": "{event}"' in line]


def inbox_pending(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return float(next(line.split()[-1] for line in text.splitlines()
                      if line.startswith("hoist_inbox_pending")))


@pytest.mark.e2e
def test_registry_that_cannot_call_is_polled_and_webhooks_do_not_double(
        tmp_path: Path, stop_after: Any) -> None:  # noqa: F811
    need("git", "docker-registry", "skopeo")
    port = free_port()
    host = f"localhost:{port}"
    key = ssh_key(tmp_path / "keys")
    key_file = tmp_path / "keys" / "signing-key"
    key_file.write_text(key.private)
    service, origin, token = service_for(tmp_path, host, "    poll: 1s\n", {
        "HOIST_POLL_REGISTRIES": "on", "HOIST_SIGNING_KEY_FILE": str(key_file)})
    registry = LocalRegistry(tmp_path / "registry", port, None, token)  # no notifications
    registry.start()
    stop_after(registry)
    service.start()
    stop_after(service)
    log = tmp_path / "hoist.log"
    wait_for(lambda: '"event": "poll.baseline"' in log.read_text(), "the first listing")

    def webhook(tag: str, digest: str) -> None:
        body = json.dumps(distribution_envelope(host, "acme/guestbook", tag, digest))
        assert httpx.post(f"{service.url}/webhooks/registry/distribution", content=body,
                          headers={"Authorization": f"Bearer {token}"},
                          timeout=10).status_code == 202

    def promoted(tag: str) -> Any:
        return [p for p in service.promotions()
                if p["tag"] == tag and p["environment"] in ("dev", "staging")
                and p["state"] == "promoted"]

    # Pushed, never announced: found by the next poll and promoted.
    digest = write_oci_layout(tmp_path / "a", "1.4.2", "guestbook 1.4.2")
    registry.push(tmp_path / "a", "1.4.2", "acme/guestbook")
    wait_for(lambda: len(promoted("1.4.2")) == 2, "1.4.2 promoted from a poll", 60)
    assert {p["digest"] for p in promoted("1.4.2")} == {digest}
    webhook("1.4.2", digest)  # the same push, delivered late by webhook
    # Announced first, pushed second: the poll's sighting changes nothing.
    newer = write_oci_layout(tmp_path / "b", "1.4.3", "guestbook 1.4.3")
    webhook("1.4.3", newer)
    wait_for(lambda: len(promoted("1.4.3")) == 2, "1.4.3 promoted from the webhook", 60)
    registry.push(tmp_path / "b", "1.4.3", "acme/guestbook")
    wait_for(lambda: any("1.4.3" in e["tags"] for e in logged(log, "poll.found")),
             "the poll to see 1.4.3", 30)
    wait_for(lambda: inbox_pending(service.url) == 0, "the inbox to drain")
    versions = [(p["environment"], p["tag"]) for p in service.promotions()]
    assert sorted(versions) == sorted(set(versions))  # one promotion per push
    assert ("dev", "1.4.2") in versions and ("dev", "1.4.3") in versions
    # Every commit Hoist made on the way is signed (HOIST_SIGNING_KEY_FILE).
    ours = git(origin, "log", "--format=%H", "--committer=Hoist", "main").split()
    assert len(ours) == 4  # dev and staging, twice
    assert all(key.verify(origin, sha).returncode == 0 for sha in ours)
