"""Every vendor's published payload parses to the right push, through the CLI and through
HTTP with the vendor's authentication; tampered or unauthenticated copies are refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from bot.adapters.oidc import OidcVerifier
from bot.cli import main
from bot.flows.services import Services
from bot.settings import Settings
from bot.sources import SOURCES, AuthError, build_sources
from bot.sources.generic import GenericSource
from bot.web.app import create_app
from tests.payloads import PAYLOADS, Payload
from tests.support import DATA, FIXTURES

SECRET = "It's a Secret to Everybody"
REG = FIXTURES / "registry"
GH = FIXTURES / "github"
IDS = [p.id for p in PAYLOADS]


def auth_headers(source: str, body: bytes) -> dict[str, str]:
    """The authentication each vendor can send."""
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "ghcr": {"X-Hub-Signature-256": signature, "X-GitHub-Event": "package"},
        "harbor": {"Authorization": SECRET},
        "artifactory": {"X-JFrog-Event-Auth": signature.removeprefix("sha256=")},
        "gitlab": {"X-Gitlab-Token": SECRET},
        "ecr": {"x-api-key": SECRET},
    }.get(source, {"Authorization": f"Bearer {SECRET}"})


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_fixture_parses_through_the_cli(payload: Payload,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    headers = [arg for name, value in payload.headers.items()
               for arg in ("--header", f"{name}: {value}")]
    code = main(["parse-event", "--source", payload.source, *headers, str(payload.path)])
    out, err = capsys.readouterr()
    if payload.expected is None:  # not JSON as published: one line, exit 2
        assert (code, out, err.count("\n")) == (2, "", 1) and "not valid JSON" in err
        return
    assert code == 0, err
    assert [json.loads(line) for line in out.splitlines()] == payload.expected


@pytest.fixture
def client(tmp_path: Path, services: Services) -> TestClient:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret=SECRET)
    return TestClient(create_app(settings, services, sources=build_sources()))


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_fixture_accepted_over_http_and_tampered_copy_refused(
        client: TestClient, services: Services, payload: Payload) -> None:
    source, body = payload.source, payload.path.read_bytes()
    headers = auth_headers(source, body) | payload.headers
    url = f"/webhooks/registry/{source}"
    # A flipped byte in the body (signed sources) or in the token (token sources) fails.
    tampered_body = body.replace(b"e", b"f", 1)
    tampered_headers = auth_headers(source, body)
    if source not in ("ghcr", "artifactory"):
        key = next(iter(tampered_headers))
        tampered_headers[key] = tampered_headers[key][:-1] + "?"
    refused = client.post(url, content=tampered_body if source in ("ghcr", "artifactory")
                          else body, headers=tampered_headers)
    assert refused.status_code == 401, refused.text
    assert services.store.pending_events() == []
    response = client.post(url, content=body, headers=headers)
    if payload.expected is None:
        assert response.status_code == 400 and "JSON" in response.json()["error"]
        return
    assert response.status_code == 202, response.text
    assert response.json()["pushes"] == payload.expected
    assert len(services.store.pending_events()) == len(payload.expected)


def test_query_token_for_senders_without_headers(client: TestClient) -> None:
    body = (REG / "dockerhub/push.json").read_bytes()
    assert client.post("/webhooks/registry/dockerhub", content=body).status_code == 401
    ok = client.post(f"/webhooks/registry/dockerhub?token={SECRET}", content=body)
    assert ok.status_code == 202


def test_github_route_uses_its_own_secret(tmp_path: Path, services: Services) -> None:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="other",
                        github_webhook_secret=SECRET)
    client = TestClient(create_app(settings, services))
    body = (DATA / "github/package.published.container.2025.json").read_bytes()
    headers = auth_headers("ghcr", body) | {"X-GitHub-Delivery": "d-1"}
    assert client.post("/webhooks/github", content=body, headers=headers).status_code == 202
    again = client.post("/webhooks/github", content=body, headers=headers)
    assert again.json()["duplicates"] == 1  # redelivery of the same X-GitHub-Delivery
    ping = (GH / "ping.json").read_bytes()
    assert client.post("/webhooks/github", content=ping, headers=auth_headers("ghcr", ping)
                       | {"X-GitHub-Event": "ping"}).json() == {"pong": True}
    pr = (GH / "pull_request.opened.json").read_bytes()
    ignored = client.post("/webhooks/github", content=pr,
                          headers=auth_headers("ghcr", pr) | {"X-GitHub-Event": "pull_request"})
    assert ignored.status_code == 202 and ignored.json() == {"accepted": 0, "event": "pull_request"}
    bad = client.post("/webhooks/github", content=pr,
                      headers={"X-GitHub-Event": "pull_request", "X-Hub-Signature-256": "sha256=0"})
    assert bad.status_code == 401
    disabled = TestClient(create_app(Settings(webhook_secret="x"), services))
    assert disabled.post("/webhooks/github", content=pr).status_code == 404


def test_github_documented_signature_vector() -> None:
    SOURCES["ghcr"].verify({"x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37"
                                                  "570b6d7586c22c46f4379c8b043e17"},
                           b"Hello, World!", SECRET)
    with pytest.raises(AuthError):
        SOURCES["ghcr"].verify({"x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a"
                                                      "37570b6d7586c22c46f4379c8b043e17"},
                               b"Hello, World?", SECRET)


def test_generic_source_token_hmac_and_replay_window() -> None:
    body = json.dumps({"registry": "ghcr.io", "repository": "acme/app", "tag": "1.2.3",
                       "digest": "sha256:" + "a" * 64, "id": "build-7"}).encode()
    source = GenericSource(clock=lambda: 1_000_000)
    [pushed] = source.parse({}, body)
    assert (pushed.registry, pushed.repository, pushed.tag, pushed.event_id) == (
        "ghcr.io", "acme/app", "1.2.3", "build-7")
    source.verify({"authorization": f"Bearer {SECRET}"}, body, SECRET)
    stamp = "1000000"
    signed = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"x-hoist-signature-256": f"sha256={signed}", "x-hoist-timestamp": stamp}
    source.verify(headers, body, SECRET)
    with pytest.raises(AuthError):
        source.verify(headers, body + b" ", SECRET)
    with pytest.raises(AuthError, match="replay"):
        GenericSource(clock=lambda: 1_000_000 + 301).verify(headers, body, SECRET)
    assert [p.tag for p in source.parse({}, json.dumps(
        {"pushes": [{"repository": "a/b", "tag": "1"}, {"repository": "a/b", "tag": "2"}]}
    ).encode())] == ["1", "2"]


def test_ecr_through_sns(client: TestClient) -> None:
    event = (REG / "ecr/image_push.json").read_text()
    note = json.dumps({"Type": "Notification", "MessageId": "m-1", "Message": event}).encode()
    response = client.post("/webhooks/registry/ecr", content=note,
                           headers={"Content-Type": "text/plain; charset=UTF-8",
                                    "Authorization": "Basic " + base64.b64encode(
                                        f"sns:{SECRET}".encode()).decode()})
    assert response.status_code == 202
    assert response.json()["pushes"][0]["repository"] == "my-repository-name"


def test_sns_subscription_confirmation_only_follows_sns_urls(tmp_path: Path,
                                                            services: Services) -> None:
    confirmed: list[str] = []
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret=SECRET)
    client = TestClient(create_app(settings, services, confirm_sns=confirmed.append))
    good = ("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:"
            "sns:us-west-2:123456789012:MyTopic&Token=abc")
    for url in (good, "https://evil.example.com/?Action=ConfirmSubscription&x=1"):
        body = json.dumps({"Type": "SubscriptionConfirmation", "SubscribeURL": url}).encode()
        client.post(f"/webhooks/registry/ecr?token={SECRET}", content=body)
    assert confirmed == [good]


def _signed_token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": "https://accounts.google.com", "aud": "https://hoist.example.com/push",
               "iat": now, "exp": now + 300, "email": "pubsub@acme.iam.gserviceaccount.com",
               "email_verified": True, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


@respx.mock
def test_gar_pubsub_oidc_token_verified_against_audience_and_jwks(tmp_path: Path,
                                                                  services: Services) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    respx.get("https://keys.example/jwks").respond(json={"keys": [{**jwk, "kid": "k1"}]})
    verifier = OidcVerifier("https://hoist.example.com/push", "https://keys.example/jwks",
                            "pubsub@acme.iam.gserviceaccount.com")
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret=SECRET)
    client = TestClient(create_app(settings, services, sources=build_sources(verifier)))
    data = (REG / "gar/artifact_registry.insert_tag.json").read_bytes()
    body = json.dumps({"message": {"data": base64.b64encode(data).decode(), "messageId": "42"},
                       "subscription": "projects/p/subscriptions/s"}).encode()

    def post(token: str) -> int:
        response = client.post("/webhooks/registry/gar", content=body,
                               headers={"Authorization": f"Bearer {token}"})
        return int(response.status_code)

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert post(_signed_token(other)) == 401  # not Google's key
    assert post(_signed_token(key, aud="https://elsewhere")) == 401
    assert post(_signed_token(key, email="mallory@x.iam.gserviceaccount.com")) == 401
    assert post(_signed_token(key, exp=int(time.time()) - 10)) == 401
    assert post(SECRET) == 401  # a plain token is not enough once OIDC is configured
    assert post(_signed_token(key)) == 202
    [(pushed, _)] = services.store.pending_events()
    assert (pushed.registry, pushed.tag, pushed.event_id) == ("us-west1-docker.pkg.dev", "1.1",
                                                              "42")
