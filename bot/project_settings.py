"""Each project's Settings: the process's own, with the manifests repository, hoist.yaml's
path, the forge and its credentials taken from the project's entry in the projects file
(core/projects.py), and its git cache in a directory of its own. Credentials are read here,
from the variable or file the entry names, and never written anywhere."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from .core.projects import DEFAULT, Project, Projects, ProjectsError, load_projects, single
from .settings import Settings, SettingsError

# HOIST_<PREFIX>_... of each forge kind; the variable naming its repository and its URL.
_PREFIX = {"github": "GITHUB", "gitlab": "GITLAB", "gitea": "GITEA", "bitbucket": "BITBUCKET",
           "bitbucket-datacenter": "BITBUCKET_DC", "azure-devops": "AZURE_DEVOPS"}
# What a project's entry replaces: the process's own repository, config and forge settings.
_PER_PROJECT = ("_TOKEN", "_URL", "_API_URL", "_REPOSITORY", "_PROJECT", "_WEBHOOK_SECRET",
                "_APP_ID", "_PRIVATE_KEY", "_BOT_LOGIN")


def read_projects(settings: Settings) -> Projects:
    """The projects HOIST_PROJECTS lists, else HOIST_MANIFESTS_REPO as the one project
    `default`. ProjectsError (file:line lines) for a bad file; SettingsError when the file
    cannot be read."""
    if settings.projects_file is None:
        return single(settings.manifests_repo or "", settings.config_path, settings.forge)
    try:
        text = settings.projects_file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SettingsError(f"HOIST_PROJECTS: cannot read {settings.projects_file}: "
                            f"{exc.strerror}") from None
    return load_projects(text, str(settings.projects_file))


def _secret(project: Project, secret: str, env: Mapping[str, str]) -> str | None:
    """The value of one named credential; SettingsError naming the variable or file (never
    its value) when it is missing."""
    source = project.forge.source(secret)
    if source is None:
        return None
    kind, name = source
    if kind == "env":
        value = env.get(name)
        if not value:
            raise SettingsError(f"project {project.name}: {name} is not set "
                                f"(forge.{secret}_env)")
        return value
    try:
        return Path(name).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(f"project {project.name}: cannot read {name} "
                            f"(forge.{secret}_file): {exc.strerror}") from None


def project_settings(settings: Settings, project: Project,
                     env: Mapping[str, str] | None = None) -> Settings:
    """Settings for one project: its repository, config path and forge, its git cache
    under HOIST_DATA_DIR/projects/NAME (the project `default` of a single-repository
    Hoist keeps HOIST_DATA_DIR itself), the process's store and everything else.
    SettingsError when a named credential is missing."""
    base = dict(os.environ if env is None else env)
    if settings.projects_file is None and project.name == DEFAULT:
        return settings
    values = {k: v for k, v in base.items() if not (
        k in ("HOIST_MANIFESTS_REPO", "HOIST_CONFIG", "HOIST_FORGE") or (
            any(k.startswith(f"HOIST_{p}_") for p in _PREFIX.values())
            and k.endswith(_PER_PROJECT)))}
    values.update({"HOIST_MANIFESTS_REPO": project.repo, "HOIST_CONFIG": project.config,
                   "HOIST_FORGE": project.forge.kind,
                   "HOIST_DATA_DIR": str(settings.data_dir / "projects" / project.name),
                   "HOIST_DATABASE_URL": settings.store_url})
    prefix = _PREFIX.get(project.forge.kind)
    if prefix is not None:
        forge = project.forge
        named = {"TOKEN": _secret(project, "token", base),
                 "WEBHOOK_SECRET": _secret(project, "webhook_secret", base),
                 "PRIVATE_KEY": _secret(project, "private_key", base),
                 "APP_ID": forge.app_id,
                 "API_URL" if prefix == "GITHUB" else "URL": forge.url,
                 "PROJECT" if prefix == "GITLAB" else "REPOSITORY": forge.repository}
        values.update({f"HOIST_{prefix}_{k}": v for k, v in named.items() if v})
    return replace(Settings.from_env(values), projects_file=settings.projects_file)


__all__ = ["ProjectsError", "project_settings", "read_projects"]
