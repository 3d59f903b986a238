"""Freeze windows (pure): `freeze:` entries are deny windows in UTC, expressed as window
rules (window_config.py) so that one core (windows.py) decides for both."""

from __future__ import annotations

from .rollout_config import FreezeWindow
from .window_config import WindowRule, as_rule

# cron(8) weekday numbers: 0 is Sunday.
_CRON_DAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 0}


def freeze_rules(windows: list[FreezeWindow]) -> list[WindowRule]:
    """Each freeze as a deny rule: a start/end range, or whole UTC days as a cron window
    (`days: [sat, sun]` is `0 0 * * 6,0` for 24h)."""
    rules = []
    for window in windows:
        if window.start is not None and window.end is not None:
            rules.append(as_rule({"from": window.start, "to": window.end,
                                  "reason": window.reason or "frozen"}))
        if window.days:
            days = ",".join(str(_CRON_DAYS[d]) for d in window.days)
            rules.append(as_rule({"cron": f"0 0 * * {days}", "duration": 86400,
                                  "reason": window.reason or f"frozen on {', '.join(window.days)}"}))
    return rules
