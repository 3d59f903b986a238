"""Quay (quay.io and Red Hat Quay) repository notifications."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from ..core.events import ImagePushed
from .base import Headers, PayloadError, body_id, check_token, json_object, split_reference, text


class QuaySource:
    """The `repo_push` notification: `{"repository", "namespace", "name", "docker_url",
    "homepage", "updated_tags"}`. `updated_tags` is a list of tag names (Quay docs since
    2017; Red Hat Quay 3.x) or, in the older generation, an object of tag name -> image id
    (coreos/quay-docs, with `pushed_image_count`); the image id is not a manifest digest,
    so pushes carry none. The image is `docker_url`, else the one `homepage` shows
    (`https://<host>/repository/<path>`). Quay's other notifications (builds,
    vulnerabilities) have no `updated_tags` and are not pushes. No signature: `?token=`."""

    name = "quay"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        check_token(headers, secret)

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        data = json_object(body)
        image = text(data, "docker_url") or _homepage_image(text(data, "homepage"))
        if image is None:
            raise PayloadError("expected docker_url (or homepage) in a Quay notification")
        tags: Any = data.get("updated_tags")
        if isinstance(tags, dict):
            tags = list(tags)
        if not isinstance(tags, list):
            return []  # a build or vulnerability notification
        registry, repository, _, _ = split_reference(image)
        event = body_id(body)
        return [ImagePushed(self.name, f"{event}/{tag}", registry, repository, tag, None)
                for tag in tags if isinstance(tag, str) and tag]


def _homepage_image(homepage: str | None) -> str | None:
    """`quay.io/ns/repo` from `https://quay.io/repository/ns/repo`."""
    url = urlparse(homepage or "")
    path = url.path.removeprefix("/repository/").strip("/")
    if not url.netloc or path == url.path.strip("/") or not path:
        return None
    return f"{url.netloc}/{path}"
