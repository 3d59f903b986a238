"""The manifests repository through the git CLI: a cached bare clone, plumbing-only writes."""

from __future__ import annotations

import base64
import fcntl
import os
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import structlog

from ..log import redact_url as _redact
from ..telemetry import timed_call
from .signing import with_signature

log = structlog.get_logger()


class GitError(RuntimeError):
    """A git command failed; the message carries git's own words (never credentials)."""


class MergeConflict(GitError):
    """A change no longer applies on the branch it targets."""


@dataclass(frozen=True)
class Identity:
    name: str = "Hoist"
    email: str = "hoist@localhost"


@dataclass(frozen=True)
class Authored:
    """A commit as people name it: sha, `Name <email>` of its author, subject line."""

    sha: str
    author: str
    subject: str


class GitRepo:
    """A bare clone of the manifests repository at `path`, fetched from `url`.

    Commits are built with plumbing (temporary index, commit-tree), so no working tree is
    ever checked out and nothing half-written can be left behind.
    """

    def __init__(self, url: str, path: Path, identity: Identity = Identity(),
                 token: str | Callable[[], str] | None = None,
                 signer: Callable[[str, float], str] | None = None) -> None:
        self.url = url
        self.path = path
        self.identity = identity
        # Branch tips as last fetched or pushed (refs change only in sync() and push()).
        self._tips: dict[str, str | None] = {}
        # Signs a commit's text made at a time (signing.CommitSigner.sign): the key never
        # reaches git, its config or its environment.
        self._signer = signer
        # The forge's token, or a function giving the current one (a GitHub App's
        # installation token expires within the hour).
        self.token: str | Callable[[], str] | None = token
        # "basic" (GitHub, GitLab, Gitea take the token as the Basic password) or "bearer"
        # (Bitbucket Data Center's HTTP access tokens: "Authorization: Bearer" for git too).
        self.auth_scheme = "basic"
        self._lock = threading.RLock()

    @property
    def _config_env(self) -> dict[str, str]:
        """An https token (as a header: never in a URL or on disk; GitHub, GitLab and Gitea
        all take it as the Basic password), as GIT_CONFIG_* variables."""
        config: dict[str, str] = {}
        token = self.token() if callable(self.token) else self.token
        if token and self.url.startswith("https://"):
            # A `user:password` token is sent as it is (Bitbucket's x-token-auth, app passwords).
            userinfo = token if ":" in token else f"x-access-token:{token}"
            basic = base64.b64encode(userinfo.encode()).decode()
            config["http.extraHeader"] = f"Authorization: Bearer {token}" \
                if self.auth_scheme == "bearer" else f"Authorization: Basic {basic}"
        env = {"GIT_CONFIG_COUNT": str(len(config))} if config else {}
        for i, (key, value) in enumerate(config.items()):
            env |= {f"GIT_CONFIG_KEY_{i}": key, f"GIT_CONFIG_VALUE_{i}": value}
        return env

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Fetches, pushes and worktrees one at a time, across threads and the processes
        sharing the cache (concurrent ref updates in one repository fail: 'cannot lock ref')."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.parent / f"{self.path.name}.lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
                yield

    def _run(self, *args: str, env: dict[str, str] | None = None, check: bool = True,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **self._config_env,
                    **(env or {})}
        with timed_call("git", args[0]):
            result = subprocess.run(
                ["git", "-C", str(self.path), *args], capture_output=True, text=True,
                env=full_env, input=input, check=False,
            )
            if check and result.returncode != 0:
                raise GitError(f"git {args[0]} failed: {_redact(result.stderr.strip(), self.url)}")
        return result

    def sync(self) -> None:
        """Create the cache on first use, then fetch every branch."""
        with self._exclusive():
            self._sync()

    def _sync(self) -> None:
        fresh = not (self.path / "HEAD").exists()
        if fresh:
            self.path.mkdir(parents=True, exist_ok=True)
            self._run("init", "--bare", "-q")
            self._run("remote", "add", "origin", self.url)
            self._run("config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")
        self._run("fetch", "--prune", "-q", "origin")
        if fresh:
            self._run("remote", "set-head", "origin", "--auto", check=False)
        self._tips.clear()

    def tip(self, branch: str) -> str | None:
        """The fetched commit of origin's branch, or None if it has no such branch."""
        if branch not in self._tips:
            result = self._run("rev-parse", "--verify", "-q",
                               f"refs/remotes/origin/{branch}^{{commit}}", check=False)
            self._tips[branch] = result.stdout.strip() or None
        return self._tips[branch]

    def read(self, ref: str, path: str) -> str | None:
        """A file's text at ref (bytes kept: CRLF, BOM), or None if absent."""
        return read_blob(self.path, ref, path)

    def grep_files(self, ref: str, needle: str | list[str], under: list[str]) -> list[str]:
        """Paths under the directories of ref's tree whose content holds needle (any of them)."""
        patterns = [a for n in ([needle] if isinstance(needle, str) else needle) for a in ("-e", n)]
        result = self._run("grep", "-l", "-z", "-F", *patterns, ref, "--", *under, check=False)
        if result.returncode not in (0, 1):
            raise GitError(f"git grep failed: {result.stderr.strip()}")
        return [hit.split(":", 1)[1] for hit in result.stdout.split("\0") if hit]

    def read_many(self, ref: str, paths: list[str]) -> dict[str, str | None]:
        """Several files' texts at ref in two git processes (None for absent ones).
        Blob ids first: `cat-file --batch` on `ref:path` walks the trees once per path."""
        texts: dict[str, str | None] = dict.fromkeys(paths)
        if not paths:
            return texts
        listing = self._run("ls-tree", "-z", ref, "--", *paths).stdout
        blobs: dict[str, str] = {}
        for entry in listing.split("\0"):
            if entry:
                meta, path = entry.split("\t", 1)
                mode, kind, blob = meta.split()
                if kind == "blob" and mode != "120000":  # a symlink could point anywhere
                    blobs[path] = blob
        request = "".join(f"{blob}\n" for blob in blobs.values()).encode()
        out = subprocess.run(["git", "-C", str(self.path), "cat-file", "--batch", "--buffer"],
                             input=request, capture_output=True, check=True).stdout
        pos = 0
        for path in blobs:
            end = out.index(b"\n", pos)
            size = int(out[pos:end].split()[2])
            texts[path] = out[end + 1:end + 1 + size].decode("utf-8")
            pos = end + 1 + size + 1
        return texts

    def message(self, sha: str) -> str:
        """The full message of a commit."""
        return self._run("log", "-1", "--format=%B", sha).stdout

    def parent(self, sha: str) -> str | None:
        """The first parent of a commit."""
        result = self._run("rev-parse", "-q", "--verify", f"{sha}^", check=False)
        return result.stdout.strip() or None

    def commit(self, parent: str, files: dict[str, str], message: str, when: float) -> str:
        """A commit on top of parent with files replaced; `when` fixes its dates so the same
        change always yields the same commit id."""
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self._run("read-tree", parent, env=env)
            for path, text in files.items():
                blob = self._run("hash-object", "-w", "--stdin", input=text).stdout.strip()
                self._run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
            tree = self._run("write-tree", env=env).stdout.strip()
        return self.commit_tree(tree, parent, message, when)

    def commit_tree(self, tree: str, parent: str, message: str, when: float) -> str:
        """A commit object for tree with one parent, signed when a key is set up."""
        sha = self._run("commit-tree", tree, "-p", parent, "-F", "-",
                        env=self._commit_env(when), input=message).stdout.strip()
        if self._signer is None:
            return sha
        text = self._run("cat-file", "commit", sha).stdout  # signed as `commit-tree -S` would
        return self._run("hash-object", "-t", "commit", "-w", "--stdin",
                         input=with_signature(text, self._signer(text, when))).stdout.strip()

    def _commit_env(self, when: float) -> dict[str, str]:
        """Identity and dates fixed to `when`."""
        stamp = f"{int(when)} +0000"
        return {
            "GIT_AUTHOR_NAME": self.identity.name, "GIT_AUTHOR_EMAIL": self.identity.email,
            "GIT_COMMITTER_NAME": self.identity.name, "GIT_COMMITTER_EMAIL": self.identity.email,
            "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp,
        }

    def replay(self, sha: str, onto: str, message: str, when: float) -> str:
        """sha's change applied on top of onto (a cherry-pick without a working tree)."""
        base = self.parent(sha)
        if base == onto:
            tree = self._run("rev-parse", f"{sha}^{{tree}}").stdout.strip()
        else:
            # With sha's parent an ancestor of onto, the three-way merge of onto and sha is
            # exactly a cherry-pick of sha (git 2.39 has no merge-tree --merge-base).
            ancestor = self._run("merge-base", "--is-ancestor", str(base), onto, check=False)
            if base is None or ancestor.returncode != 0:
                raise MergeConflict(f"{sha[:12]} was not made from {onto[:12]}'s history")
            result = self._run("merge-tree", "--write-tree", onto, sha, check=False)
            if result.returncode == 1:
                raise MergeConflict(f"{sha[:12]} no longer applies on {onto[:12]}")
            if result.returncode != 0:
                raise GitError(f"git merge-tree failed: {result.stderr.strip()}")
            tree = result.stdout.splitlines()[0].strip()
        return self.commit_tree(tree, onto, message, when)

    def push(self, sha: str, branch: str, expect: str | None = None, force: bool = False) -> bool:
        """Point origin's branch at sha. With force, only if it still is at `expect`
        (a lease). False when the remote refused because it moved."""
        args = ["push", "-q", "origin", f"{'+' if force else ''}{sha}:refs/heads/{branch}"]
        if force:
            args.insert(2, f"--force-with-lease=refs/heads/{branch}:{expect or ''}")
        with self._exclusive():
            result = self._run(*args, check=False)
            if result.returncode == 0:
                self._run("update-ref", f"refs/remotes/origin/{branch}", sha)
                self._tips.clear()  # HEAD may name this branch too
                return True
            if "rejected" in result.stderr or "stale info" in result.stderr:
                log.info("git.push_rejected", branch=branch)
                self._sync()  # another writer moved it: the caller's retry sees where to
                return False
        raise GitError(f"git push failed: {_redact(result.stderr.strip(), self.url)}")

    def find_promotion_commit(self, branch: str, promotion_id: str) -> str | None:
        """The commit on origin's branch whose Hoist-Promotion trailer is promotion_id."""
        if self.tip(branch) is None:
            return None
        result = self._run("log", "-n1", "--format=%H", "-F",
                           f"--grep=Hoist-Promotion: {promotion_id}", f"refs/remotes/origin/{branch}")
        return result.stdout.strip() or None

    def commits_by_others(self, tip: str, base: str) -> list[Authored]:
        """Commits reachable from `tip` but not from `base` that Hoist did not make (another
        committer, or no `Hoist-Promotion` trailer), newest first: a person's work on
        Hoist's branch, which must never be force-pushed away."""
        out = self._run("log", "--format=%H%x1f%an <%ae>%x1f%ce%x1f%s%x1f"
                        "%(trailers:key=Hoist-Promotion,valueonly,separator=%x2c)%x1e",
                        f"{base}..{tip}").stdout
        found = []
        for record in out.split("\x1e"):
            fields = record.strip("\n").split("\x1f")
            if len(fields) != 5:
                continue
            sha, author, committer, subject, trailer = fields
            if committer != self.identity.email or not trailer.strip():
                found.append(Authored(sha, author, subject))
        return found

    def contains(self, revision: str, commit: str) -> bool:
        """True when commit is revision or one of its ancestors (after a fetch)."""
        return self._run("merge-base", "--is-ancestor", commit, revision,
                         check=False).returncode == 0

    def promotion_commits(self, branch: str, promotion_id: str) -> list[str]:
        """Every commit on origin's branch carrying the promotion's trailer, newest first."""
        out = self._run("log", "--format=%H", "-F", f"--grep=Hoist-Promotion: {promotion_id}",
                        f"refs/remotes/origin/{branch}").stdout
        return out.split()

    def revert(self, branch: str, commits: list[str], messages: list[str], when: float) -> str:
        """Commits reverting `commits` in order (newest first) on top of origin's branch,
        made with `git revert` in a throw-away worktree; MergeConflict if one does not
        revert cleanly. Returns the last revert commit (not pushed)."""
        tip = self.tip(branch)
        assert tip is not None
        env, head = self._commit_env(when), tip
        with tempfile.TemporaryDirectory() as tmp, self._exclusive():
            work = Path(tmp) / "work"
            self._run("worktree", "add", "-q", "--detach", str(work), tip)
            try:
                for commit, message in zip(commits, messages, strict=True):
                    if self._run("-C", str(work), "revert", "--no-commit", commit, env=env,
                                 check=False).returncode != 0:
                        raise MergeConflict(f"{commit[:12]} does not revert cleanly")
                    tree = self._run("-C", str(work), "write-tree", env=env).stdout.strip()
                    head = self.commit_tree(tree, head, message, when)  # signed like any other
                    self._run("-C", str(work), "update-ref", "--no-deref", "HEAD", head, env=env)
            finally:
                self._run("worktree", "remove", "--force", str(work), check=False)
                self._run("worktree", "prune", check=False)
        return head

    def branches(self, prefix: str = "") -> list[str]:
        """origin's branches (as fetched) that start with prefix."""
        out = self._run("for-each-ref", "--format=%(refname:lstrip=3)",
                        f"refs/remotes/origin/{prefix}").stdout
        return [line for line in out.splitlines() if line]


def read_blob(repo: Path, ref: str, path: str) -> str | None:
    """A file's text at ref in a local repository (bytes kept: CRLF, BOM), or None if absent."""
    result = subprocess.run(["git", "-C", str(repo), "cat-file", "blob", f"{ref}:{path}"],
                            capture_output=True, check=False)
    return result.stdout.decode("utf-8") if result.returncode == 0 else None
