"""A loopback double of each sign-in provider's OAuth endpoints and the few API reads Hoist
makes with a person's token, in each one's wire format as its documentation shows it:

- GitHub (docs.github.com "Authorizing OAuth apps"): GET /login/oauth/authorize, POST
  /login/oauth/access_token answering form-encoded unless `Accept: application/json`, and
  refusing with HTTP 200 and `{"error": "bad_verification_code" | "redirect_uri_mismatch" |
  "incorrect_client_credentials", "error_description", "error_uri"}`; GET /user; GET
  /repos/{owner}/{repo} with the caller's `permissions`.
- GitLab (docs/api/oauth2.md): /oauth/authorize, POST /oauth/token answering JSON, 400
  `{"error": "invalid_grant", "error_description"}` or 401 `invalid_client`; GET
  /api/v4/user; GET /api/v4/projects/:id with `permissions.project_access`.
- Gitea/Forgejo (docs "OAuth2 provider"): /login/oauth/authorize, POST
  /login/oauth/access_token (JSON; 400 `invalid_grant`, PKCE failure `unauthorized_client`
  "failed PKCE code challenge"); GET /api/v1/user; GET /api/v1/repos/{owner}/{repo}.
- OIDC (Core 1.0, Discovery 1.0): /.well-known/openid-configuration, /authorize, /token
  with an `id_token` carrying iss, aud, sub and the nonce, /userinfo with a groups claim.

The double really checks what the provider checks: the client's id and secret, that the
redirect_uri is registered and is the same at the token request as at authorization
(RFC 6749 §4.1.3), that the code is used once and within 10 minutes, and PKCE S256 (RFC
7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge). A repository a person
cannot read is a 404, as the forges hide private repositories.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

CLIENT_ID, CLIENT_SECRET = "hoist-client", "hoist-client-secret"
PATHS = {  # kind -> (authorize, token, user, repository prefix)
    "github": ("/login/oauth/authorize", "/login/oauth/access_token", "/user", "/repos/"),
    "gitlab": ("/oauth/authorize", "/oauth/token", "/api/v4/user", "/api/v4/projects/"),
    "gitea": ("/login/oauth/authorize", "/login/oauth/access_token", "/api/v1/user",
              "/api/v1/repos/"),
    "oidc": ("/authorize", "/token", "/userinfo", "/-none-/"),
}
_GITLAB_LEVELS = {"read": 20, "triage": 20, "write": 30, "maintain": 40, "admin": 50}


@dataclass
class Account:
    login: str
    token: str = field(default_factory=lambda: "tok_" + secrets.token_hex(12))
    repos: dict[str, str] = field(default_factory=dict)  # owner/name -> ladder rung
    groups: list[str] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # a forge takes many connections at once (socketserver's is 5)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class OAuthDouble:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.people: dict[str, Account] = {}
        self.signing_in: str | None = None  # whom the next authorization is for
        self.deny = False  # the person clicks "Cancel": error=access_denied
        self.redirect_uris: list[str] = []  # registered callbacks; [] registers the first
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_requests: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, login: str, repos: dict[str, str] | None = None,
            groups: list[str] | None = None) -> Account:
        self.people[login] = Account(login, repos=repos or {}, groups=groups or [])
        return self.people[login]

    def env(self) -> dict[str, str]:
        """The HOIST_* variables that point Hoist's sign-in at this double."""
        return {"HOIST_SIGNIN": self.kind, "HOIST_OAUTH_CLIENT_ID": CLIENT_ID,
                "HOIST_OAUTH_CLIENT_SECRET": CLIENT_SECRET, "HOIST_OAUTH_URL": self.url,
                "HOIST_OAUTH_API_URL": self.url + {"github": "", "gitlab": "/api/v4",
                                                   "gitea": "/api/v1", "oidc": ""}[self.kind]}

    # authorization ---------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID:
            return 400, "unknown client_id", {}
        with self._lock:
            if not self.redirect_uris and redirect.startswith("http://127.0.0.1:"):
                self.redirect_uris.append(redirect)
        if redirect not in self.redirect_uris:  # §4.1.2.1: never redirect to it
            return 400, "redirect_uri is not registered for this client", {}
        back = {"state": query.get("state", "")}
        if self.deny:
            back.update(error="access_denied", error_description="The user denied access")
        elif query.get("response_type") != "code" or not query.get("code_challenge") \
                or query.get("code_challenge_method") != "S256":
            back.update(error="invalid_request", error_description="PKCE S256 is required")
        elif self.signing_in not in self.people:
            return 200, "<html><body>Sign in to the double first</body></html>", {}
        else:
            code = secrets.token_hex(10)
            with self._lock:
                self.codes[code] = {"login": self.signing_in, "redirect_uri": redirect,
                                    "challenge": query["code_challenge"], "at": time.time(),
                                    "nonce": query.get("nonce"), "used": False}
            back["code"] = code
        return 302, "", {"Location": f"{redirect}?{urlencode(back)}"}

    def token(self, form: dict[str, str], accept: str) -> tuple[int, Any, dict[str, str]]:
        self.token_requests.append(form)
        with self._lock:
            grant = self.codes.get(form.get("code", ""))
            fresh = grant is not None and not grant["used"] and \
                time.time() - grant["at"] < 600
            if grant is not None:
                grant["used"] = True
        problem = None
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            problem = ("incorrect_client_credentials", "invalid_client", 401)
        elif not fresh or grant is None:
            problem = ("bad_verification_code", "invalid_grant", 400)
        elif form.get("redirect_uri") != grant["redirect_uri"]:
            problem = ("redirect_uri_mismatch", "invalid_grant", 400)
        elif _b64(hashlib.sha256(form.get("code_verifier", "").encode()).digest()) \
                != grant["challenge"]:
            problem = ("bad_verification_code", "unauthorized_client"
                       if self.kind == "gitea" else "invalid_grant", 400)
        if problem is not None or grant is None:
            problem = problem or ("bad_verification_code", "invalid_grant", 400)
            if self.kind == "github":
                return 200, {"error": problem[0], "error_description": "refused",
                             "error_uri": "https://docs.github.com/apps/troubleshooting"}, {}
            return problem[2], {"error": problem[1], "error_description": "refused"}, {}
        person = self.people[grant["login"]]
        if self.kind == "github":
            answer = {"access_token": person.token, "scope": "repo", "token_type": "bearer"}
            if "application/json" not in accept:
                return 200, urlencode(answer), {"Content-Type":
                                                "application/x-www-form-urlencoded"}
            return 200, answer, {}
        found: dict[str, Any] = {
            "access_token": person.token, "token_type": "Bearer", "expires_in": 7200,
                 "refresh_token": secrets.token_hex(8)}
        if self.kind == "oidc":
            found["id_token"] = self._id_token(person, grant["nonce"])
        return 200, found, {}

    def _id_token(self, person: Account, nonce: str | None) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = _b64(json.dumps({"iss": self.url, "aud": CLIENT_ID, "sub": person.login,
                                  "nonce": nonce, "iat": int(time.time()),
                                  "exp": int(time.time()) + 300}).encode())
        sig = hmac.new(CLIENT_SECRET.encode(), f"{header}.{claims}".encode(), "sha256")
        return f"{header}.{claims}.{_b64(sig.digest())}"

    # API reads with the person's token ---------------------------------------------------

    def api(self, path: str, token: str) -> tuple[int, Any, dict[str, str]]:
        person = next((p for p in self.people.values() if p.token == token), None)
        if path == "/.well-known/openid-configuration":
            return 200, {"issuer": self.url, "authorization_endpoint": self.url + "/authorize",
                         "token_endpoint": self.url + "/token",
                         "userinfo_endpoint": self.url + "/userinfo",
                         "response_types_supported": ["code"],
                         "code_challenge_methods_supported": ["S256"]}, {}
        if person is None:
            return 401, {"message": "Bad credentials"}, {}
        _, _, user_path, repos = PATHS[self.kind]
        if path == user_path:
            if self.kind == "oidc":
                return 200, {"sub": person.login, "preferred_username": person.login,
                             "groups": person.groups}, {}
            name = "username" if self.kind == "gitlab" else "login"
            return 200, {"id": abs(hash(person.login)) % 10**6, name: person.login}, {}
        if path.startswith(repos):
            repository = unquote(path[len(repos):])
            rung = person.repos.get(repository, "none")
            if rung == "none":
                return 404, {"message": "Not Found"}, {}
            return 200, {"full_name": repository, "permissions": self._permissions(rung)}, {}
        return 404, {"message": "Not Found"}, {}

    def _permissions(self, rung: str) -> dict[str, Any]:
        order = ("read", "triage", "write", "maintain", "admin")
        at = order.index(rung)
        if self.kind == "gitlab":
            return {"project_access": {"access_level": _GITLAB_LEVELS[rung],
                                       "notification_level": 3}, "group_access": None}
        if self.kind == "gitea":
            return {"admin": at >= 4, "push": at >= 2, "pull": True}
        return {"admin": at >= 4, "maintain": at >= 3, "push": at >= 2, "triage": at >= 1,
                "pull": True}


def _handler(double: OAuthDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: Any, headers: dict[str, str]) -> None:
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            kind = "text/html" if isinstance(body, str) else "application/json"
            for name, value in {"Content-Type": kind, **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == PATHS[double.kind][0]:
                self._reply(*double.authorize(dict(parse_qsl(parts.query))))
                return
            token = self.headers.get("Authorization", "").rpartition(" ")[2]
            self._reply(*double.api(parts.path, token))

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if urlsplit(self.path).path != PATHS[double.kind][1]:
                self._reply(404, {"message": "Not Found"}, {})
                return
            self._reply(*double.token(dict(parse_qsl(raw)), self.headers.get("Accept", "")))

    return Handler
