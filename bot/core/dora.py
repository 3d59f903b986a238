"""DORA's four keys from a manifests repository's commits alone (pure): deployment
frequency, lead time for changes, change failure rate and time to restore service (as the
DORA research program defines them, dora.dev "DORA's software delivery metrics").

What counts, read from the trailers (render.py writes them, audit.py parses them):
- a *promotion* is a commit moving images into an environment (Hoist-Promotion,
  Hoist-Image, Hoist-Environment; canary steps and reverts excluded), once per promotion id;
- *lead time*, per image moved: the commit's time minus Hoist-Pushed-At. History written by
  an earlier Hoist has no Hoist-Pushed-At: the time the image was first promoted anywhere
  (the first environment) stands in, and `notes` says so;
- a *failure*: a promotion that a later commit reverted (Hoist's revert, carrying its
  Hoist-Promotion, after analysis failed or a person aborted it after the merge; or a
  person's `git revert`, "This reverts commit <sha>.");
- *time to restore*: from a failed promotion's merge (the breach) to the next promotion of
  the same image in that environment that was not reverted.
Every number comes with how many promotions it stands on.
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from .audit import AuditEntry, audit_entries, image_name

_GIT_REVERT = re.compile(r"^This reverts commit ([0-9a-f]{40})", re.MULTILINE)
_DAY = 86400.0


@dataclass(frozen=True)
class Dora:
    """The four keys; seconds for times, None where nothing was measured."""

    promotions: int
    days: float
    lead_times: tuple[float, ...]
    failures: int
    restores: tuple[float, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def deployment_frequency_per_day(self) -> float:
        """Promotions per day over the period."""
        return self.promotions / self.days if self.days > 0 else 0.0

    @property
    def change_failure_rate(self) -> float | None:
        """Failed promotions over promotions; None with no promotion."""
        return self.failures / self.promotions if self.promotions else None

    def to_json(self) -> dict[str, Any]:
        """The JSON `hoist dora --json` prints (its keys are a contract)."""
        return {
            "deployment_frequency_per_day": round(self.deployment_frequency_per_day, 6),
            "promotions": self.promotions,
            "days": round(self.days, 6),
            "lead_time_seconds": {"median": _median(self.lead_times),
                                  "p90": percentile(self.lead_times, 90),
                                  "count": len(self.lead_times)},
            "change_failure_rate": {"rate": self.change_failure_rate,
                                    "failures": self.failures, "promotions": self.promotions},
            "time_to_restore_seconds": {"median": _median(self.restores),
                                        "count": len(self.restores)},
            "notes": list(self.notes),
        }


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile (the smallest value with p % of them at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


@lru_cache(maxsize=65536)
def _at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def dora(commits: Sequence[tuple[str, str, str, str]], environment: str | None = None,
         since: datetime | None = None, until: datetime | None = None) -> Dora:
    """The four keys over `commits` (sha, ISO date, author, message; any order, as
    git_local.log_messages gives them) for one environment (None: all), for promotions
    merged in [since, until). The period is since..until when given, else from the first
    to the last promotion (at least one day)."""
    entries = audit_entries(list(commits))
    reverted = {e.promotion for e in entries if e.kind == "revert"}
    by_sha = {e.commit: e for e in entries}
    for _, _, _, message in commits:  # a person's `git revert` of a Hoist commit
        for sha in _GIT_REVERT.findall(message):
            if sha in by_sha:
                reverted.add(by_sha[sha].promotion)
    merged = _promotions(entries)
    first_seen = _first_seen(merged.values())
    chosen = [e for e in merged.values()
              if (environment is None or e.environment == environment)
              and (since is None or _at(e.date) >= since.timestamp())
              and (until is None or _at(e.date) < until.timestamp())]
    chosen.sort(key=lambda e: _at(e.date))
    leads, stand_ins = [], 0
    for e in chosen:
        at = _at(e.date)
        for i, image in enumerate(e.images):
            if i < len(e.pushed_at):
                leads.append(max(0.0, at - _at(e.pushed_at[i])))
            else:
                stand_ins += 1
                leads.append(max(0.0, at - first_seen[image.image]))
    failed = [e for e in chosen if e.promotion in reverted]
    good = _good_times(merged.values(), reverted)
    restores = [r for e in failed if (r := _restore(e, good)) is not None]
    start = since.timestamp() if since else (_at(chosen[0].date) if chosen else 0.0)
    end = until.timestamp() if until else (_at(chosen[-1].date) if chosen else 0.0)
    notes = (f"{stand_ins} of {len(leads)} lead times have no Hoist-Pushed-At (an earlier "
             "Hoist wrote them): the first environment's commit time stands in for the push",
             ) if stand_ins else ()
    days = (end - start) / _DAY if since and until else max(1.0, (end - start) / _DAY)
    return Dora(len(chosen), days, tuple(leads), len(failed), tuple(restores), notes)


def _promotions(entries: Sequence[AuditEntry]) -> dict[str, AuditEntry]:
    """The commit that merged each promotion: the latest of its `promote` commits (a
    merge-method merge shows the branch commit and the merge commit)."""
    found: dict[str, AuditEntry] = {}
    for e in entries:
        if e.kind != "promote" or not e.images:
            continue
        known = found.get(e.promotion)
        if known is None or _at(e.date) >= _at(known.date):
            found[e.promotion] = e
    return found


def _first_seen(entries: Iterable[AuditEntry]) -> dict[str, float]:
    """Each image reference's (tag@digest) first promotion time in any environment: the
    stand-in push time where Hoist-Pushed-At is missing."""
    first: dict[str, float] = {}
    for e in entries:
        at = _at(e.date)
        for image in e.images:
            first[image.image] = min(first.get(image.image, at), at)
    return first


def _good_times(merged: Iterable[AuditEntry], reverted: set[str]) -> dict[tuple[str, str],
                                                                         list[float]]:
    """For each (environment, image name), the sorted times of promotions not reverted."""
    found: dict[tuple[str, str], list[float]] = {}
    for e in merged:
        if e.promotion in reverted:
            continue
        for image in e.images:
            found.setdefault((e.environment or "", image_name(image.image)), []).append(
                _at(e.date))
    for times in found.values():
        times.sort()
    return found


def _restore(failed: AuditEntry, good: dict[tuple[str, str], list[float]]) -> float | None:
    """Seconds from the failed promotion's merge (the breach) to the next good promotion of
    one of its images in the same environment; None while there is none."""
    breach = _at(failed.date)
    later = []
    for image in failed.images:
        times = good.get((failed.environment or "", image_name(image.image)), [])
        i = bisect.bisect_right(times, breach)
        if i < len(times):
            later.append(times[i])
    return min(later) - breach if later else None
