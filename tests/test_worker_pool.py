"""The worker pool in one process: a forge call that hangs for one image holds up one
thread, not the promotions of other images."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from bot.adapters.forges.local import LocalForge
from bot.adapters.git import GitRepo
from bot.adapters.store import ChangeRequest, Store
from bot.core.events import ImagePushed
from bot.core.machine import State
from bot.demo.manifests import make_manifests_repo
from bot.flows.services import Services
from bot.wiring import ConfigSource
from bot.worker import Worker
from tests.crash_harness import _example
from tests.support import wait_for

BOTH_ENGINES = True  # this suite runs on SQLite and on PostgreSQL (conftest)


class HangingForge(LocalForge):
    """The local forge, except that proposing for svc0 waits until released."""

    def __init__(self, store: Store, git: GitRepo) -> None:
        super().__init__(store, git)
        self.release = threading.Event()

    def propose(self, promotion_id: str, branch: str, base: str, title: str, body: str,
                labels: tuple[str, ...] = ()) -> ChangeRequest:
        if "svc0" in branch:
            assert self.release.wait(60)
        return super().propose(promotion_id, branch, base, title, body, labels)


def test_a_hanging_forge_call_holds_up_one_image_not_the_others(
        tmp_path: Path, store: Store) -> None:
    url = make_manifests_repo(tmp_path / "origin", "localhost:5000", _example(tmp_path, 2))
    git = GitRepo(url, tmp_path / "data" / "manifests.git")
    git.sync()
    forge = HangingForge(store, git)
    services = Services(store, git, forge, ConfigSource(git, "hoist.yaml", None))
    worker = Worker(services, interval=0.05, threads=3, lease_ttl=30)
    worker.start()
    try:
        def push(image: str) -> None:
            store.add_events([ImagePushed("distribution", f"{image}-1", "localhost:5000",
                                          f"acme/{image}", "1.0.1", "sha256:" + "a" * 64)],
                             time.time())
            worker.wake()

        def state(image: str, env: str) -> Any:
            found = [p.state for p in store.promotions() if p.image_key == image
                     and p.environment == env]
            return found[0] if found else None

        push("svc0")
        wait_for(lambda: state("svc0", "dev") is State.PLANNED, "svc0 to hang in propose")
        push("svc1")
        wait_for(lambda: state("svc1", "prod") is State.PROMOTED, "svc1 through every env")
        assert state("svc0", "dev") is State.PLANNED  # still waiting on its forge call
        forge.release.set()
        wait_for(lambda: state("svc0", "prod") is State.PROMOTED, "svc0 once released")
    finally:
        forge.release.set()
        worker.stop()
