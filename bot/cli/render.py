"""The rendered diff offline (issue 26): `hoist plan` prints each environment's rendered
difference after its file diff and exits 1 when Hoist would hold the promotion; `hoist
check --render` renders every target of every environment as it stands and reports what
does not render or validate. Both read the repository from the directory of hoist.yaml."""

from __future__ import annotations

import sys
from pathlib import Path

from ..adapters.files import read_in
from ..adapters.rendering import RenderEngine
from ..core.config import Config
from ..core.plan import Plan
from ..core.rendering import Rendered, decide, jobs_for
from ..core.rendering.objects import Moved


def _tree(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
            and ".git" not in p.relative_to(root).parts]


def render_plan(root: Path, config: Config, plan: Plan, engine: RenderEngine) -> Rendered | None:
    """The plan's rendered difference, from the repository in directory `root`."""
    env = config.environment(plan.environment)
    edits = {f.file: f.new_text for f in plan.files}

    def read(path: str) -> str | None:
        try:
            return read_in(root, path)
        except ValueError:
            return None

    def read_after(path: str) -> str | None:
        return edits[path] if path in edits else read(path)

    jobs = jobs_for(list(edits), env.targets, set(_tree(root)) | set(edits), read_after)
    if not jobs:
        return None
    moved = [Moved(m.repository, m.old_version, m.new_version) for m in plan.images]
    apps = [engine.render_tree(root, edits, job, moved, env.kubernetes, read) for job in jobs]
    hold = decide(apps, [m.repository for m in plan.images], [j.allow_other_changes for j in jobs])
    return Rendered(apps, hold)


def print_rendered(rendered: Rendered | None, environment: str) -> bool:
    """Print the rendered difference under the file diff; True when it would be held."""
    if rendered is None:
        return False
    out = sys.stdout
    for app in rendered.apps:
        schemas = f", Kubernetes {app.kubernetes} schemas" if app.kubernetes else ""
        out.write(f"# {environment}: rendered {app.app} ({app.renderer}{schemas})\n")
        if app.error:
            out.write(f"#   held: {app.error}\n")
        if app.image_only:
            out.write(f"#   only the image reference changes, in "
                      f"{', '.join(c.object for c in app.changes)}\n")
        else:
            for change in app.changes:
                out.write(f"#   {change.object}: {change.change}\n{change.diff}")
        if app.skipped:
            out.write(f"#   not checked against a schema: {', '.join(app.skipped)}\n")
    return rendered.hold is not None


def check_render(config_path: Path, config: Config, timeout: float = 60.0) -> int:
    """Render every target of every environment as the directory holds it: 0 when all render
    and validate, 1 otherwise (each problem on stderr, one line each)."""
    root = config_path.resolve().parent
    tree = _tree(root)
    engine = RenderEngine(timeout)
    failed = 0

    def read(path: str) -> str | None:
        try:
            return read_in(root, path)
        except ValueError:
            return None

    for env in config.environments:
        files = [p for t in env.targets for p in
                 ([q for q in tree if q.startswith(t.file) and q.endswith((".yaml", ".yml"))]
                  if t.is_directory else [t.file])]
        for job in jobs_for(list(dict.fromkeys(files)), env.targets, set(tree), read):
            app = engine.render_tree(root, {}, job, [], env.kubernetes, read)
            if app.error:
                failed += 1
                print(f"{env.name}: {app.error}", file=sys.stderr)
                continue
            skipped = f", {len(app.skipped)} not checked (custom resources)" if app.skipped else ""
            print(f"{env.name}: {app.app} ({app.renderer}): ok ({app.objects} objects, "
                  f"Kubernetes {app.kubernetes}{skipped})")
    return 1 if failed else 0
