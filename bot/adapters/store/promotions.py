"""The store's promotions: created from pushes, moved through the state machine, each move
written with its transition in one transaction."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Select, and_, delete, desc, false, func, insert, or_, select, true, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from ulid import ULID

from ...core.machine import FINAL, State, can_supersede, check_transition
from ...telemetry import TRANSITIONS
from .engine import StoreUnavailable, insert_ignoring
from .inbox import Inbox
from .leases import lane_name
from .members import Members
from .records import NewPromotion, Promotion
from .tables import change_requests, leases, promotions, transitions

_FIELDS = frozenset({"plan", "base_sha", "commit_sha", "merge_sha", "approved_by", "reason",
                     "digest", "step", "step_started", "last_check", "tally", "next_at",
                     "members"})
_JSON = ("plan", "approved_by", "tally")


# Every column but `project` (the view's own), and the change request's id.
_COLUMNS = [c for c in promotions.c if c.name != "project"]


def _with_cr(project: str) -> Select[Any]:
    return select(*_COLUMNS, change_requests.c.id.label("cr")).select_from(
        promotions.outerjoin(change_requests, change_requests.c.promotion_id == promotions.c.id)
    ).where(promotions.c.project == project)


class Promotions(Inbox, Members):
    def ingest(self, event_keys: list[str], new: list[NewPromotion]) -> list[Promotion]:
        """Create promotions (skipping ones that exist for the same version and environment),
        supersede older unfinished ones for the same lane (image or train) and environment,
        mark the events processed: all in one transaction. Returns the promotions created.
        StoreUnavailable when another worker created one of them at the same moment (retry
        later)."""
        now = time.time()
        created: list[str] = []
        try:
            with self._tx() as db:
                for n in new:
                    version_key = n.version_key
                    # The same image: same version key, same digest, or the same tag where
                    # one side has no digest (a Docker Hub webhook and a registry poll of one
                    # push).
                    same = or_(promotions.c.version_key == version_key,
                               promotions.c.digest == n.digest if n.digest else false(),
                               and_(promotions.c.tag == n.tag,
                                    or_(promotions.c.version_key == promotions.c.tag,
                                        true() if n.digest is None else false()))
                               if n.tag is not None else false())
                    exists = db.execute(select(promotions.c.id).where(
                        self._mine(promotions), promotions.c.repository == n.repository,
                        promotions.c.environment == n.environment, same)).first()
                    if exists:
                        continue
                    pid = str(ULID())
                    # A worker moving this lane right now supersedes them itself when done
                    # (supersede_waiting): a merge in flight is never overtaken.
                    lane_free = not self._lane_held(db, lane_name(n.image_key, n.environment),
                                                    now)
                    for old in db.execute(select(promotions.c.id, promotions.c.state).where(
                            self._mine(promotions), promotions.c.image_key == n.image_key,
                            promotions.c.environment == n.environment)).all():
                        if lane_free and can_supersede(State(old.state)):
                            self._move(db, old.id, State(old.state), State.SUPERSEDED,
                                       f"superseded by {pid}", now)
                    db.execute(insert(promotions).values(
                        id=pid, image_key=n.image_key, repository=n.repository, tag=n.tag,
                        digest=n.digest, version_key=version_key, environment=n.environment,
                        state=State.RECEIVED.value, event_key=n.event_key,
                        received_at=n.received_at, created_at=now, updated_at=now,
                        train=n.train, project=self.project))
                    self._write_members(db, pid, n.carried)
                    db.execute(insert(transitions).values(
                        promotion_id=pid, from_state=None, to_state=State.RECEIVED.value, at=now,
                        note=n.event_key))
                    created.append(pid)
                self._mark_processed(db, event_keys, now)
        except IntegrityError as exc:
            raise StoreUnavailable("a promotion was created concurrently; retry") from exc
        return [self.promotion(pid) for pid in created]

    def _lane_held(self, db: Connection, name: str, now: float) -> bool:
        """Is the lane leased? Its row stays locked until this transaction ends, so no worker
        claims the lane in between (SQLite: the write lock already serializes)."""
        db.execute(insert_ignoring(self.engine, leases).values(
            project=self.project, name=name, holder=None, expires_at=0.0, last_run=None))
        expires = db.execute(select(leases.c.expires_at).where(
            self._mine(leases), leases.c.name == name).with_for_update()).scalar_one()
        return bool(expires > now)

    def supersede_waiting(self, image_key: str, environment: str) -> int:
        """For the holder of the lane: supersede what a newer push replaced while the lane
        was busy (every unfinished promotion older than the newest one still `received`,
        where the machine allows); returns how many."""
        now = time.time()
        done = 0
        with self._tx() as db:
            rows = db.execute(select(promotions.c.id, promotions.c.state).where(
                self._mine(promotions), promotions.c.image_key == image_key,
                promotions.c.environment == environment,
                promotions.c.state.not_in([s.value for s in FINAL]))
                .order_by(promotions.c.created_at, promotions.c.id).with_for_update()).all()
            waiting = [r.id for r in rows if r.state == State.RECEIVED.value]
            if not waiting:
                return 0
            newest = waiting[-1]
            for row in rows[:[r.id for r in rows].index(newest)]:
                if can_supersede(State(row.state)):
                    self._move(db, row.id, State(row.state), State.SUPERSEDED,
                               f"superseded by {newest}", now)
                    done += 1
        return done

    @staticmethod
    def _move(db: Connection, pid: str, current: State, target: State,
              note: str | None, now: float) -> None:
        check_transition(current, target)
        db.execute(update(promotions).where(promotions.c.id == pid)
                   .values(state=target.value, updated_at=now))
        db.execute(insert(transitions).values(promotion_id=pid, from_state=current.value,
                                              to_state=target.value, at=now, note=note))

    def transition(self, pid: str, target: State, note: str | None = None,
                   **fields: Any) -> Promotion:
        """Move a promotion to target (checked against the machine), setting fields with it.
        KeyError for an unknown id; machine.InvalidTransition when target is not allowed."""
        return self._transition(pid, target, note, fields, forget_change_request=False)

    def replan(self, pid: str, note: str) -> Promotion:
        """HELD → RECEIVED with its change-request record dropped, in one transaction: the
        change request it took over was merged as it was, and its own is yet to be opened
        (a crash in between must not leave it pointing at the merged one)."""
        return self._transition(pid, State.RECEIVED, note, {}, forget_change_request=True)

    def _transition(self, pid: str, target: State, note: str | None, fields: dict[str, Any],
                    forget_change_request: bool) -> Promotion:
        now = time.time()
        with self._tx() as db:
            row = db.execute(select(promotions.c.state).where(
                promotions.c.id == pid, self._mine(promotions)).with_for_update()).first()
            if row is None:
                raise KeyError(pid)
            self._move(db, pid, State(row.state), target, note, now)
            self._set_fields(db, pid, fields)
            if forget_change_request:
                db.execute(delete(change_requests)
                           .where(change_requests.c.promotion_id == pid))
        TRANSITIONS.labels(target.value).inc()  # counted once committed
        return self.promotion(pid)

    @classmethod
    def _set_fields(cls, db: Connection, pid: str, fields: dict[str, Any]) -> None:
        for key in fields:
            if key not in _FIELDS:
                raise ValueError(f"not a promotion field: {key}")
        if "members" in fields:  # with their digests resolved: what the next env moves
            cls._write_members(db, pid, fields["members"])
        values = {k: json.dumps(v) if k in _JSON else v for k, v in fields.items()
                  if k != "members"}
        if values:
            db.execute(update(promotions).where(promotions.c.id == pid).values(**values))

    def update(self, pid: str, **fields: Any) -> Promotion:
        """Set fields of a promotion without changing its state (analysis bookkeeping)."""
        with self._tx() as db:
            self._set_fields(db, pid, fields)
        return self.promotion(pid)

    def due_successors(self, now: float) -> list[Promotion]:
        """Promoted promotions whose soak is over and whose next environments wait."""
        with self._read() as db:
            rows = db.execute(select(*_COLUMNS).where(
                self._mine(promotions), promotions.c.state == State.PROMOTED.value,
                promotions.c.next_at.is_not(None),
                promotions.c.next_at <= now).order_by(promotions.c.next_at)).mappings().all()
            return self._with_members(db, rows)

    def state_counts(self) -> dict[str, int]:
        """How many promotions are in each state."""
        with self._read() as db:
            rows = db.execute(select(promotions.c.state, func.count())
                              .where(self._mine(promotions))
                              .group_by(promotions.c.state)).all()
        return {state: int(n) for state, n in rows}

    def promotion(self, pid: str) -> Promotion:
        """One promotion by id; KeyError if unknown."""
        with self._read() as db:
            row = db.execute(_with_cr(self.project).where(promotions.c.id == pid)).mappings().first()
            if row is None:
                raise KeyError(pid)
            return self._with_members(db, [row])[0]

    def promotions(self, limit: int = 100, active_only: bool = False,
                   before: str | None = None) -> list[Promotion]:
        """Newest first (`before`: only those older than that promotion id, a page's
        cursor); with active_only, those not in a final state, oldest first."""
        with self._read() as db:
            if active_only:
                rows = db.execute(_with_cr(self.project).where(
                    promotions.c.state.not_in([s.value for s in FINAL]))
                    .order_by(promotions.c.created_at, promotions.c.id)).mappings().all()
            else:
                query = _with_cr(self.project)
                if before is not None:
                    query = query.where(promotions.c.id < before)
                rows = db.execute(query.order_by(
                    desc(promotions.c.created_at), desc(promotions.c.id)).limit(limit)
                ).mappings().all()
            return self._with_members(db, rows)

    def lanes(self) -> list[tuple[str, str]]:
        """(image or train, environment) pairs with unfinished promotions, the oldest work
        first."""
        with self._read() as db:
            rows = db.execute(select(promotions.c.image_key, promotions.c.environment,
                                     func.min(promotions.c.created_at).label("since"))
                              .where(self._mine(promotions),
                                     promotions.c.state.not_in([s.value for s in FINAL]))
                              .group_by(promotions.c.image_key, promotions.c.environment)
                              .order_by("since")).all()
        return [(r.image_key, r.environment) for r in rows]

    def lane_promotions(self, image_key: str, environment: str) -> list[Promotion]:
        """Unfinished promotions of one image (or train) in one environment, in arrival
        order."""
        with self._read() as db:
            rows = db.execute(_with_cr(self.project).where(and_(
                promotions.c.image_key == image_key, promotions.c.environment == environment,
                promotions.c.state.not_in([s.value for s in FINAL])))
                .order_by(promotions.c.created_at, promotions.c.id)).mappings().all()
            return self._with_members(db, rows)

    def transitions(self, pid: str) -> list[dict[str, Any]]:
        """The recorded history of one promotion, oldest first."""
        with self._read() as db:
            rows = db.execute(select(transitions.c.from_state, transitions.c.to_state,
                                     transitions.c.at, transitions.c.note)
                              .where(transitions.c.promotion_id == pid)
                              .order_by(transitions.c.seq)).mappings().all()
        return [dict(r) for r in rows]

    def add_approval(self, pid: str, user: str) -> Promotion:
        """Record that user approves (once); KeyError if unknown, ValueError unless the
        promotion waits for approval."""
        now = time.time()
        with self._tx() as db:
            row = db.execute(select(promotions.c.state, promotions.c.approved_by)
                             .where(promotions.c.id == pid, self._mine(promotions))
                             .with_for_update()).first()
            if row is None:
                raise KeyError(pid)
            if row.state != State.PROPOSED.value:
                raise ValueError(f"promotion {pid} is {row.state}, not waiting for approval")
            approvers = json.loads(row.approved_by)
            if user in approvers:
                raise ValueError(f"{user} already approved promotion {pid}")
            db.execute(update(promotions).where(promotions.c.id == pid).values(
                approved_by=json.dumps([*approvers, user]), updated_at=now))
            db.execute(insert(transitions).values(promotion_id=pid, from_state=row.state,
                                                  to_state=row.state, at=now,
                                                  note=f"approved by {user}"))
        return self.promotion(pid)
