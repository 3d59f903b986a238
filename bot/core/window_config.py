"""hoist.yaml's promotion windows (`windows:` per environment): when a promotion may merge.

Each `allow` or `deny` entry is one of
- `rrule`: an RFC 5545 recurrence rule (§3.3.10; the `RRULE:` prefix is optional) with a
  `duration`, its occurrences anchored at `start` (DTSTART, §3.8.2.4; default
  2024-01-01T00:00, a Monday and the first of a month and a year, in the window's zone);
- `cron`: a five-field cron expression (minute hour day month weekday, as cron(8)) with a
  `duration`;
- `from`/`to`: a fixed range, dates (midnight in the zone) or times; `to` is excluded.
Times are wall-clock times in `timezone` (an IANA name, RFC 6557), so daylight saving moves
nothing: a window at 15:00 stays at 15:00 local. Durations are exact elapsed time (RFC 5545
§3.3.6: hours, minutes and seconds are exact).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from dateutil.rrule import rrulestr
from pydantic import Field, field_validator, model_validator

from .durations import Duration
from .rollout_config import _Model

# The default DTSTART of an rrule: a Monday, the first of a month and of a year, so weekly,
# monthly and yearly rules without BY-parts line up with the calendar.
RRULE_ANCHOR = datetime(2024, 1, 1)
# Sub-hourly recurrences are not windows; they would also make every look-up iterate
# hundreds of thousands of occurrences.
_TOO_FINE = ("FREQ=SECONDLY", "FREQ=MINUTELY")


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; ValueError naming it when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as "
                         "Europe/Berlin or UTC") from None


def rrule_text(value: str) -> str:
    """The rule without its optional `RRULE:` prefix, upper-cased (RFC 5545 §3.1: property
    and parameter names are case-insensitive)."""
    text = value.strip()
    return (text[6:] if text.upper().startswith("RRULE:") else text).upper()


class WindowRule(_Model):
    """One allow or deny entry: a recurrence with a duration, or a fixed range."""

    rrule: str | None = None
    cron: str | None = None
    start: datetime | None = None  # the rrule's DTSTART, wall-clock in the zone
    duration: Duration | None = Field(default=None, gt=0)
    from_: date | datetime | None = Field(default=None, alias="from")
    to: date | datetime | None = None
    reason: str | None = None  # said while it keeps a promotion waiting

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = rrule_text(value)
        if any(fine in text for fine in _TOO_FINE):
            raise ValueError("a window recurs hourly at most often (FREQ=HOURLY or coarser)")
        try:
            rrulestr(text, dtstart=RRULE_ANCHOR)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not an RFC 5545 recurrence rule: {exc}") from None
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value.split()) != 5:
            raise ValueError("a cron expression has five fields: minute hour day month weekday")
        try:
            CronSim(value, datetime(2024, 1, 1, tzinfo=ZoneInfo("UTC")))
        except CronSimError as exc:
            raise ValueError(f"impossible cron expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> WindowRule:
        kinds = [k for k, v in (("rrule", self.rrule), ("cron", self.cron),
                                ("from/to", self.from_ or self.to)) if v]
        if len(kinds) != 1:
            raise ValueError("give exactly one of rrule, cron, or from/to")
        if kinds[0] == "from/to":
            if self.from_ is None or self.to is None:
                raise ValueError("a fixed range needs both from and to")
            if self.duration is not None:
                raise ValueError("a fixed range has no duration: its end is `to`")
        elif self.duration is None:
            raise ValueError(f"a {kinds[0]} window needs a duration, e.g. 9h")
        if self.start is not None and self.rrule is None:
            raise ValueError("start anchors an rrule only")
        return self


class Windows(_Model):
    """When an environment's promotions may merge: with `allow` entries only inside them;
    never inside a `deny` entry (deny wins)."""

    timezone: str = "UTC"
    allow: list[WindowRule] = []
    deny: list[WindowRule] = []

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @model_validator(mode="after")
    def _ranges(self) -> Windows:
        from .windows import bounds  # the range's instants need the zone, checked above

        for rule in self.allow + self.deny:
            if rule.from_ is not None and rule.to is not None:
                start, end = bounds(rule, zone(self.timezone))
                if end <= start:
                    raise ValueError(f"window from {rule.from_} to {rule.to}: `to` must be "
                                     "after `from`")
        return self


def as_rule(data: dict[str, Any]) -> WindowRule:
    """A WindowRule from plain data (`from` spelled as in hoist.yaml)."""
    return WindowRule.model_validate(data)
