"""AWS ECR: EventBridge `ECR Image Action` events, posted as they are by an API destination
or wrapped in the `Message` of an SNS HTTPS Notification."""

from __future__ import annotations

import json
from typing import Any

from ..core.events import ImagePushed
from .aws import ecr_registry, is_sns_confirmation_url
from .base import Headers, PayloadError, body_id, check_token, json_object, text


class EcrSource:
    """Shapes (Amazon ECR User Guide, "Amazon ECR events and EventBridge"):
    `{"source": "aws.ecr", "detail-type": "ECR Image Action", "account", "region",
    "resources": [repository ARN]?, "detail": {"action-type": "PUSH", "result": "SUCCESS",
    "repository-name", "image-tag"?, "image-digest"}}`. The registry host is built from the
    account and region with the partition's DNS suffix (see `aws.py`): a push in cn-north-1
    comes from `<account>.dkr.ecr.cn-north-1.amazonaws.com.cn`. Scans, deletes, failed
    pushes, other sources and SNS subscription confirmations are not pushes."""

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
            except (json.JSONDecodeError, RecursionError):
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
        registry = ecr_registry(account, region, data.get("resources")) \
            if account and region else None
        return [ImagePushed(self.name, text(data, "id") or body_id(body), registry, repository,
                            text(detail, "image-tag"), text(detail, "image-digest"))]


def sns_confirmation_url(body: bytes) -> str | None:
    """The SubscribeURL of an SNS SubscriptionConfirmation, if it is really SNS's (in the
    partition its region belongs to)."""
    try:
        data = json_object(body)
    except PayloadError:
        return None
    url = text(data, "SubscribeURL")
    if data.get("Type") == "SubscriptionConfirmation" and url and is_sns_confirmation_url(url):
        return url
    return None
