"""A bounded queue drained in order by its own thread: side effects that must never hold up
a promotion (chat messages, deployment statuses) go through one, each receiver its own."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import structlog

from ..core.notices import DeploymentUpdate, Subject

log = structlog.get_logger()
T = TypeVar("T")


class Outbox(Generic[T]):
    """`offer` never blocks: when `capacity` items wait already, the new one is dropped and
    logged. `handle` runs on the outbox's thread, in order; its exceptions are logged."""

    def __init__(self, name: str, handle: Callable[[T], None], capacity: int = 1000) -> None:
        self.name = name
        self.handle = handle
        self.queue: queue.Queue[T] = queue.Queue(capacity)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def offer(self, item: T) -> bool:
        """Queue item; False when it was dropped because the outbox is full."""
        with self._lock:
            if self._thread is None:  # started on first use: most processes never notify
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name=f"hoist-{self.name}")
                self._thread.start()
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            log.warning("outbox.dropped", outbox=self.name, reason="full")
            return False
        return True

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                self.handle(item)
            except Exception as exc:
                log.warning("outbox.failed", outbox=self.name, error=type(exc).__name__)
            finally:
                self.queue.task_done()

    def join(self, timeout: float) -> bool:
        """Wait until everything queued was handled; False on timeout."""
        done = threading.Event()

        def wait() -> None:
            self.queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)


class StatusOutbox:
    """What every forge's deployment statuses share: `report` queues each (subject, update)
    and returns at once (never blocks or raises); one outbox thread posts them in order
    through the subclass's `_post`."""

    def __init__(self, capacity: int = 1000, name: str = "deployments") -> None:
        self.outbox: Outbox[tuple[Subject, DeploymentUpdate]] = Outbox(
            name, self._post, capacity)

    def report(self, subject: Subject, updates: list[DeploymentUpdate]) -> None:
        """Queue these states for the subject's merge commit (or deployment)."""
        for update in updates:
            self.outbox.offer((subject, update))

    def _post(self, item: tuple[Subject, DeploymentUpdate]) -> None:
        raise NotImplementedError
