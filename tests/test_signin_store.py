"""Sessions and sign-ins under way in the store, on SQLite and PostgreSQL: found by hash
only, a state taken once, a session gone at 12 h or at sign-out, a sealed token opened only
with its session id."""

from __future__ import annotations

from bot.adapters.signin.seal import seal, unseal
from bot.adapters.store import Store
from bot.adapters.store.sessions import SessionRecord, SignInRecord
from bot.core import signin

BOTH_ENGINES = True


def test_a_state_counts_once_and_old_sign_ins_are_forgotten(store: Store) -> None:
    store.start_signin("s-old", SignInRecord("b", "v" * 43, "n", "/", 100.0), 0.0)
    store.start_signin("s-new", SignInRecord("b", "v" * 43, "n", "/x", 900.0), 800.0)
    assert store.take_signin("s-old", "b") is None  # started before the window: forgotten
    assert store.take_signin("s-new", "another browser") is None  # left for its own browser
    found = store.take_signin("s-new", "b")
    assert found is not None and found.next == "/x"
    assert store.take_signin("s-new", "b") is None


def test_sessions_expire_and_sign_out_deletes_them(store: Store) -> None:
    sid = signin.opaque(b"\x07" * 32)
    sealed = seal(sid, "gho_secret")
    assert "gho_secret" not in sealed
    store.add_session(SessionRecord(signin.digest(sid), "alice", "github", ("ops",), sealed,
                                    1000.0, 1000.0 + signin.SESSION_SECONDS))
    found = store.session_of(signin.digest(sid), 2000.0)
    assert found is not None and found.login == "alice" and found.groups == ("ops",)
    assert unseal(sid, found.token) == "gho_secret"
    assert unseal(signin.opaque(b"\x08" * 32), found.token) is None
    assert store.session_of(signin.digest(sid), 1000.0 + 12 * 3600) is None  # 12 h on
    assert store.end_session(signin.digest(sid))
    assert store.session_of(signin.digest(sid), 2000.0) is None
    assert not store.end_session(signin.digest(sid))
