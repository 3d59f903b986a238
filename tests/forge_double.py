"""What every forge double shares: a loopback HTTP server, change requests whose heads are
real branches of a real bare repository and whose merges are real git commits, people with
roles, and faults injected for the next requests (502, a timeout after the work was done,
429 with Retry-After). Each forge's double (github_double, gitlab_double, gitea_double)
adds its routes and its wire format, built from that forge's published examples."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, unquote

Reply = tuple[int, Any] | tuple[int, Any, dict[str, str]]
Handler = Callable[[Any, dict[str, Any], Any, re.Match[str]], Reply]
LADDER = ("none", "read", "triage", "write", "maintain", "admin")


class ForgeDouble:
    """Serves `ROUTES` (verb, path pattern, handler) on 127.0.0.1 for one repository."""

    ROUTES: ClassVar[list[tuple[str, str, Handler]]] = []
    kind = ""  # github, gitlab or gitea
    # The repository's (GitLab: project's) stable id: each double plays the repository its
    # forge's published webhook examples are about.
    repository_id: int | str = 0  # Bitbucket: the repository's uuid; Azure DevOps: a GUID
    # This forge's name for GitHub's reaction names (+1, confused).
    REACTIONS: ClassVar[dict[str, str]] = {"+1": "+1", "confused": "confused"}
    HEADERS: ClassVar[dict[str, str]] = {}  # sent with every answer

    def __init__(self, bare_repo: Path, full_name: str = "acme/manifests") -> None:
        self.repo = bare_repo
        self.full_name = full_name
        # number -> {head, base, title, body, state, merged, merge_commit_sha, labels, ...}
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        # number -> [{id, user, body, state}]: reviews people submitted (GitLab: approvals)
        self.reviews: dict[int, list[dict[str, Any]]] = {}
        self.reactions: list[tuple[int, str]] = []
        self.permissions: dict[str, str] = {}  # login -> a rung of LADDER
        self.team_members: dict[str, set[str]] = {}
        self.faults: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.merge_refusal: str | None = None
        self.timeout_seconds = 3.0
        self.bot_login = "hoist-bot"
        # token -> the repository permissions the forge answers for it (in the forge's own
        # shape); a token not here has all Hoist needs. `caller`: the last request's token.
        self.token_permissions: dict[str, Any] = {}
        self.caller = ""
        self._next_id = 1000
        self._lock = threading.Lock()
        self._landing = threading.Lock()  # a forge merges into one branch at a time
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
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

    def reply_headers(self) -> dict[str, str]:
        """Headers sent with every answer."""
        return dict(self.HEADERS)

    def delay(self, path: str, query: dict[str, str], body: Any) -> float:
        """Seconds to wait before answering this request (none by default)."""
        return 0.0

    def inject(self, *faults: str) -> None:
        """Fail the next requests, in order: "502", "timeout" (answered late, after the
        work was done), "429" (with Retry-After: 1), or "ok" (this one goes through)."""
        with self._lock:
            self.faults.extend(faults)

    def fault_reply(self, fault: str) -> Reply | None:
        """The reply a fault gets (None: carry on with the request)."""
        if fault == "502":
            return 502, {"message": "502 Bad Gateway"}
        if fault == "429":
            return 429, {"message": "429 Too Many Requests"}, {"Retry-After": "1"}
        if fault == "timeout":
            time.sleep(self.timeout_seconds)
        return None

    def refuse(self, method: str, path: str, headers: dict[str, str]) -> Reply | None:
        """An authentication refusal for this request, if any (none by default)."""
        return None

    # people and change requests, for tests -------------------------------------------------

    def open_pulls(self) -> list[dict[str, Any]]:
        return [p for p in self.pulls.values() if p["state"] == "open"]

    def number_for(self, head: str) -> int | None:
        """The newest change request from branch `head`."""
        found = [n for n, p in self.pulls.items() if p["head"] == head]
        return max(found) if found else None

    def merge_by_hand(self, number: int) -> str:
        """Someone merges the change request in the forge's UI."""
        pull = self.pulls[number]
        sha = self.land(number, "squash", pull["title"], "")
        assert isinstance(sha, str), sha
        return sha

    def close_by_hand(self, number: int) -> None:
        self.pulls[number]["state"] = "closed"

    def new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def add_pull(self, head: str, base: str, title: str, body: str) -> int:
        with self._lock:
            number = len(self.pulls) + 1
            self.pulls[number] = {"head": head, "base": base, "title": title, "body": body,
                                  "state": "open", "merged": False, "merge_commit_sha": None,
                                  "squash_commit_sha": None, "labels": [], "merged_head": None}
        return number

    def add_comment(self, number: int, body: str, login: str) -> int:
        comment_id = self.new_id()
        self.comments.setdefault(number, []).append({"id": comment_id, "body": body,
                                                     "user": login})
        return comment_id

    def find_comment(self, comment_id: int) -> tuple[int, dict[str, Any]] | None:
        """(change request number, comment) of comment `comment_id`, if this repository has
        it."""
        return next(((n, c) for n, found in self.comments.items() for c in found
                     if c["id"] == comment_id), None)

    def add_review(self, number: int, login: str, body: str = "",
                   state: str = "APPROVED") -> int:
        """`login` submits a review of change request `number` (state APPROVED, COMMENTED
        or CHANGES_REQUESTED, as GitHub names them); its id."""
        review_id = self.new_id()
        self.reviews.setdefault(number, []).append({"id": review_id, "user": login,
                                                    "body": body, "state": state})
        return review_id

    # git -------------------------------------------------------------------------------------

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(self.repo), *args], capture_output=True,
                              text=True, check=check)

    def sha(self, ref: str) -> str | None:
        result = self.git("rev-parse", "--verify", "-q", f"refs/heads/{ref}", check=False)
        return result.stdout.strip() or None

    def commit_tree(self, tree: str, parents: list[str], message: str) -> str:
        args = [a for p in parents for a in ("-p", p)]
        env = {"GIT_AUTHOR_NAME": "Forge", "GIT_AUTHOR_EMAIL": "noreply@forge.example",
               "GIT_COMMITTER_NAME": "Forge", "GIT_COMMITTER_EMAIL": "noreply@forge.example",
               "PATH": "/usr/bin:/bin"}
        return subprocess.run(["git", "-C", str(self.repo), "commit-tree", tree, *args, "-F",
                               "-"], input=message, capture_output=True, text=True, check=True,
                              env=env).stdout.strip()

    def land(self, number: int, method: str, title: str, message: str,
             expected_head: str | None = None, merge_message: str | None = None
             ) -> str | tuple[int, str]:
        """Merge change request `number` in git: a squash commit, or a merge commit (with
        `merge_message`, when given, on a merge commit above the squash commit, as GitLab's
        default merge method makes). The landed sha, or (status, why) when it cannot."""
        with self._landing:
            return self._land(number, method, title, message, expected_head, merge_message)

    def _land(self, number: int, method: str, title: str, message: str,
              expected_head: str | None, merge_message: str | None) -> str | tuple[int, str]:
        pull = self.pulls[number]
        head, base = self.sha(pull["head"]), self.sha(pull["base"])
        if head is None or base is None:
            return 422, "branch missing"
        if expected_head and expected_head != head:
            return 409, "head out of date"
        merged = self.git("merge-tree", "--write-tree", base, head, check=False)
        if merged.returncode != 0:
            return 406, "merge conflict"
        tree = merged.stdout.splitlines()[0]
        full = title + (f"\n\n{message}" if message else "")
        if method == "merge":
            sha = self.commit_tree(tree, [base, head], full)
        else:
            sha = self.commit_tree(tree, [base], full)
            pull["squash_commit_sha"] = sha
            if merge_message is not None:
                sha = self.commit_tree(tree, [base, sha], merge_message)
        self.git("update-ref", f"refs/heads/{pull['base']}", sha, base)
        pull.update(merged=True, state="closed", merge_commit_sha=sha, merged_head=head)
        return sha


def _handler(double: ForgeDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle's algorithm and
            # delayed ACKs add 200 ms to every keep-alive request.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            path, _, raw_query = self.path.partition("?")
            query = {k: v for k, v in parse_qsl(raw_query, keep_blank_values=True)}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw.strip() else {}
            double.requests.append((method, unquote(path)))
            with double._lock:
                fault = double.faults.pop(0) if double.faults else None
            if fault is not None:
                reply = double.fault_reply(fault)
                if reply is not None:
                    return self._reply(*reply)
            time.sleep(double.delay(path, query, body))
            headers = {k.lower(): v for k, v in self.headers.items()}
            double.caller = headers.get("private-token") or \
                headers.get("authorization", "").rpartition(" ")[2]
            refused = double.refuse(method, path, headers)
            if refused is not None:
                return self._reply(*refused)
            for verb, pattern, handler in double.ROUTES:
                match = re.match(pattern, path)
                if verb == method and match:
                    return self._reply(*handler(double, query, body, match))
            return self._reply(404, {"message": "404 Not Found"})

        def _reply(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            payload = b"" if data is None else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in {**double.reply_headers(), **(headers or {})}.items():
                self.send_header(key, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)  # the client may have given up (timeout faults)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

    return Handler
