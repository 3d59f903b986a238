"""GitHub Packages: the `package` and `registry_package` webhook events, signed with
X-Hub-Signature-256, in every generation GitHub has sent for container images."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from ..core.events import ImagePushed
from .base import Headers, body_id, check_signature, json_object, split_reference, text

# X-GitHub-Event -> the body's key. `package_v2` was the event of the Container registry's
# 2020 beta (its body under `package`, action `create`).
PACKAGE_EVENTS = {"package": "package", "registry_package": "registry_package",
                  "package_v2": "package"}
PUBLISH_ACTIONS = frozenset({"published", "create"})
# GitHub's `package_type`: `container` for ghcr.io (CONTAINER in webhooks), `docker` for the
# retired Docker registry docker.pkg.github.com; npm, maven, rubygems, nuget are not images.
IMAGE_TYPES = frozenset({"container", "docker"})
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


class GhcrSource:
    """Generations (octokit/webhooks payload schemas; captured deliveries in SOURCES.md):

    - docker.pkg.github.com (2019-2021): `package_type: docker`, the tag in
      `package_version.version`, the image `<registry.url host+path>/<name>`, no digest.
    - ghcr.io beta (2020): event `package_v2`, action `create`, `ecosystem: CONTAINER`, the
      tag and digest in `package_version.container_metadata.tag`.
    - ghcr.io (2021-): `package_type: CONTAINER`, `package_version.version` is the digest,
      the tag in `container_metadata.tag.name`, `package_url: ghcr.io/<owner>/<name>:<tag>`.

    Only publishes are pushes (not `updated`, not deletes). Untagged versions are not
    pushes either: GitHub sends one event per manifest of a multi-platform image (github/docs
    issue 22091), and the platform manifests and attestations carry no tag. Packages of
    other types are not images."""

    name = "ghcr"
    events = frozenset(PACKAGE_EVENTS)

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        check_signature(headers, body, secret, "x-hub-signature-256")

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        data = json_object(body)
        event = headers.get("x-github-event") or next(
            (k for k in ("registry_package", "package") if k in data), "")
        package = data.get(PACKAGE_EVENTS.get(event, ""))
        if text(data, "action") not in PUBLISH_ACTIONS or not isinstance(package, dict):
            return []
        kind = _package_type(package)
        if kind not in IMAGE_TYPES:
            return []
        version: Any = package.get("package_version")
        version = version if isinstance(version, dict) else {}
        registry, repository, url_tag = _image(data, package, version, kind)
        # A version that is not a digest is the tag, in every generation (the legacy
        # registry's always, ghcr.io's when a delivery names the version by its tag).
        tag = text(version, "container_metadata", "tag", "name") or url_tag or \
            _not_digest(text(version, "version"))
        if tag is None or not repository:
            return []
        event_id = headers.get("x-github-delivery") or body_id(body)
        return [ImagePushed(self.name, event_id, registry, repository.lower(), tag,
                            _digest(version))]


def _package_type(package: dict[str, Any]) -> str:
    """The first of `package_type`, `ecosystem`, `registry.type` that is set, lower-cased:
    `package_type` is the documented field; the 2020 beta sent only `ecosystem`."""
    for value in (package.get("package_type"), package.get("ecosystem"),
                  text(package, "registry", "type")):
        if isinstance(value, str) and value:
            return value.lower()
    return ""


def _image(data: dict[str, Any], package: dict[str, Any], version: dict[str, Any],
           kind: str) -> tuple[str, str, str | None]:
    """(registry, repository, tag in the URL) from `package_url`, else rebuilt: the legacy
    registry's URL names `docker.pkg.github.com/<owner>/<repo>`, ghcr.io `<owner>/<name>`."""
    url = text(version, "package_url")
    if url:
        registry, repository, tag, _ = split_reference(url)
        return (registry or "ghcr.io").lower(), repository, tag
    name = text(package, "name") or ""
    if kind == "docker":
        legacy = urlparse(text(package, "registry", "url") or "")
        path = legacy.path.strip("/") or text(data, "repository", "full_name") or ""
        return ((legacy.netloc or "docker.pkg.github.com").lower(),
                f"{path}/{name}" if path and name else "", None)
    owner = (text(package, "owner", "login") or text(package, "namespace")
             or text(data, "organization", "login") or "")
    return "ghcr.io", f"{owner}/{name}" if owner and name else "", None


def _digest(version: dict[str, Any]) -> str | None:
    """The manifest digest: the tag's, the manifest's, or the version itself (ghcr.io names
    a version by its digest)."""
    for value in (text(version, "container_metadata", "tag", "digest"),
                  text(version, "container_metadata", "manifest", "digest"),
                  text(version, "version"), text(version, "name")):
        if value and value.startswith("sha256:"):
            return value
    return None


def _not_digest(value: str | None) -> str | None:
    """value unless it is empty or a digest (`<algorithm>:<hex>`, OCI image-spec)."""
    return value if value and not _DIGEST.fullmatch(value) else None
