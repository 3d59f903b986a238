"""Chaos at full scale: three `hoist serve` replicas on one PostgreSQL (durable settings),
300 real registry pushes over 30 images posted through a balancer to random replicas, 20
SIGKILLs of random replicas; prints what was lost or duplicated and the time from the last
push until every promotion was final."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.crash_harness import run_crash_harness
from tests.postgres_server import PostgresServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--pushes", type=int, default=300)
    parser.add_argument("--images", type=int, default=30)
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hoist-chaos-"))
    server = PostgresServer(durable=True).start()
    try:
        report = run_crash_harness(root, args.pushes, args.kills, replicas=args.replicas,
                                   database_url=server.database(), images=args.images)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    lost = [p for p in report.problems if "neither promoted" in p or "never processed" in p]
    duplicated = [p for p in report.problems if "duplicate" in p or "twice" in p]
    print(json.dumps({"replicas": args.replicas, **report.__dict__, "lost": lost,
                      "duplicated": duplicated}, indent=2))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
