"""`hoist windows` (when each environment's promotions may merge) and `hoist override-window`
(let one promotion through). The decisions are bot/core/windows.py and
bot/flows/override.py; this module reads the config or the store and prints."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from .common import (
    UsageError,
    add_project_option,
    for_project,
    project_store,
    read_file,
    settings_for,
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `hoist windows` and `hoist override-window`."""
    windows = sub.add_parser("windows", help="print each environment's next window openings "
                             "and closings")
    windows.add_argument("--config", help="hoist.yaml (default: HOIST_CONFIG, else ./hoist.yaml)")
    windows.add_argument("--env", help="only this environment")
    windows.add_argument("--count", type=int, default=6, help="changes to list (default 6)")
    windows.add_argument("--at", help="as if it were this ISO time (default: now)")
    windows.set_defaults(func=cmd_windows)

    override = sub.add_parser("override-window", help="let one promotion merge despite a "
                              "closed window or a freeze (recorded in its merge commit)")
    override.add_argument("--promotion", required=True, metavar="ID")
    override.add_argument("--by", required=True, help="who overrides (recorded in the trailer)")
    override.add_argument("--reason", required=True)
    add_project_option(override)
    override.set_defaults(func=cmd_override_window)


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--at {text!r}: expected an ISO time such as 2026-12-01T09:30Z") \
            from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_windows(args: argparse.Namespace) -> int:
    """Exit 0 with the schedule; 2 with one line for a bad config, environment or time."""
    from ..core.config import ConfigError, load_config
    from ..core.freeze import freeze_rules
    from ..core.windows import entries, schedule, status, when

    path = args.config or os.environ.get("HOIST_CONFIG") or "hoist.yaml"
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file (pass --config PATH)")
    try:
        config = load_config(read_file(path).decode("utf-8", errors="replace"), path)
    except ConfigError as exc:
        raise UsageError(exc.problems[0]) from None
    if args.count < 1:
        raise UsageError("--count must be at least 1")
    names = [e.name for e in config.environments]
    if args.env is not None and args.env not in names:
        raise UsageError(f"no environment {args.env!r}; known: {', '.join(names)}")
    now = _moment(args.at)
    for env in config.environments:
        if args.env is not None and env.name != args.env:
            continue
        rules = entries(env.windows, freeze_rules(env.freeze))
        if not rules:
            print(f"{env.name}: always open (no windows, no freeze)")
            continue
        where = rules[0].zone
        now_status = status(rules, now)
        print(f"{env.name} ({where.key}): {'open' if now_status.open else 'closed'} now"
              + (f"; {now_status.reason}" if now_status.reason else ""))
        for moment, opens in schedule(rules, now, args.count):
            print(f"  {'opens ' if opens else 'closes'}  {when(moment, where)}")
    return 0


def cmd_override_window(args: argparse.Namespace) -> int:
    """Exit 0 with the override recorded; 2 with one line for an unknown promotion, one
    already merged or finished, or a name or reason that cannot be recorded."""
    from ..flows.override import NotOverridable, override_window

    settings = settings_for(args)
    for_project(args, settings)  # a project the projects file lists
    db = settings.data_dir / "hoist.db"
    if settings.database_url is None and not db.exists():
        raise UsageError(f"no Hoist store at {db} (set HOIST_DATA_DIR or HOIST_DATABASE_URL)")
    try:
        p = override_window(project_store(args, settings), args.promotion, args.by,
                            args.reason)
    except KeyError:
        raise UsageError(f"no promotion {args.promotion}") from None
    except NotOverridable as exc:
        raise UsageError(str(exc)) from None
    print(f"window overridden for {p.id} ({p.image_key} in {p.environment}) by {args.by}")
    return 0
