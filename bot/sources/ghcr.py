"""GitHub Packages / GHCR: the `package` and `registry_package` events of GitHub webhooks,
signed with X-Hub-Signature-256."""

from __future__ import annotations

from typing import Any

from ..core.events import ImagePushed
from .base import Headers, body_id, check_signature, json_object, split_reference, text

CONTAINER_KINDS = {"docker", "container"}


class GhcrSource:
    name = "ghcr"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        check_signature(headers, body, secret, "x-hub-signature-256")

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        data = json_object(body)
        event = headers.get("x-github-event") or next(
            (k for k in ("registry_package", "package") if k in data), "")
        if event not in ("package", "registry_package") or data.get("action") not in (
                "published", "updated"):
            return []
        package = data.get(event)
        if not isinstance(package, dict) or not _is_container(package):
            return []
        version = package.get("package_version")
        version = version if isinstance(version, dict) else {}
        url = text(version, "package_url")
        registry: str | None = "ghcr.io"
        repository: str | None = None
        if url:
            registry, repository, _, _ = split_reference(url)
            registry = registry or "ghcr.io"
        if not repository:
            owner = text(package, "owner", "login") or ""
            repository = f"{owner}/{text(package, 'name') or ''}".strip("/")
        tag = text(version, "container_metadata", "tag", "name")
        digest = text(version, "container_metadata", "tag", "digest") or text(version, "name")
        event_id = headers.get("x-github-delivery") or body_id(body)
        return [ImagePushed(self.name, event_id, registry, repository.lower(), tag,
                            digest if digest and digest.startswith("sha256:") else None)]


def _is_container(package: dict[str, Any]) -> bool:
    kinds = {str(package.get(k, "")).lower() for k in ("ecosystem", "package_type")}
    return bool(kinds & CONTAINER_KINDS)
