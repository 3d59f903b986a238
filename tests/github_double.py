"""A loopback double of the GitHub REST endpoints Hoist uses, backed by a real bare git
repository: pull-request branches are real refs and merging is a real git merge. Responses
are GitHub's published examples (shared/fixtures/github-api) with the fields that change
filled in, so PyGithub runs against it unmodified through its base URL. Faults (502,
timeouts, secondary rate limits) can be injected for the next requests."""

from __future__ import annotations

import contextlib
import copy
import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support import FIXTURES

EXAMPLES = FIXTURES / "github-api"
Handler = Callable[["GitHubDouble", dict[str, Any], dict[str, str], re.Match[str]],
                   tuple[int, Any]]


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return data


def _rebase_urls(value: Any, base: str) -> Any:
    if isinstance(value, str):
        return value.replace("https://api.github.com", base)
    if isinstance(value, dict):
        return {k: _rebase_urls(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebase_urls(v, base) for v in value]
    return value


class GitHubDouble:
    """Serves /repos/{owner}/{repo}/... for one repository on 127.0.0.1."""

    def __init__(self, bare_repo: Path, full_name: str = "acme/manifests") -> None:
        self.repo = bare_repo
        self.full_name = full_name
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.reactions: list[tuple[int, str]] = []
        self.permissions: dict[str, str] = {}
        self.team_members: dict[str, set[str]] = {}
        self.faults: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.merge_refusal: str | None = None
        self.timeout_seconds = 3.0
        self.rate_remaining = 4999  # X-RateLimit-Remaining of every answer
        # Pull-request branches (substrings) whose requests are answered this many seconds
        # late: a forge slow for one image only.
        self.slow_branches: dict[str, float] = {}
        self._next_id = 1000
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> GitHubDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def inject(self, *faults: str) -> None:
        """Fail the next requests, in order: "502", "timeout" or "secondary"."""
        with self._lock:
            self.faults.extend(faults)

    def open_pulls(self) -> list[dict[str, Any]]:
        return [p for p in self.pulls.values() if p["state"] == "open"]

    # git -------------------------------------------------------------------------------------

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(self.repo), *args], capture_output=True,
                              text=True, check=check)

    def _sha(self, ref: str) -> str | None:
        result = self._git("rev-parse", "--verify", "-q", f"refs/heads/{ref}", check=False)
        return result.stdout.strip() or None

    # representations -------------------------------------------------------------------------

    def _id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def user(self, login: str) -> dict[str, Any]:
        data = _rebase_urls(copy.deepcopy(example("pull-request")["user"]), self.url)
        data.update(login=login, id=abs(hash(login)) % 10**6, type="User")
        return dict(data)

    def pull_json(self, number: int) -> dict[str, Any]:
        pull = self.pulls[number]
        base_url = f"{self.url}/repos/{self.full_name}"
        data = _rebase_urls(copy.deepcopy(example("pull-request")), self.url)
        data.update(
            url=f"{base_url}/pulls/{number}", number=number, id=number * 7,
            html_url=f"https://github.example/{self.full_name}/pull/{number}",
            issue_url=f"{base_url}/issues/{number}",
            comments_url=f"{base_url}/issues/{number}/comments",
            state=pull["state"], title=pull["title"], body=pull["body"],
            merged=pull["merged"], merge_commit_sha=pull["merge_commit_sha"],
            merged_at="2026-01-01T00:00:00Z" if pull["merged"] else None,
            labels=[{"id": i, "name": n, "color": "ededed", "default": False,
                     "url": f"{base_url}/labels/{n}", "node_id": "x", "description": None}
                    for i, n in enumerate(pull["labels"])],
            user=self.user("hoist-bot"), draft=False,
        )
        for side in ("head", "base"):
            data[side].update(ref=pull[side], sha=self._sha(pull[side]) or "0" * 40,
                              label=f"{self.full_name.split('/')[0]}:{pull[side]}")
        return dict(data)

    def comment_json(self, number: int, comment_id: int, body: str, login: str) -> dict[str, Any]:
        base_url = f"{self.url}/repos/{self.full_name}"
        data = _rebase_urls(copy.deepcopy(example("issue-comment")), self.url)
        data.update(id=comment_id, body=body, user=self.user(login),
                    url=f"{base_url}/issues/comments/{comment_id}",
                    issue_url=f"{base_url}/issues/{number}")
        return dict(data)

    # routes ----------------------------------------------------------------------------------

    def get_repo(self, query: dict[str, Any], body: dict[str, str], m: re.Match[str]
                 ) -> tuple[int, Any]:
        data = _rebase_urls(copy.deepcopy(example("full-repository")), self.url)
        owner, name = self.full_name.split("/")
        data.update(name=name, full_name=self.full_name, default_branch="main",
                    url=f"{self.url}/repos/{self.full_name}")
        data["owner"]["login"] = owner
        return 200, data

    def list_pulls(self, query: dict[str, Any], body: dict[str, str], m: re.Match[str]
                   ) -> tuple[int, Any]:
        found = []
        for number, pull in sorted(self.pulls.items()):
            head = query.get("head", "")
            if query.get("state", "open") != "all" and pull["state"] != query.get("state", "open"):
                continue
            if head and head.split(":")[-1] != pull["head"]:
                continue
            if query.get("base") and query["base"] != pull["base"]:
                continue
            found.append(self.pull_json(number))
        return 200, found

    def create_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                    ) -> tuple[int, Any]:
        head, base = body.get("head", "").split(":")[-1], body.get("base", "")
        if self._sha(head) is None or self._sha(base) is None:
            return 422, {"message": "Validation Failed", "errors": [{"field": "head",
                                                                    "code": "invalid"}]}
        if any(p["head"] == head and p["state"] == "open" for p in self.pulls.values()):
            return 422, {"message": "Validation Failed", "errors": [
                {"message": f"A pull request already exists for {head}."}]}
        with self._lock:
            number = len(self.pulls) + 1
            self.pulls[number] = {"head": head, "base": base, "title": body.get("title", ""),
                                  "body": body.get("body") or "", "state": "open",
                                  "merged": False, "merge_commit_sha": None, "labels": []}
        return 201, self.pull_json(number)

    def get_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                 ) -> tuple[int, Any]:
        number = int(m.group("n"))
        return (200, self.pull_json(number)) if number in self.pulls else (404, {"message":
                                                                                 "Not Found"})

    def edit_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                  ) -> tuple[int, Any]:
        pull = self.pulls[int(m.group("n"))]
        for key in ("title", "body", "state"):
            if key in body:
                pull[key] = body[key]
        return 200, self.pull_json(int(m.group("n")))

    def merge_pull(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                   ) -> tuple[int, Any]:
        number = int(m.group("n"))
        pull = self.pulls[number]
        if self.merge_refusal:
            return 405, {"message": self.merge_refusal}
        if pull["merged"] or pull["state"] != "open":
            return 405, {"message": "Pull Request is not mergeable"}
        head, base = self._sha(pull["head"]), self._sha(pull["base"])
        assert head and base
        if body.get("sha") and body["sha"] != head:
            return 409, {"message": "Head branch was modified. Review and try the merge again."}
        merged = self._git("merge-tree", "--write-tree", base, head, check=False)
        if merged.returncode != 0:
            return 405, {"message": "Merge conflict"}
        tree = merged.stdout.splitlines()[0]
        message = body.get("commit_title") or pull["title"]
        if body.get("commit_message"):
            message += "\n\n" + body["commit_message"]
        parents = ["-p", base] + (["-p", head] if body.get("merge_method") == "merge" else [])
        env = {"GIT_AUTHOR_NAME": "GitHub", "GIT_AUTHOR_EMAIL": "noreply@github.com",
               "GIT_COMMITTER_NAME": "GitHub", "GIT_COMMITTER_EMAIL": "noreply@github.com",
               "PATH": "/usr/bin:/bin"}
        sha = subprocess.run(["git", "-C", str(self.repo), "commit-tree", tree, *parents, "-F",
                              "-"], input=message, capture_output=True, text=True, check=True,
                             env=env).stdout.strip()
        self._git("update-ref", f"refs/heads/{pull['base']}", sha, base)
        pull.update(merged=True, state="closed", merge_commit_sha=sha)
        return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}

    def add_labels(self, query: dict[str, Any], body: Any, m: re.Match[str]) -> tuple[int, Any]:
        pull = self.pulls[int(m.group("n"))]
        names = body.get("labels", []) if isinstance(body, dict) else body
        pull["labels"] = list(dict.fromkeys([*pull["labels"], *names]))
        return 200, self.pull_json(int(m.group("n")))["labels"]

    def create_comment(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                       ) -> tuple[int, Any]:
        number, comment_id = int(m.group("n")), self._id()
        self.comments.setdefault(number, []).append({"id": comment_id, "body": body["body"],
                                                     "user": "hoist-bot"})
        return 201, self.comment_json(number, comment_id, body["body"], "hoist-bot")

    def react(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
              ) -> tuple[int, Any]:
        self.reactions.append((int(m.group("id")), body["content"]))
        return 201, {"id": self._id(), "content": body["content"], "user": self.user("hoist-bot"),
                     "created_at": "2026-01-01T00:00:00Z", "node_id": "x"}

    def permission(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                   ) -> tuple[int, Any]:
        data = copy.deepcopy(example("collaborator-permission"))
        role = self.permissions.get(m.group("user"), "none")
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        data.update(permission=legacy, role_name=role, user=self.user(m.group("user")))
        return 200, data

    def membership(self, query: dict[str, Any], body: dict[str, Any], m: re.Match[str]
                   ) -> tuple[int, Any]:
        team = f"{m.group('org')}/{m.group('team')}"
        if m.group("user") in self.team_members.get(team, set()):
            return 200, {"state": "active", "role": "member",
                         "url": f"{self.url}/orgs/{team}/memberships/{m.group('user')}"}
        return 404, {"message": "Not Found"}

    def delay(self, path: str, query: dict[str, str], body: Any) -> float:
        """How late to answer a request about a pull request on a slow branch."""
        if not self.slow_branches:
            return 0.0
        heads = [query.get("head", ""), str(body.get("head", "") if isinstance(body, dict)
                                            else "")]
        number = re.search(r"/(?:pulls|issues)/(\d+)", path)
        if number and int(number.group(1)) in self.pulls:
            heads.append(str(self.pulls[int(number.group(1))]["head"]))
        return max((seconds for branch, seconds in self.slow_branches.items()
                    if any(branch in head for head in heads)), default=0.0)


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)$", GitHubDouble.get_repo),
    ("GET", r"/repos/[^/]+/[^/]+/pulls$", GitHubDouble.list_pulls),
    ("POST", r"/repos/[^/]+/[^/]+/pulls$", GitHubDouble.create_pull),
    ("GET", r"/repos/[^/]+/[^/]+/pulls/(?P<n>\d+)$", GitHubDouble.get_pull),
    ("PATCH", r"/repos/[^/]+/[^/]+/pulls/(?P<n>\d+)$", GitHubDouble.edit_pull),
    ("PUT", r"/repos/[^/]+/[^/]+/pulls/(?P<n>\d+)/merge$", GitHubDouble.merge_pull),
    ("POST", r"/repos/[^/]+/[^/]+/issues/(?P<n>\d+)/labels$", GitHubDouble.add_labels),
    ("POST", r"/repos/[^/]+/[^/]+/issues/(?P<n>\d+)/comments$", GitHubDouble.create_comment),
    ("POST", r"/repos/[^/]+/[^/]+/issues/comments/(?P<id>\d+)/reactions$", GitHubDouble.react),
    ("GET", r"/repos/[^/]+/[^/]+/collaborators/(?P<user>[^/]+)/permission$",
     GitHubDouble.permission),
    ("GET", r"/orgs/(?P<org>[^/]+)/teams/(?P<team>[^/]+)/memberships/(?P<user>[^/]+)$",
     GitHubDouble.membership),
]


def _handler(double: GitHubDouble) -> type[BaseHTTPRequestHandler]:
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
            query = dict(p.split("=", 1) for p in raw_query.split("&") if "=" in p)
            query = {k: v.replace("%3A", ":").replace("%2F", "/") for k, v in query.items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            double.requests.append((method, path))
            with double._lock:
                fault = double.faults.pop(0) if double.faults else None
            if fault == "502":
                return self._reply(502, {"message": "Server Error"})
            if fault == "secondary":
                return self._reply(403, {"message": "You have exceeded a secondary rate limit. "
                                                    "Please wait a few minutes before you try "
                                                    "again.",
                                         "documentation_url": "https://docs.github.com"},
                                   {"Retry-After": "1"})
            if fault == "timeout":
                time.sleep(double.timeout_seconds)
            time.sleep(double.delay(path, query, body))
            for verb, pattern, handler in ROUTES:
                match = re.match(pattern, path)
                if verb == method and match:
                    status, data = handler(double, query, body, match)
                    return self._reply(status, data)
            return self._reply(404, {"message": "Not Found"})

        def _reply(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            # GitHub's primary rate limit headers, on every answer as GitHub sends them.
            self.send_header("X-RateLimit-Limit", "5000")
            self.send_header("X-RateLimit-Remaining", str(double.rate_remaining))
            self.send_header("X-RateLimit-Used", str(5000 - double.rate_remaining))
            self.send_header("X-RateLimit-Reset", str(int(time.time()) + 3600))
            self.send_header("X-RateLimit-Resource", "core")
            for key, value in (headers or {}).items():
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

    return Handler
