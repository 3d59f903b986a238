"""Sign-in with any OpenID Connect provider (Keycloak, Dex, Authentik, Entra ID, …), for the
local forge or any other: discovery (OpenID Connect Discovery 1.0 §4), the code flow with
PKCE and a nonce (Core 1.0 §3.1), the ID token's `iss`, `aud` and `nonce` checked (§3.1.3.7;
it comes straight from the token endpoint over TLS, so its signature is not needed), and
the UserInfo endpoint (§5.3) for the login (`preferred_username`, else `sub`) and groups.
Who may read and approve comes from the groups claim (HOIST_OIDC_READERS, _APPROVERS,
_ADMINS); with no readers named, everyone signed in may read."""

from __future__ import annotations

import base64
import json
from typing import Any

from ...core.signin import claims_permission
from . import Person, SignInError
from .oauth import OAuthClient


class OidcSignIn(OAuthClient):
    name = "oidc"
    _discovered: dict[str, Any] | None = None

    def _metadata(self) -> dict[str, Any]:
        """The provider's metadata, asked once (`<issuer>/.well-known/openid-configuration`).
        SignInError when it cannot be read or names another issuer (Discovery §4.3)."""
        if self._discovered is None:
            issuer = self.settings.url
            try:
                response = self.http.get(f"{issuer}/.well-known/openid-configuration")
                found = response.json() if response.status_code == 200 else None
            except (ValueError, OSError):
                found = None
            if not isinstance(found, dict) or found.get("issuer", "").rstrip("/") != issuer:
                raise SignInError("the OpenID provider's discovery document cannot be read "
                                  "or names another issuer", 502)
            self._discovered = found
        return self._discovered

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str,
                      nonce: str) -> str:
        return self.authorize_at(str(self._metadata()["authorization_endpoint"]),
                                 redirect_uri, state, code_challenge, {"nonce": nonce})

    def exchange(self, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> str:
        metadata = self._metadata()
        found = self.token_at(str(metadata["token_endpoint"]), code, redirect_uri,
                              code_verifier)
        claims = _payload(str(found.get("id_token") or ""))
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if claims.get("iss") != metadata["issuer"] or self.settings.client_id not in audiences \
                or claims.get("nonce") != nonce:
            raise SignInError("the OpenID provider's ID token is not for this sign-in "
                              "(issuer, audience or nonce); sign in again")
        return str(found["access_token"])

    def person(self, token: str) -> Person:
        found = self.get(str(self._metadata()["userinfo_endpoint"]), token)
        if not isinstance(found, dict) or not (found.get("preferred_username") or
                                               found.get("sub")):
            raise SignInError("the OpenID provider did not say who signed in", 502)
        groups = found.get(self.settings.groups_claim) or []
        return Person(str(found.get("preferred_username") or found["sub"]),
                      tuple(str(g) for g in groups) if isinstance(groups, list) else ())

    def permission(self, token: str, person: Person, forge: object) -> str:
        s = self.settings
        return claims_permission(list(person.groups), list(s.readers), list(s.approvers),
                                 list(s.admins))


def _payload(id_token: str) -> dict[str, Any]:
    """The claims of a compact JWS (header.payload.signature); {} when it is not one."""
    parts = id_token.split(".")
    if len(parts) != 3:
        return {}
    try:
        found = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
