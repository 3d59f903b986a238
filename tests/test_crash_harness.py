import pytest

from tests.crash_harness import run_crash_harness
from tests.support import need


@pytest.mark.e2e
def test_random_sigkills_lose_and_duplicate_nothing(tmp_path: object) -> None:
    need("git", "docker-registry", "skopeo")
    report = run_crash_harness(tmp_path, pushes=12, kills=4)  # type: ignore[arg-type]
    assert report.problems == []
    assert report.kills == 4
    assert report.events == 12  # every notification the registry delivered was stored once
    assert report.folded <= report.events - 1  # at least one push started promotions
    assert report.by_state.get("promoted", 0) >= 3  # the newest push reached every env
