"""Freeze windows (pure): times when an environment takes no promotions."""

from __future__ import annotations

from datetime import UTC, datetime

from .rollout_config import FreezeWindow

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def frozen(windows: list[FreezeWindow], now: float) -> str | None:
    """The reason the environment is frozen at `now` (unix seconds), or None."""
    moment = datetime.fromtimestamp(now, UTC)
    for window in windows:
        if window.start is not None and window.end is not None and \
                window.start <= moment < window.end:
            return window.reason or f"frozen until {window.end.isoformat()}"
        if window.days and _DAYS[moment.weekday()] in window.days:
            return window.reason or f"frozen on {moment.strftime('%A')}s"
    return None
