"""Promotion history from commit messages (pure): one entry per commit with Hoist trailers."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from .render import parse_trailers

# The body line `ghcr.io/acme/app 1.4.1 → 1.4.2@sha256:…` that commit_message writes.
_MOVED = re.compile(r"^\S+ (\S+) → (\S+)$", re.MULTILINE)


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

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        data = asdict(self)
        data["approved_by"] = list(self.approved_by)
        return data


def audit_entries(commits: list[tuple[str, str, str, str]]) -> list[AuditEntry]:
    """Entries for the (sha, ISO date, author, message) commits that carry Hoist trailers,
    in the order given (newest first from git log)."""
    entries = []
    for sha, date, author, message in commits:
        trailers = parse_trailers(message)
        if "Hoist-Promotion" not in trailers:
            continue
        approvers = trailers.get("Hoist-Approved-By", "")
        moved = _MOVED.search(message)
        entries.append(AuditEntry(
            commit=sha, date=date, author=author, subject=message.split("\n", 1)[0],
            promotion=trailers["Hoist-Promotion"],
            environment=trailers.get("Hoist-Environment"), image=trailers.get("Hoist-Image"),
            step=trailers.get("Hoist-Step"),
            approved_by=tuple(a.strip() for a in approvers.split(",") if a.strip()),
            reverts=trailers.get("Hoist-Reverts"),
            from_version=moved.group(1) if moved else None,
            to_version=moved.group(2) if moved else None,
        ))
    return entries


def select(entries: list[AuditEntry], environment: str | None = None, image: str | None = None,
           since: str | None = None) -> list[AuditEntry]:
    """Entries of one environment, of images whose reference contains `image`, on or after
    the ISO date `since`."""
    return [e for e in entries
            if (environment is None or e.environment == environment)
            and (image is None or image in (e.image or ""))
            and (since is None or e.date[:len(since)] >= since)]


def format_entry(entry: AuditEntry) -> str:
    """One readable line."""
    moved = f"{entry.from_version or '?'} → {entry.to_version}" if entry.to_version else ""
    parts = [entry.date, f"{entry.environment or '-':<10}", entry.image or "-", moved,
             f"promotion {entry.promotion}", entry.commit[:12]]
    if entry.step:
        parts.append(f"step {entry.step}")
    if entry.approved_by:
        parts.append(f"approved by {', '.join(entry.approved_by)}")
    if entry.reverts:
        parts.append(f"reverts {entry.reverts[:12]}")
    return "  ".join(parts)
