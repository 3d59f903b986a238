"""Promotion history from commit messages (pure): one entry per commit with Hoist trailers."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .render import parse_trailer_lists

# The body line `ghcr.io/acme/app 1.4.1 → 1.4.2@sha256:…` that commit_message writes.
_MOVED = re.compile(r"^\S+ (\S+) → (\S+)$", re.MULTILINE)
_LONG_DIGEST = re.compile(r"(sha256:[0-9a-f]{12})[0-9a-f]+")
# What `--since` accepts: a year, a month, a day, or a day and a time.
_SINCE = re.compile(r"\d{4}(-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?)?)?)?")


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
        moved = _MOVED.search(message)
        entries.append(AuditEntry(
            commit=sha, date=date, author=author, subject=message.split("\n", 1)[0],
            promotion=last["Hoist-Promotion"],
            environment=last.get("Hoist-Environment"), image=last.get("Hoist-Image"),
            step=last.get("Hoist-Step"),
            approved_by=tuple(a.strip() for a in approvers.split(",") if a.strip()),
            reverts=last.get("Hoist-Reverts"),
            from_version=moved.group(1) if moved else None,
            to_version=moved.group(2) if moved else None,
            evidence=tuple(trailers.get("Hoist-Evidence", ())),
        ))
    revert_of = {e.reverts: e.commit for e in entries if e.reverts}
    return [replace(e, reverted_by=revert_of[e.commit]) if e.commit in revert_of else e
            for e in entries]


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
    """Entries of one environment, of images whose reference contains `image`, on or after
    `since`."""
    return [e for e in entries
            if (environment is None or e.environment == environment)
            and (image is None or image in (e.image or ""))
            and (since is None or datetime.fromisoformat(e.date) >= since)]


def _what(entry: AuditEntry) -> str:
    if entry.kind == "revert":
        why = f": {'; '.join(entry.evidence)}" if entry.evidence else ""
        return f"revert of {(entry.reverts or '')[:12]}{why}"
    moved = f"{entry.from_version or '?'} → {entry.to_version}" if entry.to_version else ""
    moved = _LONG_DIGEST.sub(r"\1…", moved)  # twelve hex digits identify it on a terminal
    step = f"canary {entry.step}" if entry.step else ""
    return "  ".join(p for p in (moved, step) if p)


def format_table(entries: list[AuditEntry]) -> str:
    """A readable, aligned table: one row per commit, newest first."""
    header = ("TIME", "ENV", "IMAGE", "CHANGE", "PROMOTION", "COMMIT", "APPROVED BY", "NOTE")
    rows = [header] + [(
        e.date, e.environment or "-", (e.image or "-").split("@")[0], _what(e), e.promotion,
        e.commit[:12], ", ".join(e.approved_by) or "-",
        f"reverted by {e.reverted_by[:12]}" if e.reverted_by else "",
    ) for e in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)
