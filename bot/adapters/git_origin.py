"""Where the manifests cache comes from: the repository HOIST_MANIFESTS_REPO names, checked
before the first fetch (a `file://` one must exist and take pushes), and the cache re-made
when that setting changed since it was filled."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..core.startup import Fault
from ..log import redact_url


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False,
                          env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})


def local_remote_fault(url: str) -> Fault | None:
    """For a `file://` URL: a fault when nothing is there, it is not a git repository, or
    it is not bare (git refuses pushes to a non-bare repository's checked-out branch)."""
    if not url.startswith("file://"):
        return None
    path = Path(unquote(urlsplit(url).path))
    if not path.exists():
        return Fault(f"HOIST_MANIFESTS_REPO={url}: {path} does not exist",
                     "point it at the manifests repository (a bare clone for file://)")
    bare = _git("-C", str(path), "rev-parse", "--is-bare-repository")
    if bare.returncode != 0:
        return Fault(f"HOIST_MANIFESTS_REPO={url}: {path} is not a git repository",
                     "point it at the manifests repository (a bare clone for file://)")
    if bare.stdout.strip() != "true":
        return Fault(f"HOIST_MANIFESTS_REPO={url} is not a bare repository (git refuses "
                     "pushes to its checked-out branch)",
                     f"use a bare clone: git clone --bare {path} {path}.git")
    return None


def cached_origin(cache: Path) -> str | None:
    """The URL the cache at `cache` was filled from, or None when there is no cache."""
    if not (cache / "HEAD").exists():
        return None
    found = _git("-C", str(cache), "config", "--get", "remote.origin.url")
    return found.stdout.strip() or None


def repoint(cache: Path, url: str) -> str | None:
    """Drop the cache when it was filled from another repository (the next fetch fills it
    from `url`); returns the old URL, credentials redacted, or None when nothing changed."""
    old = cached_origin(cache)
    if old is None or old == url:
        return None
    shutil.rmtree(cache)
    return redact_url(old, old)
