"""Checkouts of the manifests repository for the renderers: the directories an app needs,
from a commit of the bare cache (`git archive`), with a plan's edits written over them; and
the tree ids that key the render cache."""

from __future__ import annotations

import hashlib
import io
import posixpath
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import yaml

from ...core.rendering import Job
from ...core.rendering.choose import KUSTOMIZATIONS
from .errors import RenderFailed

Reader = Callable[[str], str | None]


def _git(git_dir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True,
                          check=False)


def listing(git_dir: Path, commit: str) -> list[str]:
    """Every file path of the commit's tree."""
    done = _git(git_dir, "ls-tree", "-r", "-z", "--name-only", commit)
    if done.returncode != 0:
        raise RenderFailed(f"git ls-tree {commit[:12]}: {done.stderr.decode().strip()}")
    return [p for p in done.stdout.decode().split("\0") if p]


def _app_root(directory: str) -> str:
    """The app a directory belongs to by the usual layout: its first two components
    (`apps/guestbook` of `apps/guestbook/overlays/prod`)."""
    return "/".join(directory.split("/")[:2])


def _escapes(directory: str, root: str, read: Reader) -> bool:
    """True when the kustomization in `directory` names a path outside `root`."""
    for name in KUSTOMIZATIONS:
        text = read(posixpath.join(directory, name))
        if text is None:
            continue
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            return True
        named = [v for key in ("resources", "bases", "components", "crds")
                 for v in (doc.get(key) or []) if isinstance(v, str)] if isinstance(doc, dict) \
            else []
        return any(not posixpath.normpath(posixpath.join(directory, v)).startswith(root)
                   for v in named if "://" not in v)
    return False


def roots(job: Job, read: Reader) -> list[str]:
    """The repository paths a job's render reads ('' for the whole tree)."""
    if job.kind == "kustomize":
        root = _app_root(job.dir)
        return [""] if not root or _escapes(job.dir, root, read) else [root]
    if job.kind == "helm":
        return list(dict.fromkeys([job.dir, *job.values, *([job.inline] if job.inline else [])]))
    return list(job.files)


def tree_ids(git_dir: Path, commit: str, paths: Sequence[str]) -> tuple[str, ...]:
    """The object ids of `paths` at commit (tree or blob; '-' for a missing one)."""
    specs = [f"{commit}:{p}" if p else f"{commit}^{{tree}}" for p in paths]
    done = _git(git_dir, "rev-parse", *specs)
    ids = done.stdout.decode().split()
    return tuple(ids) if done.returncode == 0 and len(ids) == len(specs) else \
        tuple(_git(git_dir, "rev-parse", "-q", "--verify", s).stdout.decode().strip() or "-"
              for s in specs)


def edits_key(edits: Mapping[str, str], paths: Sequence[str]) -> str:
    """A hash of the edits that fall under `paths`."""
    digest = hashlib.sha256()
    for file in sorted(edits):
        if any(not p or file == p or file.startswith(f"{p}/") for p in paths):
            digest.update(file.encode() + b"\0" + edits[file].encode() + b"\0")
    return digest.hexdigest()


def export(git_dir: Path, commit: str, paths: Sequence[str], dest: Path,
           edits: Mapping[str, str] | None = None) -> None:
    """Write `paths` of commit (all of it for '') under `dest`, then `edits` (path -> text)
    that fall under them. Paths the commit lacks are skipped."""
    wanted = sorted({p for p in paths})
    done = _git(git_dir, "archive", "--format=tar", commit, *(["--", *wanted] if "" not in wanted
                                                                 else []))
    if done.returncode != 0:  # some path is missing at commit: take them one by one
        for path in wanted:
            export(git_dir, commit, [path], dest) if _git(
                git_dir, "cat-file", "-e", f"{commit}:{path}").returncode == 0 else None
    else:
        with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
            _extract(tar, dest)
    for file, text in (edits or {}).items():
        if any(not p or file == p or file.startswith(f"{p}/") for p in wanted):
            target = dest / file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)


def _extract(tar: tarfile.TarFile, dest: Path) -> None:
    """Every member under dest, none outside it (PEP 706's "data" filter where this Python
    has it, 3.11.4 and later; before, regular files and directories only, links left out)."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, filter="data")
        return
    for member in tar.getmembers():
        parts = Path(member.name).parts
        if member.name.startswith("/") or ".." in parts or not (member.isfile() or
                                                                 member.isdir()):
            continue
        tar.extract(member, dest)


def copy(root: Path, paths: Sequence[str], dest: Path, edits: Mapping[str, str] | None = None
         ) -> None:
    """As export, from a directory holding the repository (symlinks are not followed out
    of it: they are copied as links)."""
    for path in sorted(set(paths)):
        source = root / path
        if source.is_dir():
            shutil.copytree(source, dest / path, symlinks=True, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".git"))
        elif source.is_file():
            (dest / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / path, follow_symlinks=False)
    for file, text in (edits or {}).items():
        if any(not p or file == p or file.startswith(f"{p}/") for p in paths):
            (dest / file).parent.mkdir(parents=True, exist_ok=True)
            (dest / file).write_text(text)
