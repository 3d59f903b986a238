"""DORA's four keys from trailers alone, on generated histories with known answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cli import main
from bot.core.dora import dora, percentile

REF = "ghcr.io/acme/{name}:{tag}@sha256:" + "c" * 64


def promote(sha: str, pid: str, env: str, at: str, images: dict[str, str],
            pushed: list[str] | None = None, train: str | None = None) -> tuple[str, str, str, str]:
    moved = "\n".join(f"ghcr.io/acme/{n} 0.9 → {t}" for n, t in images.items())
    trailers = [f"Hoist-Promotion: {pid}", *([f"Hoist-Train: {train}"] if train else []),
                *(f"Hoist-Image: {REF.format(name=n, tag=t)}" for n, t in images.items()),
                f"Hoist-Environment: {env}", *(f"Hoist-Pushed-At: {p}" for p in pushed or [])]
    return (sha, at, "hoist", f"chore(deploy): promote\n\n{moved}\nfile.yaml\n\n"
            + "\n".join(trailers) + "\n")


def revert(sha: str, pid: str, env: str, at: str, reverts: str, image: str) -> tuple[
        str, str, str, str]:
    return (sha, at, "hoist", f"revert(deploy): roll back\n\nReverts x.\n\nHoist-Promotion: "
            f"{pid}\nHoist-Image: {REF.format(name=image, tag='1.0')}\nHoist-Environment: "
            f"{env}\nHoist-Reverts: {reverts}\n")


def sha(n: int) -> str:
    return f"{n:040x}"


HISTORY = [
    # p1: api 1.0 pushed 09:00, merged in prod 10:00 (lead 1h); reverted at 10:30
    promote(sha(1), "p1", "prod", "2026-03-27T10:00:00+01:00", {"api": "1.0"},
            ["2026-03-27T08:00:00Z"]),
    revert(sha(2), "p1", "prod", "2026-03-27T10:30:00+01:00", sha(1), "api"),
    # p2: api 1.1 across the DST change: pushed Saturday 12:00 CET, merged Monday 12:00 CEST
    # (2 days minus the lost hour: 47h). It restores p1: 2026-03-27 09:00Z → 2026-03-30 10:00Z.
    promote(sha(3), "p2", "prod", "2026-03-30T12:00:00+02:00", {"api": "1.1"},
            ["2026-03-28T11:00:00Z"]),
    # p3: a train of two images, pushed at 09:00Z and 09:30Z, merged 10:00Z: leads 1h, 30m
    promote(sha(4), "p3", "prod", "2026-03-31T10:00:00Z", {"api": "1.2", "web": "2.0"},
            ["2026-03-31T09:00:00Z", "2026-03-31T09:30:00Z"], train="shop"),
    # p4: web 2.1, rolled back by a person with `git revert`; never restored
    promote(sha(5), "p4", "prod", "2026-04-01T10:00:00Z", {"web": "2.1"},
            ["2026-04-01T09:50:00Z"]),
    (sha(6), "2026-04-01T11:00:00Z", "bob", f'Revert "x"\n\nThis reverts commit {sha(5)}.\n'),
    # A staging promotion: not prod's
    promote(sha(7), "p5", "staging", "2026-03-27T09:00:00Z", {"api": "1.0"},
            ["2026-03-27T08:00:00Z"]),
]


def test_known_answers() -> None:
    found = dora(list(reversed(HISTORY)), "prod").to_json()
    assert found["change_failure_rate"] == {"rate": 0.5, "failures": 2, "promotions": 4}
    assert sorted(dora(HISTORY, "prod").lead_times) == [600.0, 1800.0, 3600.0, 3600.0,
                                                        47 * 3600.0]
    assert found["lead_time_seconds"]["count"] == 5
    assert found["lead_time_seconds"]["median"] == 3600.0
    assert found["lead_time_seconds"]["p90"] == 47 * 3600.0
    assert found["time_to_restore_seconds"] == {"median": 3 * 86400 + 3600.0, "count": 1}
    # 4 promotions from 27 March 09:00Z to 1 April 10:00Z: 5 days and 1 hour.
    assert found["deployment_frequency_per_day"] == pytest.approx(4 / (5 + 1 / 24), abs=1e-6)
    assert found["notes"] == []


def test_since_and_until_bound_the_period() -> None:
    found = dora(HISTORY, "prod", datetime(2026, 3, 30, tzinfo=UTC),
                 datetime(2026, 4, 2, tzinfo=UTC))
    assert (found.promotions, found.days, found.failures) == (3, 3.0, 1)
    assert found.deployment_frequency_per_day == 1.0


def test_an_earlier_hoist_without_pushed_at_uses_the_first_environment() -> None:
    old = [promote(sha(1), "a", "dev", "2026-01-01T10:00:00Z", {"api": "1.0"}),
           promote(sha(2), "b", "prod", "2026-01-01T12:00:00Z", {"api": "1.0"})]
    found = dora(old, "prod")
    assert found.lead_times == (7200.0,) and "no Hoist-Pushed-At" in found.notes[0]


def test_percentile_is_nearest_rank() -> None:
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert percentile([], 90) is None


def test_cli_rejects_bad_input(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dora", "--repo", "/no/such/repo"]) == 2
    assert main(["dora", "--repo", ".", "--until", "soon"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "--until 'soon'" in err[1]
