"""DORA's four keys for each environment, from the manifests repository's history as the
git cache holds it (the same trailers `hoist dora` reads), for /metrics and the page.
Computed at most once per `ttl` seconds: a 10,000-promotion history takes about a second
(bench/dora.py), a scrape must not."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

from ..adapters.git import GitError
from ..adapters.git_local import branch_refs, log_messages
from ..core.config import ConfigError
from ..core.dora import Dora, dora
from .services import Services

log = structlog.get_logger()


class DoraBoard:
    """`numbers()`: environment name → Dora, as of at most `ttl` seconds ago."""

    def __init__(self, services: Services, ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.services = services
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._at: float | None = None
        self._numbers: dict[str, Dora] = {}

    def numbers(self) -> dict[str, Dora]:
        """The latest numbers; on a git or config fault the last good ones (logged)."""
        with self._lock:
            now = self.clock()
            if self._at is None or now - self._at >= self.ttl:
                self._at = now
                try:
                    self._numbers = self._measure()
                except (GitError, ConfigError) as exc:
                    log.warning("dora.unavailable", error=str(exc))
            return dict(self._numbers)

    def _measure(self) -> dict[str, Dora]:
        environments = self.services.config().environments
        repo = self.services.git.path
        refs = branch_refs(repo, [env.branch for env in environments])
        commits = log_messages(repo, *refs) if refs else []
        return {env.name: dora(commits, env.name) for env in environments}
