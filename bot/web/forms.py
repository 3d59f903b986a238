"""What every form on the page carries and every form post is checked for: a CSRF token
bound to the person's session (or, before sign-in, to a random value in a cookie of its
own: the HOIST_UI_TOKEN form), and an Origin (else Referer) that is Hoist's own
(HOIST_PUBLIC_URL, else the address the request came to). core/signin.py has the rules."""

from __future__ import annotations

import hashlib
import os
from urllib.parse import parse_qs

from fastapi import Request, Response

from ..core import signin
from ..settings import Settings

FIELD = "csrf"  # the hidden field's name
_PROCESS_KEY = os.urandom(32)  # no secret configured: tokens valid in this process only


def csrf_key(settings: Settings) -> bytes:
    """The HMAC key of CSRF tokens: from the OAuth client secret, else HOIST_UI_TOKEN (the
    same on every replica), else a key of this process."""
    secret = settings.signin.client_secret if settings.signin else settings.ui_token
    if not secret:
        return _PROCESS_KEY
    return hashlib.sha256(b"hoist-csrf\0" + secret.encode()).digest()


def cookie_rules(settings: Settings, request: Request) -> signin.CookieRules:
    """The session cookie's rules for HOIST_PUBLIC_URL; without one (or one sign-in could
    not use), Secure follows the request's scheme."""
    if settings.public_url:
        try:
            return signin.cookie_rules(settings.public_url)
        except ValueError:
            pass
    secure = request.url.scheme == "https" or \
        request.headers.get("x-forwarded-proto") == "https"
    return signin.CookieRules(signin.COOKIE_SECURE if secure else signin.COOKIE_PLAIN, secure)


def _anonymous_cookie(settings: Settings, request: Request) -> signin.CookieRules:
    rules = cookie_rules(settings, request)
    return signin.CookieRules(rules.name.replace("session", "csrf"), rules.secure)


def anonymous_token(settings: Settings, request: Request, response: Response) -> str:
    """The form token for a browser not signed in; sets its cookie on `response` when the
    browser has none yet."""
    rules = _anonymous_cookie(settings, request)
    value = request.cookies.get(rules.name, "")
    if len(value) < 22:
        value = signin.opaque(os.urandom(32))
        response.headers.append("set-cookie", signin.set_cookie_header(rules, value, 3600))
    return signin.csrf_token(csrf_key(settings), "anon:" + value)


def from_here(settings: Settings, request: Request) -> bool:
    """The request's Origin (else Referer) is HOIST_PUBLIC_URL's origin; without one, its
    host is the one the request was sent to (Host or X-Forwarded-Host; any scheme, since a
    proxy may end TLS)."""
    origin, referer = request.headers.get("origin"), request.headers.get("referer")
    if settings.public_url:
        return signin.origin_ok(origin, referer, settings.public_url)
    given = signin.origin_of((origin if origin and origin != "null" else referer) or "")
    hosts = {h.strip().lower().removesuffix(":443").removesuffix(":80") for h in (
        request.headers.get("host"), request.headers.get("x-forwarded-host")) if h}
    return bool(given) and given.partition("://")[2] in hosts


async def read_form(request: Request, limit: int = 4096) -> dict[str, str]:
    """A form post's fields (first value of each), at most `limit` bytes read."""
    body = await request.body()
    return {k: v[0] for k, v in parse_qs(body[:limit].decode("utf-8", "replace")).items()}


def form_problem(settings: Settings, request: Request, form: dict[str, str],
                 session: str | None) -> str | None:
    """Why a form post is refused (None: it is not): not from Hoist's own page, or without
    the token of `session` (None: the anonymous browser's cookie)."""
    if not from_here(settings, request):
        return "this form was not sent from Hoist's own page"
    if session is None:
        value = request.cookies.get(_anonymous_cookie(settings, request).name, "")
        session = "anon:" + value if value else ""
    if not signin.csrf_ok(csrf_key(settings), session, form.get(FIELD)):
        return "this form has expired; reload the page and try again"
    return None
