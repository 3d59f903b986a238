"""The one shared set of test helpers: real programs, real repos, the service as a process."""

from __future__ import annotations

import difflib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from bot.core.manifests import Change

ROOT = Path(__file__).resolve().parents[1]


def _shared() -> Path:
    """The team's shared fixtures and corpus: $HOIST_SHARED, ../shared, or the snapshot."""
    if os.environ.get("HOIST_SHARED"):
        return Path(os.environ["HOIST_SHARED"])
    beside = ROOT.parent / "shared"
    return beside if (beside / "fixtures").is_dir() else Path(__file__).parent / "shared"


SHARED = _shared()
FIXTURES = SHARED / "fixtures"
CORPUS = SHARED / "corpus"
DATA = Path(__file__).resolve().parent / "data"


def need(*programs: str) -> None:
    """Skip when a program is missing, but fail under CI=true: a skipped e2e test there
    would be a hidden failure."""
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        lacking(f"needs {', '.join(missing)} (apt-get install {' '.join(missing)})")


def lacking(message: str) -> NoReturn:
    """Skip the test for what this machine lacks, or fail it under CI=true."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll check until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def git(repo: Path | str, *args: str) -> str:
    """Run git in repo (bare or not) and return stdout."""
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


class ServiceProcess:
    """`python -m bot serve` as a real process, for e2e and crash tests."""

    def __init__(self, port: int, env: dict[str, str], log_path: Path,
                 args: tuple[str, ...] = ()) -> None:
        self.port = port
        # Many suites seed repositories of manifest fragments that do not render; the
        # rendering suites turn it on (HOIST_RENDER=on).
        self.env = {"HOIST_RENDER": "off", **env}
        self.log_path = log_path
        self.args = args  # more `hoist serve` arguments, e.g. ("--role", "web")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(self.port), *self.args],
            env={**os.environ, **self.env, **(extra_env or {})}, stdout=log, stderr=log,
            cwd=ROOT,
        )

        def up() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"hoist serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, "hoist serve to answer /healthz")

    def wait_dead(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def promotions(self) -> list[dict[str, Any]]:
        token = self.env.get("HOIST_UI_TOKEN")  # reads need it once it is set
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data: list[dict[str, Any]] = httpx.get(f"{self.url}/api/promotions", headers=headers,
                                               timeout=5).json()["promotions"]
        return data

    def promotion_in(self, env: str, state: str) -> dict[str, Any] | None:
        for p in self.promotions():
            if p["environment"] == env and p["state"] == state:
                return p
        return None


def assert_only_values_changed(before: str, after: str, changes: tuple[Change, ...]) -> None:
    """Every changed line differs only in a middle part that is (part of) an old value on
    the left and (part of) the new value, maybe quoted, on the right; added lines are keys
    Hoist had to add."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    olds = [c.old for c in changes if c.old is not None]
    news = [c.new for c in changes]
    if len(a) == len(b):  # no line added: compare line by line (difflib may misalign repeats)
        opcodes = [("replace", i, i + 1, i, i + 1) for i in range(len(a)) if a[i] != b[i]]
    else:
        opcodes = [(str(op), i1, i2, j1, j2) for op, i1, i2, j1, j2 in
                   difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()]
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            continue
        if op == "insert":
            for line in b[j1:j2]:
                key, _, value = line.strip().partition(": ")
                assert key in ("newTag", "digest", "tag") and value.strip('"') in news, line
            continue
        assert op == "replace" and i2 - i1 == j2 - j1, (op, a[i1:i2], b[j1:j2])
        for old_line, new_line in zip(a[i1:i2], b[j1:j2], strict=True):
            p = 0
            while p < min(len(old_line), len(new_line)) and old_line[p] == new_line[p]:
                p += 1
            s = 0
            while (s < min(len(old_line), len(new_line)) - p
                   and old_line[-1 - s] == new_line[-1 - s]):
                s += 1
            removed, added = old_line[p:len(old_line) - s], new_line[p:len(new_line) - s]
            assert any(removed in old for old in olds), (old_line, new_line)
            assert any(added.strip('"') in new or added in f'"{new}"' for new in news), (
                old_line, new_line)


def commit_file(url: str, path: str, text: str, work: Path) -> None:
    """Commit a file to a remote repository through a throw-away clone."""
    subprocess.run(["git", "clone", "-q", url, str(work)], check=True)
    target = work / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(work, "add", path)
    git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"test: {path}")
    git(work, "push", "-q", "origin", "HEAD")


class FakeRegistry:
    """Stands in for RegistryClient in flow tests: platforms by reference."""

    def __init__(self, platforms: dict[str, set[str]]) -> None:
        self.offered = platforms
        self.asked: list[str] = []

    def platforms(self, image: str, reference: str) -> set[str]:
        self.asked.append(reference)
        return self.offered.get(reference, set())

    def resolve(self, image: str, tag: str) -> str:
        return "sha256:" + "f" * 64


def write_htpasswd(path: Path, user: str, password: str) -> Path:
    """A bcrypt htpasswd file, as docker-registry's htpasswd auth reads it."""
    import bcrypt

    path.write_text(f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(6)).decode()}\n")
    return path
