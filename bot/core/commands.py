"""ChatOps (pure): the commands in a pull-request comment, and who may give them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .config import Approval

COMMANDS = ("approve", "hold", "resume", "abort", "retry", "promote", "unquarantine", "freeze",
            "unfreeze", "status", "help", "override-window")
PERMISSION_LEVELS = ("none", "read", "triage", "write", "maintain", "admin")
# Commands that change a promotion need the approval permission; status and help anyone.
_READ_ONLY = {"status", "help"}
# Strict CommonMark: what GitHub, GitLab and Gitea all render the same way (their
# extensions, tables and strikethrough, never turn code or a quote into prose).
_MARKDOWN = MarkdownIt("commonmark")
# The resolution of a forge's comment time, in seconds (`2019-09-18T03:28:04Z`).
_STAMP = 1.0
_COMMAND = re.compile(r"^\s*/hoist\s+([\w-]+)(?:\s+(.*?))?\s*$", re.IGNORECASE)
# Commands that need admin permission on the repository whatever the environment's approval
# permission (and its named approvers): letting a promotion through a window is an exception.
ADMIN_ONLY = {"override-window"}

HELP = """\
Commands (one per line, in a comment on this pull request):
- `/hoist approve` — approve the promotion
- `/hoist hold [reason]` — stop it here until `/hoist resume`
- `/hoist resume` — let a held promotion go on
- `/hoist abort [reason]` — stop it for good (reverted if already merged)
- `/hoist retry` — plan a failed promotion again
- `/hoist promote <env>` — promote the same digest to another environment now
- `/hoist unquarantine` — let a reverted digest be promoted again
- `/hoist freeze [reason]` — plan and merge nothing in this environment until unfrozen
- `/hoist unfreeze` — lift that freeze
- `/hoist override-window <reason>` — merge now despite a closed window or a freeze
  (admin permission; recorded in the merge commit)
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
    """Every `/hoist <command>` line of a comment's prose, in order.

    `body` is Markdown (GitHub, GitLab and Gitea comments and review bodies all are); it is
    parsed as CommonMark 0.31 and only the text of paragraphs and headings (in list items
    too) is read: never a fenced or indented code block (§4.4-4.5: four spaces or a tab),
    a block quote (§5.1) at any depth, an HTML block (§4.6, a multi-line `<!-- -->`
    comment included), inline code (§6.1) or inline HTML (§6.6). A command starts its
    line, a soft or hard line break (§6.7-6.8) ends it: `please /hoist approve` is not
    one, nor a line that opens with inline code or HTML. Line ends may be LF, CRLF or CR
    (§2.1). An unknown name comes back as `unknown:<name>`."""
    if "hoist" not in body.lower():  # the common case: skip the parse
        return []
    found: list[Command] = []
    for line in _prose_lines(_MARKDOWN.parse(body)):
        match = _COMMAND.match(line)
        if match is None:
            continue
        name = match.group(1).lower()
        found.append(Command(name if name in COMMANDS else f"unknown:{name}",
                             (match.group(2) or "").strip()))
    return found


def _prose_lines(tokens: Sequence[Token]) -> Iterator[str]:
    """The lines of inline text outside block quotes; code and HTML blocks have no inline
    tokens, so they never appear. Inline code keeps its backticks and inline HTML its
    source (line ends made spaces), so neither can start a command."""
    quoted = 0
    for token in tokens:
        if token.type == "blockquote_open":
            quoted += 1
        elif token.type == "blockquote_close":
            quoted -= 1
        elif token.type == "inline" and not quoted:
            line: list[str] = []
            for child in token.children or ():
                if child.type in ("softbreak", "hardbreak"):
                    yield "".join(line)
                    line = []
                elif child.type in ("text", "text_special"):
                    line.append(child.content)
                elif child.type == "code_inline":
                    line.append(child.markup + child.content + child.markup)
                elif child.type == "html_inline":
                    line.append(child.content.replace("\n", " "))
            yield "".join(line)


def written_for(proposed: Sequence[tuple[str, float]], received_for: str | None,
                written_at: float | None) -> str | None:
    """The promotion a comment on a change request was written for: the one whose content
    the change request showed when its author wrote it.

    `proposed` lists the promotions the change request carried, oldest first, each with
    when it was proposed there (Hoist's clock, epoch seconds); `received_for` is the one it
    carried when Hoist received the comment; `written_at` is the forge's own time of
    writing (GitHub `comment.created_at`, `review.submitted_at`; GitLab
    `object_attributes.created_at`; Gitea `comment.created_at`), None when not given.

    Receipt is the bound Hoist can trust: nobody saw content proposed after their words
    arrived, so a comment received for 1.1.0 and handled once 1.2.0 replaced it stays
    1.1.0's. The author's own time moves it earlier still: a delivery late or resent by
    hand (by another hook, after the change request was updated) was written for what the
    change request held then. A written time before the change request's first proposal
    is not believed (a forge clock far off, or an old body replayed): receipt decides.
    Forges date comments to the second (GitHub, Gitea), so a time names its whole second:
    only a comment whose second ended before a proposal was written before it."""
    ids = [pid for pid, _ in proposed]
    if not ids:
        return received_for
    seen = ids.index(received_for) if received_for in ids else len(ids) - 1
    if written_at is not None and written_at + _STAMP >= proposed[0][1]:
        seen = min(seen, max(i for i, (_, at) in enumerate(proposed)
                             if at <= written_at + _STAMP))
    return ids[seen]


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
    if command.name in ADMIN_ONLY:
        if permission_reaches(permission, "admin"):
            return Decision(True, "authorized")
        return Decision(False, f"@{user} has {permission} permission; "
                               f"`/hoist {command.name}` needs admin")
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
