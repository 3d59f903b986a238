"""Which branch a forge's push event moved: GitHub `push`, GitLab `Push Hook` (object_kind
`push`) and Gitea/Forgejo `push` all carry `ref` (`refs/heads/<branch>`) and the
repository's default branch (GitHub and Gitea under `repository`, GitLab under `project`).
Hoist re-reads hoist.yaml when the default branch moved."""

from __future__ import annotations

from dataclasses import dataclass

from .base import PayloadError, json_object, text


@dataclass(frozen=True)
class BranchPushed:
    """`branch` of `repository` (owner/name or group/project) moved to commit `after`;
    `default_branch` as the forge says (None when it does not)."""

    repository: str | None
    branch: str
    default_branch: str | None
    after: str | None

    @property
    def moved_default(self) -> bool:
        """True when the default branch moved (or the forge did not say which it is)."""
        return self.default_branch is None or self.branch == self.default_branch


def branch_pushed(body: bytes) -> BranchPushed | None:
    """The branch a push event's body moved; None for a tag push. PayloadError for a body
    that is not a push event."""
    data = json_object(body)
    ref = text(data, "ref")
    if ref is None:
        raise PayloadError("a push event needs `ref`")
    if not ref.startswith("refs/heads/"):
        return None  # a tag
    owner = "project" if isinstance(data.get("project"), dict) else "repository"
    return BranchPushed(
        text(data, owner, "path_with_namespace") or text(data, owner, "full_name"),
        ref.removeprefix("refs/heads/"), text(data, owner, "default_branch"),
        text(data, "after"))
