"""Whether a rendered promotion may be proposed (issue 26, "Refuse what would break the
cluster"): not when an app fails to render or renders an invalid object (the adapter sets
`error`), when no rendered object's image moves (a value nothing reads), or when objects
other than those whose image moved change, unless the target allows it."""

from __future__ import annotations

from collections.abc import Sequence

from .model import AppRender

OTHERS = ("added", "removed", "changed")


def problem(app: AppRender, repositories: Sequence[str], allow_other_changes: bool) -> str | None:
    """Why `app` must not be proposed, naming it and its objects; None when it may."""
    if app.error:
        return app.error
    if not any(c.change in ("image", "mixed") for c in app.changes):
        return (f"{app.app}: the rendered objects change no image of "
                f"{', '.join(repositories)}: the renderer does not read the changed value")
    others = [c.object for c in app.changes if c.change in OTHERS]
    if others and not allow_other_changes:
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        return (f"{app.app}: objects other than those whose image moved change: {shown} "
                "(`render: {allow_other_changes: true}` on the target allows it)")
    return None


def decide(apps: Sequence[AppRender], repositories: Sequence[str],
           allowed: Sequence[bool]) -> str | None:
    """The reason to hold the promotion (each app's problem, `; `-joined), or None. Sets each
    app's `error` to its problem, so the page and the section show it beside the app."""
    reasons: list[str] = []
    for app, allow in zip(apps, allowed, strict=True):
        reason = problem(app, repositories, allow)
        if reason is not None:
            app.error = reason
            reasons.append(reason)
    return "; ".join(reasons) if reasons else None
