"""`hoist dora` on a generated history of 10,000 promotions (three environments, 5 %
reverted, trains every 20th), as a ratio against `git log` of the same repository in the
same run. Goal: `hoist dora` under 2 s; the ratio is what compares across machines."""

from __future__ import annotations

import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOIST = ROOT / ".venv" / "bin" / "hoist"
PROMOTIONS = 10_000
ENVS = ("dev", "staging", "prod")


def _message(i: int, pushed: datetime) -> str:
    images = ["api", "web"] if i % 20 == 0 else ["api"]
    trailers = [f"Hoist-Promotion: p{i}", *(["Hoist-Train: shop"] if len(images) > 1 else []),
                *(f"Hoist-Image: ghcr.io/acme/{n}:1.{i}.0@sha256:{i:064x}" for n in images),
                f"Hoist-Environment: {ENVS[i % 3]}",
                *(f"Hoist-Pushed-At: {pushed:%Y-%m-%dT%H:%M:%SZ}" for _ in images)]
    moved = "\n".join(f"ghcr.io/acme/{n} 1.{i - 1}.0 → 1.{i}.0" for n in images)
    return f"chore(deploy): promote {i}\n\n{moved}\nf.yaml\n\n" + "\n".join(trailers) + "\n"


def _history(repo: Path) -> None:
    """Written with `git fast-import`: one commit per promotion, a revert after every 20th."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], check=True)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    stream, mark = [], 0
    for i in range(PROMOTIONS):
        at = start + timedelta(minutes=30 * i)
        messages = [_message(i, at - timedelta(minutes=20))]
        if i % 20 == 7:
            messages.append(f"revert(deploy): roll back\n\nHoist-Promotion: p{i}\n"
                            f"Hoist-Environment: {ENVS[i % 3]}\nHoist-Reverts: x\n")
        for message in messages:
            mark += 1
            data = message.encode()
            stream.append(f"commit refs/heads/main\nmark :{mark}\ncommitter hoist <h@x> "
                          f"{int(at.timestamp())} +0000\ndata {len(data)}\n".encode() + data
                          + (f"from :{mark - 1}\n" if mark > 1 else "").encode()
                          + b"M 644 inline f.yaml\ndata 2\n" + str(i % 10).encode() + b"\n\n")
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(stream),
                   check=True)


def _best(command: list[str], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "manifests.git"
        _history(repo)
        baseline = _best(["git", "-C", str(repo), "log", "--format=%H%x00%aI%x00%an%x00%B%x1e",
                          "HEAD"])
        dora = _best([str(HOIST), "dora", "--repo", str(repo), "--json"])
        out = subprocess.run([str(HOIST), "dora", "--repo", str(repo), "--json"], check=True,
                             capture_output=True, text=True).stdout
    print(f"git log (baseline): {baseline:.3f} s; hoist dora: {dora:.3f} s "
          f"({dora / baseline:.1f}x git log; goal under 2 s: "
          f"{'met' if dora < 2 else 'missed'})")
    print(f"dora: {out.strip()[:200]}")


if __name__ == "__main__":
    main()
