"""Forges: where change requests live. One interface, five implementations:

- `local`  (local.py)  the store is the change request; merging is a git push;
- `github` (github.py) pull requests through PyGithub (a token or a GitHub App);
- `gitlab` (gitlab.py) merge requests through python-gitlab;
- `gitea`  (gitea.py)  pull requests on Gitea or Forgejo, REST API v1 over httpx;
- `bitbucket-datacenter` (bitbucket_datacenter.py) pull requests on Bitbucket Data Center,
  REST API 1.0 over httpx.
- `bitbucket` (bitbucket.py) pull requests on Bitbucket Cloud, REST API 2.0 over httpx.

Every forge passes the same contract suite (tests/test_forge_contract.py) against its
loopback double. Numbers are the forge's own per-repository numbers (a GitHub or Gitea
pull-request number, a GitLab merge-request iid); comment ids are the forge's ids of a
comment (a GitLab note id)."""

from __future__ import annotations

from typing import Protocol

from ..store import ChangeRequest

__all__ = ["Forge"]


class Forge(Protocol):
    """What flows need from a forge. Calls block (the worker thread makes them) and retry
    on 5xx, timeouts and 429/rate limits, never on other 4xx; a refused merge raises
    `adapters.errors.MergeBlocked`."""

    name: str
    body_limit: int  # the longest change request body the forge takes, in characters

    def propose(self, promotion_id: str, branch: str, base: str, title: str, body: str,
                labels: tuple[str, ...] = ()) -> ChangeRequest:
        """Find the open change request of `branch` into `base` and update its title and
        body in place, or open one; add `labels`; record it in the store."""
        ...

    def merge(self, promotion_id: str, commit: str, base: str, message: str,
              method: str = "squash") -> str:
        """Merge the promotion's change request (head must still be `commit`) with
        `message` (title, blank line, body with trailers) by `method` (squash, merge,
        rebase); the sha that landed on `base`. Idempotent."""
        ...

    def comment(self, number: int, body: str) -> None:
        """Post a comment (a GitLab note) on change request `number`."""
        ...

    def react(self, number: int, comment_id: int, content: str) -> None:
        """React to a comment of change request `number`: `+1` or `confused` (GitHub's
        reaction names; each forge maps them onto its own)."""
        ...

    def permission(self, user: str) -> str:
        """The user's role on the repository on the ladder none < read < triage < write <
        maintain < admin (each forge maps its own roles onto it)."""
        ...

    def teams_of(self, user: str, teams: list[str]) -> list[str]:
        """Which of `teams` (GitHub `org/slug`, GitLab group path, Gitea `org/team`) the
        user is a member of."""
        ...

    def close(self, number: int, comment: str) -> None:
        """Close a change request with a comment saying why."""
        ...

    def pull_state(self, number: int) -> tuple[str, str | None] | None:
        """("open" | "merged" | "closed", merge sha) of a change request, if the forge
        keeps state of its own (the local forge's state is the store)."""
        ...

    # Read-backs: a webhook naming another repository is a hint until the forge confirms it.

    def repository_id(self) -> str | None:
        """The manifests repository's stable id on the forge (GitHub and Gitea repository
        `id`, GitLab project `id`), asked once; None for the local forge, which has none."""
        ...

    def read_comment(self, number: int, comment_id: int) -> tuple[str, str] | None:
        """(author login, text) of comment `comment_id` (a GitLab note id) if it is on
        change request `number` of the manifests repository; None when there is no such
        comment there."""
        ...

    def read_reviews(self, number: int, user: str, review_id: int | None) -> list[str]:
        """The texts of the reviews `user` submitted on change request `number`: only the one
        with `review_id` where the forge names reviews by id (GitHub); a GitLab approval is
        a review with no text (""). [] when there is none."""
        ...
