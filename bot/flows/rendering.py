"""The rendered difference of a planned promotion (issue 26): render each app its edits
touch before and after, check the objects against the schemas, and decide whether it may be
proposed. The result is stored with the promotion; the change request's section and the
page are made from it."""

from __future__ import annotations

import structlog

from ..adapters.rendering import RenderEngine, RenderFailed
from ..adapters.rendering.workspace import listing
from ..core.config import Config
from ..core.plan import Plan
from ..core.rendering import Rendered, decide, jobs_for
from ..core.rendering.objects import Moved
from ..core.rendering.section import rendered_section
from .announce import page_url
from .services import Services

log = structlog.get_logger()


def render_plan(engine: RenderEngine, services: Services, config: Config, base: str,
                plan: Plan) -> Rendered | None:
    """Every app `plan` changes in its environment, rendered at `base` and after the plan's
    edits; `hold` says why it must not be proposed. None when nothing renders the change."""
    env = config.environment(plan.environment)
    git = services.git
    edits = {f.file: f.new_text for f in plan.files}
    paths = set(listing(git.path, base)) | set(edits)

    def read_before(path: str) -> str | None:
        return git.read(base, path)

    def read_after(path: str) -> str | None:
        return edits[path] if path in edits else git.read(base, path)

    jobs = jobs_for(list(edits), env.targets, paths, read_after)
    if not jobs:
        return None
    moved = [Moved(m.repository, m.old_version, m.new_version) for m in plan.images]
    apps = [engine.render_app(git.path, base, edits, job, moved, env.kubernetes, read_before,
                              read_after) for job in jobs]
    hold = decide(apps, [m.repository for m in plan.images], [j.allow_other_changes for j in jobs])
    if hold:
        log.warning("promotion.render_refused", env=plan.environment, reason=hold)
    return Rendered(apps, hold)


def body_with_render(body: str, rendered: Rendered | None, limit: int, link: str | None) -> str:
    """The change request body with the rendered section appended, within `limit`
    characters (the forge's); the body alone when nothing was rendered."""
    if rendered is None or not rendered.apps:
        return body[:limit]
    room = limit - len(body) - 2
    section = rendered_section(rendered, room, limit, link)
    return f"{body}\n\n{section}" if section and room > 0 else body[:limit]


def check_render(services: Services, config: Config, base: str, plan: Plan,
                 promotion_id: str) -> str | None:
    """Render the plan (when HOIST_RENDER is on), keep the result with the promotion, and
    return why it must be held (`rendered: ...`), or None. A promotion a person resumed
    (`/hoist resume`) goes on with its render shown as it is."""
    if services.renderer is None:
        return None
    try:
        rendered = render_plan(services.renderer, services, config, base, plan)
    except RenderFailed as exc:
        rendered = Rendered([], str(exc))
    if rendered is None:
        return None
    services.store.record_rendered(promotion_id, rendered.to_json())
    if rendered.hold is None or any((t["note"] or "").startswith("resumed by")
                                    for t in services.store.transitions(promotion_id)):
        return None
    return f"rendered: {rendered.hold}"


def proposed_body(services: Services, promotion_id: str, body: str) -> str:
    """The change request body with the promotion's rendered section, within the forge's
    body limit (the section cut first, with a link to the page)."""
    data = services.store.rendered(promotion_id)
    return body_with_render(body, Rendered.from_json(data) if data else None,
                            services.forge.body_limit, page_url(services, promotion_id))
