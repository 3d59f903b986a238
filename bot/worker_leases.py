"""The worker's leases: held while their work runs, renewed every third of their time to
live by a thread of their own, given up after (a lost one is logged: its work is
idempotent, so the replica that took it over redoes it safely)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from .adapters.store import Promotion, StoreUnavailable
from .adapters.store.leases import lane_name
from .flows.services import Services

log = structlog.get_logger()


class Leases:
    """Mixed into the Worker: what it holds (`_held`: lease -> holder, under `_held_lock`)."""

    services: Services
    lease_ttl: float
    _held: dict[str, str]
    _held_lock: threading.Lock
    _stop: threading.Event

    @contextmanager
    def _holding(self, name: str, holder: str, claimed: bool,
                 ran_at: float | None = None) -> Iterator[bool]:
        """Keep a claimed lease renewed while the block runs, then give it up."""
        with self._held_lock:
            self._held[name] = holder
        try:
            yield claimed
        finally:
            with self._held_lock:
                self._held.pop(name, None)
            try:
                self.services.store.release(name, holder, ran_at)
            except StoreUnavailable as exc:  # it expires on its own
                log.warning("worker.release_failed", work=name, error=str(exc))

    @contextmanager
    def _hold_lane(self, promotion: Promotion, holder: str) -> Iterator[bool]:
        """Hold a promotion's lane for one comment (False if another worker has it)."""
        name = lane_name(promotion.image_key, promotion.environment)
        if self.services.store.claim([name], holder, self.lease_ttl) is None:
            yield False
            return
        with self._holding(name, holder, claimed=True):
            yield True

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.lease_ttl / 3):
            with self._held_lock:
                by_holder: dict[str, list[str]] = {}
                for name, holder in self._held.items():
                    by_holder.setdefault(holder, []).append(name)
            for holder, names in by_holder.items():
                try:
                    lost = self.services.store.renew(holder, names, self.lease_ttl)
                except StoreUnavailable as exc:
                    log.warning("worker.renew_failed", error=str(exc))
                    continue
                for name in lost:  # its work is idempotent: the new holder redoes it safely
                    log.warning("worker.lease_lost", work=name)
