"""A local repository (bare or not) read directly with the git CLI, without the cache and
its remote: what `hoist audit` and the demo read."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from .git import GitError, read_blob

__all__ = ["branch_refs", "default_tip", "log_messages", "read_blob"]


def log_messages(repo: Path, *refs: str) -> list[tuple[str, str, str, str]]:
    """(sha, ISO date, author, message) of every commit reachable from any of refs (default
    HEAD) in a local repository (bare or not), newest first, each once."""
    result = subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%H%x00%aI%x00%an%x00%B%x1e",
         *(refs or [default_tip(repo)]), "--"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise GitError(result.stderr.strip().splitlines()[-1] if result.stderr.strip()
                       else "git log failed")
    records = []
    for record in result.stdout.split("\x1e"):
        fields = record.strip("\n").split("\x00")
        if len(fields) == 4:
            records.append((fields[0], fields[1], fields[2], fields[3]))
    return records


def _resolves(repo: Path, ref: str) -> bool:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "-q", ref],
                          capture_output=True, check=False).returncode == 0


def default_tip(repo: Path) -> str:
    """HEAD, or origin's HEAD in a git cache `hoist serve` keeps (it holds only origin's
    branches, and its own HEAD names none)."""
    return next((ref for ref in ("HEAD", "refs/remotes/origin/HEAD") if _resolves(repo, ref)),
                "HEAD")


def branch_refs(repo: Path, branches: Sequence[str]) -> list[str]:
    """For each branch, the local branch or else origin's copy of it, when one exists."""
    found = []
    for branch in dict.fromkeys(branches):
        for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
            if _resolves(repo, ref):
                found.append(ref)
                break
    return found
