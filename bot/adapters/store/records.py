"""The rows the store keeps, as plain frozen data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ...core.machine import State
from ...core.members import Member
from ...core.plan import Plan


@dataclass(frozen=True)
class Promotion:
    id: str
    image_key: str
    repository: str
    tag: str | None
    digest: str | None
    environment: str
    state: State
    received_at: float
    created_at: float
    updated_at: float
    event_key: str | None = None
    plan: dict[str, Any] | None = None
    base_sha: str | None = None
    commit_sha: str | None = None
    merge_sha: str | None = None
    approved_by: tuple[str, ...] = ()
    reason: str | None = None
    change_request: int | None = field(default=None)
    step: int | None = None
    step_started: float | None = None
    last_check: float | None = None
    tally: dict[str, int] | None = None
    next_at: float | None = None
    # The images it moves: one, or a release train's (then `image_key` is the train's name,
    # `repository` empty, `tag` and `digest` None).
    members: tuple[Member, ...] = ()
    train: str | None = None

    def public(self) -> dict[str, Any]:
        """The JSON form served by /api/promotions."""
        data = {k: getattr(self, k) for k in (
            "id", "image_key", "repository", "tag", "digest", "environment", "state",
            "received_at", "created_at", "updated_at", "base_sha", "commit_sha", "merge_sha",
            "reason", "change_request",
        )}
        for key in ("received_at", "created_at", "updated_at"):
            data[key] = iso_time(data[key])
        data["approved_by"] = list(self.approved_by)
        data["train"] = self.train
        data["members"] = [m.to_json() for m in self.members]
        if self.plan:
            plan = Plan.from_json(self.plan)
            data["image"] = ", ".join(m.image for m in plan.images)
            data["files"] = [f.file for f in plan.files]
        return data


@dataclass(frozen=True)
class ChangeRequest:
    id: int
    promotion_id: str
    branch: str
    base: str
    title: str
    body: str
    state: str
    created_at: float
    merged_at: float | None
    merge_sha: str | None
    number: int | None = None  # the forge's pull-request number
    url: str | None = None


@dataclass(frozen=True)
class NewPromotion:
    image_key: str
    environment: str
    repository: str
    tag: str | None
    digest: str | None
    received_at: float
    event_key: str | None
    members: tuple[Member, ...] = ()
    train: str | None = None

    @classmethod
    def of(cls, members: Sequence[Member], environment: str, train: str | None,
           received_at: float, event_key: str | None) -> NewPromotion:
        """The promotion of a set: a train's (named for it), or one image's."""
        if train is None:
            assert len(members) == 1, "several images travel only in a train"
            m = members[0]
            return cls(m.image_key, environment, m.repository, m.tag, m.digest, received_at,
                       event_key, (m,))
        return cls(train, environment, "", None, None, received_at, event_key, tuple(members),
                   train)

    @property
    def carried(self) -> tuple[Member, ...]:
        """Its members; one made from its own fields when none were given."""
        return self.members or (Member(self.image_key, self.repository, self.tag, self.digest),)

    @property
    def version_key(self) -> str:
        """What makes it the same promotion as another in its environment: the digest (or
        tag) of one image; for a train, a hash of every member's repository and version."""
        if self.train is None:
            return self.digest or self.tag or ""
        versions = "\n".join(sorted(f"{m.repository} {m.version}" for m in self.members))
        return "train:" + hashlib.sha256(versions.encode()).hexdigest()[:32]


def row_to_promotion(row: Mapping[Any, Any], members: Sequence[Member] = ()) -> Promotion:
    """A promotions row (with its change request's id as `cr`) and its member rows as a
    Promotion; a row without member rows carries the image of its own columns."""
    own = (Member(row["image_key"], row["repository"], row["tag"], row["digest"]),)
    return Promotion(
        id=row["id"], image_key=row["image_key"], repository=row["repository"], tag=row["tag"],
        digest=row["digest"], environment=row["environment"], state=State(row["state"]),
        received_at=row["received_at"], created_at=row["created_at"],
        updated_at=row["updated_at"], event_key=row["event_key"],
        plan=json.loads(row["plan"]) if row["plan"] else None, base_sha=row["base_sha"],
        commit_sha=row["commit_sha"], merge_sha=row["merge_sha"],
        approved_by=tuple(json.loads(row["approved_by"])), reason=row["reason"],
        change_request=row.get("cr"), step=row["step"], step_started=row["step_started"],
        last_check=row["last_check"], tally=json.loads(row["tally"]) if row["tally"] else None,
        next_at=row["next_at"], members=tuple(members) or own, train=row.get("train"),
    )


def iso_time(at: float | None) -> str | None:
    """Epoch seconds as the API shows them: `2026-12-06T03:21:37Z` (UTC, to the second)."""
    return None if at is None else \
        datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
