"""Many projects in one Hoist: each project (core/projects.py) gets its own Services (its git
checkout, its forge, its hoist.yaml, its view of the store) and its own worker threads, so a
broken hoist.yaml, an unreachable remote or a slow forge in one never holds up another.

The projects file is read again every `reread_every` seconds: a project added starts, one
removed stops (its history stays in the store, under its name), one changed restarts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from .adapters.config_source import ConfigSource
from .adapters.signing import CommitSigner
from .adapters.store import Store
from .core.events import ImagePushed
from .core.policy import matching_images
from .core.projects import Project, Projects, ProjectsError
from .flows.services import Services
from .project_settings import project_settings, read_projects
from .settings import Settings, SettingsError
from .worker import Worker

log = structlog.get_logger()
RETRY_EVERY = 5.0  # seconds between attempts to open a project that failed to start

# The settings field holding a project's repository name on its forge (routing webhooks).
_REPOSITORY = {"github": "github_repository", "gitlab": "gitlab_project",
               "gitea": "gitea_repository", "bitbucket": "bitbucket_repository",
               "bitbucket-datacenter": "bitbucket_dc_repository",
               "azure-devops": "azure_devops_repository"}


@dataclass
class Running:
    """One project as this process runs it. `health`: `starting`, `ready`, `failing:
    <reason>` (retried), or `stopped`."""

    project: Project
    settings: Settings | None = None
    services: Services | None = None
    worker: Worker | None = None
    health: str = "starting"
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def repository(self) -> str | None:
        """The repository's name on its forge (owner/name, group/project, ...), lowercased."""
        name = _REPOSITORY.get(self.project.forge.kind)
        found = getattr(self.settings, name, None) if name and self.settings else None
        return str(found).lower() if found else None


class Fleet:
    """Every project of HOIST_PROJECTS (or the one `default`), each opened on a thread of
    its own and retried there while it fails; `services_of(name)` is the catalog the web
    app serves `/p/<name>/` from."""

    def __init__(self, settings: Settings, store: Store, signer: CommitSigner | None = None,
                 workers: bool = True, reread_every: float = 5.0,
                 build: Callable[..., Services] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.signer = signer
        self.workers = workers
        self.reread_every = reread_every
        self._build = build
        self._running: dict[str, Running] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # the catalog ------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """Projects served now, in the file's order."""
        with self._lock:
            return list(self._running)

    def services_of(self, name: str) -> Services | None:
        """The project's Services once opened; None for an unknown (or not yet opened)
        project."""
        with self._lock:
            found = self._running.get(name)
        return found.services if found else None

    def running(self, name: str) -> Running | None:
        """What runs for one project, or None."""
        with self._lock:
            return self._running.get(name)

    def wake(self, name: str) -> None:
        """Nudge one project's worker (a webhook stored work for it)."""
        found = self.running(name)
        if found is not None and found.worker is not None:
            found.worker.wake()

    def route_push(self, pushed: ImagePushed) -> list[str]:
        """The projects a registry push goes to: each whose hoist.yaml (as last read) names
        the image, and each whose hoist.yaml is not read yet (its worker decides)."""
        found = []
        for name in self.names:
            services = self.services_of(name)
            config = services.config.cached if services is not None and isinstance(
                services.config, ConfigSource) else None
            if config is None or matching_images(config, pushed):
                found.append(name)
        return found

    def project_for(self, kind: str, repository: str) -> str | None:
        """The project whose forge is `kind` and whose repository is named `repository`
        (case-insensitive), or None: a webhook delivery for it is not ours."""
        wanted = repository.lower().strip("/")
        with self._lock:
            for name, run in self._running.items():
                if run.project.forge.kind == kind and run.repository == wanted:
                    return name
        return None

    def status(self) -> list[dict[str, Any]]:
        """Each project: name, repo, forge kind, health and waiting work (pushes and
        comments not yet handled, unfinished promotions)."""
        rows = []
        for name in self.names:
            run = self.running(name)
            if run is None:
                continue
            view = self.store.scoped(name)
            pushes, comments = view.pending_counts()
            active = len(view.lanes())
            rows.append({"name": name, "repo": run.project.repo,
                         "forge": run.project.forge.kind, "health": run.health,
                         "waiting": {"pushes": pushes, "comments": comments, "lanes": active}})
        return rows

    # running ----------------------------------------------------------------------------

    def start(self, projects: Projects | None = None) -> None:
        """Open every project (each on its own thread) and watch the projects file."""
        self._apply(projects or read_projects(self.settings))
        if self.settings.projects_file is not None and self.reread_every > 0:
            self._watcher = threading.Thread(target=self._watch, name="hoist-projects",
                                             daemon=True)
            self._watcher.start()

    def stop(self) -> None:
        """Stop every project's worker."""
        self._stop.set()
        with self._lock:
            running = list(self._running.values())
            self._running.clear()
        for run in running:
            self._halt(run)

    def _watch(self) -> None:
        while not self._stop.wait(self.reread_every):
            try:
                projects = read_projects(self.settings)
            except (ProjectsError, SettingsError) as exc:
                log.warning("projects.unreadable", error=str(exc).splitlines()[0])
                continue  # the projects served stay as they were
            self._apply(projects)

    def _apply(self, projects: Projects) -> None:
        """Start projects new (or changed) in `projects`, stop those gone from it."""
        with self._lock:
            gone = [r for n, r in self._running.items()
                    if projects.get(n) != r.project]
            for run in gone:
                del self._running[run.project.name]
            fresh = [Running(p) for p in projects.projects if p.name not in self._running]
            for run in fresh:
                self._running[run.project.name] = run
        for run in gone:
            log.info("project.stopped", project=run.project.name)
            threading.Thread(target=self._halt, args=(run,), daemon=True).start()
        for run in fresh:
            threading.Thread(target=self._open, args=(run,), name=f"hoist-open-{run.project.name}",
                             daemon=True).start()

    def _halt(self, run: Running) -> None:
        run.stop.set()
        run.health = "stopped"
        if run.worker is not None:
            run.worker.stop()

    def _open(self, run: Running) -> None:
        """Build the project's Services and start its worker, retrying every RETRY_EVERY
        seconds while its credentials, remote or forge fail."""
        from .wiring import build_services

        name = run.project.name
        while not run.stop.is_set():
            try:
                run.settings = project_settings(self.settings, run.project)
                build = self._build or build_services
                services = build(run.settings, self.store.scoped(name), self.signer)
                break
            except Exception as exc:
                run.health = f"failing: {str(exc).splitlines()[0] if str(exc) else exc!r}"
                log.warning("project.not_ready", project=name, reason=run.health,
                            retry_in=RETRY_EVERY)
                if run.stop.wait(RETRY_EVERY):
                    return
        else:
            return
        run.services = services
        if self.workers:
            s = self.settings
            run.worker = Worker(services, s.poll_interval, s.reconcile_interval, s.workers,
                                s.lease_seconds)
            run.worker.start()
        run.health = "ready"
        log.info("project.started", project=name, forge=run.project.forge.kind)
        if run.stop.is_set() and run.worker is not None:  # removed while it opened
            run.worker.stop()
