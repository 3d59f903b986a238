"""The sign-in rules (pure, no doubles): PKCE S256 against RFC 7636's own example, session
ids kept only as hashes, CSRF tokens bound to a session, the origin check, cookie flags."""

from __future__ import annotations

import pytest

from bot.core import signin


def test_pkce_s256_matches_rfc_7636_appendix_b() -> None:
    # RFC 7636 Appendix B: the verifier from these 32 octets and its S256 challenge.
    octets = bytes([116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187,
                    186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141,
                    121])
    code_verifier = signin.verifier(octets)
    assert code_verifier == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert signin.challenge(code_verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert signin.pkce_matches(code_verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not signin.pkce_matches(code_verifier[:-1] + "Y", signin.challenge(code_verifier))
    assert not signin.pkce_matches("short", signin.challenge(code_verifier))
    with pytest.raises(ValueError):
        signin.verifier(b"x" * 31)


def test_session_ids_are_stored_as_hashes_and_states_unguessable() -> None:
    session = signin.opaque(b"\x01" * 32)
    assert len(session) == 43 and signin.digest(session) != session
    assert len(signin.digest(session)) == 64
    with pytest.raises(ValueError):
        signin.opaque(b"\x01" * 8)


def test_csrf_token_is_bound_to_its_session() -> None:
    key = b"k" * 32
    token = signin.csrf_token(key, "session-a")
    assert signin.csrf_ok(key, "session-a", token)
    assert not signin.csrf_ok(key, "session-b", token)  # another person's form token
    assert not signin.csrf_ok(b"other" * 8, "session-a", token)  # another installation
    assert not signin.csrf_ok(key, "session-a", None)
    assert not signin.csrf_ok(key, "", signin.csrf_token(key, ""))


def test_origin_check_accepts_only_the_public_origin() -> None:
    public = "https://hoist.example.com/"
    assert signin.origin_ok("https://hoist.example.com", None, public)
    assert signin.origin_ok("https://HOIST.example.com:443", None, public)
    assert not signin.origin_ok("https://evil.example", None, public)
    assert not signin.origin_ok("http://hoist.example.com", None, public)
    assert signin.origin_ok(None, "https://hoist.example.com/ui/promotions/x", public)
    assert not signin.origin_ok("null", "https://evil.example/", public)
    assert not signin.origin_ok(None, None, public)
    assert not signin.origin_ok("https://hoist.example.com@evil.example", None, public)


def test_cookie_rules_host_prefix_on_https_plain_on_loopback_refused_elsewhere() -> None:
    https = signin.cookie_rules("https://hoist.example.com")
    assert https.name == "__Host-hoist_session" and https.secure
    header = signin.set_cookie_header(https, "v", 43200)
    assert header == "__Host-hoist_session=v; Path=/; Max-Age=43200; Secure; HttpOnly; " \
                     "SameSite=Lax"
    for loopback in ("http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:80"):
        plain = signin.cookie_rules(loopback)
        assert plain.name == "hoist_session" and not plain.secure and plain.http_only
    with pytest.raises(ValueError, match="https"):
        signin.cookie_rules("http://hoist.example.com")


def test_next_stays_on_this_site_and_sessions_expire_after_12_hours() -> None:
    assert signin.safe_next("/ui/promotions/x?y=1") == "/ui/promotions/x?y=1"
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil", None, "/a\nb"):
        assert signin.safe_next(bad) == "/"
    assert not signin.expired(1000.0, 1000.0 + 12 * 3600 - 1)
    assert signin.expired(1000.0, 1000.0 + 12 * 3600)


def test_permissions_from_repository_objects_and_claims() -> None:
    assert signin.github_permission({"admin": False, "push": True, "pull": True}) == "write"
    assert signin.github_permission({"pull": True}) == "read"
    assert signin.github_permission(None) == "none"
    assert signin.claims_permission(["Ops"], [], ["ops"], []) == "write"
    assert signin.claims_permission([], [], ["ops"], []) == "read"  # no readers named: all
    assert signin.claims_permission(["dev"], ["staff"], ["ops"], []) == "none"
    assert signin.claims_permission(["root"], ["staff"], [], ["root"]) == "admin"
