"""Hoist's documented generic source, for any registry or CI job:

    POST /webhooks/registry/generic
    {"registry": "ghcr.io", "repository": "acme/app", "tag": "1.4.2", "digest": "sha256:…",
     "id": "optional unique delivery id"}

(or {"pushes": [ … ]} for several). Authenticated by the token (`Authorization: Bearer`),
or, when `X-Hoist-Signature-256: sha256=<hex HMAC-SHA256 of the body>` is sent, by that
signature instead; with `X-Hoist-Timestamp` (unix seconds) the signature covers
`<timestamp>.<body>` and stale timestamps (over 5 minutes) are refused as replays."""

from __future__ import annotations

import time
from typing import Any

from ..core.events import ImagePushed
from .base import (
    AuthError,
    Headers,
    PayloadError,
    body_id,
    check_signature,
    check_token,
    json_body,
    text,
)

SIGNATURE_HEADER = "x-hoist-signature-256"
TIMESTAMP_HEADER = "x-hoist-timestamp"
REPLAY_WINDOW = 300


class GenericSource:
    name = "generic"

    def __init__(self, clock: Any = time.time) -> None:
        self.clock = clock

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        if SIGNATURE_HEADER not in headers:
            check_token(headers, secret)
            return
        stamp = headers.get(TIMESTAMP_HEADER)
        if stamp is None:
            check_signature(headers, body, secret, SIGNATURE_HEADER)
            return
        try:
            age = abs(self.clock() - int(stamp))
        except ValueError:
            raise AuthError(f"{TIMESTAMP_HEADER} must be unix seconds") from None
        if age > REPLAY_WINDOW:
            raise AuthError("timestamp outside the replay window")
        check_signature(headers, stamp.encode() + b"." + body, secret, SIGNATURE_HEADER)

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        data = json_body(body)
        items = data.get("pushes") if isinstance(data, dict) and "pushes" in data else data
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list) or not items:
            raise PayloadError("expected a push object, a list of them, or {\"pushes\": [...]}")
        pushes = []
        for i, item in enumerate(items):
            repository = text(item, "repository") if isinstance(item, dict) else None
            if repository is None:
                raise PayloadError(f"push {i}: 'repository' is required")
            event_id = text(item, "id") or f"{body_id(body)}/{i}"
            pushes.append(ImagePushed(self.name, event_id, text(item, "registry"), repository,
                                      text(item, "tag"), text(item, "digest")))
        return pushes
