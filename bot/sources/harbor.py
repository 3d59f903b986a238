"""Harbor webhooks, every generation of its push payload."""

from __future__ import annotations

from typing import Any

from ..core.events import ImagePushed
from .base import (
    Headers,
    PayloadError,
    body_id,
    check_token,
    epoch,
    json_object,
    split_reference,
    text,
)

# Harbor 2.x Default format (`PUSH_ARTIFACT`), Harbor 1.9/1.10 (`pushImage`, the same
# `event_data` shape: src/pkg/notification/model `EventTypePushImage`), and the CloudEvents
# format (`harbor.artifact.pushed`, the same payload under `data`).
PUSH_TYPES = {"PUSH_ARTIFACT": "event_data", "pushImage": "event_data",
              "harbor.artifact.pushed": "data"}


class HarborSource:
    """`{"type", "occur_at", "operator", "event_data": {"resources": [{"digest", "tag",
    "resource_url"}], "repository": {"repo_full_name", …}}}` for both generations of the
    Default format, and the CloudEvents envelope with the same payload under `data`. One
    push per resource; a push by digest (Harbor repeats the digest as the tag) has no tag.
    Other types (pulls, deletes, scans, chart uploads, quotas) are not pushes. Harbor sends
    the auth header configured on the webhook."""

    name = "harbor"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        check_token(headers, secret, "authorization")

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        data = json_object(body)
        kind = data.get("type")
        if not isinstance(kind, str):
            raise PayloadError("expected a Harbor event with a 'type'")
        if kind not in PUSH_TYPES:
            return []  # another Harbor event
        payload: Any = data.get(PUSH_TYPES[kind])
        if not isinstance(payload, dict) or not isinstance(payload.get("resources"), list):
            raise PayloadError("expected resources in the Harbor event data")
        event_id = text(data, "id") or body_id(body)  # only CloudEvents carry an id
        pushes = []
        for i, resource in enumerate(payload["resources"]):
            url = text(resource, "resource_url") if isinstance(resource, dict) else None
            if url is None:
                continue
            registry, repository, _, _ = split_reference(url)
            tag, digest = text(resource, "tag"), text(resource, "digest")
            if tag is not None and tag == digest:
                tag = None  # a push by digest: Harbor repeats the digest as the tag
            pushes.append(ImagePushed(self.name, f"{event_id}/{i}", registry,
                                      text(payload, "repository", "repo_full_name") or repository,
                                      tag, digest, epoch(data, "occur_at")))
        return pushes
