"""The change request's rendered section (issue 26): per rendered app, the objects that
change (kind/namespace/name) and each one's unified diff, collapsed; one line when only the
image reference changes; cut to the forge's body limit with a link to the page."""

from __future__ import annotations

from .model import AppRender, Rendered

HEADING = "### Rendered changes"


def _fence(diff: str) -> str:
    ticks = "````" if "```" in diff else "```"
    return f"{ticks}diff\n{diff.rstrip()}\n{ticks}"


def _head(app: AppRender) -> str:
    schemas = f", checked against Kubernetes {app.kubernetes} schemas" if app.kubernetes else ""
    return f"**{app.app}** ({app.renderer}{schemas})"


def _summary(app: AppRender) -> str:
    lines = [_head(app)]
    if app.error:
        lines.append(f"\n:x: {app.error}")
    if app.image_only:
        objects = ", ".join(f"`{c.object}`" for c in app.changes)
        lines.append(f"\nOnly the image reference changes, in {objects}.")
    elif app.changes:
        lines += ["", "| Object | Change |", "| --- | --- |",
                  *[f"| `{c.object}` | {c.change} |" for c in app.changes]]
    elif not app.error:
        lines.append("\nNo rendered object changes.")
    if app.skipped:
        lines.append("\nNot checked against a schema (custom resources the schemas do not "
                     f"know): {', '.join(f'`{s}`' for s in app.skipped)}.")
    return "\n".join(lines)


def _details(app: AppRender) -> list[str]:
    if app.image_only:
        return []
    return [f"<details><summary>{c.object} ({c.change})</summary>\n\n{_fence(c.diff)}\n\n</details>"
            for c in app.changes if c.diff]


def cut_notice(limit: int, link: str | None) -> str:
    where = f"[the promotion's page]({link})" if link else "the promotion's page"
    return (f"_The rendered diff is cut here to fit the forge's limit of {limit:,} characters; "
            f"{where} shows all of it._")


def rendered_section(rendered: Rendered, room: int, limit: int, link: str | None) -> str:
    """The section for a change request body, at most `room` characters (what the body
    leaves of the forge's `limit`). Apps' summaries first, then diffs while they fit; when
    any is left out, a last line says so and links the page (`link`, the promotion's URL,
    or named only when Hoist has no public URL). "" for no rendered app."""
    if not rendered.apps:
        return ""
    notice = "\n\n" + cut_notice(limit, link)
    summaries = [_summary(a) for a in rendered.apps]
    details = [_details(a) for a in rendered.apps]
    parts = [HEADING]
    for summary, blocks in zip(summaries, details, strict=True):
        parts.append(summary)
        parts.extend(blocks)
    full = "\n\n".join(parts)
    if len(full) <= room:
        return full
    kept = [HEADING]
    budget = room - len(notice)
    for summary, blocks in zip(summaries, details, strict=True):
        for part in (summary, *blocks):
            if len("\n\n".join([*kept, part])) <= budget:
                kept.append(part)
    text = "\n\n".join(kept) + notice
    return text if len(text) <= room else notice.strip()[:max(room, 0)]
