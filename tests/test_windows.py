"""Promotion windows: the pure core with a clock passed in (DST included), hoist.yaml
validation with file:line, and `hoist windows`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.core.config import ConfigError, load_config
from bot.core.freeze import freeze_rules
from bot.core.rollout_config import FreezeWindow
from bot.core.windows import entries, schedule, status

BERLIN = ZoneInfo("Europe/Berlin")
DEMO = (Path(__file__).parents[1] / "manifests-example/demo/hoist.yaml").read_text()
WINDOWS = """    windows:
      timezone: Europe/Berlin
      deny:
        - rrule: "RRULE:FREQ=WEEKLY;BYDAY=FR;BYHOUR=15"   # Friday afternoons
          duration: 9h
        - {from: 2026-12-20, to: 2027-01-04, reason: holiday freeze}
      allow:
        - cron: "0 8 * * 1-5"
          duration: 10h
"""


def config_with(extra: str) -> str:
    return DEMO.replace("    approval: none             # merged as soon as it is proposed\n",
                        "    approval: none\n" + extra, 1)


def dev_rules(extra: str = WINDOWS) -> list:  # type: ignore[type-arg]
    env = load_config(config_with(extra)).environment("dev")
    return entries(env.windows, freeze_rules(env.freeze))


@pytest.mark.parametrize(("local", "open_"), [
    (datetime(2026, 3, 26, 9), True),  # Thursday morning: allowed
    (datetime(2026, 3, 26, 19), False),  # Thursday evening: outside the allowed hours
    (datetime(2026, 3, 27, 14, 59), True),  # Friday before the deny window
    (datetime(2026, 3, 27, 15), False),  # deny wins over allow
    (datetime(2026, 3, 28, 12), False),  # Saturday: no allow window
    (datetime(2026, 12, 22, 10), False),  # holiday freeze
    (datetime(2027, 1, 4, 8), True),  # `to` is excluded: open on its day
])
def test_allow_and_deny(local: datetime, open_: bool) -> None:
    assert status(dev_rules(), local.replace(tzinfo=BERLIN)).open is open_


def test_closed_says_why_and_when_it_opens() -> None:
    found = status(dev_rules(), datetime(2026, 12, 22, 10, tzinfo=BERLIN))
    assert found.reason == ("holiday freeze; window opens at 2027-01-04 08:00 Europe/Berlin "
                            "(2027-01-04T07:00:00Z)")
    friday = status(dev_rules(), datetime(2026, 3, 27, 16, tzinfo=BERLIN))
    assert friday.opens_at == datetime(2026, 3, 30, 8, tzinfo=BERLIN)


@pytest.mark.parametrize(("before", "after"), [
    (datetime(2026, 3, 27, 15), datetime(2026, 4, 3, 15)),  # CET → CEST on 29 March
    (datetime(2026, 10, 23, 15), datetime(2026, 10, 30, 15)),  # CEST → CET on 25 October
])
def test_a_weekly_window_keeps_its_wall_clock_hour_across_dst(before: datetime,
                                                              after: datetime) -> None:
    rules = dev_rules('    windows:\n      timezone: Europe/Berlin\n      deny:\n'
                      '        - {rrule: "FREQ=WEEKLY;BYDAY=FR;BYHOUR=15", duration: 1h}\n')
    closes = [m for m, opens in schedule(rules, before.replace(tzinfo=BERLIN), 4) if not opens]
    assert [m.astimezone(BERLIN).replace(tzinfo=None) for m in closes] == [
        after, after + timedelta(days=7)]
    # The UTC hour moved with the offset; the local hour did not.
    assert closes[0].astimezone(UTC).hour != before.replace(tzinfo=BERLIN).astimezone(UTC).hour


def test_freeze_is_a_deny_window() -> None:
    christmas = FreezeWindow(start=datetime(2026, 12, 24, tzinfo=UTC),
                             end=datetime(2026, 12, 27, tzinfo=UTC), reason="holidays")
    weekend = FreezeWindow(days=["sat", "sun"])
    rules = entries(None, freeze_rules([christmas, weekend]))
    at = status(rules, datetime(2026, 12, 25, 12, tzinfo=UTC))
    assert at.reason == "holidays; window opens at 2026-12-28T00:00:00Z"  # then Monday
    assert not status(rules, datetime(2026, 11, 22, tzinfo=UTC)).open  # a Sunday
    assert status(rules, datetime(2026, 11, 23, tzinfo=UTC)).open


@pytest.mark.parametrize(("bad", "where", "says"), [
    ('        - {rrule: "FREQ=WEEKLY;BYDAY=XX", duration: 1h}\n', "deny[2].rrule",
     "not an RFC 5545 recurrence rule"),
    ('        - {cron: "0 25 * * *", duration: 1h}\n', "deny[2].cron", "impossible cron"),
    ('        - {cron: "0 8 * * *"}\n', "deny[2]", "needs a duration"),
    ('        - {from: 2026-12-20, to: 2026-12-01}\n', "windows", "`to` must be after"),
])
def test_check_names_file_line_and_field(bad: str, where: str, says: str) -> None:
    text = config_with(WINDOWS.replace("      allow:\n", bad + "      allow:\n"))
    with pytest.raises(ConfigError) as caught:
        load_config(text, "hoist.yaml")
    [problem] = caught.value.problems
    assert problem.startswith("hoist.yaml:") and where in problem and says in problem
    line = int(problem.split(":")[1])
    assert text.splitlines()[line - 1].strip().startswith(("- {", "windows:"))


def test_unknown_zone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hoist.yaml"
    path.write_text(config_with(WINDOWS.replace("Europe/Berlin", "Europe/Berlim")))
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:14: environments[0].windows.timezone: unknown time zone 'Europe/Berlim'" \
        in err


def test_hoist_windows_prints_openings_and_closings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hoist.yaml"
    path.write_text(config_with(WINDOWS))
    assert main(["windows", "--config", str(path), "--env", "dev", "--count", "3",
                 "--at", "2026-03-27T16:00:00+01:00"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "dev (Europe/Berlin): closed now; a deny window until 2026-03-28 00:00 Europe/Berlin "
        "(2026-03-27T23:00:00Z); window opens at 2026-03-30 08:00 Europe/Berlin "
        "(2026-03-30T06:00:00Z)",
        "  opens   2026-03-30 08:00 Europe/Berlin (2026-03-30T06:00:00Z)",
        "  closes  2026-03-30 18:00 Europe/Berlin (2026-03-30T16:00:00Z)",
        "  opens   2026-03-31 08:00 Europe/Berlin (2026-03-31T06:00:00Z)",
    ]
    assert main(["windows", "--config", str(path), "--env", "nope"]) == 2
    assert main(["windows", "--config", str(path), "--at", "friday"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("hoist: ") for line in err)


def test_override_window_needs_admin_whatever_the_approval_permission() -> None:
    from bot.core.commands import Command, authorize, parse_commands
    from bot.core.config import Approval

    [command] = parse_commands("/hoist override-window hotfix for incident 42")
    assert command == Command("override-window", "hotfix for incident 42")
    lenient = Approval(required=1, permission="read", users=["carol"])
    assert not authorize(command, "carol", "maintain", [], lenient, None, []).allowed
    assert authorize(command, "alice", "admin", [], lenient, None, []).allowed
