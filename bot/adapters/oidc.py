"""Verify Google-signed OIDC tokens (Pub/Sub push) against an audience and a JWKS."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import jwt

GOOGLE_JWKS = "https://www.googleapis.com/oauth2/v3/certs"
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")


class OidcVerifier:
    """Callable(token) -> claims; raises on a bad signature, audience, issuer, expiry or
    (when set) service-account email. Keys are fetched from the JWKS URL and cached."""

    def __init__(self, audience: str, jwks_url: str = GOOGLE_JWKS, email: str | None = None,
                 ttl: float = 3600.0) -> None:
        self.audience = audience
        self.jwks_url = jwks_url
        self.email = email
        self.ttl = ttl
        self._keys: dict[str, Any] = {}
        self._fetched: float | None = None  # never fetched (monotonic time starts at boot)
        self._lock = threading.Lock()

    def _key(self, kid: str) -> Any:
        with self._lock:
            stale = self._fetched is None or time.monotonic() - self._fetched > self.ttl
            if kid not in self._keys or stale:
                document = httpx.get(self.jwks_url, timeout=10).raise_for_status().json()
                self._keys = {k["kid"]: jwt.PyJWK(k).key for k in document.get("keys", [])
                              if "kid" in k}
                self._fetched = time.monotonic()
            if kid not in self._keys:
                raise jwt.InvalidKeyError(f"unknown key id {kid!r}")
            return self._keys[kid]

    def __call__(self, token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        claims: dict[str, Any] = jwt.decode(
            token, self._key(str(header.get("kid"))), algorithms=["RS256"],
            audience=self.audience, options={"require": ["exp", "iat", "iss", "aud"]},
        )
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise jwt.InvalidIssuerError(f"issuer {claims.get('iss')!r} is not Google")
        if self.email and (claims.get("email") != self.email or not claims.get("email_verified")):
            raise jwt.InvalidTokenError("token is not from the configured service account")
        return claims
