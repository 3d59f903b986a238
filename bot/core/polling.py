"""Registry polling decisions (pure): which repositories to poll how often, which listed
tags are new, how long to back off."""

from __future__ import annotations

from dataclasses import dataclass

from .config import Config
from .durations import parse_duration
from .images import normalize_name

OFF = ("", "0", "false", "no", "off")
ON = ("1", "true", "yes", "on")
MAX_BACKOFF = 3600.0  # seconds: a registry that keeps failing is still tried hourly


@dataclass(frozen=True)
class PollSetting:
    """HOIST_POLL_REGISTRIES: `enabled` polls images with `poll:`; `default` (seconds), when
    the variable is a duration, polls every other image that often too."""

    enabled: bool = False
    default: float | None = None


def parse_poll_setting(value: str | None) -> PollSetting:
    """`off` (default: also empty, 0, false, no), `on` (1, true, yes) or a duration like
    `5m`; ValueError otherwise."""
    text = (value or "").strip().lower()
    if text in OFF:
        return PollSetting()
    if text in ON:
        return PollSetting(enabled=True)
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise ValueError(f"HOIST_POLL_REGISTRIES must be off, on or a duration like 5m, "
                         f"not {value!r}") from None
    if seconds <= 0:
        return PollSetting()
    return PollSetting(enabled=True, default=seconds)


def poll_intervals(config: Config, setting: PollSetting) -> dict[str, float]:
    """Seconds between polls of each normalized repository name (the shortest interval of
    the images sharing it); images with neither `poll:` nor a default are not polled."""
    if not setting.enabled:
        return {}
    intervals: dict[str, float] = {}
    for image in config.images.values():
        every = image.poll if image.poll is not None else setting.default
        if every is None:
            continue
        name = normalize_name(image.repository)
        intervals[name] = min(every, intervals.get(name, every))
    return intervals


def new_tags(seen: dict[str, str | None], listed: list[str]) -> list[str]:
    """Listed tags not seen before, in the registry's order (each once)."""
    return [tag for tag in dict.fromkeys(listed) if tag not in seen]


def backoff(interval: float, failures: int, retry_after: float | None) -> float:
    """Seconds to wait after the `failures`-th failure in a row: the interval doubled per
    failure up to an hour, and never less than the registry's Retry-After
    (RFC 9110 §10.2.3)."""
    wait: float = min(interval * 2.0 ** min(failures, 16), max(interval, MAX_BACKOFF))
    return max(wait, retry_after or 0.0)
