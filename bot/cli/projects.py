"""`hoist projects list`: each project of HOIST_PROJECTS (or the one `default`) with its
repository, forge, health and waiting work. Waiting work is read from the store; health is
asked of the running Hoist at `--url` (default HOIST_PUBLIC_URL), `-` when none answers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import open_store, projects_of, settings_for


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`hoist projects` and `hoist projects list`."""
    projects = sub.add_parser("projects", help="the projects (manifests repositories) served")
    projects.set_defaults(func=lambda args: _usage(projects))
    inner = projects.add_subparsers(dest="projects_command")
    listing = inner.add_parser("list", help="each project's repo, forge, health and waiting "
                               "work")
    listing.add_argument("--url", help="a running Hoist to ask for health (default: "
                         "HOIST_PUBLIC_URL)")
    listing.add_argument("--json", action="store_true", help="one JSON object per project")
    listing.set_defaults(func=cmd_projects_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage()
    return 2


def _health(url: str | None, token: str | None) -> dict[str, str]:
    """Project name -> health as the running Hoist says; {} when it does not answer."""
    if not url:
        return {}
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        answer = httpx.get(f"{url.rstrip('/')}/api/projects", headers=headers, timeout=5)
        rows = answer.json().get("projects", []) if answer.status_code == 200 else []
    except (httpx.HTTPError, ValueError):
        return {}
    return {r["name"]: r["health"] for r in rows if isinstance(r, dict) and "health" in r}


def cmd_projects_list(args: argparse.Namespace) -> int:
    """Exit 0 with a line (or JSON object) per project; 2 with one line for a bad projects
    file or an unreachable store."""
    from ..log import redact_url

    settings = settings_for(args)
    projects = projects_of(settings)
    store = open_store(settings, wait=0.0)
    health = _health(args.url or settings.public_url, settings.ui_token or settings.api_token)
    rows: list[dict[str, Any]] = []
    for project in projects.projects:
        view = store.scoped(project.name)
        pushes, comments = view.pending_counts()
        rows.append({"name": project.name, "repo": redact_url(project.repo, project.repo),
                     "forge": project.forge.kind, "health": health.get(project.name, "-"),
                     "waiting": {"pushes": pushes, "comments": comments,
                                 "lanes": len(view.lanes())}})
    store.close()
    for row in rows:
        if args.json:
            print(json.dumps(row))
        else:
            w = row["waiting"]
            print(f"{row['name']:<20} {row['forge']:<12} {row['health']:<10} "
                  f"{w['pushes']} pushes, {w['comments']} comments, {w['lanes']} lanes  "
                  f"{row['repo']}")
    return 0
