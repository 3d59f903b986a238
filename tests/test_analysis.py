"""The analysis decision, exhaustively by table: no doubles, no I/O."""

from __future__ import annotations

import itertools
import math

import pytest

from bot.core.analysis import (
    Decision,
    Limits,
    Outcome,
    Tally,
    Verdict,
    decide,
    judge_health,
    render_query,
    stopped_by_analysis,
    unmeasured,
)
from bot.core.readings import MAX_NAMED, MetricRule, Reading, Series, judge_metric

RULE = MetricRule("error-rate", max=0.05, max_ratio=1.25)
NAN, INF = float("nan"), float("inf")


def judged(rule: MetricRule, canary: Reading, baseline: Reading | None = None
           ) -> tuple[Outcome, str]:
    """The metric's outcome (all its verdicts agree) and its evidence lines, joined."""
    verdicts = judge_metric(rule, canary, baseline)
    assert len({v.outcome for v in verdicts}) == 1, verdicts
    return verdicts[0].outcome, " | ".join(v.text for v in verdicts)


@pytest.mark.parametrize(("canary", "baseline", "outcome", "detail"), [
    (Reading.of(0.01), Reading.of(0.01), Outcome.PASS, "within"),
    (Reading.of(0.06), Reading.of(0.06), Outcome.FAIL, "> max 0.05"),
    (Reading.of(0.02), Reading.of(0.01), Outcome.FAIL, "2.00x baseline"),
    (Reading.of(0.0125), Reading.of(0.01), Outcome.PASS, "within"),
    (Reading.of(0.01), Reading.of(0.0), Outcome.FAIL, "baseline is 0"),
    (Reading.of(0.0), Reading.of(0.0), Outcome.PASS, "within"),
    (Reading.of(INF), Reading.of(0.01), Outcome.INCONCLUSIVE, "no series has a value: value inf"),
    (Reading.of(-INF), Reading.of(0.01), Outcome.INCONCLUSIVE, "no series has a value"),
    (Reading.of(NAN), Reading.of(0.01), Outcome.INCONCLUSIVE, "value nan"),
    (Reading(), Reading.of(0.01), Outcome.INCONCLUSIVE, "no data"),
    (Reading.of(0.01), Reading(), Outcome.INCONCLUSIVE, "baseline has no data"),
    (Reading.of(0.01), Reading.of(NAN), Outcome.INCONCLUSIVE, "baseline has no value"),
    (Reading.of(0.06), Reading(), Outcome.FAIL, "> max 0.05"),  # a threshold needs no baseline
    (Reading(error="503"), Reading.of(0.01), Outcome.ERROR, "query failed: 503"),
    (Reading.of(0.01), Reading(error="timeout"), Outcome.ERROR, "baseline query failed"),
    (Reading(invalid="bad_data"), None, Outcome.INVALID, "invalid"),
    (Reading.of(0.04), None, Outcome.PASS, "within"),
])
def test_metric_verdicts(canary: Reading, baseline: Reading | None, outcome: Outcome,
                         detail: str) -> None:
    found, text = judged(RULE, canary, baseline)
    assert found is outcome and detail in text, text


def test_no_data_can_be_configured_to_pass_or_fail_but_nan_never_passes() -> None:
    for no_data in Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE:
        rule = MetricRule("errors", max=1, no_data=no_data)
        assert judged(rule, Reading()) == (no_data, "errors: no data")
        assert judged(rule, Reading.of(NAN, INF))[0] is Outcome.INCONCLUSIVE


# Every vector of 0-5 series drawn from these values, in every order, against a min and a
# max rule: the oracle is the spec's sentence, computed here without the code under test.
GOOD, BAD = "good", "bad"
POOL = {"min": {GOOD: 0.999, BAD: 0.5}, "max": {GOOD: 0.01, BAD: 0.5}}
KINDS = (GOOD, BAD, "nan", "+inf", "-inf")
RULES = {"min": MetricRule("success-rate", min=0.99), "max": MetricRule("error-rate", max=0.05)}


def value_of(kind: str, bound: str) -> float:
    return {"nan": NAN, "+inf": INF, "-inf": -INF}.get(kind) or POOL[bound][kind]


@pytest.mark.parametrize("bound", ["min", "max"])
@pytest.mark.parametrize("size", range(6))
def test_every_series_is_judged_in_every_order(bound: str, size: int) -> None:
    rule = RULES[bound]
    for kinds in itertools.combinations_with_replacement(KINDS, size):
        series = [Series((("pod", f"p{i}"),), value_of(k, bound)) for i, k in enumerate(kinds)]
        failing = {f'{{pod="p{i}"}}' for i, k in enumerate(kinds) if k == BAD}
        expected = (Outcome.INCONCLUSIVE if size == 0 else Outcome.FAIL if failing
                    else Outcome.PASS if GOOD in kinds else Outcome.INCONCLUSIVE)
        seen = set()
        for order in itertools.permutations(series):
            verdicts = judge_metric(rule, Reading(tuple(order)))
            outcomes = {v.outcome for v in verdicts}
            named = frozenset(v.series for v in verdicts if v.outcome is Outcome.FAIL)
            assert outcomes == {expected}, (kinds, order, verdicts)
            assert named == (failing if expected is Outcome.FAIL else set()), (kinds, verdicts)
            seen.add(tuple(verdicts))
        assert len(seen) == 1, kinds  # the same evidence, whatever the order


def test_the_evidence_names_the_failing_series_by_its_labels() -> None:
    reading = Reading((Series.of({"__name__": "x", "pod": "a"}, 0.5),
                       Series.of({"pod": "b"}, 0.999)))
    assert judged(RULES["min"], reading) == (Outcome.FAIL,
                                             'success-rate{pod="a"}: 0.5 < min 0.99')
    several = Reading(tuple(Series((("pod", f"p{i}"),), 0.1) for i in range(MAX_NAMED + 2)))
    outcome, text = judged(RULES["min"], several)
    assert outcome is Outcome.FAIL and text.endswith("success-rate: and 2 more series fail")
    assert judged(RULES["min"], Reading.of(0.999, NAN, 0.995)) == (
        Outcome.PASS, "success-rate: 2 of 3 series within min 0.99 (0.995 to 0.999); 1 "
                      "without a value")
    quoted = Reading((Series.of({"route": 'a"b'}, 0.5),))
    assert judged(RULES["min"], quoted)[1] == 'success-rate{route="a\\"b"}: 0.5 < min 0.99'


@pytest.mark.parametrize(("reduce", "values", "outcome", "text"), [
    ("avg", (0.5, 1.0, 1.0, 1.0), Outcome.FAIL, "success-rate (avg of 4 series): 0.875 < min"),
    ("avg", (0.98, 1.0, NAN), Outcome.PASS, "0.99 within min 0.99"),
    ("max", (0.5, 0.995), Outcome.PASS, "0.995 within"),
    ("min", (0.5, 0.995, INF), Outcome.FAIL, "(min of 2 series): 0.5 < min"),
    ("sum", (0.5, 0.6), Outcome.PASS, "1.1 within"),
    ("avg", (NAN, -INF), Outcome.INCONCLUSIVE, "no series has a value"),
    ("sum", (), Outcome.INCONCLUSIVE, "no data"),
])
def test_a_metric_may_reduce_its_series_to_one_value(
        reduce: str, values: tuple[float, ...], outcome: Outcome, text: str) -> None:
    rule = MetricRule("success-rate", min=0.99, reduce=reduce)  # type: ignore[arg-type]
    found, said = judged(rule, Reading.of(*values) if values else Reading())
    assert found is outcome and text in said, said


def by_route(**values: float) -> Reading:
    return Reading(tuple(Series((("route", k),), v) for k, v in values.items()))


@pytest.mark.parametrize(("canary", "baseline", "outcome", "text"), [
    # Same label sets: each route against its own baseline.
    (by_route(a=0.02, b=0.01), by_route(a=0.01, b=0.02), Outcome.FAIL,
     'error-rate{route="a"}: 0.02 is 2.00x baseline 0.01'),
    (by_route(a=0.01, b=0.02), by_route(a=0.01, b=0.02), Outcome.PASS, "2 series within"),
    # No match (or a NaN match): against the average of the measured baseline series.
    (by_route(a=0.02, c=0.012), by_route(a=NAN, b=0.01, d=0.01), Outcome.FAIL,
     'error-rate{route="a"}: 0.02 is 2.00x baseline 0.01'),
    (by_route(c=0.012), by_route(a=0.01, b=0.01), Outcome.PASS, "within"),
    (by_route(c=0.012), by_route(a=NAN), Outcome.INCONCLUSIVE, "baseline has no value"),
    (by_route(c=0.012), Reading(), Outcome.INCONCLUSIVE, "baseline has no data"),
])
def test_ratio_to_the_baseline_series_by_series(canary: Reading, baseline: Reading,
                                                outcome: Outcome, text: str) -> None:
    found, said = judged(MetricRule("error-rate", max=0.05, max_ratio=1.25), canary, baseline)
    assert found is outcome and text in said, said


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
    ([E, E, E], [C, C, H]),                   # more than 2 errors in a row: cannot tell
    ([N, N, N], [C, C, H]),                   # more than 2 inconclusives: hold, tell people
    ([X], [H]),                               # a bad query cannot tell, at once
    ([E, N, E, N], [C, C, C, C]),             # errors in a row only
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


def test_only_failures_fail_and_an_outage_never_does() -> None:
    for sequence in itertools.product([E, N, X, P], repeat=4):
        tally = Tally()
        for outcome in sequence:
            tally, decision, _ = decide(tally, [V[outcome]], LIMITS, True)
            assert decision is not Decision.FAIL
    # A measured failure in the same interval as an outage counts.
    assert decide(Tally(), [V[E], V[F], V[X]], Limits(), True)[1] is Decision.FAIL


def test_reasons_say_who_stopped_a_promotion() -> None:
    assert unmeasured("analysis inconclusive at step 1 of 1 (100%), could not read: x")
    assert not unmeasured("analysis failed: error-rate: 0.5 > max 0.05")
    assert stopped_by_analysis("analysis failed: x") and stopped_by_analysis(
        "analysis inconclusive: x")
    assert not stopped_by_analysis("held by bob: waiting") and not stopped_by_analysis(None)


def test_query_templates_are_escaped_for_promql() -> None:
    query = 'sum(rate(x{app="guestbook",version="{tag}"}[1m]))'
    assert render_query(query, {"tag": '1.4.2"} or vector(1) #'}) == (
        'sum(rate(x{app="guestbook",version="1.4.2\\"} or vector(1) #"}[1m]))')
    assert not math.isnan(0.0)
