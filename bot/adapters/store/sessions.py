"""People's sessions on the page and sign-ins under way, installation-wide (a person signed
in sees every project the forge lets them read). Rows are found by hashes only: the store
never holds a session id or a state that could be replayed."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from .base import StoreBase
from .tables import sessions, signins


@dataclass(frozen=True)
class SessionRecord:
    """A session as stored: `token` is the person's forge token, sealed (web/people.py)."""

    id_hash: str
    login: str
    provider: str
    groups: tuple[str, ...]
    token: str
    created_at: float
    expires_at: float


@dataclass(frozen=True)
class SignInRecord:
    """A sign-in under way: bound to the browser that started it (`browser_hash`)."""

    browser_hash: str
    verifier: str
    nonce: str
    next: str
    created_at: float


class Sessions(StoreBase):
    def start_signin(self, state_hash: str, found: SignInRecord, older_than: float) -> None:
        """Record a sign-in under way; forget those started before `older_than`."""
        with self._tx() as db:
            db.execute(delete(signins).where(signins.c.created_at < older_than))
            db.execute(insert(signins).values(
                state_hash=state_hash, browser_hash=found.browser_hash,
                verifier=found.verifier, nonce=found.nonce, next=found.next,
                created_at=found.created_at))

    def take_signin(self, state_hash: str, browser_hash: str) -> SignInRecord | None:
        """The sign-in with this state started by this browser, removed (a state counts
        once); None if unknown or another browser's (which leaves it for its own)."""
        with self._tx() as db:
            row = db.execute(select(signins).where(signins.c.state_hash == state_hash)).first()
            if row is None or not hmac.compare_digest(row.browser_hash, browser_hash):
                return None
            db.execute(delete(signins).where(signins.c.state_hash == state_hash))
        return SignInRecord(row.browser_hash, row.verifier, row.nonce, row.next,
                            row.created_at)

    def add_session(self, found: SessionRecord) -> None:
        """Record a session; sessions expired before it began are deleted."""
        with self._tx() as db:
            db.execute(delete(sessions).where(sessions.c.expires_at <= found.created_at))
            db.execute(insert(sessions).values(
                id_hash=found.id_hash, login=found.login, provider=found.provider,
                groups=json.dumps(list(found.groups)), token=found.token,
                created_at=found.created_at, expires_at=found.expires_at))

    def session_of(self, id_hash: str, now: float) -> SessionRecord | None:
        """The live session with this id hash; None when unknown or expired at `now`."""
        with self._read() as db:
            row = db.execute(select(sessions).where(sessions.c.id_hash == id_hash)).first()
        if row is None or row.expires_at <= now:
            return None
        return SessionRecord(row.id_hash, row.login, row.provider,
                             tuple(json.loads(row.groups)), row.token, row.created_at,
                             row.expires_at)

    def end_session(self, id_hash: str) -> bool:
        """Delete the session (sign-out); False when there was none."""
        with self._tx() as db:
            gone = db.execute(delete(sessions).where(sessions.c.id_hash == id_hash))
        return bool(gone.rowcount)
