"""ChatOps (pure): the commands in a pull-request comment, and who may give them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .config import Approval

COMMANDS = ("approve", "hold", "resume", "abort", "retry", "promote", "unquarantine", "status",
            "help")
PERMISSION_LEVELS = ("none", "read", "triage", "write", "maintain", "admin")
# Commands that change a promotion need the approval permission; status and help anyone.
_READ_ONLY = {"status", "help"}
_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_CODE = re.compile(r"`[^`]*`")
_COMMAND = re.compile(r"^\s*/hoist\s+(\w+)(?:\s+(.*?))?\s*$", re.IGNORECASE)

HELP = """\
Commands (one per line, in a comment on this pull request):
- `/hoist approve` — approve the promotion
- `/hoist hold [reason]` — stop it here until `/hoist resume`
- `/hoist resume` — let a held promotion go on
- `/hoist abort [reason]` — stop it for good (reverted if already merged)
- `/hoist retry` — plan a failed promotion again
- `/hoist promote <env>` — promote the same digest to another environment now
- `/hoist unquarantine` — let a reverted digest be promoted again
- `/hoist status` — where the promotion stands
- `/hoist help` — this text
"""


@dataclass(frozen=True)
class Command:
    name: str
    argument: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def parse_commands(body: str) -> list[Command]:
    """Every `/hoist <command>` line of a comment, outside quotes and code."""
    found: list[Command] = []
    in_code = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code or line.lstrip().startswith(">"):
            continue
        match = _COMMAND.match(_INLINE_CODE.sub("", line))
        if match is None:
            continue
        name = match.group(1).lower()
        found.append(Command(name if name in COMMANDS else f"unknown:{name}",
                             (match.group(2) or "").strip()))
    return found


def permission_reaches(actual: str, needed: str) -> bool:
    """read < triage < write < maintain < admin."""
    order = {p: i for i, p in enumerate(PERMISSION_LEVELS)}
    return order.get(actual, 0) >= order[needed]


def authorize(command: Command, user: str, permission: str, teams: Sequence[str],
              policy: Approval, bot_login: str | None, approved_by: Sequence[str]) -> Decision:
    """May `user` (with repository `permission`, member of `teams`) give this command?"""
    if bot_login is not None and user.lower() == bot_login.lower():
        return Decision(False, "Hoist's own comments never count")
    if command.name in _READ_ONLY:
        return Decision(True, "anyone may ask")
    named = user.lower() in {u.lower() for u in policy.users} or bool(
        {t.lower() for t in teams} & {t.lower() for t in policy.teams})
    if not named and not permission_reaches(permission, policy.permission):
        return Decision(False, f"@{user} has {permission} permission; this environment needs "
                               f"{policy.permission} or above"
                               + (" or to be listed in its approvers" if policy.users or
                                  policy.teams else ""))
    if command.name == "approve" and user.lower() in {a.lower() for a in approved_by}:
        return Decision(False, f"@{user} already approved; nobody counts twice")
    return Decision(True, "authorized")
