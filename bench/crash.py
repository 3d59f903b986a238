"""The full crash-safety run: 100 pushes through the real registry with 10 SIGKILLs of
`hoist serve` at random moments; prints what survived and any invariant broken."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.crash_harness import run_crash_harness


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pushes", type=int, default=100)
    parser.add_argument("--kills", type=int, default=10)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hoist-crash-"))
    try:
        report = run_crash_harness(root, args.pushes, args.kills)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(report.__dict__, indent=2))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
