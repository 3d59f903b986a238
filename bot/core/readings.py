"""What a PromQL query measured (pure), and a metric's verdict on it: every series is judged
on its own (one per pod, route, region …) unless the metric says how to reduce them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .analysis import Outcome, Verdict, promql_string

Reduce = Literal["max", "min", "avg", "sum"]
# Evidence names at most this many failing series; the rest are counted in one more line.
MAX_NAMED = 5


@dataclass(frozen=True)
class Series:
    """One series of an instant vector: its labels as sorted (name, value) pairs (without
    `__name__`) and its sample. NaN and ±Inf are no value: never a pass, never a failure."""

    labels: tuple[tuple[str, str], ...] = ()
    value: float = math.nan

    @classmethod
    def of(cls, labels: Mapping[str, str], value: float) -> Series:
        """A series from Prometheus' `metric` object and its value."""
        return cls(tuple(sorted((k, v) for k, v in labels.items() if k != "__name__")), value)

    @property
    def measured(self) -> bool:
        """True when the series holds a finite value."""
        return math.isfinite(self.value)

    @property
    def selector(self) -> str:
        """`{pod="a",region="eu"}`, or "" for a series without labels (a scalar, a sum)."""
        if not self.labels:
            return ""
        return "{" + ",".join(f'{k}="{promql_string(v)}"' for k, v in self.labels) + "}"


@dataclass(frozen=True)
class Reading:
    """What one query returned: its series (none: no data), or why nothing was measured —
    `error` (unreachable, timed out, 5xx, an execution error: may pass if tried again) or
    `invalid` (the query is wrong: a parse error, a matrix or a string instead of a vector).
    Neither says anything about the image."""

    series: tuple[Series, ...] = ()
    error: str | None = None
    invalid: str | None = None

    @classmethod
    def of(cls, *values: float) -> Reading:
        """A reading of these values: one series without labels, or several labelled
        `i="0"`, `i="1"` … (for tests and scalars)."""
        if len(values) == 1:
            return cls((Series((), values[0]),))
        return cls(tuple(Series((("i", str(i)),), v) for i, v in enumerate(values)))

    @property
    def empty(self) -> bool:
        """True when the query answered with no series at all."""
        return not self.series and self.error is None and self.invalid is None


@dataclass(frozen=True)
class MetricRule:
    """A metric's thresholds. `max`/`min` bound every measured series; `max_ratio` bounds
    canary / baseline; `reduce` judges one value (max, min, avg or sum of the measured series)
    instead of each; `no_data` is the outcome of a query that returns no series."""

    name: str
    max: float | None = None
    min: float | None = None
    max_ratio: float | None = None
    no_data: Outcome = Outcome.INCONCLUSIVE
    reduce: Reduce | None = None


def reduce_values(how: Reduce, values: Sequence[float]) -> float:
    """max, min, avg or sum of finite values; ValueError when there are none."""
    if not values:
        raise ValueError("nothing to reduce")
    if how == "max":
        return max(values)
    if how == "min":
        return min(values)
    total = math.fsum(values)
    return total / len(values) if how == "avg" else total


def judge_metric(rule: MetricRule, canary: Reading, baseline: Reading | None = None
                 ) -> list[Verdict]:
    """The metric's verdicts for one interval: one FAIL per failing series (named by its
    labels, at most MAX_NAMED and a count of the rest), else one PASS or INCONCLUSIVE.

    - A series fails when it is measured and above `max`, below `min`, or above `max_ratio`
      times its baseline; whatever its siblings hold and in whatever order they come.
    - NaN and ±Inf are no value for that series; when no series has a value the reading is
      INCONCLUSIVE (even with `no_data: pass`: NaN is not absence). No series at all takes
      `rule.no_data`. A query that errs gives ERROR, an invalid one INVALID.
    - The baseline (for `max_ratio`): a canary series is compared with the baseline series
      of exactly the same labels when there is one with a value (`by (route)` on both
      sides); otherwise with the baseline reduced to one value — by the rule's `reduce`,
      else the average of its measured series. A baseline with no value at all cannot judge
      the ratio: `rule.no_data` when it has no series, else INCONCLUSIVE (unless a threshold
      already failed).
    """
    for reading, what in ((canary, "query"), (baseline, "baseline query")):
        if reading is None:
            continue
        if reading.invalid:
            return [Verdict(rule.name, Outcome.INVALID, f"{what} is invalid: {reading.invalid}")]
        if reading.error:
            return [Verdict(rule.name, Outcome.ERROR, f"{what} failed: {reading.error}")]
    if not canary.series:
        return [Verdict(rule.name, rule.no_data, "no data")]
    judged, where = canary.series, ""
    if rule.reduce is not None:
        values = [s.value for s in canary.series if s.measured]
        where = f" ({rule.reduce} of {len(values)} series)"
        judged = (Series((), reduce_values(rule.reduce, values)),) if values else ()
    measured = [s for s in judged if s.measured]
    if not measured:
        return [Verdict(rule.name, Outcome.INCONCLUSIVE, "no series has a value: " + ", ".join(
            f"{s.selector or 'value'} {s.value:g}"
            for s in sorted(canary.series, key=lambda s: s.labels)[:MAX_NAMED]))]
    ratio = baseline if rule.max_ratio is not None else None
    fallback = _reduced_baseline(ratio, rule.reduce) if ratio is not None else None
    failures, ratios = [], []
    for series in measured:
        base = _baseline_for(series, ratio, fallback) if ratio is not None else None
        problem = _breach(rule, series.value, base)
        if problem:
            failures.append(Verdict(rule.name, Outcome.FAIL, problem,
                                    series.selector or where))
        elif base is not None and base != 0:
            ratios.append(series.value / base)
    if failures:
        failures.sort(key=lambda v: v.series)
        more = len(failures) - MAX_NAMED
        return failures[:MAX_NAMED] + ([Verdict(rule.name, Outcome.FAIL, f"and {more} more "
                                                f"series fail")] if more > 0 else [])
    if ratio is not None and fallback is None:
        return [Verdict(rule.name, rule.no_data if not ratio.series else Outcome.INCONCLUSIVE,
                        "baseline has no data" if not ratio.series
                        else "baseline has no value")]
    return [Verdict(rule.name, Outcome.PASS, _within(rule, measured, len(judged), ratios), where)]


def _reduced_baseline(baseline: Reading, how: Reduce | None) -> float | None:
    values = [s.value for s in baseline.series if s.measured]
    return reduce_values(how or "avg", values) if values else None


def _baseline_for(series: Series, baseline: Reading, fallback: float | None) -> float | None:
    """The baseline value this series is compared with: the same labels', else fallback."""
    for other in baseline.series:
        if other.labels == series.labels and other.measured:
            return other.value
    return fallback


def _breach(rule: MetricRule, value: float, base: float | None) -> str | None:
    """Why a measured value fails the rule, or None."""
    if rule.max is not None and value > rule.max:
        return f"{value:g} > max {rule.max:g}"
    if rule.min is not None and value < rule.min:
        return f"{value:g} < min {rule.min:g}"
    if rule.max_ratio is not None and base is not None:
        if base == 0:
            return f"{value:g} while baseline is 0" if value > 0 else None
        if value / base > rule.max_ratio:
            return (f"{value:g} is {value / base:.2f}x baseline {base:g} > max_ratio "
                    f"{rule.max_ratio:g}")
    return None


def _within(rule: MetricRule, measured: list[Series], total: int, ratios: list[float]) -> str:
    """A passing reading in words: `0.01 within max 0.05`, or for several series their range
    and how many had no value."""
    bounds = [f"max {rule.max:g}" if rule.max is not None else "",
              f"min {rule.min:g}" if rule.min is not None else "",
              (f"{max(ratios):.2f}x baseline, max_ratio {rule.max_ratio:g}" if ratios
               else f"max_ratio {rule.max_ratio:g}") if rule.max_ratio is not None else ""]
    within = ", ".join(b for b in bounds if b) or "thresholds"
    if total == 1:
        return f"{measured[0].value:g} within {within}"
    low, high = min(s.value for s in measured), max(s.value for s in measured)
    spread = f"{low:g}" if low == high else f"{low:g} to {high:g}"
    if len(measured) == total:
        return f"{total} series within {within} ({spread})"
    return (f"{len(measured)} of {total} series within {within} ({spread}); "
            f"{total - len(measured)} without a value")
