"""Canary analysis (pure): query results and health readings become verdicts, and verdicts
over time become a decision — continue, advance, fail, or hold for a person."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"  # no data, NaN: cannot tell
    ERROR = "error"  # the measuring failed (Prometheus down, timeout)
    INVALID = "invalid"  # the check itself is wrong (a 400/422 query): fails at once


@dataclass(frozen=True)
class Reading:
    """What one measurement returned: a number, nothing, or a failure to measure."""

    value: float | None = None
    empty: bool = False
    error: str | None = None
    invalid: str | None = None


@dataclass(frozen=True)
class Verdict:
    check: str
    outcome: Outcome
    detail: str


@dataclass(frozen=True)
class MetricRule:
    name: str
    max: float | None = None
    min: float | None = None
    max_ratio: float | None = None  # canary / baseline, measured in the same window
    on_no_data: Outcome = Outcome.INCONCLUSIVE


def judge_metric(rule: MetricRule, canary: Reading, baseline: Reading | None = None) -> Verdict:
    """One metric's verdict: thresholds on the canary value, and on its ratio to the
    baseline when there is one (Kayenta's lesson: compare within the same window)."""
    for reading, what in ((canary, "query"), (baseline, "baseline query")):
        if reading is None:
            continue
        if reading.invalid:
            return Verdict(rule.name, Outcome.INVALID, f"{what} is invalid: {reading.invalid}")
        if reading.error:
            return Verdict(rule.name, Outcome.ERROR, f"{what} failed: {reading.error}")
    value = canary.value
    if canary.empty or value is None or math.isnan(value):
        return Verdict(rule.name, rule.on_no_data, "no data" if canary.empty or value is None
                       else "value is NaN")
    if rule.max is not None and value > rule.max:
        return Verdict(rule.name, Outcome.FAIL, f"{value:g} > max {rule.max:g}")
    if rule.min is not None and value < rule.min:
        return Verdict(rule.name, Outcome.FAIL, f"{value:g} < min {rule.min:g}")
    if rule.max_ratio is not None and baseline is not None:
        base = baseline.value
        if baseline.empty or base is None or math.isnan(base):
            return Verdict(rule.name, rule.on_no_data, "baseline has no data")
        if base == 0:
            if value > 0:
                return Verdict(rule.name, Outcome.FAIL, f"{value:g} while baseline is 0")
        elif value / base > rule.max_ratio:
            return Verdict(rule.name, Outcome.FAIL, f"{value:g} is {value / base:.2f}x baseline "
                                                     f"{base:g} > max_ratio {rule.max_ratio:g}")
    bounds = [f"max {rule.max:g}" if rule.max is not None else "",
              f"min {rule.min:g}" if rule.min is not None else "",
              f"{value / baseline.value:.2f}x baseline, max_ratio {rule.max_ratio:g}"
              if rule.max_ratio is not None and baseline is not None and baseline.value else ""]
    within = ", ".join(b for b in bounds if b)
    return Verdict(rule.name, Outcome.PASS, f"{value:g} within {within or 'thresholds'}")


def judge_health(status: int | None, latency: float | None, max_latency: float | None,
                 version: str | None, expected_version: str | None,
                 error: str | None = None) -> Verdict:
    """The health endpoint's verdict: reachable, 2xx, fast enough, running our version."""
    if error is not None or status is None:
        return Verdict("health", Outcome.ERROR, f"unreachable: {error}")
    if not 200 <= status < 300:
        return Verdict("health", Outcome.FAIL, f"status {status}")
    if max_latency is not None and latency is not None and latency > max_latency:
        return Verdict("health", Outcome.FAIL, f"latency {latency:.3f}s > {max_latency:g}s")
    if expected_version is not None and version != expected_version:
        return Verdict("health", Outcome.INCONCLUSIVE,
                       f"runs {version!r}, not {expected_version!r} yet")
    return Verdict("health", Outcome.PASS, f"status {status}")


@dataclass(frozen=True)
class Limits:
    successes_to_advance: int = 1
    failure_limit: int = 0  # cumulative over the canary; more than this fails it
    consecutive_error_limit: int = 4
    inconclusive_limit: int = 5


@dataclass(frozen=True)
class Tally:
    """The counters analysis keeps across intervals (persisted with the promotion)."""

    passes_in_row: int = 0
    failures: int = 0
    errors_in_row: int = 0
    inconclusives: int = 0


class Decision(StrEnum):
    CONTINUE = "continue"
    ADVANCE = "advance"
    FAIL = "fail"
    HOLD = "hold"


def decide(tally: Tally, verdicts: list[Verdict], limits: Limits,
           bake_elapsed: bool) -> tuple[Tally, Decision, list[Verdict]]:
    """Fold one interval's verdicts into the tally; the decision and the verdicts behind it.
    A step advances after enough passes in a row once its bake time is over."""
    outcomes = {v.outcome for v in verdicts}
    if Outcome.INVALID in outcomes:
        return tally, Decision.FAIL, [v for v in verdicts if v.outcome is Outcome.INVALID]
    if Outcome.FAIL in outcomes:
        tally = replace(tally, failures=tally.failures + 1, passes_in_row=0, errors_in_row=0)
    elif Outcome.ERROR in outcomes:
        tally = replace(tally, errors_in_row=tally.errors_in_row + 1, passes_in_row=0)
    elif Outcome.INCONCLUSIVE in outcomes:
        tally = replace(tally, inconclusives=tally.inconclusives + 1, passes_in_row=0,
                        errors_in_row=0)
    else:
        tally = replace(tally, passes_in_row=tally.passes_in_row + 1, errors_in_row=0)
    blame = [v for v in verdicts if v.outcome is not Outcome.PASS]
    if tally.failures > limits.failure_limit:
        return tally, Decision.FAIL, [v for v in verdicts if v.outcome is Outcome.FAIL]
    if tally.errors_in_row > limits.consecutive_error_limit:
        return tally, Decision.FAIL, [v for v in verdicts if v.outcome is Outcome.ERROR]
    if tally.inconclusives > limits.inconclusive_limit:
        return tally, Decision.HOLD, [v for v in verdicts if v.outcome is Outcome.INCONCLUSIVE]
    if tally.passes_in_row >= limits.successes_to_advance and bake_elapsed:
        return Tally(), Decision.ADVANCE, verdicts
    return tally, Decision.CONTINUE, blame


def promql_string(value: str) -> str:
    """value escaped for use inside a double-quoted PromQL string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_query(template: str, values: dict[str, str]) -> str:
    """Fill `{tag}`, `{env}`, `{image}` … in a query template, escaped for PromQL strings.
    Other braces (label matchers) are left alone."""
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", promql_string(value))
    return out


def judge_sync(ours: bool, sync: str | None, phase: str | None, health: str | None) -> Verdict:
    """Does the cluster run our commit? `ours`: the synced revision contains it. Degraded
    or a failed sync fails; anything still moving waits (inconclusive)."""
    if phase in ("Failed", "Error"):
        return Verdict("sync", Outcome.FAIL, f"sync operation {phase}")
    if health == "Degraded":
        return Verdict("sync", Outcome.FAIL, "application is Degraded")
    if ours and sync == "Synced" and phase in ("Succeeded", None) and health == "Healthy":
        return Verdict("sync", Outcome.PASS, "synced and healthy")
    return Verdict("sync", Outcome.INCONCLUSIVE,
                   f"waiting: revision {'ours' if ours else 'older'}, {sync}, {phase}, {health}")
