"""The embedded forge: a change request is a pushed branch plus a record in the store;
merging is a fast-forward of the environment branch onto the promotion commit."""

from __future__ import annotations

import time

import structlog
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from ..git import GitRepo
from ..store import ChangeRequest, Store

log = structlog.get_logger()


class PushRaced(RuntimeError):
    """Someone else pushed to the branch between our fetch and our push."""


class LocalForge:
    name = "local"
    # The local forge stores any length; GitHub's limit keeps its bodies readable alike.
    body_limit = 65_536  # characters of a change request body

    def __init__(self, store: Store, git: GitRepo) -> None:
        self.store = store
        self.git = git

    def propose(self, promotion_id: str, branch: str, base: str, title: str, body: str,
                labels: tuple[str, ...] = ()) -> ChangeRequest:
        """Find or create the change request for a promotion branch."""
        return self.store.record_change_request(promotion_id, branch, base, title, body)

    # The local forge has no comment threads: what would be said is logged.

    def comment(self, number: int, body: str) -> None:
        log.info("forge.comment", forge=self.name, number=number, body=body)

    def react(self, number: int, comment_id: int, content: str) -> None:
        log.info("forge.reaction", forge=self.name, comment=comment_id, content=content)

    def permission(self, user: str) -> str:
        return "none"  # nobody comments on a local change request

    def teams_of(self, user: str, teams: list[str]) -> list[str]:
        return []

    def pull_state(self, number: int) -> tuple[str, str | None] | None:
        return None  # the store is the local forge's only truth

    # No webhooks come from the local forge: nothing to read back.

    def repository_id(self) -> str | None:
        return None

    def read_comment(self, number: int, comment_id: int) -> tuple[str, str] | None:
        return None

    def read_reviews(self, number: int, user: str, review_id: int | None) -> list[str]:
        return []

    def close(self, number: int, comment: str) -> None:
        log.info("forge.closed", forge=self.name, number=number, comment=comment)

    @retry(retry=retry_if_exception_type(PushRaced), stop=stop_after_attempt(8),
           wait=wait_random_exponential(multiplier=0.05, max=2), reraise=True)
    def merge(self, promotion_id: str, commit: str, base: str, message: str,
              method: str = "squash") -> str:
        """Land commit on base (replayed onto base's tip with message, so history stays
        linear whatever the method) and return the new tip. Idempotent: if base already holds
        the promotion, that commit is returned."""
        self.git.sync()
        landed = self.git.find_promotion_commit(base, promotion_id)
        if landed is None:
            tip = self.git.tip(base)
            if tip is None:
                raise RuntimeError(f"the manifests repository has no branch {base!r}")
            landed = self.git.replay(commit, tip, message, time.time())
            if not self.git.push(landed, base):
                raise PushRaced(base)
        self.store.close_change_request(promotion_id, "merged", landed)
        log.info("forge.merged", forge=self.name, promotion=promotion_id, base=base, sha=landed)
        return landed
