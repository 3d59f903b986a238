"""How people give a command where Hoist runs (pure): a `/hoist` comment on a forge with
comments, and everywhere `hoist CMD ID` or the HTTP API (the local forge has no comments)."""

from __future__ import annotations


def has_comments(forge: str) -> bool:
    """Whether people can comment on change requests of this forge (`local` has none)."""
    return forge != "local"


def how_to(command: str, promotion_id: str | None, forge: str) -> str:
    """`comment `/hoist retry` or run `hoist retry ID``, or, on the local forge, `run
    `hoist retry ID` or `POST /api/promotions/ID/retry``."""
    pid = promotion_id or "ID"
    cli = f"`hoist {command} {pid}`"
    if has_comments(forge):
        return f"comment `/hoist {command}` or run {cli}"
    return f"run {cli} or `POST /api/promotions/{pid}/{command}`"
