"""`hoist approve|retry|abort|hold|resume|unquarantine ID` and `hoist freeze|unfreeze --env
ENV`: the ChatOps commands without a forge, carried out by flows/commands.py (the same code
as `/hoist` comments and the API). Prints the reply and the promotion's new state; a
command that cannot be carried out exits 2 with the reply as its one line."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .common import UsageError, add_project_option, for_project, open_store, settings_for

if TYPE_CHECKING:
    from ..flows.services import Services
    from ..settings import Settings

_HELP = {
    "approve": "approve a promotion waiting for approval",
    "retry": "plan a failed promotion again, or analyse a held step again",
    "abort": "stop a promotion for good (reverted in git if already merged)",
    "hold": "stop a promotion where it is until `hoist resume`",
    "resume": "let a held promotion go on",
    "unquarantine": "let a promotion's reverted digest be promoted again",
    "freeze": "plan and merge nothing in an environment until `hoist unfreeze`",
    "unfreeze": "lift an environment's freeze",
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register every promotion command and freeze/unfreeze."""
    from ..flows.commands import ENVIRONMENT_COMMANDS, PROMOTION_COMMANDS

    for name in (*PROMOTION_COMMANDS, *ENVIRONMENT_COMMANDS):
        parser = sub.add_parser(name, help=_HELP[name])
        if name in ENVIRONMENT_COMMANDS:
            parser.add_argument("--env", required=True, help="the environment (hoist.yaml)")
        else:
            parser.add_argument("id", help="the promotion's id (the page, GET /api/promotions)")
        parser.add_argument("--by", default="cli", help="who gives the command (recorded)")
        parser.add_argument("--reason", default="", help="why (recorded; hold, abort, freeze)")
        add_project_option(parser)
        parser.set_defaults(func=cmd_command, command_name=name)


def cmd_command(args: argparse.Namespace) -> int:
    """Carry out one command with this Hoist's store, repository and forge."""
    from ..core.render import name_problem
    from ..flows.commands import ENVIRONMENT_COMMANDS, BadName, run, run_on_environment

    name: str = args.command_name
    if name_problem(args.by):  # before any store is opened
        raise UsageError(f"--by {args.by!r}: {name_problem(args.by)}")
    on_env = name in ENVIRONMENT_COMMANDS
    subject: str = args.env if on_env else args.id
    services = _services(for_project(args, settings_for(args)), args.project)
    try:
        outcome = run_on_environment(services, subject, name, args.by, args.reason) \
            if on_env else run(services, subject, name, args.by, args.reason)
    except KeyError:
        raise UsageError(f"no {'environment' if on_env else 'promotion'} {subject}") from None
    except BadName as exc:
        raise UsageError(str(exc)) from None
    p = outcome.promotion
    state = f" (now {p.state})" if p is not None else ""
    if not outcome.done:
        raise UsageError(f"{subject}: {outcome.reply}{state}")
    print(f"{subject}: {outcome.reply}{state}")
    return 0


def _services(settings: Settings, project: str = "default") -> Services:
    """The store, the manifests repository and the forge that `hoist serve` uses."""
    from ..adapters.git import GitError
    from ..adapters.signing import SigningError
    from ..wiring import build_services

    db = settings.data_dir / "hoist.db"
    if settings.database_url is None and not db.exists():
        raise UsageError(f"no Hoist store at {db} (set HOIST_DATA_DIR or HOIST_DATABASE_URL)")
    if not settings.manifests_repo:
        raise UsageError("HOIST_MANIFESTS_REPO is not set (the repository `hoist serve` uses)")
    store = open_store(settings, wait=0.0).scoped(project)
    try:
        return build_services(settings, store)
    except (GitError, SigningError) as exc:
        raise UsageError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) \
            from None
