"""Commit messages with Hoist trailers, change-request titles and bodies; trailer parsing."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: keeps `hoist set-image` from importing pydantic
    from .config import Approval
    from .plan import Plan

TRAILER_KEYS = (
    "Hoist-Promotion",
    "Hoist-Image",
    "Hoist-Environment",
    "Hoist-Step",
    "Hoist-Approved-By",
    "Hoist-Reverts",
    "Hoist-Evidence",
)
_TRAILER_RE = re.compile(r"^(Hoist-[A-Za-z-]+):\s*(.*)$")


def title(plan: Plan) -> str:
    """`chore(deploy): promote guestbook to 1.4.2 in staging`."""
    version = plan.new_version.split("@")[0] or plan.new_version
    return f"chore(deploy): promote {plan.image_key} to {version} in {plan.environment}"


def commit_message(
    plan: Plan, promotion_id: str, approved_by: Sequence[str] = (), step: str | None = None
) -> str:
    """The promotion commit message: title, what moved, files, and the trailers."""
    moved = f"{plan.repository} {plan.old_version or '(unset)'} → {plan.new_version}"
    files = "\n".join(f.file for f in plan.files)
    trailers = [
        f"Hoist-Promotion: {promotion_id}",
        f"Hoist-Image: {plan.image}",
        f"Hoist-Environment: {plan.environment}",
    ]
    if step:
        trailers.append(f"Hoist-Step: {step}")
    if approved_by:
        trailers.append(f"Hoist-Approved-By: {', '.join(approved_by)}")
    return f"{title(plan)}\n\n{moved}\n{files}\n\n" + "\n".join(trailers) + "\n"


def step_message(plan: Plan, promotion_id: str, weight: int) -> str:
    """The commit that moves a canary to `weight` percent."""
    return (f"chore(deploy): canary {plan.image_key} {plan.new_version.split('@')[0]} at "
            f"{weight}% in {plan.environment}\n\n"
            f"Hoist-Promotion: {promotion_id}\nHoist-Image: {plan.image}\n"
            f"Hoist-Environment: {plan.environment}\nHoist-Step: {weight}%\n")


def revert_message(plan: Plan, promotion_id: str, reverts: str, subject: str,
                   evidence: Sequence[str]) -> str:
    """A revert commit: what it undoes and why, with the evidence as trailers."""
    lines = "".join(f"Hoist-Evidence: {e}\n" for e in evidence)
    return (f"revert(deploy): roll back {plan.image_key} in {plan.environment}\n\n"
            f"Reverts \"{subject}\" ({reverts[:12]}).\n\n"
            f"Hoist-Promotion: {promotion_id}\nHoist-Image: {plan.image}\n"
            f"Hoist-Environment: {plan.environment}\nHoist-Reverts: {reverts}\n{lines}")


def change_request_body(plan: Plan, approval: str) -> str:
    """Markdown body of the change request: image from → to, files, the gate."""
    lines = [
        f"Promotes **{plan.image_key}** in **{plan.environment}**.",
        "",
        f"- from: `{plan.old_version or '(unset)'}`",
        f"- to: `{plan.image}`",
        f"- approval: {approval}",
        "",
        "Files:",
    ]
    for edit in plan.files:
        for change in edit.changes:
            lines.append(f"- `{edit.file}` `{change.dotted_path}`: `{change.old}` → `{change.new}`")
    return "\n".join(lines) + "\n"


def gate(approval: Approval) -> str:
    """The approval gate in words."""
    if approval.required == 0:
        return "none (merged automatically)"
    who = f"{approval.required} approval{'s' if approval.required > 1 else ''} from people with " \
          f"{approval.permission} permission or above"
    named = approval.users + approval.teams
    return who + (f", or from {', '.join(named)}" if named else "") + \
        " (comment `/hoist approve`)"


def parse_trailer_lists(message: str) -> dict[str, list[str]]:
    """Hoist trailers of a commit message (the last paragraph), every value of each key."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    found: dict[str, list[str]] = {}
    for line in paragraphs[-1].splitlines() if paragraphs else ():
        match = _TRAILER_RE.match(line.strip())
        if match:
            found.setdefault(match.group(1), []).append(match.group(2).strip())
    return found


def parse_trailers(message: str) -> dict[str, str]:
    """Hoist trailers of a commit message, the last value of each key."""
    return {key: values[-1] for key, values in parse_trailer_lists(message).items()}


def unified_diff(path: str, before: str, after: str) -> str:
    """A git-style unified diff of one file."""
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        f"a/{path}", f"b/{path}",
    ))
