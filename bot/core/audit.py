"""Promotion history from commit messages (pure): one entry per commit with Hoist trailers."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .images import InvalidReference, parse_image_ref
from .render import parse_trailer_lists

# The body lines `ghcr.io/acme/app 1.4.1 → 1.4.2@sha256:…` that commit_message writes.
_MOVED = re.compile(r"^(\S+) (\S+) → (\S+)$", re.MULTILINE)
_LONG_DIGEST = re.compile(r"(sha256:[0-9a-f]{12})[0-9a-f]+")
# What `--since` accepts: a year, a month, a day, or a day and a time.
_SINCE = re.compile(r"\d{4}(-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?)?)?)?")


@dataclass(frozen=True)
class AuditImage:
    """One image a commit moved: its reference (a Hoist-Image trailer) and versions."""

    image: str
    from_version: str | None = None
    to_version: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    commit: str
    date: str
    author: str
    subject: str
    promotion: str
    environment: str | None
    image: str | None
    step: str | None
    approved_by: tuple[str, ...]
    reverts: str | None
    from_version: str | None = None
    to_version: str | None = None
    evidence: tuple[str, ...] = ()
    reverted_by: str | None = None
    train: str | None = None
    images: tuple[AuditImage, ...] = ()
    pushed_at: tuple[str, ...] = ()  # Hoist-Pushed-At, one per image (absent before Hoist wrote it)
    window_override: str | None = None  # Hoist-Window-Override: `who; reason`
    verified: str | None = None  # Hoist-Verified: `signature key=…; provenance builder=…`

    @property
    def kind(self) -> str:
        """`revert`, `step` (a canary weight) or `promote`."""
        return "revert" if self.reverts else "step" if self.step and not self.to_version else "promote"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        data = asdict(self)
        data["approved_by"] = list(self.approved_by)
        data["evidence"] = list(self.evidence)
        data["kind"] = self.kind
        data["images"] = [asdict(i) for i in self.images]
        data["pushed_at"] = list(self.pushed_at)
        return data


def audit_entries(commits: list[tuple[str, str, str, str]]) -> list[AuditEntry]:
    """Entries for the (sha, ISO date, author, message) commits that carry Hoist trailers,
    in the order given (newest first from git log); a reverted commit names its revert."""
    entries = []
    for sha, date, author, message in commits:
        trailers = parse_trailer_lists(message)
        if "Hoist-Promotion" not in trailers:
            continue
        last = {key: values[-1] for key, values in trailers.items()}
        approvers = last.get("Hoist-Approved-By", "")
        images = _images(trailers.get("Hoist-Image", []), message)
        first = images[0] if images else AuditImage("")
        entries.append(AuditEntry(
            commit=sha, date=date, author=author, subject=message.split("\n", 1)[0],
            promotion=last["Hoist-Promotion"],
            environment=last.get("Hoist-Environment"), image=first.image or None,
            step=last.get("Hoist-Step"),
            approved_by=tuple(a.strip() for a in approvers.split(",") if a.strip()),
            reverts=last.get("Hoist-Reverts"),
            from_version=first.from_version, to_version=first.to_version,
            evidence=tuple(trailers.get("Hoist-Evidence", ())),
            train=last.get("Hoist-Train"), images=images,
            pushed_at=tuple(trailers.get("Hoist-Pushed-At", ())),
            window_override=last.get("Hoist-Window-Override"),
            verified=last.get("Hoist-Verified"),
        ))
    revert_of = {e.reverts: e.commit for e in entries if e.reverts}
    return [replace(e, reverted_by=revert_of[e.commit]) if e.commit in revert_of else e
            for e in entries]


def image_name(image: str) -> str:
    try:
        return parse_image_ref(image).name
    except InvalidReference:
        return image.split("@")[0].rsplit(":", 1)[0]


def _images(references: list[str], message: str) -> tuple[AuditImage, ...]:
    """Each Hoist-Image with the `from → to` body line of its repository (a train's commit
    has one of each per image; steps and reverts have trailers only)."""
    found = [m.groups() for m in _MOVED.finditer(message)]
    by_name = {name: (old, new) for name, old, new in found}
    if all(image_name(ref) in by_name for ref in references):
        return tuple(AuditImage(ref, *by_name[image_name(ref)]) for ref in references)
    # Names written differently in the body (an older Hoist): pair them in order.
    return tuple(AuditImage(ref, *(found[i][1:] if i < len(found) else (None, None)))
                 for i, ref in enumerate(references))


def parse_since(text: str) -> datetime:
    """The instant `--since` names (UTC when no offset is given); ValueError if malformed."""
    problem = f"--since {text!r}: expected an ISO date such as 2026-11-01 or 2026-11-01T09:30"
    if not _SINCE.fullmatch(text):
        raise ValueError(problem)
    # A bare year or month means its first day.
    padded = text + "-01-01"[len(text) - 4:] if len(text) < 10 else text
    try:
        moment = datetime.fromisoformat(padded.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(problem) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def select(entries: list[AuditEntry], environment: str | None = None, image: str | None = None,
           since: datetime | None = None) -> list[AuditEntry]:
    """Entries of one environment, that moved an image whose reference contains `image`
    (alone or in a train), on or after `since`."""
    return [e for e in entries
            if (environment is None or e.environment == environment)
            and (image is None or any(image in i.image for i in e.images))
            and (since is None or datetime.fromisoformat(e.date) >= since)]


def _change(from_version: str | None, to_version: str | None) -> str:
    moved = f"{from_version or '?'} → {to_version}" if to_version else ""
    return _LONG_DIGEST.sub(r"\1…", moved)  # twelve hex digits identify it on a terminal


def _what(entry: AuditEntry) -> str:
    if entry.kind == "revert":
        why = f": {'; '.join(entry.evidence)}" if entry.evidence else ""
        return f"revert of {(entry.reverts or '')[:12]}{why}"
    step = f"canary {entry.step}" if entry.step else ""
    return "  ".join(p for p in (_change(entry.from_version, entry.to_version), step) if p)


def _rows(e: AuditEntry) -> list[tuple[str, ...]]:
    """The commit's row; a train's names itself and adds one row per further image."""
    image = (e.image or "-").split("@")[0]
    first = (e.date, e.environment or "-", f"{e.train}: {image}" if e.train else image,
             _what(e), e.promotion, e.commit[:12], ", ".join(e.approved_by) or "-",
             "; ".join(n for n in (f"reverted by {e.reverted_by[:12]}" if e.reverted_by else "",
                                   f"window overridden by {e.window_override}"
                                   if e.window_override else "") if n))
    pad = " " * (len(e.train) + 2) if e.train else ""
    more = [("", "", pad + i.image.split("@")[0],
             "" if e.kind == "revert" else _change(i.from_version, i.to_version), "", "", "", "")
            for i in e.images[1:]]
    return [first, *more]


def format_table(entries: list[AuditEntry]) -> str:
    """A readable, aligned table, newest first: one row per commit, and one more per
    further image of a train's commit (the IMAGE column says `train: image`)."""
    header = ("TIME", "ENV", "IMAGE", "CHANGE", "PROMOTION", "COMMIT", "APPROVED BY", "NOTE")
    rows = [header] + [row for e in entries for row in _rows(e)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)
