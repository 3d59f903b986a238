"""Manifest files on local disk: find YAML files, read them byte-exact, write atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

YAML_SUFFIXES = (".yaml", ".yml")


def yaml_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The given files, and every YAML file below the given directories (hidden ones
    like .git skipped), in a stable order."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.endswith(YAML_SUFFIXES) or name == "Kustomization":
                        yield Path(root) / name
        else:
            yield path


def read_text(path: Path) -> str:
    """The file's text with every byte kept (CRLF, BOM); ValueError if not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None


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
