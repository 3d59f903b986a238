"""The OCI distribution API over httpx: tag → digest, manifest lists and platforms, with the
registries' auth (Basic, or the Bearer token challenge) and their rate limits."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import structlog
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from ..core.images import normalize_name
from ..telemetry import MeteredTransport

log = structlog.get_logger()

MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
INDEX_TYPES = {"application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json"}
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_API_PATH = re.compile(r"/(?:manifests|blobs|tags|referrers)/")  # what follows the repository name


class RegistryError(RuntimeError):
    """The registry refused or failed; the message says how (never with credentials)."""


class RegistryBusy(RegistryError):
    """429, 5xx or unreachable: worth trying again, after `retry_after` seconds if the
    registry said (Retry-After, RFC 9110 §10.2.3; RateLimit-Reset when nothing is left)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RepositoryUnknown(RegistryError):
    """404: the registry has no such repository (or tag)."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = ""


def load_credentials(env: Mapping[str, str] | None = None) -> dict[str, Credentials]:
    """Registry credentials by host, from a Docker config file (`HOIST_DOCKER_CONFIG`, or
    `$DOCKER_CONFIG/config.json`, or ~/.docker/config.json) and `HOIST_REGISTRY_AUTH`
    (the same `{"auths": {...}}` JSON inline); the variable wins."""
    env = os.environ if env is None else env
    path = Path(env.get("HOIST_DOCKER_CONFIG") or
                Path(env.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json")
    documents = []
    if path.is_file():
        documents.append(path.read_text())
    if env.get("HOIST_REGISTRY_AUTH"):
        documents.append(env["HOIST_REGISTRY_AUTH"])
    found: dict[str, Credentials] = {}
    for document in documents:
        try:
            auths = json.loads(document).get("auths", {})
        except (json.JSONDecodeError, AttributeError):
            raise RegistryError("registry credentials are not valid Docker config JSON") from None
        for host, entry in auths.items():
            user, password = entry.get("username"), entry.get("password")
            if entry.get("auth"):
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            if user:
                found[_host_of(host)] = Credentials(user, password or "")
    return found


def _host_of(host: str) -> str:
    host = re.sub(r"^https?://", "", host).split("/")[0]
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RegistryBusy) and exc.retry_after is not None:
        return min(exc.retry_after, 60.0)
    return float(wait_exponential(multiplier=0.5, max=20)(state))


class RegistryClient:
    """A small OCI distribution client; one instance per process (it caches tokens)."""

    def __init__(self, credentials: dict[str, Credentials] | None = None,
                 insecure: tuple[str, ...] = (), timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.credentials = credentials or {}
        self.insecure = insecure
        self.http = httpx.Client(timeout=timeout, transport=MeteredTransport("registry", transport),
                                 follow_redirects=True)
        self._tokens: dict[tuple[str, str], str] = {}

    def _base(self, host: str) -> str:
        api = "registry-1.docker.io" if host == "docker.io" else host
        plain = host.startswith(("localhost", "127.")) or host in self.insecure
        return f"{'http' if plain else 'https'}://{api}"

    @staticmethod
    def _split(image: str) -> tuple[str, str]:
        host, _, path = normalize_name(image).partition("/")
        return host, path

    @retry(retry=retry_if_exception(lambda e: isinstance(e, RegistryBusy)),
           stop=stop_after_attempt(5), wait=_wait, reraise=True)
    def _request(self, method: str, host: str, path: str, accept: str,
                 content: bytes | None = None, content_type: str | None = None) -> httpx.Response:
        """One API call, retried while the registry is busy (sleeping up to a minute)."""
        return self._attempt(method, host, path, accept, content, content_type)

    def _attempt(self, method: str, host: str, path: str, accept: str,
                 content: bytes | None = None, content_type: str | None = None) -> httpx.Response:
        """One API call (answering an auth challenge once); RegistryBusy, RepositoryUnknown
        or RegistryError when it fails. `path` follows /v2/ and may carry a query; a call
        with `content` (a push) asks for the `pull,push` scope."""
        url = f"{self._base(host)}/v2/{path}"
        access = "pull,push" if method in ("POST", "PUT") else "pull"
        scope = f"repository:{_API_PATH.split(path)[0]}:{access}"
        headers = {"Accept": accept, **({"Content-Type": content_type} if content_type else {})}
        token = self._tokens.get((host, scope))
        if token:
            headers["Authorization"] = token
        try:
            response = self.http.request(method, url, headers=headers, content=content)
            if response.status_code == 401 and "www-authenticate" in response.headers:
                headers["Authorization"] = self._authorize(host, scope,
                                                           response.headers["www-authenticate"])
                self._tokens[(host, scope)] = headers["Authorization"]
                response = self.http.request(method, url, headers=headers, content=content)
        except httpx.TransportError as exc:
            raise RegistryBusy(f"{host} unreachable: {type(exc).__name__}") from None
        remaining = response.headers.get("ratelimit-remaining", "")
        if remaining.split(";")[0] == "0":
            log.warning("registry.rate_limit_exhausted", host=host)
        if response.status_code == 429 or response.status_code >= 500:
            raise RegistryBusy(f"{host} answered {response.status_code}",
                               _seconds(response.headers.get("retry-after")
                                        or response.headers.get("ratelimit-reset")))
        if response.status_code == 404:
            raise RepositoryUnknown(f"{host} answered 404 for {path}")
        if response.status_code >= 400:
            raise RegistryError(f"{host} answered {response.status_code} for {path}")
        return response

    def _authorize(self, host: str, scope: str, challenge: str) -> str:
        """The Authorization value answering a Basic or Bearer challenge."""
        scheme = challenge.split(" ", 1)[0].lower()
        creds = self.credentials.get(host)
        if scheme == "basic":
            if creds is None:
                raise RegistryError(f"{host} needs credentials and none are configured")
            raw = f"{creds.username}:{creds.password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        realm = params.pop("realm", None)
        if scheme != "bearer" or not realm:
            raise RegistryError(f"{host} sent an authentication challenge Hoist cannot answer")
        params.setdefault("scope", scope)
        auth = (creds.username, creds.password) if creds else None
        try:
            reply = self.http.get(realm, params=params, auth=auth)
        except httpx.TransportError as exc:
            raise RegistryBusy(f"token service of {host} unreachable: {type(exc).__name__}") from None
        if reply.status_code != 200:
            raise RegistryError(f"token service of {host} answered {reply.status_code}")
        body: dict[str, Any] = reply.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            raise RegistryError(f"token service of {host} returned no token")
        return f"Bearer {token}"

    def send(self, method: str, image: str, path: str, accept: str = "*/*",
             content: bytes | None = None, content_type: str | None = None) -> httpx.Response:
        """One call to `/v2/<repository>/<path>` (the OCI distribution API), retried while
        the registry is busy; RepositoryUnknown on 404, RegistryError on other refusals.
        adapters/verify/ reads signatures and pushes attestations through it."""
        host, name = self._split(image)
        return self._request(method, host, f"{name}/{path}", accept, content, content_type)

    def resolve(self, image: str, tag: str) -> str:
        """The digest the tag points at now."""
        host, path = self._split(image)
        response = self._request("HEAD", host, f"{path}/manifests/{tag}", MANIFEST_TYPES)
        digest: str | None = response.headers.get("docker-content-digest")
        if digest:
            return digest
        body = self._request("GET", host, f"{path}/manifests/{tag}", MANIFEST_TYPES).content
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def tags(self, image: str, page: int = 1000) -> list[str]:
        """Every tag of the repository, following `Link: <…>; rel="next"` pages (OCI
        distribution spec, "Listing Tags"); [] when the repository does not exist yet.
        Made once, not retried: RegistryBusy says when the registry wants to be asked
        again, and the caller (flows/poll.py) waits that long without blocking."""
        host, path = self._split(image)
        listed: list[str] = []
        query: str | None = f"{path}/tags/list?n={page}"
        for _ in range(10_000):  # a registry whose next link loops is not followed forever
            if query is None:
                break
            try:
                response = self._attempt("GET", host, query, "application/json")
            except RepositoryUnknown:
                return listed
            listed += response.json().get("tags") or []
            query = _next_page(response, self._base(host))
        return listed

    def digest(self, image: str, tag: str) -> str:
        """The digest a tag points at, by one HEAD request, not retried (see tags())."""
        host, path = self._split(image)
        response = self._attempt("HEAD", host, f"{path}/manifests/{tag}", MANIFEST_TYPES)
        found: str | None = response.headers.get("docker-content-digest")
        return found or self.resolve(image, tag)

    def manifest(self, image: str, reference: str) -> tuple[str, dict[str, Any]]:
        """(media type, parsed manifest) for a tag or digest."""
        host, path = self._split(image)
        response = self._request("GET", host, f"{path}/manifests/{reference}", MANIFEST_TYPES)
        data: dict[str, Any] = response.json()
        media_type = response.headers.get("content-type", "").split(";")[0]
        return data.get("mediaType") or media_type, data

    def platforms(self, image: str, reference: str) -> set[str]:
        """os/arch[/variant] the image offers (from its index, or its config blob)."""
        host, path = self._split(image)
        media_type, data = self.manifest(image, reference)
        if media_type in INDEX_TYPES or "manifests" in data:
            found = set()
            for entry in data.get("manifests", []):
                p = entry.get("platform") or {}
                if p.get("os") and p.get("architecture"):
                    found.add("/".join(x for x in (p["os"], p["architecture"], p.get("variant"))
                                       if x))
            return found
        config_digest = data.get("config", {}).get("digest")
        blob = self._request("GET", host, f"{path}/blobs/{config_digest}", "*/*").json()
        platform = "/".join(x for x in (blob.get("os"), blob.get("architecture"),
                                        blob.get("variant")) if x)
        return {platform} if platform else set()

    def created(self, image: str, reference: str) -> float | None:
        """When the image was built (epoch seconds): its config blob's `created` (OCI
        image-spec config, RFC 3339), through the first manifest of an index; None when
        the config does not say."""
        host, path = self._split(image)
        media_type, data = self.manifest(image, reference)
        if media_type in INDEX_TYPES or "manifests" in data:
            first = (data.get("manifests") or [{}])[0].get("digest")
            if not first:
                return None
            _, data = self.manifest(image, first)
        config_digest = data.get("config", {}).get("digest")
        blob = self._request("GET", host, f"{path}/blobs/{config_digest}", "*/*").json()
        stamp = blob.get("created") if isinstance(blob, dict) else None
        if not stamp:
            return None
        # Go writes nanoseconds (`…:04.123456789Z`); datetime takes microseconds.
        text = re.sub(r"(\.\d{6})\d+", r"\1", str(stamp)).replace("Z", "+00:00")
        try:
            return datetime.fromisoformat(text).timestamp()
        except ValueError:
            return None


def _seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.split(";")[0].strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _next_page(response: httpx.Response, base: str) -> str | None:
    """The path after /v2/ of the next page, or None; a link to another host is ignored
    (credentials are never sent elsewhere)."""
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    target = response.url.join(link)
    if f"{target.scheme}://{target.netloc.decode()}" != base or not target.path.startswith("/v2/"):
        log.warning("registry.foreign_next_link", link=link)
        return None
    query = target.query.decode()
    return target.path.removeprefix("/v2/") + (f"?{query}" if query else "")
