"""SQLite store: the durable inbox of pushes, promotions and their transitions, change requests."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ulid import ULID

from ..core.events import ImagePushed
from ..core.machine import State, can_supersede, check_transition
from ..telemetry import TRANSITIONS
from .chatops_records import ChatOpsRecords
from .poll_records import PollRecords
from .records import ChangeRequest, NewPromotion, Promotion, row_to_promotion
from .schema import SCHEMA

__all__ = ["ChangeRequest", "NewPromotion", "Promotion", "Store", "StoreUnavailable"]



_FIELDS = frozenset({"plan", "base_sha", "commit_sha", "merge_sha", "approved_by", "reason",
                     "digest", "step", "step_started", "last_check", "tally", "next_at"})


class StoreUnavailable(RuntimeError):
    """The store cannot write (disk full, read-only, locked): callers should retry later."""


class Store(ChatOpsRecords, PollRecords):
    """One SQLite file in WAL mode; a connection per thread; every write one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db().executescript(SCHEMA)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc

    # inbox -----------------------------------------------------------------------------------

    def add_events(self, pushes: list[ImagePushed], received_at: float) -> int:
        """Store pushes durably; those already seen (same key) are ignored. Returns new count."""
        return self.add_event_batches([(pushes, received_at)])[0]

    def add_event_batches(self, batches: list[tuple[list[ImagePushed], float]]) -> list[int]:
        """Several webhooks' pushes in one transaction (group commit); new counts for each."""
        counts = []
        with self._tx() as db:
            for pushes, received_at in batches:
                added = 0
                for p in pushes:
                    cur = db.execute(
                        "INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?,NULL)",
                        (p.key, p.source, p.registry, p.repository, p.tag, p.digest,
                         received_at),
                    )
                    added += cur.rowcount
                counts.append(added)
        return counts

    def pending_events(self) -> list[tuple[ImagePushed, float]]:
        """Unprocessed pushes with their receive time, oldest first."""
        rows = self._db().execute(
            "SELECT * FROM events WHERE processed_at IS NULL ORDER BY received_at, key"
        ).fetchall()
        return [
            (ImagePushed(r["source"], r["key"].split(":", 1)[1], r["registry"], r["repository"],
                         r["tag"], r["digest"]), r["received_at"])
            for r in rows
        ]

    def ingest(self, event_keys: list[str], new: list[NewPromotion]) -> list[Promotion]:
        """Create promotions (skipping ones that exist for the same version and environment),
        supersede older unfinished ones for the same image and environment, mark the events
        processed: all in one transaction. Returns the promotions created."""
        now = time.time()
        created: list[str] = []
        with self._tx() as db:
            for n in new:
                version_key = n.digest or n.tag or ""
                # The same image: same version key, same digest, or the same tag where one
                # side has no digest (a Docker Hub webhook and a registry poll of one push).
                exists = db.execute(
                    "SELECT 1 FROM promotions WHERE repository=? AND environment=? AND"
                    " (version_key=? OR digest=? OR (tag=? AND (version_key=tag OR ? IS NULL)))",
                    (n.repository, n.environment, version_key, n.digest, n.tag, n.digest),
                ).fetchone()
                if exists:
                    continue
                pid = str(ULID())
                for old in db.execute(
                    "SELECT id, state FROM promotions WHERE image_key=? AND environment=?",
                    (n.image_key, n.environment),
                ).fetchall():
                    if can_supersede(State(old["state"])):
                        self._move(db, old["id"], State(old["state"]), State.SUPERSEDED,
                                   f"superseded by {pid}", now)
                db.execute(
                    "INSERT INTO promotions (id, image_key, repository, tag, digest, version_key,"
                    " environment, state, event_key, received_at, created_at, updated_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (pid, n.image_key, n.repository, n.tag, n.digest, version_key, n.environment,
                     State.RECEIVED.value, n.event_key, n.received_at, now, now),
                )
                db.execute("INSERT INTO transitions VALUES (?,?,?,?,?)",
                           (pid, None, State.RECEIVED.value, now, n.event_key))
                created.append(pid)
            db.executemany("UPDATE events SET processed_at=? WHERE key=?",
                           [(now, key) for key in event_keys])
        return [self.promotion(pid) for pid in created]

    # promotions ------------------------------------------------------------------------------

    @staticmethod
    def _move(db: sqlite3.Connection, pid: str, current: State, target: State,
              note: str | None, now: float) -> None:
        check_transition(current, target)
        db.execute("UPDATE promotions SET state=?, updated_at=? WHERE id=?", (target.value, now, pid))
        db.execute("INSERT INTO transitions VALUES (?,?,?,?,?)",
                   (pid, current.value, target.value, now, note))

    def transition(self, pid: str, target: State, note: str | None = None, **fields: Any) -> Promotion:
        """Move a promotion to target (checked against the machine), setting fields with it."""
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT state FROM promotions WHERE id=?", (pid,)).fetchone()
            if row is None:
                raise KeyError(pid)
            self._move(db, pid, State(row["state"]), target, note, now)
            self._set_fields(db, pid, fields)
        TRANSITIONS.labels(target.value).inc()  # counted once committed
        return self.promotion(pid)

    @staticmethod
    def _set_fields(db: sqlite3.Connection, pid: str, fields: dict[str, Any]) -> None:
        for key, value in fields.items():
            if key not in _FIELDS:  # names are checked, so the f-string below is safe
                raise ValueError(f"not a promotion field: {key}")
            if key in ("plan", "approved_by", "tally"):
                value = json.dumps(value)
            db.execute(f"UPDATE promotions SET {key}=? WHERE id=?", (value, pid))

    def update(self, pid: str, **fields: Any) -> Promotion:
        """Set fields of a promotion without changing its state (analysis bookkeeping)."""
        with self._tx() as db:
            self._set_fields(db, pid, fields)
        return self.promotion(pid)

    def due_successors(self, now: float) -> list[Promotion]:
        """Promoted promotions whose soak is over and whose next environments wait."""
        rows = self._db().execute(
            "SELECT p.*, NULL AS cr FROM promotions p WHERE state='promoted' AND next_at IS NOT"
            " NULL AND next_at<=? ORDER BY next_at", (now,)).fetchall()
        return [row_to_promotion(r) for r in rows]

    def state_counts(self) -> dict[str, int]:
        """How many promotions are in each state."""
        rows = self._db().execute("SELECT state, COUNT(*) AS n FROM promotions GROUP BY state")
        return {r["state"]: r["n"] for r in rows.fetchall()}

    def inbox_depth(self) -> int:
        """Pushes and comments stored but not yet handled."""
        row = self._db().execute(
            "SELECT (SELECT COUNT(*) FROM events WHERE processed_at IS NULL) +"
            " (SELECT COUNT(*) FROM comments WHERE processed_at IS NULL) AS n").fetchone()
        return int(row["n"])

    def current_tag(self, image_key: str, environment: str) -> str | None:
        """The tag last merged for an image in an environment, if any."""
        row = self._db().execute(
            "SELECT tag FROM promotions WHERE image_key=? AND environment=? AND state IN"
            " ('merged','promoted') ORDER BY updated_at DESC LIMIT 1",
            (image_key, environment)).fetchone()
        return row["tag"] if row else None

    def promotion(self, pid: str) -> Promotion:
        """One promotion by id; KeyError if unknown."""
        row = self._db().execute(
            "SELECT p.*, c.id AS cr FROM promotions p LEFT JOIN change_requests c"
            " ON c.promotion_id = p.id WHERE p.id=?", (pid,)
        ).fetchone()
        if row is None:
            raise KeyError(pid)
        return row_to_promotion(row)

    def promotions(self, limit: int = 100, active_only: bool = False) -> list[Promotion]:
        """Newest first; with active_only, those not in a final state, oldest first."""
        if active_only:
            sql = ("SELECT p.*, c.id AS cr FROM promotions p LEFT JOIN change_requests c"
                   " ON c.promotion_id = p.id WHERE p.state NOT IN"
                   " ('promoted','noop','superseded','failed','aborted','reverted')"
                   " ORDER BY p.created_at, p.id")
            return [row_to_promotion(r) for r in self._db().execute(sql).fetchall()]
        sql = ("SELECT p.*, c.id AS cr FROM promotions p LEFT JOIN change_requests c"
               " ON c.promotion_id = p.id ORDER BY p.created_at DESC, p.id DESC LIMIT ?")
        return [row_to_promotion(r) for r in self._db().execute(sql, (limit,)).fetchall()]

    def transitions(self, pid: str) -> list[dict[str, Any]]:
        """The recorded history of one promotion."""
        rows = self._db().execute(
            "SELECT from_state, to_state, at, note FROM transitions WHERE promotion_id=?"
            " ORDER BY rowid", (pid,)).fetchall()
        return [dict(r) for r in rows]

    # change requests (the local forge) -------------------------------------------------------

    def change_request(self, promotion_id: str) -> ChangeRequest | None:
        """The change request of a promotion, if one was recorded."""
        row = self._db().execute(
            "SELECT * FROM change_requests WHERE promotion_id=?", (promotion_id,)).fetchone()
        return ChangeRequest(**dict(row)) if row else None

    def change_requests(self) -> list[ChangeRequest]:
        """All change requests, oldest first."""
        rows = self._db().execute("SELECT * FROM change_requests ORDER BY id").fetchall()
        return [ChangeRequest(**dict(r)) for r in rows]

    def record_change_request(self, promotion_id: str, branch: str, base: str, title: str,
                              body: str, number: int | None = None,
                              url: str | None = None) -> ChangeRequest:
        """Find or create the change request of a promotion."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO change_requests (promotion_id, branch, base, title, body,"
                " state, created_at, number, url) VALUES (?,?,?,?,?,'open',?,?,?)",
                (promotion_id, branch, base, title, body, time.time(), number, url))
        found = self.change_request(promotion_id)
        assert found is not None
        return found

    def open_change_requests(self, number: int) -> list[ChangeRequest]:
        """Open change-request records of pull request `number` (one per promotion)."""
        rows = self._db().execute("SELECT * FROM change_requests WHERE number=? AND"
                                  " state='open' ORDER BY id", (number,)).fetchall()
        return [ChangeRequest(**dict(r)) for r in rows]

    def promotion_for_number(self, number: int) -> Promotion | None:
        """The newest promotion whose change request is pull request `number`."""
        row = self._db().execute(
            "SELECT promotion_id FROM change_requests WHERE number=? ORDER BY id DESC LIMIT 1",
            (number,)).fetchone()
        return self.promotion(row["promotion_id"]) if row else None

    def add_approval(self, pid: str, user: str) -> Promotion:
        """Record that user approves (once); KeyError if unknown, ValueError unless the
        promotion waits for approval."""
        with self._tx() as db:
            row = db.execute("SELECT state, approved_by FROM promotions WHERE id=?",
                             (pid,)).fetchone()
            if row is None:
                raise KeyError(pid)
            if row["state"] != State.PROPOSED.value:
                raise ValueError(f"promotion {pid} is {row['state']}, not waiting for approval")
            approvers = json.loads(row["approved_by"])
            if user in approvers:
                raise ValueError(f"{user} already approved promotion {pid}")
            db.execute("UPDATE promotions SET approved_by=?, updated_at=? WHERE id=?",
                       (json.dumps([*approvers, user]), time.time(), pid))
            db.execute("INSERT INTO transitions VALUES (?,?,?,?,?)",
                       (pid, row["state"], row["state"], time.time(), f"approved by {user}"))
        return self.promotion(pid)

    def close_change_request(self, promotion_id: str, state: str, merge_sha: str | None) -> None:
        """Mark a change request merged or closed."""
        with self._tx() as db:
            db.execute("UPDATE change_requests SET state=?, merged_at=?, merge_sha=?"
                       " WHERE promotion_id=?", (state, time.time(), merge_sha, promotion_id))
