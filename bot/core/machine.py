"""Promotion states and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    RECEIVED = "received"
    PLANNED = "planned"
    PROPOSED = "proposed"
    APPROVED = "approved"
    MERGED = "merged"
    ANALYZING = "analyzing"
    PROMOTED = "promoted"
    REVERTING = "reverting"
    REVERTED = "reverted"
    NOOP = "noop"
    SUPERSEDED = "superseded"
    HELD = "held"
    FAILED = "failed"
    ABORTED = "aborted"


# Final: nothing happens to them on its own (a failed one may be retried by a person).
FINAL = frozenset({State.PROMOTED, State.NOOP, State.SUPERSEDED, State.FAILED, State.ABORTED,
                   State.REVERTED})

_STOPS = {State.SUPERSEDED, State.FAILED, State.ABORTED}
_ALLOWED: dict[State, frozenset[State]] = {
    State.RECEIVED: frozenset({State.PLANNED, State.NOOP, State.HELD, *_STOPS}),
    State.PLANNED: frozenset({State.PROPOSED, State.HELD, *_STOPS}),
    State.PROPOSED: frozenset({State.APPROVED, State.HELD, State.MERGED, *_STOPS}),
    State.APPROVED: frozenset({State.MERGED, State.HELD, *_STOPS}),
    State.MERGED: frozenset({State.ANALYZING, State.PROMOTED, State.REVERTING, State.FAILED}),
    # ANALYZING → ANALYZING records a canary step passed (its readings in the note).
    State.ANALYZING: frozenset({State.ANALYZING, State.PROMOTED, State.REVERTING, State.HELD,
                                State.ABORTED}),
    State.REVERTING: frozenset({State.REVERTED}),
    State.HELD: frozenset({State.RECEIVED, State.PROPOSED, State.ANALYZING, State.REVERTING,
                           *_STOPS}),
    State.FAILED: frozenset({State.RECEIVED}),  # /hoist retry
}


class TransitionError(ValueError):
    """A transition the state machine does not allow."""


def check_transition(current: State, target: State) -> State:
    """Return target if current may move to it; raise TransitionError otherwise."""
    if target not in _ALLOWED.get(current, frozenset()):
        raise TransitionError(f"a promotion cannot go from {current} to {target}")
    return target


def is_final(state: State) -> bool:
    """True for states a promotion never leaves."""
    return state in FINAL


def can_supersede(state: State) -> bool:
    """True while a newer image may still replace this promotion."""
    return State.SUPERSEDED in _ALLOWED.get(state, frozenset())
