"""Commit messages with Hoist trailers, change-request titles and bodies; trailer parsing."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .images import readable_version

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
    "Hoist-Pushed-At",
    "Hoist-Window-Override",
)
_TRAILER_RE = re.compile(r"^(Hoist-[A-Za-z-]+):\s*(.*)$")
TITLE_LIMIT = 120  # forges cut longer titles (GitHub at 256); git tools wrap after ~72


NAME_LIMIT = 100  # longer than any forge login or e-mail address a person approves as


def name_problem(name: str) -> str | None:
    """Why a person's name cannot go into a trailer (Hoist-Approved-By: alice, bob), or None.
    A comma would read back as two people; a newline or control character would end the
    trailer or start a forged one."""
    if not name.strip():
        return "the name is empty"
    if len(name) > NAME_LIMIT:
        return f"the name is longer than {NAME_LIMIT} characters"
    if "," in name:
        return "the name holds a comma (it would read back as two people)"
    if any(ord(c) < 32 or ord(c) == 127 or c in "\u2028\u2029\x85" for c in name):
        return "the name holds a newline or control character"
    return None


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
    plan: Plan, promotion_id: str, approved_by: Sequence[str] = (), step: str | None = None,
    pushed_at: Sequence[str] = (), window_override: str | None = None,
) -> str:
    """The promotion commit message: title, what moved (one `repository from → to` line per
    image), files, and the trailers (one Hoist-Image per image; one Hoist-Pushed-At per
    image, in the same order, UTC ISO 8601 `2026-12-01T09:30:00Z`; the override of a
    window as `Hoist-Window-Override: <who>; <reason>`)."""
    moved = "\n".join(f"{m.repository} {was(m.old_version)} → {m.new_version}"
                      for m in plan.images)
    files = "\n".join(f.file for f in plan.files)
    trailers = _identity(plan, promotion_id) + [f"Hoist-Pushed-At: {t}" for t in pushed_at]
    if step:
        trailers.append(f"Hoist-Step: {step}")
    if window_override:
        trailers.append(f"Hoist-Window-Override: {' '.join(window_override.split())}")
    if approved_by:
        for name in approved_by:  # approve() refuses these: never written, whatever the caller
            if name_problem(name):
                raise ValueError(f"approver {name!r}: {name_problem(name)}")
        trailers.append(f"Hoist-Approved-By: {', '.join(approved_by)}")
    return f"{title(plan)}\n\n{moved}\n{files}\n\n" + "\n".join(trailers) + "\n"


def _what(plan: Plan) -> str:
    if plan.train is None and len(plan.images) == 1:
        return f"{plan.name} {_tag(plan.images[0].new_version)}"
    return f"{plan.name} ({len(plan.images)} image{'s' if len(plan.images) != 1 else ''})"


def step_message(plan: Plan, promotion_id: str, weight: int,
                 pushed_at: Sequence[str] = ()) -> str:
    """The commit that moves a canary to `weight` percent."""
    return (f"chore(deploy): canary {_what(plan)} at {weight}% in {plan.environment}\n\n"
            + "\n".join([*_identity(plan, promotion_id),
                          *(f"Hoist-Pushed-At: {t}" for t in pushed_at),
                          f"Hoist-Step: {weight}%"]) + "\n")


def revert_message(plan: Plan, promotion_id: str, reverts: str, subject: str,
                   evidence: Sequence[str], quarantined: bool = True) -> str:
    """A revert commit: what it undoes and why, with the evidence as trailers (one a line:
    `Hoist-Evidence: success-rate{pod="a"}: 0.5 < min 0.99`). `quarantined` False: analysis
    could not tell, and the body says the digest was not quarantined."""
    lines = "".join(f"Hoist-Evidence: {' '.join(e.split())}\n" for e in evidence)
    unmeasured = ("" if quarantined else "Analysis could not tell: no reading showed the image "
                  "bad, so its digest is not quarantined.\n\n")
    return (f"revert(deploy): roll back {plan.name} in {plan.environment}\n\n"
            f"Reverts \"{subject}\" ({reverts[:12]}).\n\n{unmeasured}"
            + "\n".join(_identity(plan, promotion_id)) + f"\nHoist-Reverts: {reverts}\n{lines}")


def change_request_body(plan: Plan, approval: str) -> str:
    """Markdown body of the change request: each image from → to, files, the gate."""
    if plan.train is None and len(plan.images) == 1:
        moved = plan.images[0]
        lines = [f"Promotes **{plan.name}** in **{plan.environment}**.", "",
                 f"- from: `{was(moved.old_version)}`", f"- to: `{moved.image}`"]
    else:
        lines = [f"Promotes the release train **{plan.name}** in **{plan.environment}**: "
                 f"{len(plan.images)} image{'s' if len(plan.images) != 1 else ''}.", "",
                 "| image | from | to |", "| --- | --- | --- |"]
        lines += [f"| {m.image_key} | `{was(m.old_version)}` | `{m.image}` |"
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


def foreign_commits(branch: str, what: str, commits: Sequence[tuple[str, str, str]]) -> str:
    """The comment when Hoist will not update its branch: it holds commits Hoist did not
    make, `(sha, author, subject)` each, newest first; `what` is the version held back."""
    listed = "".join(f"\n- `{sha[:12]}` {subject} ({author})" for sha, author, subject in commits)
    return (f"Hoist did not update `{branch}` to {what}: the branch holds "
            f"{'a commit' if len(commits) == 1 else f'{len(commits)} commits'} Hoist did not "
            f"make, kept as they are:{listed}\n\nThe promotion is held. Comment `/hoist retry` "
            f"to replace the branch with {what} (these commits are dropped from it), or merge "
            "this change request as it is; Hoist then proposes the newer version on top.")


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


def was(old: str | None) -> str:
    """A manifest's old value as people read it (`0.5.0`, not a digest), or `(unset)`."""
    return readable_version(old) or "(unset)"


def gate(approval: Approval, how: str | None = None) -> str:
    """The approval gate in words, then `how` to approve (`core.ways.how_to`) in brackets."""
    if approval.required == 0:
        return "none (merged automatically)"
    who = f"{approval.required} approval{'s' if approval.required > 1 else ''} from people with " \
          f"{approval.permission} permission or above"
    named = approval.users + approval.teams
    return who + (f", or from {', '.join(named)}" if named else "") + \
        (f" ({how})" if how else "")


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
