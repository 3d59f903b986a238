"""Signing people in with their forge (pure): PKCE, state, session ids, CSRF tokens, the
origin check and the session cookie's rules. No sockets, no clock, no randomness of its own:
callers pass the random bytes and the time in.

Specs: OAuth 2.0 authorization code grant (RFC 6749 §4.1, `state` §10.12), PKCE S256
(RFC 7636 §4.1-4.2, §4.6), cookie prefixes `__Host-` (RFC 6265bis §4.1.3.2), and the
OWASP CSRF cheat sheet's HMAC-based synchronizer token bound to the session."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

# RFC 7636 §4.1: code_verifier = 43*128unreserved; 32 random bytes make 43 characters.
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
SESSION_SECONDS = 12 * 3600  # a session lives 12 h from sign-in, then the person signs in again
PENDING_SECONDS = 600  # a sign-in must come back from the forge within 10 min
COOKIE_SECURE = "__Host-hoist_session"
COOKIE_PLAIN = "hoist_session"
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def b64url(raw: bytes) -> str:
    """base64url without padding (RFC 7636 Appendix A)."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def verifier(entropy: bytes) -> str:
    """A code_verifier from >= 32 random bytes (RFC 7636 §4.1, 43-128 characters).
    ValueError for fewer bytes."""
    if len(entropy) < 32:
        raise ValueError("a PKCE verifier needs at least 32 random bytes")
    return b64url(entropy[:96])


def challenge(code_verifier: str) -> str:
    """The S256 code_challenge: BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2).
    ValueError for a verifier outside the grammar of §4.1."""
    if not _VERIFIER.match(code_verifier):
        raise ValueError("code_verifier must be 43-128 unreserved characters (RFC 7636 4.1)")
    return b64url(hashlib.sha256(code_verifier.encode("ascii")).digest())


def pkce_matches(code_verifier: str, code_challenge: str) -> bool:
    """The server's check of §4.6 for method S256 (constant time)."""
    try:
        return hmac.compare_digest(challenge(code_verifier), code_challenge)
    except ValueError:
        return False


def opaque(entropy: bytes) -> str:
    """A state, nonce or session id from >= 16 random bytes (base64url)."""
    if len(entropy) < 16:
        raise ValueError("an unguessable value needs at least 16 random bytes")
    return b64url(entropy)


def digest(value: str) -> str:
    """What the store keeps of a session id or a state: its SHA-256, hex. A leaked store
    row cannot be replayed as a cookie."""
    return hashlib.sha256(value.encode()).hexdigest()


def same(given: str, expected: str) -> bool:
    """Constant-time equality of two strings."""
    return hmac.compare_digest(given.encode(), expected.encode())


def csrf_token(key: bytes, session: str) -> str:
    """The form token of a session (or of an anonymous browser's pre-session value):
    HMAC-SHA256(key, "csrf:" + session), base64url. Derived, so nothing more is stored."""
    return b64url(hmac.new(key, b"csrf:" + session.encode(), hashlib.sha256).digest())


def csrf_ok(key: bytes, session: str, given: str | None) -> bool:
    """True when `given` is the form token of `session` (constant time); never for an
    empty session or token."""
    return bool(session) and bool(given) and same(given or "", csrf_token(key, session))


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an absolute URL, lower-cased, default ports dropped
    (RFC 6454 §4); "" for anything else."""
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]+)", url.strip())
    if not match:
        return ""
    scheme, host = match.group(1).lower(), match.group(2).lower()
    if "@" in host:
        return ""
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}"


def origin_ok(origin: str | None, referer: str | None, expected: str) -> bool:
    """A state-changing request comes from our own page: its Origin header (or, when a
    browser sent none, its Referer) has the public URL's origin. Neither header: refused
    (every browser that posts a form sends one of them)."""
    want = origin_of(expected)
    if not want:
        return False
    if origin and origin != "null":
        return origin_of(origin) == want
    return bool(referer) and origin_of(referer or "") == want


@dataclass(frozen=True)
class CookieRules:
    """How the session cookie is set: its name and flags."""

    name: str
    secure: bool
    http_only: bool = True
    same_site: str = "lax"  # the forge's redirect back is a top-level GET: Lax lets it carry
    path: str = "/"


def cookie_rules(public_url: str) -> CookieRules:
    """`__Host-hoist_session`, Secure, when Hoist is reached over https; `hoist_session`
    without Secure on plain http (loopback only: a browser keeps no Secure cookie there).
    ValueError for plain http elsewhere: a session cookie must not cross the network in
    the clear."""
    origin = origin_of(public_url)
    if origin.startswith("https://"):
        return CookieRules(COOKIE_SECURE, True)
    authority = origin.partition("://")[2]
    host = authority[: authority.index("]") + 1] if authority.startswith("[") \
        else authority.partition(":")[0]
    if origin.startswith("http://") and (host in _LOOPBACK or host.startswith("127.")):
        return CookieRules(COOKIE_PLAIN, False)
    raise ValueError(f"sign-in needs an https public URL (or http on loopback), not "
                     f"{public_url!r}")


def set_cookie_header(rules: CookieRules, value: str, max_age: int) -> str:
    """The Set-Cookie header's value (max_age 0 deletes the cookie)."""
    parts = [f"{rules.name}={value}", f"Path={rules.path}", f"Max-Age={max_age}"]
    if rules.secure:
        parts.append("Secure")
    if rules.http_only:
        parts.append("HttpOnly")
    parts.append(f"SameSite={rules.same_site.capitalize()}")
    return "; ".join(parts)


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this site only (never `//host` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def expired(created_at: float, now: float, lifetime: float = SESSION_SECONDS) -> bool:
    """True once `lifetime` seconds have passed since `created_at` (epoch seconds)."""
    return now >= created_at + lifetime


_GITHUB_LADDER = (("admin", "admin"), ("maintain", "maintain"), ("push", "write"),
                  ("triage", "triage"), ("pull", "read"))


def github_permission(permissions: dict[str, object] | None) -> str:
    """The ladder rung of a GitHub or Gitea repository's `permissions` object
    (`{"admin", "maintain", "push", "triage", "pull"}` booleans) for the token's user."""
    for key, rung in _GITHUB_LADDER:
        if (permissions or {}).get(key) is True:
            return rung
    return "none"


def claims_permission(groups: list[str], readers: list[str], approvers: list[str],
                      admins: list[str]) -> str:
    """An OIDC person's rung from the groups their provider says they are in: admins →
    admin, approvers → write, readers → read; with no readers named, everyone signed in
    reads."""
    have = {g.lower() for g in groups}
    if have & {a.lower() for a in admins}:
        return "admin"
    if have & {a.lower() for a in approvers}:
        return "write"
    if not readers or have & {r.lower() for r in readers}:
        return "read"
    return "none"
