from pathlib import Path

import pytest

from tests.crash_harness import run_crash_harness
from tests.postgres_server import PostgresServer
from tests.support import need


@pytest.mark.e2e
def test_random_sigkills_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    need("git", "docker-registry", "skopeo")
    report = run_crash_harness(tmp_path, pushes=12, kills=4)
    assert report.problems == []
    assert report.kills == 4
    assert report.events == 12  # every notification the registry delivered was stored once
    assert report.folded <= report.events - 1  # at least one push started promotions
    assert report.by_state.get("promoted", 0) >= 3  # the newest push reached every env


@pytest.mark.e2e
def test_three_replicas_on_postgresql_survive_random_sigkills(
        tmp_path: Path, postgres: PostgresServer) -> None:
    """Pushes posted to random replicas of three, random replicas SIGKILLed and restarted:
    every push promoted once per environment (or folded into a newer one), no duplicate
    change request, commit or branch, linear history, git fsck clean."""
    need("git", "docker-registry", "skopeo")
    report = run_crash_harness(tmp_path, pushes=30, kills=3, replicas=3, images=3,
                               database_url=postgres.database())
    assert report.problems == []
    assert report.kills == 3
    assert report.events == 30
    assert report.by_state.get("promoted", 0) >= 9  # each image's newest reached every env
