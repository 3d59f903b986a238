"""What every registry source provides, and the helpers they share: JSON bodies, token and
HMAC checks in constant time, ids for events that carry none."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from ..core.events import ImagePushed

Headers = Mapping[str, str]  # names lower-cased
QUERY_TOKEN_HEADER = "x-hoist-token"  # where the web layer puts a `?token=` query parameter
_JSONC_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)


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
    """The body as JSON, or PayloadError naming the problem. Whole-line `//` comments (as in
    vendors' documented examples) are tolerated."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PayloadError("body is not UTF-8") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise PayloadError("body is nested too deeply") from None
    except json.JSONDecodeError as exc:
        try:
            return json.loads(_JSONC_COMMENT.sub("", text))
        except (json.JSONDecodeError, RecursionError):
            raise PayloadError(f"body is not valid JSON: {exc}") from None


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object."""
    data = json_body(body)
    if not isinstance(data, dict):
        raise PayloadError("expected a JSON object")
    return data


def _equal(given: str, secret: str) -> bool:
    return hmac.compare_digest(given.encode(), secret.encode())


def check_token(headers: Headers, secret: str, *extra_headers: str) -> None:
    """Accept the secret as `Authorization: Bearer`, as a Basic password, in a `?token=`
    query parameter, in `X-Hoist-Token`, or in one of the source's own headers."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    candidates = [headers.get(h, "") for h in (QUERY_TOKEN_HEADER, *extra_headers)]
    if scheme.lower() == "bearer":
        candidates.append(value.strip())
    elif scheme.lower() == "basic":
        with contextlib.suppress(ValueError):  # binascii.Error and UnicodeDecodeError too
            candidates.append(base64.b64decode(value.strip()).decode().partition(":")[2])
    # Every candidate is compared, so timing does not tell which one was close.
    results = [_equal(c, secret) for c in candidates if c]
    if not any(results):
        raise AuthError("missing or wrong token")


def hmac_hex(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(headers: Headers, body: bytes, secret: str, header: str,
                    prefix: str = "sha256=") -> None:
    """Constant-time check of an HMAC-SHA256 hex signature of the body."""
    given = headers.get(header, "")
    if not given.startswith(prefix) or not _equal(given[len(prefix):].lower(),
                                                  hmac_hex(secret, body)):
        raise AuthError(f"missing or wrong {header} signature")


def body_id(body: bytes) -> str:
    """An event id for payloads that carry none: the same body is the same event."""
    return "sha256-" + hashlib.sha256(body).hexdigest()[:32]


def text(data: Mapping[str, Any], *path: str) -> str | None:
    """A string found at path in nested JSON objects, or None."""
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value if isinstance(value, str) and value else None


def moment(data: Mapping[str, Any], *path: str) -> float | None:
    """A timestamp found at path, as epoch seconds: RFC 3339 (`2019-09-18T03:28:04Z`,
    `2022-03-09T16:31:06+09:00`, fractions allowed; GitHub, Gitea, newer GitLab) or GitLab's
    older `2015-05-17 18:21:36 UTC`. None when absent or malformed: a payload's time is a
    hint, never a reason to refuse the event."""
    value = text(data, *path)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.removesuffix(" UTC").replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def epoch(data: Mapping[str, Any], *path: str) -> float | None:
    """A timestamp found at path given as epoch seconds (Docker Hub's `pushed_at`, Harbor's
    `occur_at`) or as RFC 3339 text (see `moment`); None when absent or malformed."""
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return moment(data, *path)


def number(data: Mapping[str, Any], key: str) -> int:
    """A positive integer field (an id or a pull request number); PayloadError otherwise."""
    value = data.get(key)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise PayloadError(f"{key} is not a positive integer")
    return value


def stable_id(data: Mapping[str, Any], *path: str) -> str | None:
    """The id at path (a positive integer, or its digits) as text, or None when absent or
    not an id: a repository's or project's id, which names it however it is renamed or
    moved, where its name does not."""
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    if isinstance(value, str) and value.isdigit():
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return str(value)


def split_reference(ref: str) -> tuple[str | None, str, str | None, str | None]:
    """(registry, repository, tag, digest) of `host/path[:tag][@digest]`, leniently: vendors'
    examples hold masked or truncated digests, which later validation deals with."""
    rest, _, digest = ref.partition("@")
    slash, colon = rest.rfind("/"), rest.rfind(":")
    tag = None
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, remainder, tag or None, digest or None
    return None, rest, tag or None, digest or None
