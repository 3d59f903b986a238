"""The worker pool: threads that claim units of work through leases in the store and run
the flows for them. Replicas sharing a store share the work; none is done twice at once.

Units of work, each a lease: `inbox` (stored pushes become promotions), `successors`
(soaks that ended), `chatops` (comments, each also holding its promotion's lane),
`reconcile` (a periodic pass, one replica at a time) and `lane:<image>/<environment>`
(the unfinished promotions of one image in one environment, advanced in arrival order)."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time

import structlog

from .adapters.store import Promotion, StoreUnavailable
from .adapters.store.leases import lane_name
from .core.backoff import Backoff, describe
from .core.config import ConfigError
from .core.machine import TransitionError
from .flows.chatops import handle_comments, reconcile
from .flows.ingest import ingest_pending
from .flows.poll import poll_registries
from .flows.promote import advance
from .flows.rollout import start_successors
from .flows.services import Services
from .worker_leases import Leases

log = structlog.get_logger()


lane = lane_name  # the lease of one image's promotions in one environment


class _Stuck(Exception):
    """A promotion's step failed: `cause` says why."""

    def __init__(self, promotion: Promotion, cause: Exception) -> None:
        super().__init__(str(cause))
        self.promotion, self.cause = promotion, cause



class Worker(Leases):
    """`threads` threads, each running `run_once` whenever woken and every `interval`
    seconds anyway (so work stored by another process is picked up). A lease is held for
    `lease_ttl` seconds and renewed every third of that while its work runs."""

    def __init__(self, services: Services, interval: float = 1.0,
                 reconcile_every: float = 300.0, threads: int = 1,
                 lease_ttl: float = 30.0) -> None:
        self.services = services
        self.interval = interval
        self.reconcile_every = reconcile_every
        self.threads = max(1, threads)
        self.lease_ttl = lease_ttl
        self._process = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        # When this process last ran a reconcile pass: None until it has (a restarted
        # process catches up at once, whatever the clock says).
        self._reconciled_at: float | None = None
        self._held: dict[str, str] = {}  # lease -> holder, for the renewer
        self._held_lock = threading.Lock()
        self._wakes: list[threading.Event] = []
        self._idle: list[threading.Event] = []  # threads waiting for work, last idle first
        self._idle_lock = threading.Lock()
        self._called = False  # a pass was asked for and no thread has begun one since
        self._generation = 0  # wakes so far: a thread that looked before the last looks again
        self._looking = 0  # threads between jobs, about to read what work waits
        self._ingesting = False  # a thread of ours is turning pushes into promotions
        self._stop = threading.Event()
        self._pool: list[threading.Thread] = []
        self._backoff = Backoff()  # failing units, under _held_lock
        self._waiting: dict[str, str] = {}  # promotion id -> the reason shown for its wait

    # one pass ---------------------------------------------------------------------------

    def wake(self) -> None:
        """Ask for a pass now (after a webhook was stored, or an approval given). A thread
        about to look for work will see it; else one idle thread is woken; with none idle,
        the next thread to finish its pass goes round again. (Waking every thread for
        every webhook would have them all querying the store at once.)"""
        with self._idle_lock:
            self._generation += 1
            if self._looking or self._ingesting:  # the ingesting thread comes back for it
                return
            self._wake_idle()

    def _wake_idle(self) -> None:
        """Under _idle_lock: wake one idle thread, or ask the next one free to look."""
        if self._idle:
            self._idle.pop().set()
        else:
            self._called = True

    def run_once(self) -> None:
        """Every unit of work available now, once each (the inbox again when more arrived),
        repeated while any made progress (a promotion that moved may have started the next
        environment)."""
        holder = f"{self._process}:{threading.get_ident()}"
        try:
            poll_registries(self.services)  # only repositories whose poll is due (claimed)
        except Exception as exc:
            log.error("worker.poll_failed", error=str(exc))
        self._maybe_reconcile(holder)
        progress = True
        while progress and not self._stop.is_set():
            progress, tried, inbox_seen = False, set(), -1
            while not self._stop.is_set():
                with self._idle_lock:
                    self._looking += 1
                    generation = self._generation
                try:
                    now = time.monotonic()
                    candidates = [j for j in self._jobs() if (j not in tried or (
                        j == "inbox" and inbox_seen < generation)) and self._backoff.due(j, now)]
                    name = self.services.store.claim(candidates, holder, self.lease_ttl)
                except StoreUnavailable as exc:
                    log.error("worker.store_unavailable", error=str(exc))
                    return
                finally:
                    with self._idle_lock:
                        self._looking -= 1
                        arrived = self._generation != generation
                if name is None:
                    if arrived and not self._ingesting:
                        continue  # a wake while we looked was ours to see: look again
                    break
                if len(candidates) > 1:
                    with self._idle_lock:  # more work waits: another thread may take it
                        self._wake_idle()
                tried.add(name)
                with self._holding(name, holder, claimed=True):
                    progress = self._run(name, holder) or progress
                    while name == "inbox" and not self._stop.is_set():
                        inbox_seen = generation  # more pushes since? ingest them, still held
                        with self._idle_lock:
                            generation = self._generation
                        if generation == inbox_seen:
                            break
                        progress = self._run(name, holder) or progress

    def _jobs(self) -> list[str]:
        """Lease names with work waiting, most urgent first."""
        store = self.services.store
        jobs = []
        pushes, comments = store.pending_counts()
        if pushes:
            jobs.append("inbox")
        if store.due_successors(time.time()):
            jobs.append("successors")
        if comments:
            jobs.append("chatops")
        return jobs + [lane(image, env) for image, env in store.lanes()]

    def _run(self, name: str, holder: str) -> bool:
        """Do the work of one claimed lease; True if anything moved. A failure is logged
        (once per attempt) and the work left where it is, retried after a backoff; an
        invalid hoist.yaml leaves it waiting (its promotions say why) until it is fixed."""
        try:
            moved = self._work(name, holder)
        except ConfigError as exc:
            for p in self._lane_of(name):
                self._explain(p, str(exc))
            return False
        except Exception as exc:
            stuck, exc = (exc.promotion, exc.cause) if isinstance(exc, _Stuck) else (None, exc)
            with self._held_lock:
                attempt, delay = self._backoff.failed(name, time.monotonic())
            log.warning("worker.retrying", work=name, id=stuck.id if stuck else None,
                        attempt=attempt, retry_in=delay, error=describe(exc))
            if stuck is not None:
                self._explain(stuck, f"retrying in {delay:g} s (attempt {attempt}): "
                                     f"{describe(exc)}")
            return False
        with self._held_lock:
            self._backoff.succeeded(name)
        return moved

    def _lane_of(self, name: str) -> list[Promotion]:
        """The unfinished promotions of a `lane:` unit (none for other units)."""
        if not name.startswith("lane:"):
            return []
        image, _, env = name.removeprefix("lane:").rpartition("/")
        return self.services.store.lane_promotions(image, env)

    def _explain(self, promotion: Promotion, reason: str) -> None:
        """Show why a promotion waits (its `reason`), remembered to be cleared once it moves."""
        if promotion.reason != reason:
            self.services.store.update(promotion.id, reason=reason)
        self._waiting[promotion.id] = reason

    def retry_now(self) -> None:
        """Forget every backoff and look for work now (the config or the repo changed)."""
        with self._held_lock:
            self._backoff.reset()
        self.wake()

    def _work(self, name: str, holder: str) -> bool:
        if name == "inbox":
            with self._idle_lock:
                self._ingesting = True
            try:
                return ingest_pending(self.services) > 0
            finally:
                with self._idle_lock:
                    self._ingesting = False
        if name == "successors":
            due = self.services.store.due_successors(time.time())
            for done in due:
                start_successors(self.services, done)  # their soak is over
            return bool(due)
        if name == "chatops":
            return handle_comments(self.services, lambda p: self._hold_lane(p, holder)) > 0
        image, _, env = name.removeprefix("lane:").rpartition("/")
        return self._advance_lane(image, env)

    def _advance_lane(self, image: str, env: str) -> bool:
        moved = self.services.store.supersede_waiting(image, env) > 0
        for promotion in self.services.store.lane_promotions(image, env):
            if self._stop.is_set():
                break
            try:
                after = advance(self.services, promotion)
            except TransitionError as exc:  # moved by a person meanwhile (abort, hold)
                log.info("worker.moved_meanwhile", id=promotion.id, reason=str(exc))
                continue
            except ConfigError:
                raise
            except Exception as exc:  # left in its state: the lane is retried after a backoff
                raise _Stuck(promotion, exc) from exc
            waited = self._waiting.pop(promotion.id, None)
            if waited is not None and after.reason == waited:  # no longer why it waits
                self.services.store.update(promotion.id, reason=None)
            moved = moved or after.state != promotion.state
        return moved

    def _maybe_reconcile(self, holder: str) -> None:
        """A reconcile pass on one replica at a time: when this process has not run one
        yet, or when no replica has for `reconcile_every` seconds (the time is stored)."""
        now = time.time()
        if self._reconciled_at is not None and now - self._reconciled_at < self.reconcile_every:
            return
        ran_before = None if self._reconciled_at is None else now - self.reconcile_every
        try:
            if self.services.store.claim(["reconcile"], holder, self.lease_ttl,
                                         ran_before=ran_before) is None:
                return  # another replica runs it, or ran it lately
        except StoreUnavailable as exc:
            log.error("worker.store_unavailable", error=str(exc))
            return
        with self._holding("reconcile", holder, claimed=True, ran_at=now):
            try:
                reconcile(self.services)
            except Exception as exc:
                log.error("worker.reconcile_failed", error=str(exc))
        self._reconciled_at = now

    # the pool ---------------------------------------------------------------------------

    def _loop(self, wake: threading.Event) -> None:
        while not self._stop.is_set():
            wake.clear()
            with self._idle_lock:
                self._called = False  # this pass sees everything stored until now
            self.run_once()
            with self._idle_lock:
                if self._called:  # asked for while every thread was busy: look again
                    continue
                self._idle.append(wake)
            wake.wait(self.interval)
            with self._idle_lock:
                if wake in self._idle:
                    self._idle.remove(wake)

    @property
    def running(self) -> bool:
        """True while the worker threads are alive."""
        return bool(self._pool) and all(t.is_alive() for t in self._pool)

    def start(self) -> None:
        """Resume unfinished work and keep going on background threads."""
        log.info("worker.started", threads=self.threads)
        self._wakes = [threading.Event() for _ in range(self.threads)]
        threads = [threading.Thread(target=self._loop, args=(event,), name=f"hoist-worker-{i}",
                                    daemon=True) for i, event in enumerate(self._wakes)]
        threads.append(threading.Thread(target=self._renew_loop, name="hoist-leases",
                                        daemon=True))
        for thread in threads:
            thread.start()
        self._pool = threads

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the current steps, take no new work, give the leases up, and return."""
        self._stop.set()
        for event in self._wakes:
            event.set()
        deadline = time.monotonic() + timeout
        for thread in self._pool:
            thread.join(max(0.0, deadline - time.monotonic()))
        log.info("worker.stopped")
