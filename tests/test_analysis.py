"""The analysis decision, exhaustively by table: no doubles, no I/O."""

from __future__ import annotations

import itertools
import math

import pytest

from bot.core.analysis import (
    Decision,
    Limits,
    MetricRule,
    Outcome,
    Reading,
    Tally,
    Verdict,
    decide,
    judge_health,
    judge_metric,
    render_query,
)

RULE = MetricRule("error-rate", max=0.05, max_ratio=1.25)


@pytest.mark.parametrize(("canary", "baseline", "outcome", "detail"), [
    (Reading(0.01), Reading(0.01), Outcome.PASS, "within"),
    (Reading(0.06), Reading(0.06), Outcome.FAIL, "> max 0.05"),
    (Reading(0.02), Reading(0.01), Outcome.FAIL, "2.00x baseline"),
    (Reading(0.0125), Reading(0.01), Outcome.PASS, "within"),
    (Reading(0.01), Reading(0.0), Outcome.FAIL, "baseline is 0"),
    (Reading(0.0), Reading(0.0), Outcome.PASS, "within"),
    (Reading(float("inf")), Reading(0.01), Outcome.FAIL, "> max"),
    (Reading(float("nan")), Reading(0.01), Outcome.INCONCLUSIVE, "NaN"),
    (Reading(empty=True), Reading(0.01), Outcome.INCONCLUSIVE, "no data"),
    (Reading(0.01), Reading(empty=True), Outcome.INCONCLUSIVE, "baseline has no data"),
    (Reading(error="503"), Reading(0.01), Outcome.ERROR, "query failed: 503"),
    (Reading(0.01), Reading(error="timeout"), Outcome.ERROR, "baseline query failed"),
    (Reading(invalid="bad_data"), None, Outcome.INVALID, "invalid"),
    (Reading(0.04), None, Outcome.PASS, "within"),
])
def test_metric_verdicts(canary: Reading, baseline: Reading | None, outcome: Outcome,
                         detail: str) -> None:
    verdict = judge_metric(RULE, canary, baseline)
    assert verdict.outcome is outcome and detail in verdict.detail


def test_no_data_can_be_configured_to_pass_or_fail() -> None:
    assert judge_metric(MetricRule("x", max=1, on_no_data=Outcome.PASS),
                        Reading(empty=True)).outcome is Outcome.PASS
    assert judge_metric(MetricRule("x", min=0.99), Reading(0.5)).outcome is Outcome.FAIL


@pytest.mark.parametrize(("args", "outcome"), [
    ((200, 0.1, 1.0, "1.4.2", "1.4.2"), Outcome.PASS),
    ((200, 2.0, 1.0, "1.4.2", "1.4.2"), Outcome.FAIL),
    ((503, 0.1, 1.0, "1.4.2", "1.4.2"), Outcome.FAIL),
    ((200, 0.1, 1.0, "1.4.1", "1.4.2"), Outcome.INCONCLUSIVE),
    ((None, None, 1.0, None, "1.4.2", "connection refused"), Outcome.ERROR),
])
def test_health_verdicts(args: tuple[object, ...], outcome: Outcome) -> None:
    assert judge_health(*args).outcome is outcome  # type: ignore[arg-type]


LIMITS = Limits(successes_to_advance=2, failure_limit=1, consecutive_error_limit=2,
                inconclusive_limit=2)
V = {o: Verdict("m", o, o.value) for o in Outcome}


def run(outcomes: list[Outcome], bake: bool = True) -> list[Decision]:
    tally, decisions = Tally(), []
    for o in outcomes:
        tally, decision, _ = decide(tally, [V[Outcome.PASS], V[o]], LIMITS, bake)
        decisions.append(decision)
        if decision in (Decision.FAIL, Decision.HOLD, Decision.ADVANCE):
            break
    return decisions


P, F, E, N, X = (Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.INCONCLUSIVE,
                 Outcome.INVALID)
C, A, FL, H = Decision.CONTINUE, Decision.ADVANCE, Decision.FAIL, Decision.HOLD


@pytest.mark.parametrize(("outcomes", "expected"), [
    ([P, P], [C, A]),
    ([P, F, P, P], [C, C, C, A]),            # one failure is within failure_limit=1
    ([F, P, F], [C, C, FL]),                  # cumulative: the second failure fails it
    ([E, E, P, P], [C, C, C, A]),             # errors in a row reset by a pass
    ([E, E, E], [C, C, FL]),                  # more than 2 errors in a row
    ([N, N, N], [C, C, H]),                   # more than 2 inconclusives: hold, tell people
    ([X], [FL]),                              # a bad query fails at once
    ([P, E, P], [C, C, C]),                   # an error breaks the run of passes
])
def test_decisions(outcomes: list[Outcome], expected: list[Decision]) -> None:
    assert run(outcomes) == expected


def test_no_advance_before_the_bake_time() -> None:
    assert run([P, P, P], bake=False) == [C, C, C]


def test_decide_is_total_over_every_short_sequence() -> None:
    # Exhaustive: every sequence of 4 outcomes ends in a decision from the four, never
    # advances past a failure beyond the limit, and counts never go negative.
    for sequence in itertools.product(list(Outcome), repeat=4):
        tally = Tally()
        failures = 0
        for outcome in sequence:
            tally, decision, _ = decide(tally, [V[outcome]], LIMITS, True)
            failures += outcome is Outcome.FAIL
            assert decision in Decision
            assert min(tally.failures, tally.errors_in_row, tally.inconclusives,
                       tally.passes_in_row) >= 0
            if decision is Decision.ADVANCE:
                assert failures <= LIMITS.failure_limit and outcome is Outcome.PASS
            if decision is not Decision.CONTINUE:
                break


def test_query_templates_are_escaped_for_promql() -> None:
    query = 'sum(rate(x{app="guestbook",version="{tag}"}[1m]))'
    assert render_query(query, {"tag": '1.4.2"} or vector(1) #'}) == (
        'sum(rate(x{app="guestbook",version="1.4.2\\"} or vector(1) #"}[1m]))')
    assert not math.isnan(0.0)
