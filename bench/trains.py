"""Release trains: 100 images pushed within 5 s, as one train and (the baseline, in the same
run) as 100 separate images.

1. Local forge, dev → staging → prod merged automatically: seconds from the first push until
   dev's change request is merged (and staging's), for the train (goal: its window + 2 s)
   and for the images without a train (every one of dev's 100 change requests merged).
2. The GitHub double, dev only: content-creating requests (POST, PATCH, PUT, DELETE: what
   GitHub's secondary limits count) per environment, for the train (goal: at most 10) and
   without it, and the least time GitHub's published limits (80 a minute, 500 an hour) let
   that many take. Pacing is off for this count, so the baseline finishes in minutes.

Pushes are stored as the webhook route stores them (the inbox), spread evenly over 5 s."""

from __future__ import annotations

import argparse
import hashlib
import logging
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import log
from bot.core.events import ImagePushed
from bot.core.machine import State
from bot.demo.stack import wait_until
from bot.settings import Settings
from bot.wiring import build_services
from bot.worker import Worker
from tests.forges import TOKEN, start_double
from tests.trains_repo import Env, make_train_repo

HOST = "localhost:5000"
WINDOW = 5.0
CHAIN = (Env("dev"), Env("staging", "dev"), Env("prod", "staging"))


@dataclass
class Run:
    dev: float = 0.0  # seconds from the first push until dev's change requests merged
    staging: float = 0.0
    writes: int = 0  # content-creating forge requests
    environments: int = 1


def run(root: Path, images: int, train: bool, github: bool, spread: float) -> Run:
    keys = [f"svc{i:03d}" for i in range(images)]
    envs = CHAIN[:1] if github else CHAIN
    url = make_train_repo(root, keys, HOST, envs, "platform" if train else None,
                          f"{WINDOW:g}s")
    double = start_double("github", root / "manifests.git") if github else None
    settings = Settings(manifests_repo=url, data_dir=root / "data", webhook_secret="bench",
                        poll_interval=0.2)
    if double is not None:
        settings = Settings(manifests_repo=url, data_dir=root / "data", webhook_secret="bench",
                            poll_interval=0.2, github_token=TOKEN["github"],
                            github_api_url=double.url, github_repository=double.full_name,
                            github_pace=0.0)
    services = build_services(settings)
    if double is not None:  # count every write; do not wait between them (see above)
        setattr(services.store, "take_write", lambda *args, **kwargs: 0.0)  # noqa: B010
    worker = Worker(services, settings.poll_interval, settings.reconcile_interval,
                    settings.workers, settings.lease_seconds)
    worker.start()
    store = services.store
    started = time.time()
    try:
        for i, key in enumerate(keys):
            wait = started + spread * i / max(1, len(keys) - 1) - time.time()
            if wait > 0:
                time.sleep(wait)
            digest = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
            store.add_events([ImagePushed("distribution", f"{key}-2", HOST, f"acme/{key}",
                                          "2.0.0", digest)], time.time())
            worker.wake()
        found = Run(environments=len(envs))

        def merged(env: str) -> float | None:
            mine = [p for p in store.promotions(1000) if p.environment == env]
            moved = sum(len(p.members) for p in mine if p.state is State.PROMOTED)
            if moved < len(keys):
                return None
            crs = [store.change_request(p.id) for p in mine]
            return max(cr.merged_at or 0.0 for cr in crs if cr is not None) - started

        for env in [e.name for e in envs]:
            wait_until(lambda env=env: merged(env) is not None,  # type: ignore[misc]
                       f"{env} merged", 900)
        found.dev = merged("dev") or 0.0
        found.staging = merged("staging") or 0.0 if not github else 0.0
        if double is not None:  # deployment statuses go out from their own queue
            found.writes = quiet_count(lambda: sum(1 for method, _ in double.requests
                                                   if method != "GET"))
        return found
    finally:
        worker.stop()
        if double is not None:
            double.stop()


def quiet_count(count: Callable[[], int], quiet: float = 2.0) -> int:
    """The count once it has not changed for `quiet` seconds."""
    last, since = count(), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.1)
        if count() != last:
            last, since = count(), time.monotonic()
    return last


def least_wait(writes: float) -> float:
    """Seconds GitHub's secondary limits (80 content-creating requests a minute, 500 an
    hour, "Rate limits for the REST API") make `writes` requests take at the least."""
    n = math.ceil(writes)
    return max((math.ceil(n / 80) - 1) * 60.0, (math.ceil(n / 500) - 1) * 3600.0, 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--spread", type=float, default=5.0, help="seconds the pushes take")
    args = parser.parse_args()
    log.configure("json")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    root = Path(tempfile.mkdtemp(prefix="hoist-bench-trains-"))
    try:
        results: dict[str, Run] = {}
        for name, as_train, on_github in (
                ("train/local", True, False), ("images/local", False, False),
                ("train/github", True, True), ("images/github", False, True)):
            results[name] = run(root / name.replace("/", "-"), args.images, as_train,
                                on_github, args.spread)
            print(f"{name}: done", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    train, alone = results["train/local"], results["images/local"]
    print(f"{args.images} images pushed within {args.spread:g} s; train window {WINDOW:g} s")
    print(f"local forge, first push -> dev's change request merged: train {train.dev:.1f} s "
          f"(goal <= {WINDOW + 2:g} s), without a train {alone.dev:.1f} s "
          f"(every one of {args.images}); ratio {alone.dev / train.dev:.1f}x")
    print(f"local forge, first push -> staging merged: train {train.staging:.1f} s, "
          f"without a train {alone.staging:.1f} s")
    for name in ("train/github", "images/github"):
        found = results[name]
        per_env = found.writes / found.environments
        chain = 3 * per_env  # dev, staging and prod
        print(f"GitHub double, {name.split('/')[0]}: {per_env:.0f} content-creating requests "
              f"per environment{' (goal <= 10)' if name.startswith('train') else ''}; "
              f"through three environments GitHub's secondary limits make that at least "
              f"{least_wait(chain) / 60:.0f} min of waiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
