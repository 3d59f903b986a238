"""A person's forge token at rest: sealed with AES-256-GCM under a key derived from their
session id (HKDF-SHA256, RFC 5869), which only their cookie holds. The store keeps the id's
hash and the sealed token: neither opens the other."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _key(session_id: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"hoist session token").derive(session_id.encode())


def seal(session_id: str, token: str) -> str:
    """base64url(nonce || AES-GCM(token))."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(session_id)).encrypt(nonce, token.encode(), None)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(session_id: str, sealed: str) -> str | None:
    """The token, or None when `sealed` was not sealed for this session id."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return AESGCM(_key(session_id)).decrypt(raw[:12], raw[12:], None).decode()
    except (InvalidTag, ValueError):
        return None
