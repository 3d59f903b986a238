"""CNCF Distribution (docker-registry) notifications: an envelope of events. GitLab's
container registry is Distribution and sends the same envelope."""

from __future__ import annotations

from typing import Any

from ..core.events import ImagePushed
from .base import Headers, PayloadError, check_token, json_object, moment

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
    token_headers: tuple[str, ...] = ()

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        """The registry's `notifications.endpoints[].headers` carries the token."""
        check_token(headers, secret, *self.token_headers)

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        """Tagged manifest pushes of the envelope; blobs, pulls, deletes are ignored."""
        envelope = json_object(body)
        if not isinstance(envelope.get("events"), list):
            raise PayloadError("expected an envelope object with an 'events' list")
        return [p for event in envelope["events"] if (p := self.push(event)) is not None]

    def push(self, event: Any) -> ImagePushed | None:
        """One event of the envelope as a push, or None if it is not a tagged manifest push."""
        if not isinstance(event, dict):
            raise PayloadError("each event must be an object")
        target = event.get("target")
        if event.get("action") != "push" or not isinstance(target, dict):
            return None
        media_type, url, tag = target.get("mediaType"), target.get("url"), target.get("tag")
        is_manifest = (isinstance(media_type, str) and media_type in MANIFEST_MEDIA_TYPES) or (
            isinstance(url, str) and "/manifests/" in url)
        if not is_manifest or not tag:
            return None
        if not isinstance(tag, str):
            raise PayloadError("target.tag must be a string")
        repository, event_id = target.get("repository"), event.get("id")
        if not isinstance(repository, str) or not repository or not isinstance(event_id, str):
            raise PayloadError("a push event needs 'id' and 'target.repository'")
        request = event.get("request")
        host = request.get("host") if isinstance(request, dict) else None
        digest = target.get("digest")
        return ImagePushed(self.name, event_id, host if isinstance(host, str) and host else None,
                           repository, tag, digest if isinstance(digest, str) else None,
                           moment(event, "timestamp"))


class GitLabSource(DistributionSource):
    """GitLab's registry notifications (Distribution's envelope); GitLab-style token header."""

    name = "gitlab"
    token_headers = ("x-gitlab-token",)
