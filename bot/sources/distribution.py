"""CNCF Distribution (docker-registry) notifications: an envelope of events."""

from __future__ import annotations

from typing import Any

from ..core.events import ImagePushed
from .base import Headers, PayloadError, check_bearer, json_body

MANIFEST_MEDIA_TYPES = frozenset({
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
})


class DistributionSource:
    name = "distribution"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        """The registry's `notifications.endpoints[].headers` carries a bearer token."""
        check_bearer(headers, secret)

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        """Tagged manifest pushes of the envelope; blobs, pulls, deletes are ignored."""
        envelope = json_body(body)
        if not isinstance(envelope, dict) or not isinstance(envelope.get("events"), list):
            raise PayloadError("expected an envelope object with an 'events' list")
        return [p for event in envelope["events"] if (p := _push(event)) is not None]


def _push(event: Any) -> ImagePushed | None:
    if not isinstance(event, dict):
        raise PayloadError("each event must be an object")
    target = event.get("target")
    if event.get("action") != "push" or not isinstance(target, dict):
        return None
    is_manifest = target.get("mediaType") in MANIFEST_MEDIA_TYPES or "/manifests/" in str(
        target.get("url", "")
    )
    tag = target.get("tag")
    if not is_manifest or not tag:
        return None
    repository, event_id = target.get("repository"), event.get("id")
    if not isinstance(repository, str) or not repository or not isinstance(event_id, str):
        raise PayloadError("a push event needs 'id' and 'target.repository'")
    request = event.get("request") if isinstance(event.get("request"), dict) else {}
    host = request.get("host") if isinstance(request, dict) else None
    digest = target.get("digest")
    return ImagePushed(
        source="distribution",
        event_id=event_id,
        registry=host if isinstance(host, str) and host else None,
        repository=repository,
        tag=str(tag),
        digest=digest if isinstance(digest, str) else None,
    )
