"""The renderers, run for real: Kustomize (kustomize.py), Helm (helm.py), the Kubernetes
schemas (kube_schema.py), over checkouts of the manifests repository (workspace.py). The
engine renders each app of a plan before and after its edits, caching renders by the git
object ids of what they read, and hands back core AppRender records."""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from ...core.rendering import AppRender, Job, ObjectId, diff_objects, parse_objects
from ...core.rendering.objects import BadRender, Moved, inline_values, merge
from . import helm, kube_schema, kustomize, workspace
from .errors import RenderFailed

__all__ = ["RenderEngine", "RenderFailed"]

Reader = Callable[[str], str | None]
Objects = dict[ObjectId, dict[str, Any]]


class RenderEngine:
    """Renders apps with the real renderers; `timeout` seconds per render. Thread-safe; the
    cache holds the last `cache_entries` rendered streams."""

    def __init__(self, timeout: float = 60.0, cache_entries: int = 512) -> None:
        self.timeout = timeout
        self.hits = 0
        self.misses = 0
        self._cache: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._capacity = cache_entries
        self._lock = threading.Lock()

    def _cached(self, key: tuple[Any, ...], make: Callable[[], str]) -> str:
        with self._lock:
            if key in self._cache:
                self.hits += 1
                self._cache.move_to_end(key)
                return self._cache[key]
        stream = make()
        with self._lock:
            self.misses += 1
            self._cache[key] = stream
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        return stream

    def _stream(self, job: Job, root: Path, read: Reader) -> str:
        if job.kind in ("kustomize", "helm") and not (root / job.dir).is_dir():
            raise RenderFailed(f"{job.describe()}: no directory {job.dir or '.'} in the "
                               f"manifests repository (fix render: on the target)")
        if job.kind == "kustomize":
            return kustomize.render(root, job.dir, self.timeout)
        if job.kind == "helm":
            values: dict[str, Any] = {}
            for file in job.values:
                path = root / file
                if not path.is_file():
                    raise RenderFailed(f"helm template {job.dir}: no values file {file}")
                try:
                    loaded = yaml.safe_load(path.read_text()) or {}
                except yaml.YAMLError as exc:
                    raise RenderFailed(f"{file}: not YAML: {exc}") from None
                values = merge(values, loaded if isinstance(loaded, dict) else {})
            if job.inline:
                values = merge(values, inline_values(read(job.inline) or ""))
            return helm.render(root, job.dir, values, job.release, job.namespace, self.timeout)
        return "\n---\n".join((root / f).read_text() if (root / f).is_file() else ""
                              for f in job.files)

    def render_app(self, git_dir: Path, base: str, edits: Mapping[str, str], job: Job,
                   moved: Sequence[Moved], kubernetes: str | None, read_before: Reader,
                   read_after: Reader) -> AppRender:
        """One app rendered at `base` and with `edits` (path -> new text) over it, its
        objects diffed and the new ones checked against the schemas. Failures land in the
        record's `error` (renderer's words, file and object named), never raised. Renders
        are cached by the git object ids of what they read."""
        paths = workspace.roots(job, read_after)
        ids = workspace.tree_ids(git_dir, base, paths)
        return self._app(job, moved, kubernetes, read_before, read_after,
                         lambda dest: workspace.export(git_dir, base, paths, dest),
                         lambda dest: workspace.export(git_dir, base, paths, dest, edits),
                         ((job, ids), (job, ids, workspace.edits_key(edits, paths))))

    def render_tree(self, root: Path, edits: Mapping[str, str], job: Job,
                    moved: Sequence[Moved], kubernetes: str | None, read: Reader) -> AppRender:
        """As render_app, for a directory holding the repository (`hoist plan`, `hoist
        check --render`): `read` gives its files' texts; nothing is cached."""

        def read_after(path: str) -> str | None:
            return edits[path] if path in edits else read(path)

        paths = workspace.roots(job, read_after)
        return self._app(job, moved, kubernetes, read, read_after,
                         lambda dest: workspace.copy(root, paths, dest),
                         lambda dest: workspace.copy(root, paths, dest, edits), None)

    def _app(self, job: Job, moved: Sequence[Moved], kubernetes: str | None,
             read_before: Reader, read_after: Reader, before: Callable[[Path], None],
             after: Callable[[Path], None], keys: tuple[Any, Any] | None) -> AppRender:
        app = AppRender(job.app, job.describe())
        try:
            with tempfile.TemporaryDirectory(prefix="hoist-render-") as tmp:
                before_dir, after_dir = Path(tmp, "before"), Path(tmp, "after")

                def render_before() -> str:
                    before(before_dir)
                    return self._stream(job, before_dir, read_before)

                def render_after() -> str:
                    after(after_dir)
                    return self._stream(job, after_dir, read_after)

                # Before and after render side by side: the renderers are other processes.
                with ThreadPoolExecutor(2, thread_name_prefix="render") as pool:
                    old_job = pool.submit(self._cached, keys[0], render_before) if keys \
                        else pool.submit(render_before)
                    new_job = pool.submit(self._cached, keys[1], render_after) if keys \
                        else pool.submit(render_after)
                    try:
                        old_stream = old_job.result()
                    except RenderFailed:
                        old_stream = ""  # it did not render before: everything after is new
                    new_stream = new_job.result()
            old: Objects = parse_objects(old_stream, f"{job.app} (before)") if old_stream else {}
            new: Objects = parse_objects(new_stream, job.app)
            app.objects = len(new)
            app.kubernetes, app.skipped = kube_schema.check(new, kubernetes, job.app)
            app.changes = diff_objects(old, new, moved)
        except (RenderFailed, BadRender) as exc:
            app.error = str(exc)
        except yaml.YAMLError as exc:  # inline values (an Application's `values` string)
            app.error = f"{job.app}: values are not YAML: {exc}"
        return app
