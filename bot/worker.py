"""The worker: drains the inbox and drives unfinished promotions, woken by new events."""

from __future__ import annotations

import threading
import time

import structlog

from .flows.chatops import handle_comments, reconcile
from .flows.ingest import ingest_pending
from .flows.poll import poll_registries
from .flows.promote import advance
from .flows.rollout import start_successors
from .flows.services import Services

log = structlog.get_logger()


class Worker:
    """Runs `run_once` on a thread whenever woken, and every `interval` seconds anyway
    (so approvals recorded by another process are picked up)."""

    def __init__(self, services: Services, interval: float = 1.0,
                 reconcile_every: float = 300.0) -> None:
        self.services = services
        self.interval = interval
        self.reconcile_every = reconcile_every
        # None until the first pass: monotonic time starts at boot, so comparing it with
        # 0.0 would skip the start-up reconcile on a machine that booted recently.
        self._reconciled: float | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Ask for a pass now (after a webhook was stored, or an approval given)."""
        self._wake.set()

    def run_once(self) -> None:
        """Ingest pending pushes, then advance unfinished promotions until none moves."""
        store = self.services.store
        try:
            poll_registries(self.services)  # only repositories whose poll is due
        except Exception as exc:
            log.error("worker.poll_failed", error=str(exc))
        try:
            ingest_pending(self.services)
        except Exception as exc:
            log.error("worker.ingest_failed", error=str(exc))
        try:
            for done in self.services.store.due_successors(time.time()):
                start_successors(self.services, done)  # their soak is over
        except Exception as exc:
            log.error("worker.successors_failed", error=str(exc))
        if self._reconciled is None or time.monotonic() - self._reconciled >= self.reconcile_every:
            self._reconciled = time.monotonic()
            try:
                reconcile(self.services)
            except Exception as exc:
                log.error("worker.reconcile_failed", error=str(exc))
        try:
            handle_comments(self.services)
        except Exception as exc:
            log.error("worker.comments_failed", error=str(exc))
        moved = True
        while moved and not self._stop.is_set():
            moved = False
            for promotion in store.promotions(active_only=True):
                if self._stop.is_set():
                    return
                try:
                    after = advance(self.services, promotion)
                except Exception as exc:
                    # Left in its state: the next pass resumes it.
                    log.error("worker.advance_failed", id=promotion.id, error=str(exc))
                    continue
                moved = moved or after.state != promotion.state

    def _loop(self) -> None:
        log.info("worker.started")
        while not self._stop.is_set():
            self._wake.clear()
            self.run_once()
            self._wake.wait(self.interval)
        log.info("worker.stopped")

    @property
    def running(self) -> bool:
        """True while the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Resume unfinished work and keep going on a background thread."""
        self._thread = threading.Thread(target=self._loop, name="hoist-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the current step, take no new work, and return."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
