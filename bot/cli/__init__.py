"""The `hoist` command. Bad input exits 2 with one line on stderr, never a traceback."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .common import UsageError, add_project_option, open_store, read_file, repo_for, settings_for

__all__ = ["UsageError", "build_parser", "main", "open_store", "read_file", "settings_for"]

# Imports of heavy modules happen inside the commands: `hoist set-image` must start fast.


def cmd_parse_event(args: argparse.Namespace) -> int:
    from ..sources import SOURCES, PayloadError, lower_headers

    source = SOURCES.get(args.source)
    if source is None:
        raise UsageError(f"unknown source {args.source!r}; known: {', '.join(sorted(SOURCES))}")
    headers: list[tuple[str, str]] = []
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header must look like 'Name: value', got {header!r}")
        headers.append((name.strip(), value.strip()))
    try:
        pushes = source.parse(lower_headers(headers), read_file(args.file))
    except PayloadError as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    for push in pushes:
        print(json.dumps(push.to_public_json()))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """`--projects` and/or `--config` (with `--render`): exit 2 when either has problems."""
    if not args.config and not args.projects:
        raise UsageError("give --config FILE (a hoist.yaml) or --projects FILE")
    if args.render and not args.config:
        raise UsageError("--render renders a hoist.yaml's targets: give --config FILE too")
    projects = _check_projects(args.projects) if args.projects else 0
    if not args.config:
        return projects
    return max(_check_config(args), projects)


def _check_config(args: argparse.Namespace) -> int:
    from ..core.config import ConfigError, load_config
    from ..core.tag_reach import policy_warnings
    from ..core.yaml_lines import dotted, line_of

    text = read_file(args.config).decode("utf-8", errors="replace")
    try:
        config = load_config(text, args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    from ..adapters.verify.keys import key_problems  # keys, identities and issuers (issue 27)
    bad = key_problems(config, Path(args.config).resolve().parent)
    for loc, message in bad:
        print(f"{args.config}:{line_of(text, loc)}: {dotted(loc)}: {message}", file=sys.stderr)
    if bad:
        return 2
    for loc, message in policy_warnings(config):
        print(f"{args.config}:{line_of(text, loc)}: {dotted(loc)}: warning: {message}",
              file=sys.stderr)
    print(f"{args.config}: ok ({len(config.images)} images, "
          f"{len(config.environments)} environments)")
    if args.render:
        from .render import check_render

        return check_render(Path(args.config), config)
    return 0


def _check_projects(path: str) -> int:
    from ..core.projects import ProjectsError, load_projects

    try:
        projects = load_projects(read_file(path).decode("utf-8", errors="replace"), path)
    except ProjectsError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    print(f"{path}: ok ({len(projects.projects)} projects: {', '.join(projects.names)})")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from ..adapters.store import HEAD
    from ..adapters.store.engine import shown

    store = open_store(settings_for(args), migrate=True, wait=0.0)
    before = store.migrated_from
    where = shown(store.url)
    store.close()
    if before == HEAD:
        print(f"{where}: already at schema {HEAD}")
    else:
        print(f"{where}: migrated from {before or 'an empty database'} to schema {HEAD}")
    return 0


def _edit_command(name: str, args: argparse.Namespace) -> int:
    """set-image and plan live in cli/edit.py (imported only when used)."""
    from . import edit

    func: Callable[[argparse.Namespace], int] = getattr(edit, name)
    return func(args)


def _db_command(name: str, args: argparse.Namespace) -> int:
    """db backup and restore live in cli/db.py (imported only when used)."""
    from . import db

    func: Callable[[argparse.Namespace], int] = getattr(db, name)
    return func(args)


def cmd_audit(args: argparse.Namespace) -> int:
    from ..adapters.git import GitError
    from ..adapters.git_local import branch_refs, default_tip, log_messages, read_blob
    from ..core.audit import audit_entries, format_table, parse_since, select
    from ..core.config import ConfigError, load_config
    from ..settings import Settings

    repo = repo_for(args)
    if not repo.is_dir():
        raise UsageError(f"{repo}: not a directory")
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    refs = [args.ref] if args.ref else []
    if not refs:  # every environment's branch that hoist.yaml names, else HEAD
        text = read_blob(repo, default_tip(repo), Settings.from_env().config_path)
        with contextlib.suppress(ConfigError):
            config = load_config(text, "hoist.yaml") if text else None
            refs = branch_refs(repo, [e.branch for e in config.environments]) if config else []
    try:
        entries = select(audit_entries(log_messages(repo, *refs)), args.env, args.image,
                         since)
    except GitError as exc:
        raise UsageError(f"{repo}: {exc}") from None
    # A readable table on a terminal, JSON lines for programs (or with --json).
    if sys.stdout.isatty() and not args.json:
        print(format_table(entries) if entries else "no promotions found")
    else:
        for entry in entries:
            print(json.dumps(entry.to_json()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo.run import run_demo

    return run_demo(keep=args.keep)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="hoist", description="GitOps image-promotion bot")
    parser.add_argument("--version", action="version", version=f"hoist {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    from . import init, serve  # light: their work is imported when it runs

    serve.add_parser(sub)

    demo = sub.add_parser("demo", help="promote an image in a throw-away local manifests repo")
    demo.add_argument("--keep", action="store_true", help="keep the temporary directory")
    demo.set_defaults(func=cmd_demo)

    parse = sub.add_parser("parse-event", help="print the pushes a saved webhook body yields")
    parse.add_argument("--source", required=True)
    parse.add_argument("--header", action="append", default=[], help="'Name: value'")
    parse.add_argument("file")
    parse.set_defaults(func=cmd_parse_event)

    check = sub.add_parser("check", help="validate a hoist.yaml or a projects file")
    check.add_argument("--config", help="a hoist.yaml")
    check.add_argument("--projects", metavar="FILE", help="a projects file (HOIST_PROJECTS)")
    check.add_argument("--render", action="store_true", help="also render every target with "
                       "Kustomize/Helm and check the objects against the Kubernetes schemas")
    check.set_defaults(func=cmd_check)

    from . import dora, windows  # light: their work is imported when it runs
    for module in (init, windows, dora):
        module.add_parser(sub)

    set_image = sub.add_parser("set-image", help="point every reference to an image at a "
                               "new tag/digest, in place (no git, no config)")
    set_image.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    set_image.add_argument("--image", action="append", required=True, metavar="NAME=NEWREF")
    set_image.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    set_image.set_defaults(func=lambda args: _edit_command("cmd_set_image", args))

    plan = sub.add_parser("plan", help="print the diff Hoist would propose for an image")
    plan.add_argument("--config", required=True)
    plan.add_argument("--image", required=True, metavar="REF")
    plan.add_argument("--no-render", action="store_true", help="print the edits only, without "
                      "rendering them (as HOIST_RENDER=off); exit 1 is then never a render hold")
    plan.set_defaults(func=lambda args: _edit_command("cmd_plan", args))

    audit = sub.add_parser("audit", help="promotion history from a manifests repo's git log")
    audit.add_argument("--repo", help="a local clone (or bare repository); default: the git "
                       "cache `hoist serve` keeps for --project")
    add_project_option(audit)
    audit.add_argument("--ref", help="branch or commit to read (default: every environment's "
                       "branch in hoist.yaml, else HEAD)")
    audit.add_argument("--env", help="only this environment")
    audit.add_argument("--image", help="only commits moving an image whose reference contains "
                       "this (alone or in a release train)")
    audit.add_argument("--since", help="only promotions on or after this ISO date")
    audit.add_argument("--json", action="store_true", help="JSON lines even on a terminal")
    audit.set_defaults(func=cmd_audit)

    from . import commands, projects

    commands.add_parser(sub)
    projects.add_parser(sub)

    db_parser = sub.add_parser("db", help="the store: schema migrations, backups")
    db_parser.set_defaults(func=lambda args: _usage(db_parser))
    db = db_parser.add_subparsers(dest="db_command")
    upgrade = db.add_parser("upgrade", help="apply the store's migrations "
                            "(HOIST_DATABASE_URL, else HOIST_DATA_DIR/hoist.db)")
    upgrade.set_defaults(func=cmd_db_upgrade)
    db_backup = db.add_parser("backup", help="copy the store to FILE while Hoist runs")
    db_backup.add_argument("file")
    db_backup.set_defaults(func=lambda args: _db_command("cmd_backup", args))
    db_restore = db.add_parser("restore", help="restore FILE into an empty store")
    db_restore.add_argument("file")
    db_restore.set_defaults(func=lambda args: _db_command("cmd_restore", args))

    from .help import document

    document(parser)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hoist")
    except PackageNotFoundError:
        return "unknown"


def _usage(parser: argparse.ArgumentParser) -> int:
    """A command that needs a subcommand, given none: its help, on stdout."""
    parser.print_help()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hoist` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        result = func(args)
        sys.stdout.flush()  # inside the try: a closed pipe is reported here, not at exit
        return result
    except UsageError as exc:
        print(f"hoist: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader left (`hoist audit | head`): no traceback
        _quiet_stdout()
        print("hoist: the output was closed before it ended", file=sys.stderr)
        return 2


def _quiet_stdout() -> None:
    """Point stdout at /dev/null: Python flushes it once more at exit, which would raise
    BrokenPipeError again (docs: signal, "Note on SIGPIPE")."""
    import os

    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
