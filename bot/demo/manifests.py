"""Throw-away manifests repositories made from manifests-example/, for the demo and tests."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "manifests-example"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "gc.auto=0", "-c", "user.name=Demo", "-c", "user.email=demo@localhost",
         *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout


def make_manifests_repo(dest: Path, registry_host: str = "localhost:5000",
                        source: Path = EXAMPLE, extra_files: int = 0,
                        policy: str = "demo/hoist.yaml") -> str:
    """A bare repo at dest/manifests.git holding manifests-example with `policy` as its
    hoist.yaml (the demo's: no cluster needed) and its registry host replaced by
    registry_host (plus `extra_files` unrelated apps, for benchmarks); returns its file:// URL."""
    work = dest / "manifests-work"
    shutil.copytree(source, work)
    if policy != "hoist.yaml":
        (work / policy).replace(work / "hoist.yaml")
    for path in work.rglob("*.yaml"):
        path.write_text(path.read_text().replace("localhost:5000", registry_host))
    for i in range(extra_files):
        other = work / "apps" / f"other-{i:05d}" / "deployment.yaml"
        other.parent.mkdir(parents=True)
        other.write_text(f"kind: Deployment\nmetadata: {{name: other-{i}}}\nspec:\n  template:\n"
                         f"    spec:\n      containers:\n      - image: ghcr.io/acme/o{i}:1.0\n")
    bare = dest / "manifests.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "chore: initial manifests")
    _git(work, "push", "-q", str(bare), "main")
    shutil.rmtree(work)
    return f"file://{bare}"


def distribution_envelope(host: str, repository: str, tag: str, digest: str) -> dict[str, object]:
    """A notification envelope as docker-registry sends for a manifest push."""
    return {"events": [{
        "id": str(uuid.uuid4()), "timestamp": "2026-01-01T00:00:00Z", "action": "push",
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
                   "length": 1, "repository": repository, "tag": tag,
                   "url": f"http://{host}/v2/{repository}/manifests/{digest}"},
        "request": {"id": str(uuid.uuid4()), "addr": "127.0.0.1", "host": host,
                    "method": "PUT", "useragent": "hoist-demo"},
        "actor": {}, "source": {"addr": host},
    }]}
