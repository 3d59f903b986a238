"""`hoist dora --repo PATH`: DORA's four keys from a manifests repository's git history.
The computation is bot/core/dora.py (pure); this module reads git and prints."""

from __future__ import annotations

import argparse
import contextlib
import json
from datetime import datetime

from .common import UsageError, add_project_option, repo_for


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `hoist dora --repo PATH [--env E] [--since DATE] [--until DATE] [--json]`."""
    dora = sub.add_parser("dora", help="deployment frequency, lead time, change failure rate "
                          "and time to restore, from the git trailers")
    dora.add_argument("--repo", help="a local clone (or bare repository); default: the git "
                      "cache `hoist serve` keeps for --project")
    add_project_option(dora)
    dora.add_argument("--env", help="only this environment (default: all)")
    dora.add_argument("--since", help="promotions merged on or after this ISO date")
    dora.add_argument("--until", help="promotions merged before this ISO date")
    dora.add_argument("--json", action="store_true", help="one JSON object")
    dora.set_defaults(func=cmd_dora)


def cmd_dora(args: argparse.Namespace) -> int:
    """Exit 0 with the numbers; 2 with one line for a missing repository or a bad date."""
    from ..adapters.git import GitError
    from ..adapters.git_local import branch_refs, default_tip, log_messages, read_blob
    from ..core.config import ConfigError, load_config
    from ..core.dora import dora
    from ..settings import Settings

    repo = repo_for(args)
    if not repo.is_dir():
        raise UsageError(f"{repo}: not a directory")
    since, until = _date("--since", args.since), _date("--until", args.until)
    refs: list[str] = []
    with contextlib.suppress(ConfigError, GitError):  # every environment's branch, else HEAD
        text = read_blob(repo, default_tip(repo), Settings.from_env().config_path)
        config = load_config(text, "hoist.yaml") if text else None
        refs = branch_refs(repo, [e.branch for e in config.environments]) if config else []
    try:
        found = dora(log_messages(repo, *refs), args.env, since, until)
    except GitError as exc:
        raise UsageError(f"{repo}: {exc}") from None
    data = found.to_json()
    if args.json:
        print(json.dumps(data))
        return 0
    lead, cfr, ttr = (data["lead_time_seconds"], data["change_failure_rate"],
                      data["time_to_restore_seconds"])
    print(f"deployment frequency  {data['deployment_frequency_per_day']:.2f}/day "
          f"({found.promotions} promotions over {found.days:.1f} days)")
    print(f"lead time             median {_human(lead['median'])}, p90 {_human(lead['p90'])} "
          f"({lead['count']} images promoted)")
    rate = "-" if cfr["rate"] is None else f"{cfr['rate']:.1%}"
    print(f"change failure rate   {rate} ({cfr['failures']} of {cfr['promotions']} "
          "promotions reverted)")
    print(f"time to restore       median {_human(ttr['median'])} ({ttr['count']} restored)")
    for note in found.notes:
        print(f"note: {note}")
    return 0


def _date(flag: str, text: str | None) -> datetime | None:
    from ..core.audit import parse_since

    try:
        return parse_since(text) if text else None
    except ValueError as exc:
        raise UsageError(str(exc).replace("--since", flag)) from None


def _human(seconds: float | None) -> str:
    from ..core.durations import format_duration

    return "-" if seconds is None else format_duration(seconds)
