"""Azure Container Registry webhooks: one Distribution-style event per request."""

from __future__ import annotations

from ..core.events import ImagePushed
from .base import Headers, check_token, json_object
from .distribution import DistributionSource


class AcrSource:
    """ACR posts one event object (not an envelope) with the custom headers configured on the
    webhook (Microsoft's "Azure Container Registry webhook reference"): `{"id", "action":
    "push", "target": {"mediaType", "digest", "repository", "tag"}, "request": {"host"}}`.
    `chart_push`, `delete` and quarantine events are not pushes."""

    name = "acr"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        check_token(headers, secret)

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        event = json_object(body)
        if "events" in event:  # tolerate an envelope too
            return _AcrEvents().parse(headers, body)
        push = _AcrEvents().push(event)
        return [push] if push is not None else []


class _AcrEvents(DistributionSource):
    name = "acr"
