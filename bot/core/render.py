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
    "Hoist-Train",
    "Hoist-Image",
    "Hoist-Environment",
    "Hoist-Step",
    "Hoist-Approved-By",
    "Hoist-Reverts",
    "Hoist-Evidence",
)
_TRAILER_RE = re.compile(r"^(Hoist-[A-Za-z-]+):\s*(.*)$")
TITLE_LIMIT = 120  # forges cut longer titles (GitHub at 256); git tools wrap after ~72


def _tag(version: str) -> str:
    return version.split("@")[0] or version


def title(plan: Plan) -> str:
    """`chore(deploy): promote guestbook to 1.4.2 in staging`; a train's lists its images,
    `chore(deploy): promote shop in staging: api 1.2.0, web 1.3.0`, as many as fit in
    TITLE_LIMIT characters and then `and N more`."""
    if plan.train is None and len(plan.images) == 1:
        return (f"chore(deploy): promote {plan.name} to {_tag(plan.images[0].new_version)} "
                f"in {plan.environment}")
    head = f"chore(deploy): promote {plan.name} in {plan.environment}"
    shown: list[str] = []
    for i, moved in enumerate(plan.images):
        more = len(plan.images) - i - 1
        item = f"{moved.image_key} {_tag(moved.new_version)}"
        tail = f" and {more} more" if more else ""
        if shown and len(f"{head}: {', '.join([*shown, item])}{tail}") > TITLE_LIMIT:
            return f"{head}: {', '.join(shown)} and {more + 1} more"
        shown.append(item)
    return f"{head}: {', '.join(shown)}" if shown else head


def _identity(plan: Plan, promotion_id: str) -> list[str]:
    """The trailers every commit of a promotion carries: id, train, each image, env."""
    return [f"Hoist-Promotion: {promotion_id}",
            *([f"Hoist-Train: {plan.train}"] if plan.train else []),
            *(f"Hoist-Image: {m.image}" for m in plan.images),
            f"Hoist-Environment: {plan.environment}"]


def commit_message(
    plan: Plan, promotion_id: str, approved_by: Sequence[str] = (), step: str | None = None
) -> str:
    """The promotion commit message: title, what moved (one `repository from → to` line per
    image), files, and the trailers (one Hoist-Image per image)."""
    moved = "\n".join(f"{m.repository} {m.old_version or '(unset)'} → {m.new_version}"
                      for m in plan.images)
    files = "\n".join(f.file for f in plan.files)
    trailers = _identity(plan, promotion_id)
    if step:
        trailers.append(f"Hoist-Step: {step}")
    if approved_by:
        trailers.append(f"Hoist-Approved-By: {', '.join(approved_by)}")
    return f"{title(plan)}\n\n{moved}\n{files}\n\n" + "\n".join(trailers) + "\n"


def _what(plan: Plan) -> str:
    if plan.train is None and len(plan.images) == 1:
        return f"{plan.name} {_tag(plan.images[0].new_version)}"
    return f"{plan.name} ({len(plan.images)} image{'s' if len(plan.images) != 1 else ''})"


def step_message(plan: Plan, promotion_id: str, weight: int) -> str:
    """The commit that moves a canary to `weight` percent."""
    return (f"chore(deploy): canary {_what(plan)} at {weight}% in {plan.environment}\n\n"
            + "\n".join([*_identity(plan, promotion_id), f"Hoist-Step: {weight}%"]) + "\n")


def revert_message(plan: Plan, promotion_id: str, reverts: str, subject: str,
                   evidence: Sequence[str]) -> str:
    """A revert commit: what it undoes and why, with the evidence as trailers."""
    lines = "".join(f"Hoist-Evidence: {e}\n" for e in evidence)
    return (f"revert(deploy): roll back {plan.name} in {plan.environment}\n\n"
            f"Reverts \"{subject}\" ({reverts[:12]}).\n\n"
            + "\n".join(_identity(plan, promotion_id)) + f"\nHoist-Reverts: {reverts}\n{lines}")


def change_request_body(plan: Plan, approval: str) -> str:
    """Markdown body of the change request: each image from → to, files, the gate."""
    if plan.train is None and len(plan.images) == 1:
        moved = plan.images[0]
        lines = [f"Promotes **{plan.name}** in **{plan.environment}**.", "",
                 f"- from: `{moved.old_version or '(unset)'}`", f"- to: `{moved.image}`"]
    else:
        lines = [f"Promotes the release train **{plan.name}** in **{plan.environment}**: "
                 f"{len(plan.images)} image{'s' if len(plan.images) != 1 else ''}.", "",
                 "| image | from | to |", "| --- | --- | --- |"]
        lines += [f"| {m.image_key} | `{m.old_version or '(unset)'}` | `{m.image}` |"
                  for m in plan.images]
        lines.append("")
    lines += [f"- approval: {approval}", "", "Files:"]
    for edit in plan.files:
        for change in edit.changes:
            lines.append(f"- `{edit.file}` `{change.dotted_path}`: `{change.old}` → `{change.new}`")
    return "\n".join(lines) + "\n"


def set_updated(promotion_id: str, replaced: str, changes: Sequence[str]) -> str:
    """The comment on a change request reused for a newer set: which promotion replaced
    which, and what changed (members.describe_changes), one line each."""
    return (f"Superseded: promotion `{replaced}` was replaced by `{promotion_id}`; this "
            "change request now proposes:" + "".join(f"\n- {line}" for line in changes))


def approvals_reset(approvers: Sequence[str], was: str, now: str, approval: Approval) -> str:
    """The line a change request's thread gets when newer content replaces approved content:
    `Approvals by @bob were for 1.1.0 and no longer count: 1.2.0 needs 2 approvals from ...`.
    """
    who = ", ".join(f"@{a}" for a in approvers)
    return f"Approvals by {who} were for {was} and no longer count: {now} needs {gate(approval)}."


def stale_approval(was: str, now: str, approval: Approval) -> str:
    """The reply to `/hoist approve` written for content the change request no longer
    holds."""
    return (f"`/hoist approve` was for {was}, before this change request was updated to "
            f"{now}, and does not count: {now} needs {gate(approval)}.")


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
