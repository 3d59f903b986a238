"""`hoist set-image` and `hoist plan`: the commands that edit (or show edits of) manifests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .common import UsageError, read_file

if TYPE_CHECKING:  # set-image stays quick to start: the planner is imported when used
    from ..core.config import Config
    from ..core.plan import Plan


def _image_arg(spec: str) -> tuple[str, str | None, str | None]:
    """NAME=NEWREF (or NAME=:TAG, NAME=@DIGEST) as (name, tag, digest)."""
    from ..core.images import InvalidReference, normalize_name, parse_image_ref

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
    """Exit 0 when every image was found (changed or already there), 1 when some image was
    found in none of the given files (each such file or directory is named on stderr as
    `FILE: no reference to IMAGE`; the other edits are still made), 2 when a file was
    refused (nothing written)."""
    from ..adapters.files import files_containing, read_text, write_atomic
    from ..core.manifests import ManifestError, set_image
    from ..core.render import unified_diff

    images = [_image_arg(spec) for spec in args.image]
    roots = [Path(p) for p in args.paths]
    for root in roots:
        if not root.exists():
            raise UsageError(f"{root}: no such file or directory")
    edited: dict[Path, tuple[str, str]] = {}
    refused: list[str] = []
    found: set[tuple[str, Path]] = set()  # (image, file) pairs holding a reference
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
                if result.references:
                    found.add((name, path))
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
    missing = _report_missing(images, roots, found)
    for path, (before, after) in edited.items():
        if args.dry_run:
            _print_diff(unified_diff(str(path), before, after))
        else:
            write_atomic(path, after)
            print(f"{path}: updated")
    return 1 if missing else 0


def _report_missing(images: list[tuple[str, str | None, str | None]], roots: list[Path],
                    found: set[tuple[str, Path]]) -> bool:
    """Say `ROOT: no reference to IMAGE` for each given file or directory without the
    image; True when some image is in none of them."""
    missing = False
    for name, _, _ in images:
        files = [path for image, path in found if image == name]
        for root in roots:
            if not any(path == root or path.is_relative_to(root) for path in files):
                print(f"{root}: no reference to {name}", file=sys.stderr)
        missing = missing or not files
    return missing


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
    from ..adapters.files import read_in
    from ..core.config import ConfigError, load_config
    from ..core.images import InvalidReference, parse_image_ref, same_repository
    from ..core.members import Member
    from ..core.plan import PlanError, candidate_files, plan_environment
    from ..core.policy import targets_for
    from ..core.render import gate, unified_diff
    from ..core.tags import decide_tag
    from ..core.ways import how_to

    config_path = Path(args.config)
    try:
        config = load_config(read_file(args.config).decode("utf-8"), args.config)
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
    held = False
    for key in keys:
        train = config.train_of(key)
        decision = decide_tag(config.images[key], ref.tag, ref.digest) if ref.tag else None
        if decision is not None and not decision.allowed:
            raise UsageError(f"{key}: {decision.reason}")
        for env in config.environments:
            targets = targets_for(env, key)
            if not targets:
                continue
            try:
                files = {p: read_in(root, p) for p in candidate_files(targets, tree)}
                member = Member(key, config.images[key].repository, ref.tag, ref.digest)
                plan = plan_environment(config, env.name, [member], files, train)
            except (PlanError, ValueError) as exc:
                raise UsageError(f"{env.name}: {exc}") from None
            how = how_to("approve", None, _forge()) if env.gated else None
            sys.stdout.write(_plan_header(plan, gate(env.approval, how)) if plan.files
                             else f"# {env.name}: nothing to change\n")
            for edit in plan.files:
                _print_diff(unified_diff(edit.file, files[edit.file] or "", edit.new_text))
            if not args.no_render:
                held = _rendered(root, config, plan) or held
    return 1 if held else 0


def _rendered(root: Path, config: Config, plan: Plan) -> bool:
    """Print the plan's rendered difference (HOIST_RENDER on); True when it would be held."""
    from ..adapters.rendering import RenderEngine
    from ..settings import Settings, SettingsError
    from .render import print_rendered, render_plan

    try:
        settings = Settings.from_env()
    except SettingsError:
        settings = Settings()
    if not plan.files or not settings.render:
        return False
    return print_rendered(render_plan(root, config, plan, RenderEngine(settings.render_timeout)),
                          plan.environment)


def _forge() -> str:
    """The forge `hoist serve` would use with this environment (HOIST_FORGE, credentials)."""
    from ..settings import Settings, SettingsError

    try:
        return Settings.from_env().forge
    except SettingsError:
        return "local"


def _plan_header(plan: Plan, approval: str) -> str:
    """`# dev: app 1.0 -> 1.1 on hoist/dev/app (approval: …)`; in a train, the train's
    branch and `(train shop)`."""
    from ..core.plan import branch_name
    from ..core.render import was

    moved = plan.images[0]
    train = f" (train {plan.train})" if plan.train else ""
    return (f"# {plan.environment}: {moved.image_key} {was(moved.old_version)} -> "
            f"{moved.new_version} on {branch_name(plan.name, plan.environment)}{train} "
            f"(approval: {approval})\n")
