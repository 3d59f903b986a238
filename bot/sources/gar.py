"""Google Artifact Registry and Container Registry notifications through a Pub/Sub push
subscription."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from ..core.events import ImagePushed
from .base import AuthError, Headers, PayloadError, body_id, check_token, json_object, split_reference, text

JwtVerifier = Callable[[str], dict[str, Any]]


class GarSource:
    """A Pub/Sub push envelope `{"message": {"data": base64, "messageId"}, "subscription"}`
    whose data is `{"action": "INSERT", "digest": "<host>/<path>@sha256:…", "tag":
    "<host>/<path>:<tag>"}` (Artifact Registry's "Configuring Pub/Sub notifications"; GCR
    published the same message with gcr.io names to the same `gcr` topic). The decoded
    message alone is accepted too. Untagged inserts and deletes are not pushes.
    Pub/Sub signs with an OIDC JWT; give a verifier (audience + Google's keys) to require it,
    else the token must come as `?token=` on the push endpoint."""

    name = "gar"

    def __init__(self, jwt_verifier: JwtVerifier | None = None) -> None:
        self.jwt_verifier = jwt_verifier

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        if self.jwt_verifier is None:
            check_token(headers, secret)
            return
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthError("missing Pub/Sub OIDC token")
        try:
            self.jwt_verifier(token.strip())
        except Exception as exc:
            raise AuthError(f"invalid Pub/Sub OIDC token: {exc}") from None

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        data = json_object(body)
        event_id = body_id(body)
        if "message" in data:
            message = data["message"]
            if not isinstance(message, dict) or not isinstance(message.get("data"), str):
                raise PayloadError("expected message.data in the Pub/Sub envelope")
            event_id = text(message, "messageId") or text(message, "message_id") or event_id
            try:
                decoded = base64.b64decode(message["data"], validate=True)
                data = json.loads(decoded)
            except (binascii.Error, ValueError, RecursionError):
                return []  # not an Artifact Registry message
            if not isinstance(data, dict):
                return []
        tagged = text(data, "tag")
        if data.get("action") != "INSERT" or tagged is None:
            return []
        registry, repository, tag, _ = split_reference(tagged)
        if tag is None or not repository:
            return []
        digest = split_reference(data["digest"])[3] if isinstance(data.get("digest"), str) else None
        return [ImagePushed(self.name, event_id, registry, repository, tag, digest)]
