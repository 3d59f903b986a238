"""Manifest files on local disk: find YAML files, read them byte-exact, write atomically."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..core.manifests import MAX_FILE

YAML_SUFFIXES = (".yaml", ".yml")


def yaml_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The given files, and every YAML file below the given directories (hidden ones
    like .git skipped), in a stable order."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if _is_yaml(Path(name)):
                        yield Path(root) / name
        else:
            yield path


def yaml_files_within(root: Path) -> Iterator[Path]:
    """Every YAML file below root as yaml_files finds them, minus symlinks that resolve
    outside root: a repository's link must not make Hoist read the rest of the disk.
    Directory links are not followed at all (os.walk's default)."""
    inside = root.resolve()
    for path in yaml_files([root]):
        if not path.is_symlink() or path.resolve().is_relative_to(inside):
            yield path


def files_containing(paths: Iterable[Path], needle: str) -> list[Path]:
    """YAML files under paths whose bytes contain needle: grep -r (several times faster
    than reading 10,000 files in Python) when it is there, else a scan in Python."""
    roots = list(paths)
    dirs = [p for p in roots if p.is_dir()]
    found = [p for p in roots if not p.is_dir() and needle.encode() in p.read_bytes()]
    if not dirs:
        return found
    if shutil.which("grep"):
        result = subprocess.run(
            ["grep", "-rlZF", "--include=*.yaml", "--include=*.yml", "--include=Kustomization",
             "--exclude-dir=.[!.]*", "-e", needle, "--", *(str(d) for d in dirs)],
            capture_output=True, check=False,
        )
        if result.returncode in (0, 1):
            hits = [Path(p) for p in result.stdout.decode().split("\0") if p]
            return found + sorted(p for p in hits if _is_yaml(p) and not any(
                part.startswith(".") and part not in (".", "..") for part in p.parts[:-1]))
    return found + [p for p in yaml_files(dirs) if needle.encode() in p.read_bytes()]


def _is_yaml(path: Path) -> bool:
    return path.name.endswith(YAML_SUFFIXES) or path.name == "Kustomization"


def read_text(path: Path) -> str:
    """The file's text with every byte kept (CRLF, BOM); ValueError if it is larger than a
    manifest may be (4 MiB: refused before it is read) or not UTF-8."""
    if path.stat().st_size > MAX_FILE:
        raise ValueError(f"larger than {MAX_FILE >> 20} MiB; refused")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None


def read_in(root: Path, relative: str) -> str | None:
    """The text of a file inside the directory `root` (resolved), as read_text reads it; None
    when it is missing, not a regular file, or is or passes through a symlink — as git's
    own tree gives the service no text for a symlink. ValueError as read_text raises it."""
    path = root / relative
    try:
        if path.resolve(strict=True) != path or not path.is_file():
            return None
    except OSError:
        return None
    try:
        return read_text(path)
    except ValueError as exc:
        raise ValueError(f"{relative}: {exc}") from None


def write_atomic(path: Path, text: str) -> None:
    """Replace the file's content all at once, keeping its mode: never half-written."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".hoist")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
