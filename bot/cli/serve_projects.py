"""`hoist serve` with HOIST_PROJECTS: one process for many manifests repositories. The
projects file is checked first (a bad one stops serve with its first file:line problem);
each project then opens on its own thread (bot/fleet.py), retried there while its remote,
credentials or forge fail, so one project's fault never keeps the others or the webhooks
waiting."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..adapters.signing import CommitSigner
    from ..adapters.store import Store
    from ..core.startup import Fault
    from ..settings import Settings
    from ..web.gate import Gate


def open_projects(settings: Settings, store: Store, signer: CommitSigner | None,
                  gate: Gate) -> Fault | None:
    """Start the fleet and open the app on `gate`; a Fault when the projects file is bad."""
    from ..core.projects import ProjectsError
    from ..core.startup import Fault
    from ..fleet import Fleet
    from ..project_settings import read_projects
    from ..settings import SettingsError
    from ..web.app import create_app
    from ..web.projects import Catalog
    from ..wiring import build_sources_for, build_web_services

    try:
        projects = read_projects(settings)
    except ProjectsError as exc:
        return Fault(exc.problems[0], f"fix it (hoist check --projects {settings.projects_file})")
    except SettingsError as exc:
        return Fault(str(exc), "")
    fleet = Fleet(settings, store, signer, workers=settings.role != "web")
    fleet.start(projects)

    def settings_of(name: str) -> Settings | None:
        run = fleet.running(name)
        return run.settings if run is not None else None

    def wake_all() -> None:
        for name in fleet.names:
            fleet.wake(name)

    def health_of(name: str) -> str:
        run = fleet.running(name)
        return run.health if run is not None else "unknown"

    catalog = Catalog(fleet.services_of, settings_of, lambda: fleet.names, fleet.project_for,
                      fleet.wake, health_of)
    # The unprefixed routes are the project `default`'s; registry webhooks reach every
    # project whose hoist.yaml names the image.
    top = build_web_services(settings, store.routed(fleet.route_push))
    app = create_app(settings, top, wake_all, sources=build_sources_for(settings),
                     role=settings.role, catalog=catalog)
    app.state.fleet = fleet
    gate.on_stop.append(fleet.stop)
    gate.open(app)
    return None
