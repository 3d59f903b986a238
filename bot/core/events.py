"""Events Hoist reacts to, as frozen plain data."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ImagePushed:
    """A registry says a tagged image was pushed."""

    source: str
    event_id: str
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def image_name(self) -> str:
        """Registry host and repository path joined, as a reference name."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def key(self) -> str:
        """Deduplication key of this push in the inbox."""
        return f"{self.source}:{self.event_id}"

    def to_public_json(self) -> dict[str, Any]:
        """The normalized form printed by `hoist parse-event`."""
        data = asdict(self)
        return {k: data[k] for k in ("registry", "repository", "tag", "digest")}


@dataclass(frozen=True)
class PullRequestActivity:
    """Something people did on a pull request: a comment (maybe with /hoist commands), an
    approving review, or a merge or close by hand. `key` is the delivery id."""

    key: str
    number: int
    comment_id: int | None
    user: str
    body: str
    kind: str  # comment | review | merged | closed
