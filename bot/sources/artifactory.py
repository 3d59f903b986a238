"""JFrog Artifactory webhooks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from ..core.events import ImagePushed
from .base import AuthError, Headers, PayloadError, body_id, check_signature, check_token, json_object, text


class ArtifactorySource:
    """`docker` / `pushed` events. The platform sends the predefined envelope `{"domain":
    "docker", "event_type": "pushed", "data": {…}, "subscription_key", "jpd_origin",
    "source"}` (JFrog's "Event Types"); JFrog's domain page shows the `data` object alone
    (`{"repo_key", "event_type": "pushed", "image_name", "tag", "sha256", …}`), which is
    accepted too, with no registry host. The image is addressed the repository-path way:
    `<platform host>/<repo_key>/<image_name>`. JFrog sends the webhook's secret in
    `X-JFrog-Event-Auth`, or, with payload signing, an HMAC-SHA256 of the body there."""

    name = "artifactory"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        try:
            check_signature(headers, body, secret, "x-jfrog-event-auth", prefix="")
        except AuthError:
            check_token(headers, secret, "x-jfrog-event-auth")

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        envelope = json_object(body)
        data: Any = envelope.get("data")
        if "domain" not in envelope and "image_name" in envelope:
            data = envelope  # the data object alone, as JFrog's domain page shows it
        elif envelope.get("domain") != "docker":
            return []
        if envelope.get("event_type") != "pushed":
            return []
        data = data if isinstance(data, dict) else {}
        image, repo_key, tag = text(data, "image_name"), text(data, "repo_key"), text(data, "tag")
        if image is None or repo_key is None:
            raise PayloadError("expected data.image_name and data.repo_key")
        origin = text(envelope, "jpd_origin")
        registry = urlparse(origin).netloc or None if origin else None
        sha = text(data, "sha256")
        return [ImagePushed(self.name, body_id(body), registry, f"{repo_key}/{image}", tag,
                            f"sha256:{sha}" if sha else None)]
