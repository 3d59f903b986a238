"""The OCI registry client: against the real docker-registry with htpasswd auth, and with
respx for the token flow and rate limits of public registries."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from bot.adapters.registry import Credentials, RegistryClient, RegistryError, load_credentials
from bot.demo.registry import LocalRegistry, free_port, write_oci_layout
from tests.support import need, write_htpasswd


@pytest.fixture
def authed_registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    need("docker-registry", "skopeo")
    registry = LocalRegistry(tmp_path / "registry", free_port(), "http://127.0.0.1:9/unused",
                             "unused", write_htpasswd(tmp_path / "htpasswd", "ci", "s3cret"))
    registry.start()
    yield registry
    registry.stop()


@pytest.mark.e2e
def test_real_registry_with_basic_auth(authed_registry: LocalRegistry, tmp_path: Path) -> None:
    digest = write_oci_layout(tmp_path / "layout", "1.2.3", "hello")
    authed_registry.push(tmp_path / "layout", "1.2.3", "acme/app", creds="ci:s3cret")
    image = f"{authed_registry.host}/acme/app"
    client = RegistryClient({authed_registry.host: Credentials("ci", "s3cret")})
    assert client.resolve(image, "1.2.3") == digest
    assert client.platforms(image, digest) == {"linux/amd64"}
    with pytest.raises(RegistryError, match="needs credentials"):
        RegistryClient().resolve(image, "1.2.3")
    with pytest.raises(RegistryError, match="401"):
        RegistryClient({authed_registry.host: Credentials("ci", "wrong")}).resolve(image, "1.2.3")
    with pytest.raises(RegistryError, match="404"):
        client.resolve(image, "9.9.9")


DIGEST = "sha256:" + "d" * 64
CHALLENGE = ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
             'scope="repository:library/nginx:pull"')


@respx.mock
def test_bearer_token_challenge_flow_and_token_reuse() -> None:
    manifest = respx.head("https://registry-1.docker.io/v2/library/nginx/manifests/1.27")
    manifest.side_effect = [
        httpx.Response(401, headers={"WWW-Authenticate": CHALLENGE}),
        httpx.Response(200, headers={"Docker-Content-Digest": DIGEST}),
        httpx.Response(200, headers={"Docker-Content-Digest": DIGEST}),
    ]
    token = respx.get("https://auth.docker.io/token").respond(json={"token": "t0k"})
    client = RegistryClient({"docker.io": Credentials("me", "pw")})
    assert client.resolve("nginx", "1.27") == DIGEST
    assert client.resolve("docker.io/library/nginx", "1.27") == DIGEST
    assert token.call_count == 1  # cached for the second call
    sent = token.calls[0].request
    assert sent.url.params["service"] == "registry.docker.io"
    assert sent.url.params["scope"] == "repository:library/nginx:pull"
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"me:pw").decode()
    assert manifest.calls[2].request.headers["authorization"] == "Bearer t0k"
    assert "application/vnd.oci.image.index.v1+json" in manifest.calls[0].request.headers["accept"]


@respx.mock
def test_rate_limits_are_honoured_and_other_4xx_not_retried() -> None:
    route = respx.head("https://ghcr.io/v2/acme/app/manifests/1.0")
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(503),
        httpx.Response(200, headers={"Docker-Content-Digest": DIGEST,
                                     "ratelimit-remaining": "0;w=21600"}),
    ]
    assert RegistryClient().resolve("ghcr.io/acme/app", "1.0") == DIGEST
    assert route.call_count == 3
    forbidden = respx.head("https://ghcr.io/v2/acme/private/manifests/1.0").respond(403)
    with pytest.raises(RegistryError, match="403"):
        RegistryClient().resolve("ghcr.io/acme/private", "1.0")
    assert forbidden.call_count == 1


@respx.mock
def test_platforms_of_an_index() -> None:
    index = {"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"digest": DIGEST, "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": DIGEST, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
    ]}
    respx.get("https://quay.io/v2/acme/app/manifests/1.0").respond(json=index)
    assert RegistryClient().platforms("quay.io/acme/app", "1.0") == {"linux/amd64",
                                                                      "linux/arm64/v8"}


def test_credentials_from_docker_config_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {
        "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hub:pw1").decode()},
        "ghcr.io": {"username": "gh", "password": "pw2"},
    }}))
    found = load_credentials({"HOIST_DOCKER_CONFIG": str(config), "HOIST_REGISTRY_AUTH": json.dumps(
        {"auths": {"ghcr.io": {"username": "override", "password": "pw3"}}})})
    assert found == {"docker.io": Credentials("hub", "pw1"), "ghcr.io": Credentials("override",
                                                                                    "pw3")}
    with pytest.raises(RegistryError, match="not valid"):
        load_credentials({"HOIST_DOCKER_CONFIG": str(tmp_path / "none"),
                          "HOIST_REGISTRY_AUTH": "{oops"})
