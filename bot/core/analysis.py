"""Canary analysis (pure): query results and health readings become verdicts, and verdicts
over time become a decision — continue, advance, fail, or cannot tell (hold for a person).
Only a FAIL — a reading that showed the image bad — fails a canary; an outage of what
measures it (ERROR, INVALID) is, like no data, a reason to stop and ask, never evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"  # no data, NaN: cannot tell
    ERROR = "error"  # the measuring failed (Prometheus down, timeout)
    INVALID = "invalid"  # the check itself is wrong (a parse error): cannot tell, at once


@dataclass(frozen=True)
class Verdict:
    """One check's outcome in an interval; `series` names the series it is about
    (`{pod="a"}`), if the check returned several."""

    check: str
    outcome: Outcome
    detail: str
    series: str = ""

    @property
    def text(self) -> str:
        """`success-rate{pod="a"}: 0.5 < min 0.99`: the evidence line people read."""
        return f"{self.check}{self.series}: {self.detail}"


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
    FAIL = "fail"  # readings showed the image bad: revert (and quarantine) or hold
    HOLD = "hold"  # analysis cannot tell: hold at the step (or revert, not quarantined)


# The reason of a promotion stopped because analysis could not tell (flows/rollout.py):
# its revert, if any, quarantines nothing, and `/hoist retry` resumes its analysis.
INCONCLUSIVE_REASON = "analysis inconclusive"
FAILED_REASON = "analysis failed"


def stopped_by_analysis(reason: str | None) -> bool:
    """True for the reason of a promotion that analysis held (failed or could not tell)."""
    return (reason or "").startswith((INCONCLUSIVE_REASON, FAILED_REASON))


def unmeasured(reason: str | None) -> bool:
    """True for the reason of a promotion stopped while no reading showed its image bad."""
    return (reason or "").startswith(INCONCLUSIVE_REASON)


def decide(tally: Tally, verdicts: list[Verdict], limits: Limits,
           bake_elapsed: bool) -> tuple[Tally, Decision, list[Verdict]]:
    """Fold one interval's verdicts into the tally; the decision and the verdicts behind it.
    A step advances after enough passes in a row once its bake time is over. Failures over
    `failure_limit` fail it; an invalid check at once, more than `consecutive_error_limit`
    errors in a row or more than `inconclusive_limit` inconclusive intervals hold it (HOLD:
    cannot tell). A failure in the same interval wins over the rest."""
    outcomes = {v.outcome for v in verdicts}
    if Outcome.FAIL in outcomes:
        tally = replace(tally, failures=tally.failures + 1, passes_in_row=0, errors_in_row=0)
    elif Outcome.INVALID in outcomes or Outcome.ERROR in outcomes:
        tally = replace(tally, errors_in_row=tally.errors_in_row + 1, passes_in_row=0)
    elif Outcome.INCONCLUSIVE in outcomes:
        tally = replace(tally, inconclusives=tally.inconclusives + 1, passes_in_row=0,
                        errors_in_row=0)
    else:
        tally = replace(tally, passes_in_row=tally.passes_in_row + 1, errors_in_row=0)
    blame = [v for v in verdicts if v.outcome is not Outcome.PASS]
    if tally.failures > limits.failure_limit:
        return tally, Decision.FAIL, [v for v in verdicts if v.outcome is Outcome.FAIL]
    if Outcome.INVALID in outcomes:  # waiting does not mend a wrong query
        return tally, Decision.HOLD, [v for v in verdicts if v.outcome is Outcome.INVALID]
    if tally.errors_in_row > limits.consecutive_error_limit:
        return tally, Decision.HOLD, [v for v in verdicts if v.outcome is Outcome.ERROR]
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


MEMBER_PLACEHOLDERS = ("{image}", "{tag}")


def runs_of(templates: Sequence[str | None], members: list[dict[str, str]]
            ) -> list[dict[str, str]]:
    """The values a check runs with: once per member (image) of the promotion where one of
    its templates names `{image}` or `{tag}`, else once (with the first member's)."""
    if any(t and any(p in t for p in MEMBER_PLACEHOLDERS) for t in templates):
        return members
    return members[:1]


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
