"""Who may read: everyone, unless HOIST_UI_TOKEN is set; then the page and the read API need
it, as a bearer token (scripts; HOIST_API_TOKEN works too) or as the session cookie the
page's sign-in form sets (browsers, including the page's live-update stream)."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from ..settings import Settings

COOKIE = "hoist_ui"


def session_value(token: str) -> str:
    """The cookie's value: derived from the token, so the cookie never holds the token."""
    return hmac.new(token.encode(), b"hoist-ui-session", hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def token_matches(settings: Settings, given: str) -> bool:
    """True when `given` is the UI token (constant time)."""
    return settings.ui_token is not None and _same(given, settings.ui_token)


def may_read(settings: Settings, request: Request) -> bool:
    """True when reads are open, or the request carries the UI token (or the API token) as a
    bearer token, or the session cookie."""
    if settings.ui_token is None:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given:
        tokens = [t for t in (settings.ui_token, settings.api_token) if t]
        if any(_same(given, t) for t in tokens):
            return True
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and _same(cookie, session_value(settings.ui_token))
