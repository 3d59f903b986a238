"""The `hoist` command. Bad input exits 2 with one line on stderr, never a traceback."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import Settings

# Imports of heavy modules happen inside the commands: `hoist set-image` must start fast.


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit 2."""


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def cmd_parse_event(args: argparse.Namespace) -> int:
    from .sources import SOURCES, PayloadError, lower_headers

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
        pushes = source.parse(lower_headers(headers), _read(args.file))
    except PayloadError as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    for push in pushes:
        print(json.dumps(push.to_public_json()))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .core.config import ConfigError, load_config

    text = _read(args.config).decode("utf-8", errors="replace")
    try:
        config = load_config(text, args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    print(f"{args.config}: ok ({len(config.images)} images, "
          f"{len(config.environments)} environments)")
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    from .settings import Settings

    settings = Settings.from_env()
    if getattr(args, "config", None):
        settings = dataclasses.replace(settings, config_file=Path(args.config))
    return settings


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from . import log
    from .settings import SettingsError
    from .web.app import create_app
    from .wiring import build_services, build_sources_for
    from .worker import Worker

    settings = _settings(args)
    try:
        settings.check_serve()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    log.configure(settings.log_format, settings.secrets)
    services = build_services(settings)
    worker = Worker(services, settings.poll_interval)
    app = create_app(settings, services, worker.wake, (worker.start, worker.stop),
                     sources=build_sources_for(settings))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    from .adapters.store import Store
    from .flows.approve import NotApprovable, approve
    from .settings import Settings

    settings = Settings.from_env()
    db = settings.data_dir / "hoist.db"
    if not db.exists():
        raise UsageError(f"no Hoist store at {db} (set HOIST_DATA_DIR)")
    try:
        p = approve(Store(db), args.id, args.by)
    except KeyError:
        raise UsageError(f"no promotion {args.id}") from None
    except NotApprovable as exc:
        raise UsageError(str(exc)) from None
    print(f"approved {p.id} ({p.image_key} in {p.environment}) by {args.by}")
    return 0


def _image_arg(spec: str) -> tuple[str, str | None, str | None]:
    """NAME=NEWREF (or NAME=:TAG, NAME=@DIGEST) as (name, tag, digest)."""
    from .core.images import InvalidReference, normalize_name, parse_image_ref

    name, sep, new = spec.partition("=")
    if not sep or not name or not new:
        raise UsageError(f"--image must look like NAME=NEWREF, got {spec!r}")
    try:
        normalize_name(name)
        ref = parse_image_ref(f"{name}{new}" if new[0] in ":@" else new)
    except InvalidReference as exc:
        raise UsageError(str(exc)) from None
    if normalize_name(ref.name) != normalize_name(name):
        raise UsageError(f"{new!r} names another image than {name!r}; renaming is not supported")
    if not ref.tag and not ref.digest:
        raise UsageError(f"{new!r} has neither a tag nor a digest")
    return name, ref.tag, ref.digest


def cmd_set_image(args: argparse.Namespace) -> int:
    from .adapters.files import files_containing, read_text, write_atomic
    from .core.manifests import ManifestError, set_image
    from .core.render import unified_diff

    images = [_image_arg(spec) for spec in args.image]
    roots = [Path(p) for p in args.paths]
    for root in roots:
        if not root.exists():
            raise UsageError(f"{root}: no such file or directory")
    edited: dict[Path, tuple[str, str]] = {}
    refused: list[str] = []
    # Only files that contain the image's last name component can reference it.
    candidates = sorted({p for name, _, _ in images
                         for p in files_containing(roots, name.rsplit("/", 1)[-1])})
    for path in candidates:
        try:
            before = text = read_text(path)
            for name, tag, digest in images:
                if name.rsplit("/", 1)[-1] not in text:
                    continue
                pin = "tag@digest" if tag and digest else ("@digest" if digest else "tag")
                result = set_image(text, name, tag, digest, pin)
                text = result.text
                for note in result.notes:
                    print(f"hoist: {path}: note: {note}", file=sys.stderr)
        except (ManifestError, ValueError, OSError) as exc:
            refused.append(f"hoist: {path}: {exc}")
            continue
        if text != before:
            edited[path] = (before, text)
    if refused:
        print("\n".join(refused), file=sys.stderr)
        return 2
    for path, (before, after) in edited.items():
        if args.dry_run:
            _print_diff(unified_diff(str(path), before, after))
        else:
            write_atomic(path, after)
            print(f"{path}: updated")
    return 0


def _print_diff(diff: str) -> None:
    """A unified diff, in colour on a terminal."""
    if not sys.stdout.isatty():
        sys.stdout.write(diff)
        return
    colours = {"+": "\033[32m", "-": "\033[31m", "@": "\033[36m"}
    for line in diff.splitlines(keepends=True):
        colour = "" if line.startswith(("+++", "---")) else colours.get(line[:1], "")
        sys.stdout.write(f"{colour}{line}\033[0m" if colour else line)


def cmd_plan(args: argparse.Namespace) -> int:
    from .core.config import ConfigError, load_config
    from .core.images import InvalidReference, parse_image_ref, same_repository
    from .core.plan import PlanError, branch_name, candidate_files, plan_environment
    from .core.policy import targets_for
    from .core.render import gate, unified_diff
    from .core.tags import decide_tag

    config_path = Path(args.config)
    try:
        config = load_config(_read(args.config).decode("utf-8"), args.config)
        ref = parse_image_ref(args.image)
    except ConfigError as exc:
        raise UsageError(exc.problems[0]) from None
    except InvalidReference as exc:
        raise UsageError(str(exc)) from None
    keys = [k for k, image in config.images.items() if same_repository(image.repository, ref.name)]
    if not keys:
        raise UsageError(f"no image in {args.config} has repository {ref.name}")
    root = config_path.resolve().parent
    tree = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
            and ".git" not in p.relative_to(root).parts]
    for key in keys:
        decision = decide_tag(config.images[key], ref.tag, ref.digest) if ref.tag else None
        if decision is not None and not decision.allowed:
            raise UsageError(f"{key}: {decision.reason}")
        for env in config.environments:
            targets = targets_for(env, key)
            if not targets:
                continue
            files = {p: _maybe_text(root / p) for p in candidate_files(targets, tree)}
            try:
                plan = plan_environment(config, env.name, key, ref.tag, ref.digest, files)
            except PlanError as exc:
                raise UsageError(f"{env.name}: {exc}") from None
            header = (f"# {env.name}: {key} {plan.old_version or '(unset)'} -> "
                      f"{plan.new_version} on {branch_name(key, env.name)} "
                      f"(approval: {gate(env.approval)})\n")
            sys.stdout.write(header if plan.files else f"# {env.name}: nothing to change\n")
            for edit in plan.files:
                _print_diff(unified_diff(edit.file, files[edit.file] or "", edit.new_text))
    return 0


def _maybe_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def cmd_audit(args: argparse.Namespace) -> int:
    from .adapters.git import GitError, log_messages
    from .core.audit import audit_entries, format_entry, select

    repo = Path(args.repo)
    if not repo.is_dir():
        raise UsageError(f"{repo}: not a directory")
    try:
        entries = select(audit_entries(log_messages(repo, args.ref)), args.env, args.image,
                         args.since)
    except GitError as exc:
        raise UsageError(f"{repo}: {exc}") from None
    # A readable table on a terminal, JSON lines for programs (or with --json).
    table = sys.stdout.isatty() and not args.json
    for entry in entries:
        print(format_entry(entry) if table else json.dumps(entry.to_json()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo.run import run_demo

    return run_demo(keep=args.keep)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="hoist", description="GitOps image-promotion bot")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the webhook service and worker")
    serve.add_argument("--config", help="a local hoist.yaml instead of the repo's")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="promote an image in a throw-away local manifests repo")
    demo.add_argument("--keep", action="store_true", help="keep the temporary directory")
    demo.set_defaults(func=cmd_demo)

    parse = sub.add_parser("parse-event", help="print the pushes a saved webhook body yields")
    parse.add_argument("--source", required=True)
    parse.add_argument("--header", action="append", default=[], help="'Name: value'")
    parse.add_argument("file")
    parse.set_defaults(func=cmd_parse_event)

    check = sub.add_parser("check", help="validate a hoist.yaml")
    check.add_argument("--config", required=True)
    check.set_defaults(func=cmd_check)

    set_image = sub.add_parser("set-image", help="point every reference to an image at a "
                               "new tag/digest, in place (no git, no config)")
    set_image.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    set_image.add_argument("--image", action="append", required=True, metavar="NAME=NEWREF")
    set_image.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    set_image.set_defaults(func=cmd_set_image)

    plan = sub.add_parser("plan", help="print the diff Hoist would propose for an image")
    plan.add_argument("--config", required=True)
    plan.add_argument("--image", required=True, metavar="REF")
    plan.set_defaults(func=cmd_plan)

    audit = sub.add_parser("audit", help="promotion history from a manifests repo's git log")
    audit.add_argument("--repo", required=True, help="a local clone (or bare repository)")
    audit.add_argument("--ref", default="HEAD", help="branch or commit to read (default HEAD)")
    audit.add_argument("--env", help="only this environment")
    audit.add_argument("--image", help="only images whose reference contains this")
    audit.add_argument("--since", help="only promotions on or after this ISO date")
    audit.add_argument("--json", action="store_true", help="JSON lines even on a terminal")
    audit.set_defaults(func=cmd_audit)

    approve = sub.add_parser("approve", help="approve a promotion waiting for approval")
    approve.add_argument("id")
    approve.add_argument("--by", default="cli", help="who approves (recorded in the trailers)")
    approve.set_defaults(func=cmd_approve)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hoist` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as exc:
        print(f"hoist: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
