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
    # When the registry says the push happened (epoch seconds), from the payload's own
    # timestamp; None where the source's payload has none.
    pushed_at: float | None = None

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
    approving review (its body too), or a merge or close by hand.

    `key` names it once however often and by whichever hook it is delivered: the forge's
    own comment or review id where there is one (`github:comment:<id>`,
    `github:review:<id>`, `gitlab:note:<id>`, `gitea:comment:<id>`), else the delivery.
    `written_at` is when its author wrote it by the forge's clock (epoch seconds; None when
    the payload does not say); `promotion_id` is the promotion the change request carried
    when Hoist received it (set on receipt; None before). `repository_id` is the stable id of
    the repository the payload says it is about (GitHub and Gitea `repository.id`, GitLab
    `project.id`; None when it names none): a hint, which the worker confirms with the
    forge unless it is the manifests repository's own. `review_id` is the forge's id of a
    review where it gives one (GitHub), to read the review back by."""

    key: str
    number: int
    comment_id: int | None
    user: str
    body: str
    kind: str  # comment | review | merged | closed
    written_at: float | None = None
    promotion_id: str | None = None
    repository_id: str | None = None
    review_id: int | None = None
