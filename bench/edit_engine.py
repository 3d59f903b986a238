"""Editing-engine benchmarks, each a ratio against a baseline measured in the same run.

1. A generated manifests repo of 10,000 YAML files, 200 of which reference the image:
   Hoist finding and editing every reference (in-process, as `hoist set-image DIR` does)
   against `git grep -l -F <repository>` plus writing the 200 changed files. Bar: <= 2x.
   Peak memory of `hoist set-image` doing the same as a process. Bar: < 150 MB.
2. One 300-line file edited in-process against a ruamel.yaml load_all + dump_all round trip
   of the same file. Bar: Hoist >= 10x faster.
3. `hoist set-image` on one file as a whole process against `yaml-set` (PyPI yamlpath, in
   its own venv .venv-bench because it pins its own ruamel.yaml) making the same change.
   Bar: Hoist no slower.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ruamel.yaml import YAML

from bot.adapters.files import files_containing, read_text, write_atomic
from bot.adapters.git import GitRepo
from bot.core.manifests import set_image

ROOT = Path(__file__).resolve().parents[1]
HOIST = ROOT / ".venv" / "bin" / "hoist"
BENCH_VENV = ROOT / ".venv-bench"
IMAGE = "ghcr.io/acme/target"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      serviceAccountName: {name}
      containers:
        - name: app
          image: {image}:1.0.{n}  # the version
          ports:
            - name: http
              containerPort: 8080
          env:
            - {{name: LOG_LEVEL, value: info}}
          resources:
            requests: {{cpu: 50m, memory: 64Mi}}
            limits: {{memory: 128Mi}}
"""


def best(fn: Callable[[], object], rounds: int) -> float:
    """Median wall time of fn over rounds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def make_repo(root: Path, files: int, matching: int) -> Path:
    repo = root / "repo"
    step = files // matching
    for i in range(files):
        image = IMAGE if i % step == 0 else f"ghcr.io/acme/other-{i}"
        path = repo / "apps" / f"app-{i:05d}" / "deployment.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(DEPLOYMENT.format(name=f"app-{i}", image=image, n=i))
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "gc.auto=0", "-c", "user.name=b", "-c", "user.email=b@b",
                    "commit", "-qm", "generated"], check=True)
    # Packed, as a fetched clone (Hoist's cache) is.
    subprocess.run(["git", "-C", str(repo), "gc", "-q"], check=True)
    return repo


def edit_from_git(repo: Path, tag: str) -> int:
    """What a promotion does: git grep the commit for candidates, read them in one batch,
    edit, and (here) write the changed files."""
    git = GitRepo(str(repo), repo / ".git")
    paths = git.grep_files("HEAD", IMAGE.rsplit("/", 1)[-1], ["apps/"])
    changed = 0
    for path, text in git.read_many("HEAD", paths).items():
        assert text is not None
        result = set_image(text, IMAGE, tag, None)
        if result.changes:
            write_atomic(repo / path, result.text)
            changed += 1
    return changed


def edit_tree(repo: Path, tag: str) -> int:
    """What `hoist set-image DIR` does: grep -r for candidates, edit, write."""
    changed = 0
    for path in files_containing([repo / "apps"], IMAGE.rsplit("/", 1)[-1]):
        text = read_text(path)
        result = set_image(text, IMAGE, tag, None)
        if result.changes:
            write_atomic(path, result.text)
            changed += 1
    return changed


def grep_and_write(repo: Path, tag: str) -> int:
    """Baseline: git grep locates the files; write each one with a changed line."""
    out = subprocess.run(["git", "-C", str(repo), "grep", "-l", "-F", IMAGE],
                         capture_output=True, text=True, check=True).stdout.split()
    for rel in out:
        path = repo / rel
        write_atomic(path, path.read_text() + f"# {tag}\n")
    return len(out)


def bench_repo(root: Path) -> tuple[float, float]:
    repo = make_repo(root, 10_000, 200)
    subprocess.run(["git", "-C", str(repo), "grep", "-l", "-F", IMAGE], capture_output=True)
    rounds, ours, cli, base = 5, [], [], []
    for r in range(rounds):  # interleaved, so all see the same machine
        started = time.perf_counter()
        assert edit_from_git(repo, f"2.0.{r}") == 200
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert edit_tree(repo, f"2.1.{r}") == 200
        cli.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert grep_and_write(repo, f"b{r}") == 200
        base.append(time.perf_counter() - started)
    hoist, baseline = statistics.median(ours), statistics.median(base)
    print(f"[1] 10,000 files / 200 references: hoist {hoist * 1000:.0f} ms, git grep + write "
          f"{baseline * 1000:.0f} ms -> ratio {hoist / baseline:.2f}x (bar <= 2x)")
    print(f"    the same through `set-image DIR` (grep -r, no git): "
          f"{statistics.median(cli) * 1000:.0f} ms -> ratio "
          f"{statistics.median(cli) / baseline:.2f}x")
    # The CLI in a child Python that reports its own peak resident memory.
    probe = ("import resource, sys; from bot.cli import main; rc = main(sys.argv[1:]); "
             "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", probe, "set-image", str(repo / "apps"),
                          "--image", f"{IMAGE}=:3.0.0"], check=True, capture_output=True,
                         text=True).stdout.split()
    peak = int(out[-1])
    print(f"    peak memory of `hoist set-image` over the 10,000 files: {peak / 1024:.0f} MB "
          "(bar < 150 MB)")
    return hoist / baseline, peak / 1024


def three_hundred_lines() -> str:
    docs = [DEPLOYMENT.format(name=f"svc-{i}", image=IMAGE if i == 5 else f"ghcr.io/x/s{i}", n=i)
            for i in range(10)]
    return "---\n".join(docs)


def bench_one_file() -> float:
    text = three_hundred_lines()
    assert 290 <= len(text.splitlines()) <= 310

    def roundtrip() -> None:
        yaml = YAML()
        out = io.StringIO()
        yaml.dump_all(list(yaml.load_all(text)), out)

    ours = best(lambda: set_image(text, IMAGE, "9.9.9", None), 30)
    theirs = best(roundtrip, 30)
    print(f"[2] one 300-line file in-process: hoist {ours * 1000:.2f} ms, ruamel.yaml "
          f"load_all+dump_all {theirs * 1000:.2f} ms -> hoist {theirs / ours:.1f}x faster "
          "(bar >= 10x)")
    return theirs / ours


def yaml_set() -> Path | None:
    tool = BENCH_VENV / "bin" / "yaml-set"
    if not tool.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        result = subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "yamlpath"],
                                capture_output=True)
        if result.returncode != 0:
            return None
    return tool


def bench_process(root: Path) -> float | None:
    tool = yaml_set()
    if tool is None:
        print("[3] skipped: yamlpath could not be installed into .venv-bench")
        return None
    target = root / "one.yaml"
    target.write_text(DEPLOYMENT.format(name="one", image=IMAGE, n=0))
    ours, theirs = [], []
    for i in range(15):
        started = time.perf_counter()
        subprocess.run([str(HOIST), "set-image", str(target), "--image", f"{IMAGE}=:4.0.{i}"],
                       check=True, capture_output=True)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run([str(tool), "--change=spec.template.spec.containers[0].image",
                        f"--value={IMAGE}:5.0.{i}", str(target)], check=True,
                       capture_output=True)
        theirs.append(time.perf_counter() - started)
    hoist, other = statistics.median(ours), statistics.median(theirs)
    print(f"[3] one file, whole process: hoist set-image {hoist * 1000:.0f} ms, yaml-set "
          f"{other * 1000:.0f} ms -> ratio {hoist / other:.2f}x (bar <= 1x)")
    return hoist / other


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="hoist-bench-edit-"))
    try:
        bench_repo(root)
        bench_one_file()
        bench_process(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
