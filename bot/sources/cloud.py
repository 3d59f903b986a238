"""Cloud registries: Azure Container Registry, AWS ECR (EventBridge, directly or through
an SNS HTTPS subscription), Google Artifact Registry (Pub/Sub push)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from ..core.events import ImagePushed
from .base import (
    AuthError,
    Headers,
    PayloadError,
    body_id,
    check_token,
    json_object,
    split_reference,
    text,
)
from .distribution import DistributionSource

SNS_CONFIRM_URL = re.compile(r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/\?Action=ConfirmSubscription&")


class AcrSource:
    """ACR posts one Distribution-style event (not an envelope) with custom headers."""

    name = "acr"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        check_token(headers, secret)

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        event = json_object(body)
        if "events" in event:  # tolerate an envelope too
            return DistributionSource().parse(headers, body)
        push = _AcrEvents().push(event)
        return [push] if push is not None else []


class _AcrEvents(DistributionSource):
    name = "acr"


class EcrSource:
    """EventBridge `ECR Image Action` events (an API destination posts them as they are;
    an SNS topic wraps them in a Notification's `Message`)."""

    name = "ecr"

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        check_token(headers, secret, "x-api-key")

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        data: Any = json_object(body)
        if data.get("Type") == "SubscriptionConfirmation":
            return []
        if data.get("Type") == "Notification":
            message = data.get("Message")
            try:
                data = json.loads(message) if isinstance(message, str) else None
            except json.JSONDecodeError:
                data = None
            if not isinstance(data, dict):
                return []
        if data.get("source") != "aws.ecr" or data.get("detail-type") != "ECR Image Action":
            return []
        detail = data.get("detail")
        if not isinstance(detail, dict) or detail.get("action-type") != "PUSH" or \
                detail.get("result") != "SUCCESS":
            return []
        repository = text(detail, "repository-name")
        if repository is None:
            raise PayloadError("expected detail.repository-name")
        account, region = text(data, "account"), text(data, "region")
        registry = f"{account}.dkr.ecr.{region}.amazonaws.com" if account and region else None
        return [ImagePushed(self.name, text(data, "id") or body_id(body), registry, repository,
                            text(detail, "image-tag"), text(detail, "image-digest"))]


def sns_confirmation_url(body: bytes) -> str | None:
    """The SubscribeURL of an SNS SubscriptionConfirmation, if it is really SNS's."""
    try:
        data = json_object(body)
    except PayloadError:
        return None
    url = text(data, "SubscribeURL")
    if data.get("Type") == "SubscriptionConfirmation" and url and SNS_CONFIRM_URL.match(url):
        return url
    return None


JwtVerifier = Callable[[str], dict[str, Any]]


class GarSource:
    """Artifact Registry (and GCR) notifications through a Pub/Sub push subscription:
    base64 `message.data` holding `{"action": "INSERT", "digest": ..., "tag": ...}`.
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
            except (binascii.Error, ValueError):
                return []  # not an Artifact Registry message
            if not isinstance(data, dict):
                return []
        if data.get("action") != "INSERT" or not isinstance(data.get("tag"), str):
            return []
        registry, repository, tag, _ = split_reference(data["tag"])
        digest = split_reference(data["digest"])[3] if isinstance(data.get("digest"), str) else None
        return [ImagePushed(self.name, event_id, registry, repository, tag, digest)]
