"""Promotion windows (pure): is an environment open at an instant, when does it open next,
and its next openings and closings. Rules and their spec are in window_config.py.

Instants are timezone-aware datetimes (UTC out); `now` is passed in, never read here.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from cronsim import CronSim
from dateutil.rrule import rrule, rrulestr

from .window_config import RRULE_ANCHOR, WindowRule, Windows, rrule_text, zone

# How far ahead an opening is looked for: past it, an environment counts as closed for good.
HORIZON = timedelta(days=400)
_FIRST_LOOK = timedelta(days=8)  # most windows open within a week: look there first


@dataclass(frozen=True)
class Entry:
    """A rule bound to its zone and its side (`allow` or `deny`)."""

    rule: WindowRule
    zone: ZoneInfo
    deny: bool


@dataclass(frozen=True)
class Span:
    """One occurrence of a rule: [start, end) in UTC."""

    start: datetime
    end: datetime
    entry: Entry


@dataclass(frozen=True)
class Status:
    """Whether promotions may merge at an instant; when closed, why and when that ends
    (`opens_at` None: not within HORIZON)."""

    open: bool
    why: str | None = None
    opens_at: datetime | None = None
    zone: ZoneInfo | None = None

    @property
    def reason(self) -> str | None:
        """`change freeze; window opens at 2026-12-21 08:00 Europe/Berlin (…T07:00:00Z)`."""
        if self.open:
            return None
        why = f"{self.why}; " if self.why else ""
        if self.opens_at is None:
            return f"{why}window closed, with no opening in the next {HORIZON.days} days"
        return f"{why}window opens at {when(self.opens_at, self.zone)}"


def when(instant: datetime, where: ZoneInfo | None) -> str:
    """`2026-12-21 08:00 Europe/Berlin (2026-12-21T07:00:00Z)`; the UTC form alone when the
    zone is UTC."""
    utc = instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if where is None or where.key == "UTC":
        return utc
    return f"{instant.astimezone(where):%Y-%m-%d %H:%M} {where.key} ({utc})"


def entries(windows: Windows | None, freeze: Sequence[WindowRule] = ()) -> list[Entry]:
    """The environment's rules: its windows in their zone, then freezes (UTC, deny)."""
    found: list[Entry] = []
    if windows is not None:
        where = zone(windows.timezone)
        found += [Entry(r, where, False) for r in windows.allow]
        found += [Entry(r, where, True) for r in windows.deny]
    utc = ZoneInfo("UTC")
    return found + [Entry(r, utc, True) for r in freeze]


def _instant(value: date | datetime, where: ZoneInfo) -> datetime:
    """A date is its midnight in the zone; a naive time is wall-clock time in the zone."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=where)


def bounds(rule: WindowRule, where: ZoneInfo) -> tuple[datetime, datetime]:
    """A fixed range's [from, to) in UTC."""
    assert rule.from_ is not None and rule.to is not None
    return (_instant(rule.from_, where).astimezone(UTC), _instant(rule.to, where).astimezone(UTC))


def _recurrence(rule: WindowRule) -> rrule:
    anchor = (rule.start.replace(tzinfo=None) if rule.start else RRULE_ANCHOR)
    parsed = rrulestr(rrule_text(rule.rrule or ""), dtstart=anchor, cache=True)
    assert isinstance(parsed, rrule)
    return parsed


def _starts(entry: Entry, since: datetime) -> Iterator[datetime]:
    """The rule's occurrence starts from the last one before `since - duration` on, in
    order, as UTC instants. Occurrences are computed in wall-clock time and only then put in
    the zone: that is what keeps a 15:00 window at 15:00 across a DST change."""
    rule, where = entry.rule, entry.zone
    back = since - timedelta(seconds=rule.duration or 0)
    if rule.cron is not None:
        local = back.astimezone(where)
        earlier = next(iter(CronSim(rule.cron, local, reverse=True)), None)
        if earlier is not None:
            yield earlier.astimezone(UTC)
        for moment in CronSim(rule.cron, local):
            yield moment.astimezone(UTC)
        return
    recurrence = _recurrence(rule)
    # Wall-clock search with a day of slack either way for the zone's offset.
    cursor = back.astimezone(where).replace(tzinfo=None) - timedelta(days=1)
    earlier = recurrence.before(cursor, inc=True)
    if earlier is not None:
        cursor = earlier - timedelta(microseconds=1)
    while True:
        wall = recurrence.after(cursor, inc=False)
        if wall is None:
            return
        yield wall.replace(tzinfo=where).astimezone(UTC)
        cursor = wall


def spans(entry: Entry, since: datetime, until: datetime) -> Iterator[Span]:
    """The occurrences of one entry that overlap [since, until), by start."""
    rule = entry.rule
    if rule.from_ is not None:
        start, end = bounds(rule, entry.zone)
        if start < until and end > since:
            yield Span(start, end, entry)
        return
    length = timedelta(seconds=rule.duration or 0)
    for start in _starts(entry, since):
        if start >= until:
            return
        if start + length > since:
            yield Span(start, start + length, entry)


def _state(found: Sequence[Span], at: datetime, has_allow: bool) -> Status:
    """Open or closed at `at` given the spans around it (no opening time yet)."""
    covering = [s for s in found if s.start <= at < s.end]
    denied = [s for s in covering if s.entry.deny]
    if denied:
        first = denied[0].entry.rule
        return Status(False, first.reason or f"a deny window until "
                      f"{when(max(s.end for s in denied), denied[0].entry.zone)}")
    if has_allow and not any(not s.entry.deny for s in covering):
        return Status(False, "outside the allowed windows")
    return Status(True)


def changes(rules: Sequence[Entry], since: datetime,
            until: datetime) -> Iterator[tuple[datetime, Status]]:
    """Every instant in (since, until) where the state may change, with the state from then
    on; the first item is `since` itself."""
    found = sorted((s for e in rules for s in spans(e, since, until)), key=lambda s: s.start)
    has_allow = any(not e.deny for e in rules)
    yield since, _state(found, since, has_allow)
    edges = heapq.merge(*([s.start, s.end] for s in found))
    for edge in sorted({e for e in edges if since < e < until}):
        yield edge, _state(found, edge, has_allow)


def status(rules: Sequence[Entry], now: datetime) -> Status:
    """Open or closed at `now`; when closed, why and when it opens next."""
    if not rules:
        return Status(True)
    current = next(changes(rules, now, now + timedelta(microseconds=1)))[1]
    if current.open:
        return current
    for reach in (_FIRST_LOOK, HORIZON):
        for moment, state in changes(rules, now, now + reach):
            if state.open:
                return Status(False, current.why, moment, _display_zone(rules))
    return Status(False, current.why, None, _display_zone(rules))


def _display_zone(rules: Sequence[Entry]) -> ZoneInfo:
    return rules[0].zone


def schedule(rules: Sequence[Entry], now: datetime,
             count: int) -> list[tuple[datetime, bool]]:
    """The next `count` openings (True) and closings (False) after `now`, within HORIZON."""
    found: list[tuple[datetime, bool]] = []
    was = status(rules, now).open if rules else True
    for moment, state in islice(changes(rules, now, now + HORIZON), 1, None):
        if state.open != was:
            found.append((moment, state.open))
            was = state.open
            if len(found) >= count:
                break
    return found
