"""What people are told when a promotion moves (pure): the news in a promotion's recorded
transitions, for chat (`Notice`) and for the forge's view of deployments (`DeploymentUpdate`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from .images import readable_version
from .machine import State
from .ways import how_to

# GitHub refuses longer deployment-status descriptions (REST "Create a deployment status").
MAX_DESCRIPTION = 140
_WAITING = "waiting: "  # the note of a wait (flows/waits.py)
_BY = re.compile(r"\b(?:held|aborted|resumed|merged|retried) by (\S+)")


class Kind(StrEnum):
    """The events people hear about; `HOIST_NOTIFY_URLS` may route each to its own URLs."""

    WAITING = "waiting"  # for approval
    PROMOTED = "promoted"
    HELD = "held"
    FAILED = "failed"
    REVERTED = "reverted"
    QUARANTINED = "quarantined"
    LIFTED = "lifted"  # a quarantine, by a person
    DEFERRED = "deferred"  # by a promotion window, a freeze or image maturity; goes on alone


@dataclass(frozen=True)
class Move:
    """One recorded transition of a promotion (the store's transition rows); `source` is
    None for its creation and equals `target` for approvals and canary steps."""

    source: State | None
    target: State
    at: float
    note: str | None = None


@dataclass(frozen=True)
class Subject:
    """The promotion a notice is about, with the links people follow."""

    promotion_id: str
    image_key: str
    environment: str
    repository: str
    version_from: str | None
    version_to: str
    approved_by: tuple[str, ...] = ()
    reason: str | None = None
    digest: str | None = None
    merge_sha: str | None = None
    change_request: str | None = None  # a URL, or "#3" where the forge has no web page
    page: str | None = None  # this promotion on Hoist's page (needs HOIST_PUBLIC_URL)
    gate: str | None = None  # the approval gate in words, for gated environments
    # A release train's images, one `repository from → to` line each (empty for one image).
    moved: tuple[str, ...] = ()
    forge: str = "local"  # the forge's name: how people give commands (core.ways)

    @property
    def short_version(self) -> str:
        """`1.4.2` of `1.4.2@sha256:…` (the digest is in the full text)."""
        return self.version_to.split("@")[0] or self.version_to


@dataclass(frozen=True)
class Notice:
    kind: Kind
    subject: Subject
    who: str | None = None
    why: str | None = None

    @property
    def title(self) -> str:
        """One line: `guestbook 1.4.2 promoted in prod`."""
        s = self.subject
        if self.kind is Kind.LIFTED:
            return f"{s.image_key} {s.short_version} released from quarantine"
        what = {Kind.WAITING: "waits for approval in", Kind.DEFERRED: "waits in",
                Kind.PROMOTED: "promoted in",
                Kind.HELD: "held in", Kind.FAILED: "failed in", Kind.REVERTED: "reverted in",
                Kind.QUARANTINED: "quarantined after"}[self.kind]
        return f"{s.image_key} {s.short_version} {what} {s.environment}"

    @property
    def text(self) -> str:
        """The body: environment, image from → to, who, why, then the links."""
        s = self.subject
        lines = [f"{s.environment}: {line}" for line in s.moved] or [
            f"{s.environment}: {s.repository} {readable_version(s.version_from) or '(unset)'}"
            f" → {s.version_to}"]
        if self.who:
            lines.append(f"Who: {self.who}")
        if self.why:
            lines.append(f"Why: {self.why}")
        if s.change_request:
            lines.append(f"Change request: {s.change_request}")
        if s.page:
            lines.append(f"Page: {s.page}")
        return "\n".join(lines)


def _who(note: str | None) -> str | None:
    match = _BY.search(note or "")
    return match.group(1) if match else None


def news(moves: Sequence[Move], subject: Subject, quarantined: str | None = None) -> list[Notice]:
    """The notices for these transitions, in order. `subject.gate` set means the environment
    waits for people; `quarantined` is why the digest is quarantined, if it is."""
    found: list[Notice] = []
    approvers = ", ".join(subject.approved_by) or None
    for move in moves:
        if move.source == move.target:
            if (move.note or "").startswith(_WAITING):  # a window or maturity wait
                found.append(Notice(Kind.DEFERRED, subject, None,
                                    (move.note or "").removeprefix(_WAITING)))
            continue  # an approval or a canary step: the page shows them, chat does not
        target = move.target
        if target is State.PROPOSED and move.source is State.PLANNED and subject.gate:
            found.append(Notice(Kind.WAITING, subject, None, subject.gate))
        elif target is State.PROMOTED:
            found.append(Notice(Kind.PROMOTED, subject, approvers or "no approval needed",
                                move.note))
        elif target is State.HELD:
            found.append(Notice(Kind.HELD, subject, _who(move.note), subject.reason or move.note))
        elif target is State.FAILED:
            found.append(Notice(Kind.FAILED, subject, None, subject.reason or move.note))
        elif target is State.REVERTING:
            found.append(Notice(Kind.FAILED, subject, _who(move.note),
                                f"{subject.reason or move.note}; reverting in git"))
        elif target is State.REVERTED:
            found.append(Notice(Kind.REVERTED, subject, None, subject.reason))
            if quarantined and subject.digest:
                found.append(Notice(Kind.QUARANTINED, subject, None,
                                    f"{subject.digest} is not promoted again until someone "
                                    "lifts it: " + how_to("unquarantine",
                                                          subject.promotion_id, subject.forge)))
    return found


def lifted(subject: Subject, who: str) -> Notice:
    """A person lifted the quarantine of the subject's digest."""
    return Notice(Kind.LIFTED, subject, who, f"{subject.digest} may be promoted again")


@dataclass(frozen=True)
class DeploymentUpdate:
    """A deployment status: `queued`, `in_progress`, `success`, `failure` or `inactive`
    (GitHub's deployment states; forges without deployments map them to commit statuses)."""

    state: str
    description: str

    def __post_init__(self) -> None:
        if len(self.description) > MAX_DESCRIPTION:
            object.__setattr__(self, "description", self.description[:MAX_DESCRIPTION - 1] + "…")


def deployment_updates(moves: Sequence[Move], subject: Subject) -> list[DeploymentUpdate]:
    """The deployment statuses these transitions make, once merged: queued → in_progress →
    success, or failure then inactive when the promotion is reverted in git."""
    what = f"{subject.image_key} {subject.short_version}"
    found: list[DeploymentUpdate] = []
    for move in moves:
        source, target = move.source, move.target
        if target is State.MERGED:
            found.append(DeploymentUpdate("queued", f"{what} merged; waiting for the cluster"))
        elif target is State.ANALYZING and source is State.ANALYZING:
            found.append(DeploymentUpdate("in_progress", move.note or f"{what} rolling out"))
        elif target is State.ANALYZING:
            found.append(DeploymentUpdate("in_progress", f"{what} rolling out"))
        elif target is State.PROMOTED:
            if source is State.MERGED:  # no rollout to watch: it is in progress, then done
                found.append(DeploymentUpdate("in_progress", f"{what} rolling out"))
            found.append(DeploymentUpdate("success", f"{what} runs in {subject.environment}"))
        elif target is State.HELD and source is State.ANALYZING:
            found.append(DeploymentUpdate("in_progress", f"held: {subject.reason or move.note}"))
        elif target in (State.REVERTING, State.FAILED) and source in (
                State.MERGED, State.ANALYZING, State.HELD):
            found.append(DeploymentUpdate("failure", subject.reason or move.note or "failed"))
        elif target is State.REVERTED:
            found.append(DeploymentUpdate("inactive", f"{what} reverted in git"))
    return found
