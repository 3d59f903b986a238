"""What every `hoist` command shares: the one-line usage error, reading a file named on the
command line, the settings (with the command's flags) and the store."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..adapters.store import Store
    from ..core.projects import Projects
    from ..settings import Settings


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit 2."""


def read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def settings_for(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with the command's --config, --role, --no-migrate."""
    from ..settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    if getattr(args, "config", None):
        settings = dataclasses.replace(settings, config_file=Path(args.config))
    if getattr(args, "role", None):
        settings = dataclasses.replace(settings, role=args.role)
    if getattr(args, "no_migrate", False):
        settings = dataclasses.replace(settings, migrate=False)
    return settings


def open_store(settings: Settings, migrate: bool | None = None, wait: float = 30.0) -> Store:
    """The store, waited for up to `wait` seconds while its server does not answer (a
    PostgreSQL starting beside Hoist); UsageError with one line when it never does, when
    its schema is newer than this Hoist, or when the URL is not one."""
    import time

    from ..adapters.store import BadDatabaseUrl, SchemaError, StoreUnavailable
    from ..wiring import build_store

    deadline = time.monotonic() + wait
    while True:
        try:
            return build_store(settings, migrate)
        except (SchemaError, BadDatabaseUrl) as exc:
            raise UsageError(str(exc)) from None
        except StoreUnavailable as exc:
            if time.monotonic() > deadline:
                raise UsageError(f"the store is unreachable: {exc}") from None
            time.sleep(1.0)


def add_project_option(parser: argparse.ArgumentParser) -> None:
    """`--project NAME` (HOIST_PROJECTS' names; default `default`, the one project of a
    single-repository Hoist)."""
    parser.add_argument("--project", default="default", metavar="NAME",
                        help="the project (a name in HOIST_PROJECTS) whose promotions to act on")


def projects_of(settings: Settings) -> Projects:
    """The projects HOIST_PROJECTS lists (else the one `default`); UsageError with the
    first file:line problem, or why the file cannot be read."""
    from ..core.projects import ProjectsError
    from ..project_settings import read_projects
    from ..settings import SettingsError

    try:
        return read_projects(settings)
    except ProjectsError as exc:
        raise UsageError(exc.problems[0]) from None
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def for_project(args: argparse.Namespace, settings: Settings) -> Settings:
    """The settings of the project `--project` names (its repository, forge and store
    view: open_store(...).scoped(args.project)); UsageError with one line for a project the
    projects file does not list, or a bad projects file."""
    from ..project_settings import project_settings
    from ..settings import SettingsError

    name = getattr(args, "project", None) or "default"
    if settings.projects_file is None:  # one repository (HOIST_MANIFESTS_REPO): `default`
        if name != "default":
            raise UsageError(f"no project {name!r}: without HOIST_PROJECTS the only project "
                             "is 'default'")
        return settings
    projects = projects_of(settings)
    project = projects.get(name)
    if project is None:
        raise UsageError(f"no project {name!r}; known: {', '.join(projects.names)}")
    try:
        return project_settings(settings, project)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def project_store(args: argparse.Namespace, settings: Settings) -> Store:
    """The store as `--project` sees it (its promotions only)."""
    return open_store(settings, wait=0.0).scoped(getattr(args, "project", None) or "default")


def repo_for(args: argparse.Namespace) -> Path:
    """`--repo PATH`, else the git cache `hoist serve` keeps for `--project` (audit, dora)."""
    if getattr(args, "repo", None):
        return Path(args.repo)
    return for_project(args, settings_for(args)).data_dir / "manifests.git"
