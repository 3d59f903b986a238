"""structlog set-up: JSON in production, readable on a terminal; secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = ("secret", "token", "password", "authorization", "private_key")
Processor = Any


def redactor(secrets: Iterable[str]) -> Processor:
    """A processor that masks secret-looking fields and any known secret value, at any depth:
    inside dicts, lists, tuples and sets, exceptions (as their text) and the traceback text
    `format_exc_info` leaves in `exception` (so it runs after that processor)."""
    # Longest first: a secret that contains another is masked whole.
    known = sorted({s for s in secrets if s}, key=len, reverse=True)

    def clean(value: Any, depth: int = 0) -> Any:
        if isinstance(value, BaseException):
            value = f"{type(value).__name__}: {value}"
        if isinstance(value, str):
            for secret in known:
                value = value.replace(secret, "***")
            return value
        if depth > 20:  # deeper than any log event: shown as a mask, not walked
            return "***"
        if isinstance(value, Mapping):
            return {k: "***" if _secret_key(k) else clean(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [clean(v, depth + 1) for v in value]
        return value

    def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            event[key] = "***" if _secret_key(key) else clean(value)
        return event

    return redact


def redact_url(text: str, url: str) -> str:
    """text without the credentials embedded in url (https://user:token@host/… → `***`);
    `redact_url(url, url)` is the URL safe to log."""
    if "@" in url and "://" in url:
        secret = url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[0]
        if secret:
            text = text.replace(secret, "***")
    return text


def _secret_key(key: object) -> bool:
    return isinstance(key, str) and any(word in key.lower() for word in _SECRET_KEYS)


def configure(fmt: str = "auto", secrets: Iterable[str] = ()) -> None:
    """Configure structlog once for the process."""
    json_output = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Processor = (
        structlog.processors.JSONRenderer() if json_output
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redactor(secrets),
            renderer,
        ],
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=True,
    )
