"""hoist.yaml as the flows read it: a local file, or the manifests repo's default branch,
fetched again when that branch moved (a push webhook) or every `max_age` seconds."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import structlog

from ..core.config import Config, ConfigError, load_config
from .git import GitError, GitRepo

log = structlog.get_logger()


class ConfigSource:
    """hoist.yaml from a local file (read at each call), or from the manifests repo's default
    branch (parsed once per commit, so policy changes land like any reviewed change).

    With `max_age` (seconds) the branch is fetched at most that often; `refresh()` asks for a
    fetch before the next read. An invalid hoist.yaml raises ConfigError whose lines read
    `hoist.yaml at <commit>: line <n>: <field>: <message>`, logged once per commit."""

    def __init__(self, git: GitRepo, repo_path: str, local_file: Path | None,
                 max_age: float | None = None) -> None:
        self.git = git
        self.repo_path = repo_path
        self.local_file = local_file
        self.max_age = max_age
        self._cache: tuple[str, Config | ConfigError] | None = None
        self._fetched_at = time.monotonic()  # whoever built this fetched just before
        self._stale = False
        self._lock = threading.Lock()

    @property
    def commit(self) -> str | None:
        """The commit of the hoist.yaml last read from the branch (None for a local file)."""
        return self._cache[0] if self._cache else None

    @property
    def cached(self) -> Config | None:
        """The hoist.yaml last read, without fetching or waiting (None before the first
        read, or when it did not validate): for routing a push to the projects naming it."""
        found = self._cache[1] if self._cache else None
        return found if isinstance(found, Config) else None

    def refresh(self) -> None:
        """Fetch before the next read: the default branch moved."""
        self._stale = True

    def __call__(self) -> Config:
        if self.local_file is not None:
            text = self.local_file.read_text(encoding="utf-8")
            return load_config(text, str(self.local_file))
        with self._lock:
            self._fetch_if_due()
            ref = self.git.tip("HEAD") or self.git.tip("main")
            if ref is None:
                raise ConfigError([f"{self.repo_path}:1: (file): the manifests repository is "
                                   "empty"])
            if self._cache is None or self._cache[0] != ref:
                self._cache = (ref, self._load(ref))
            found = self._cache[1]
        if isinstance(found, ConfigError):
            raise found
        return found

    def _fetch_if_due(self) -> None:
        due = self.max_age is not None and time.monotonic() - self._fetched_at >= self.max_age
        if not (due or self._stale):
            return
        self._stale, self._fetched_at = False, time.monotonic()
        try:
            self.git.sync()
        except GitError as exc:  # the last fetched policy stays in force meanwhile
            log.warning("config.fetch_failed", error=str(exc))

    def _load(self, ref: str) -> Config | ConfigError:
        """hoist.yaml at commit ref, or the error saying where it is wrong."""
        found = self.git.read(ref, self.repo_path)
        if found is None:
            error = ConfigError([f"{self.repo_path} at {ref[:12]}: not found in the manifests "
                                 "repo"])
        else:
            try:
                config = load_config(found, self.repo_path)
            except ConfigError as exc:
                error = ConfigError([_at(p, self.repo_path, ref) for p in exc.problems])
            else:
                if self._cache is not None:
                    log.info("config.loaded", commit=ref[:12])
                return config
        log.warning("config.invalid", commit=ref[:12], problems=error.problems)
        return error


def _at(problem: str, path: str, ref: str) -> str:
    """`hoist.yaml:15: images.web: …` as `hoist.yaml at <commit>: line 15: images.web: …`."""
    line, _, rest = problem.removeprefix(f"{path}:").partition(":")
    return f"{path} at {ref[:12]}: line {line}:{rest}"
