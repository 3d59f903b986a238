"""`hoist init [DIR]`: scan a manifests repository and write a commented hoist.yaml that
`hoist check` accepts, every guess marked. The inference is bot/core/scaffold (pure);
this module walks the files, reports, and writes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .common import UsageError

if TYPE_CHECKING:
    from ..core.scaffold import Reference, Scaffold

PROGRESS_EVERY = 100  # files between progress lines on a terminal


def _root(name: str) -> Path:
    """DIR checked: UsageError with one line when it is missing, a file, or unreadable."""
    root = Path(name)
    if not root.exists():
        raise UsageError(f"{root}: no such directory")
    if not root.is_dir():
        raise UsageError(f"{root}: not a directory")
    try:
        os.listdir(root)
    except OSError as exc:
        raise UsageError(f"{root}: cannot read: {exc.strerror}") from None
    return root


def _output(args: argparse.Namespace, root: Path) -> Path | None:
    """Where to write (None for --stdout); refused when the file is already there."""
    if args.stdout:
        return None
    output = Path(args.output) if args.output else root / "hoist.yaml"
    if output.exists():
        raise UsageError(f"{output} exists; move it away or pass --output PATH")
    if not output.parent.is_dir():
        raise UsageError(f"{output.parent}: no such directory")
    return output


def scan(root: Path, skip: set[Path], warn: Callable[[str], None],
         progress: Callable[[int, int], None]) -> tuple[list[Reference], list[str]]:
    """(every reference, every YAML path relative to root) below root. Files that cannot
    be read as manifests (invalid YAML, not UTF-8, over the size limit) are reported
    through warn as `FILE:LINE: why; skipped`, never changed."""
    from ..adapters.files import read_text, yaml_files_within
    from ..core.manifests import MAX_FILE, ManifestError
    from ..core.scaffold import is_chart_template, problem_line, references_in

    files = [p for p in yaml_files_within(root) if p not in skip]
    relative = [p.relative_to(root).as_posix() for p in files]
    known = set(relative)
    refs: list[Reference] = []
    for done, (path, rel) in enumerate(zip(files, relative, strict=True), 1):
        progress(done, len(files))
        if is_chart_template(rel, known):
            continue
        shown = str(root / rel)
        try:
            if path.stat().st_size > MAX_FILE:
                warn(f"{shown}:1: larger than {MAX_FILE >> 20} MiB; skipped")
                continue
            refs += references_in(rel, read_text(path))
        except ManifestError as exc:
            warn(f"{problem_line(shown, exc)}; skipped")
        except ValueError as exc:  # not UTF-8
            warn(f"{shown}:1: {exc}; skipped")
        except OSError as exc:
            warn(f"{shown}:1: cannot read: {exc.strerror}; skipped")
    return refs, relative


def _progress(stream: TextIO) -> Callable[[int, int], None]:
    """A `scanned N/M files` line rewritten in place on a terminal; nothing otherwise."""
    def show(done: int, total: int) -> None:
        if stream.isatty() and (done % PROGRESS_EVERY == 0 or done == total):
            end = "\n" if done == total else ""
            print(f"\rhoist: scanned {done}/{total} YAML files", end=end, file=stream,
                  flush=True)
    return show


def summary(found: Scaffold, files: int) -> list[str]:
    """What was found and guessed, as the lines `hoist init` prints."""
    lines = [f"found {len(found.images)} image(s) in {files} YAML file(s): "
             + ", ".join(i.key for i in found.images)]
    layout = (f" (the layout names {', '.join(found.layout)}, without references of their own)"
              if found.whole_repo and found.layout else "")
    lines.append("environments: " + " → ".join(e.name for e in found.environments) + layout)
    lines += [f"  {e.name}: {len(e.targets)} target(s)" for e in found.environments]
    if found.shared:
        lines.append(f"not targets: {len(found.shared)} reference(s) outside any environment "
                     "(listed in a comment)")
    if found.empty and not found.whole_repo:
        lines.append("environments without references of their own: " + ", ".join(found.empty))
    lines.append("guessed:")
    lines += [f"  {guess}" for guess in found.guesses]
    return lines


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `hoist init [DIR] [--output PATH | --stdout]`."""
    init = sub.add_parser("init", help="scan a manifests repository and write a commented "
                          "hoist.yaml, guesses marked")
    init.add_argument("dir", nargs="?", default=".", metavar="DIR",
                      help="the manifests repository (default: .)")
    where = init.add_mutually_exclusive_group()
    where.add_argument("--output", metavar="PATH", help="write here instead of DIR/hoist.yaml")
    where.add_argument("--stdout", action="store_true", help="print the file, write nothing")
    init.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    """Exit 0 with the file written (or printed with --stdout); 2 with one line when DIR
    is missing, not a directory or unreadable, when the output exists, or when no image
    reference is found."""
    from ..core.config import ConfigError, load_config
    from ..core.scaffold import NothingFound, render, scaffold

    root = _root(args.dir)
    output = _output(args, root)
    # Hoist's own config (an existing one, with --stdout or --output) is no manifest.
    skip = {root / "hoist.yaml", *([output] if output else [])}
    refs, paths = scan(root, skip, lambda line: print(f"hoist: warning: {line}", file=sys.stderr),
                       _progress(sys.stderr))
    try:
        found = scaffold(refs, paths)
    except NothingFound as exc:
        raise UsageError(f"{root}: {exc}") from None
    text = render(found)
    name = str(output or "hoist.yaml")
    try:
        load_config(text, name)
    except ConfigError as exc:  # a bug in the inference: say so, write nothing
        raise UsageError(f"the hoist.yaml inferred is invalid: {exc.problems[0]}") from None
    report = sys.stderr if output is None else sys.stdout
    print("\n".join(summary(found, len(paths))), file=report)
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        with output.open("x", encoding="utf-8") as handle:  # never over a file made meanwhile
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"{output} exists; move it away or pass --output PATH") from None
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    print(f"wrote {output}; check it with `hoist check --config {output}`")
    return 0
