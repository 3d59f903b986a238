"""What every registry source provides, and the errors it raises."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any, Protocol

from ..core.events import ImagePushed

Headers = Mapping[str, str]  # names lower-cased


class PayloadError(ValueError):
    """The body is not a payload this source understands."""


class AuthError(PermissionError):
    """The request does not carry valid credentials for this source."""


class Source(Protocol):
    name: str

    def verify(self, headers: Headers, body: bytes, secret: str) -> None:
        """Raise AuthError unless the request is authentic."""

    def parse(self, headers: Headers, body: bytes) -> list[ImagePushed]:
        """The pushes the body reports; [] when it is not a push."""


def lower_headers(headers: Mapping[str, str] | list[tuple[str, str]]) -> dict[str, str]:
    """Headers with lower-cased names, as every source expects them."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k.lower(): v for k, v in items}


def json_body(body: bytes) -> Any:
    """The body as JSON, or PayloadError naming the problem."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from None


def check_bearer(headers: Headers, secret: str) -> None:
    """Constant-time check of `Authorization: Bearer <secret>`."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), secret.encode()
    ):
        raise AuthError("missing or wrong bearer token")
