"""The rows the store keeps, as plain frozen data."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...core.machine import State


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

    def public(self) -> dict[str, Any]:
        """The JSON form served by /api/promotions."""
        data = {k: getattr(self, k) for k in (
            "id", "image_key", "repository", "tag", "digest", "environment", "state",
            "received_at", "created_at", "updated_at", "base_sha", "commit_sha", "merge_sha",
            "reason", "change_request",
        )}
        data["approved_by"] = list(self.approved_by)
        if self.plan:
            data["image"] = self.plan["image"]
            data["files"] = [f["file"] for f in self.plan["files"]]
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


def row_to_promotion(row: Mapping[Any, Any]) -> Promotion:
    """A promotions row (with its change request's id as `cr`) as a Promotion."""
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
        next_at=row["next_at"],
    )
