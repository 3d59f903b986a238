"""After the merge: wait for the cluster to run the new version, walk the canary steps with
analysis at every interval, then promote — or revert in git and quarantine the digest."""

from __future__ import annotations

import time
from dataclasses import replace

import structlog

from ..adapters.argocd import ArgoCdError
from ..adapters.store import Promotion
from ..core import render
from ..core.analysis import (
    FAILED_REASON,
    INCONCLUSIVE_REASON,
    Decision,
    Limits,
    Outcome,
    Tally,
    Verdict,
    decide,
    judge_health,
    judge_sync,
    render_query,
    runs_of,
)
from ..core.config import Environment
from ..core.machine import State
from ..core.maturity import push_times
from ..core.plan import Plan
from ..core.policy import next_environments
from ..core.readings import MetricRule, Reading, judge_metric
from ..core.rollout_config import Canary
from ..core.traffic import httproute_weights, replica_split
from ..core.ways import how_to
from ..telemetry import ANALYSIS_SECONDS, STEP_SECONDS, VERDICTS
from .revert import land_by_pull_request, revert, tell
from .services import Services
from .start import start_promotions
from .verify import attest_hop

log = structlog.get_logger()


def start_rollout(services: Services, p: Promotion, now: float | None = None) -> Promotion:
    """MERGED: analyse a canary if the environment has one, else promote at once."""
    now = time.time() if now is None else now
    env = services.config().environment(p.environment)
    if env.canary is None and env.sync is None:
        return promote(services, p, env, now)
    canary = _canary(env)
    p = services.store.transition(p.id, State.ANALYZING, step=0, step_started=None,
                                  last_check=None, tally={})
    _shift_traffic(services, p, env, canary.steps[0].weight)
    log.info("rollout.started", id=p.id, env=p.environment, steps=len(canary.steps))
    return p


def _canary(env: Environment) -> Canary:
    """The environment's canary; waiting for sync alone is a one-step canary with no checks."""
    return env.canary or Canary()


def promote(services: Services, p: Promotion, env: Environment, now: float,
            note: str | None = None) -> Promotion:
    """The environment runs the new image healthily: start what follows, after the soak.
    `note` records what the last canary step measured."""
    if env.soak > 0:
        log.info("promotion.promoted", id=p.id, env=p.environment, soak=env.soak)
        return services.store.transition(p.id, State.PROMOTED, note, next_at=now + env.soak)
    p = services.store.transition(p.id, State.PROMOTED, note)
    start_successors(services, p)
    return p


def start_successors(services: Services, p: Promotion) -> None:
    """Create the promotions of the environments that follow this one: the same set of
    images, with the digests that passed here; Hoist's attestation of this hop first."""
    attest_hop(services, p)
    environments = next_environments(services.config(), p.environment,
                                     [m.image_key for m in p.members])
    start_promotions(services, p.members, environments, p.train, p.received_at, None)
    services.store.update(p.id, next_at=None)
    log.info("promotion.promoted", id=p.id, env=p.environment,
             next=[env.name for env in environments])


def analyze(services: Services, p: Promotion, now: float | None = None) -> Promotion:
    """ANALYZING: one analysis interval, if one is due."""
    now = time.time() if now is None else now
    env = services.config().environment(p.environment)
    canary = _canary(env)
    assert p.step is not None
    index = p.step
    analysis = canary.analysis
    # While waiting for the cluster, look every second at most; then every interval.
    every = min(analysis.interval, 1.0) if p.step_started is None else analysis.interval
    if p.last_check is not None and now - p.last_check < every:
        return p
    if p.step_started is None:  # the step's clock starts when the cluster runs our commit
        synced = _synced(services, p, env)
        if synced.outcome is Outcome.FAIL:
            return _fail(services, p, env, [synced])
        timeout = env.sync.timeout if env.sync else analysis.sync_timeout
        if synced.outcome is not Outcome.PASS:
            if now - p.updated_at > timeout:
                late = Verdict("sync", synced.outcome, f"{synced.detail} after {timeout:g}s")
                if synced.outcome is Outcome.ERROR:  # nothing told us what runs
                    return _cannot_tell(services, p, env, [late])
                return _fail(services, p, env, [replace(late, outcome=Outcome.FAIL)])
            return services.store.update(p.id, last_check=now)
        p = services.store.update(p.id, step_started=now)
    with ANALYSIS_SECONDS.labels(p.environment).time():
        verdicts = _measure(services, p, env)
    for verdict in verdicts:
        VERDICTS.labels(p.environment, verdict.check, verdict.outcome.value).inc()
    assert p.step_started is not None
    if now - p.step_started < analysis.initial_delay:
        return services.store.update(p.id, last_check=now)
    step = canary.steps[index]
    limits = Limits(analysis.successes_to_advance, analysis.failure_limit,
                    analysis.consecutive_error_limit, analysis.inconclusive_limit)
    tally, decision, blame = decide(Tally(**(p.tally or {})), verdicts, limits,
                                    now - p.step_started >= step.bake)
    log.info("rollout.analysis", id=p.id, step=index, decision=decision,
             verdicts=[f"{v.outcome}: {v.text}" for v in verdicts])
    p = services.store.update(p.id, tally=tally.__dict__, last_check=now)
    if decision in (Decision.FAIL, Decision.ADVANCE):
        STEP_SECONDS.labels(p.environment, "failed" if decision is Decision.FAIL else "passed"
                            ).observe(now - (p.step_started or now))
    if decision is Decision.FAIL:
        return _fail(services, p, env, blame)
    if decision is Decision.HOLD:
        return _cannot_tell(services, p, env, blame)
    if decision is Decision.ADVANCE:
        # The step's readings are recorded with it, for the page and the forge.
        passed = (f"step {index + 1} of {len(canary.steps)} ({step.weight}%) passed: "
                  + ("; ".join(v.text for v in verdicts) or "no checks"))
        if index + 1 < len(canary.steps):
            shifting = time.monotonic()
            _shift_traffic(services, p, env, canary.steps[index + 1].weight)
            # The step's bake counts from when its weights were pushed, not from when the
            # push began (a slow git remote must not shorten it).
            live = now + (time.monotonic() - shifting)
            return services.store.transition(p.id, State.ANALYZING, passed, step=index + 1,
                                             step_started=live, last_check=live, tally={})
        return promote(services, p, env, now, passed)
    return p


def _synced(services: Services, p: Promotion, env: Environment) -> Verdict:
    """Argo CD says our commit is synced and healthy, or the health endpoint reports our
    version; with neither configured, the cluster is assumed to follow at once."""
    if env.sync is not None and env.sync.argocd is not None:
        argo = env.sync.argocd
        try:
            status = services.argocd(argo.server).status(argo.app_for(p.image_key, p.environment),
                                                          refresh=p.last_check is None)
        except ArgoCdError as exc:
            return Verdict("sync", Outcome.ERROR, str(exc))
        services.git.sync()
        ours = bool(status.revision and p.merge_sha and
                    services.git.contains(status.revision, p.merge_sha))
        return judge_sync(ours, status.sync, status.phase, status.health)
    check = _canary(env).analysis.health
    if check is None or check.version is None:
        return Verdict("sync", Outcome.PASS, "not checked")
    status_code, latency, version, error = services.probe(check.url, check.timeout,
                                                          check.version.json_field)
    verdict = judge_health(status_code, latency, None, version,
                           _expected(check.version.equals, _values(p), version), error)
    return Verdict("sync", verdict.outcome if verdict.outcome in (Outcome.PASS, Outcome.ERROR)
                   else Outcome.INCONCLUSIVE, verdict.detail)


def _values(p: Promotion) -> list[dict[str, str]]:
    """What `{tag}`, `{env}` and `{image}` mean, for each image of the promotion."""
    return [{"tag": m.tag or "", "env": p.environment, "image": m.repository}
            for m in p.members]


def _expected(template: str, values: list[dict[str, str]], reported: str | None) -> str:
    """The version the health endpoint should report: the template filled in; for a train,
    whichever member's matches what was reported (one endpoint reports one version)."""
    wanted = [template.format(**v) for v in runs_of([template], values)]
    return reported if reported in wanted else wanted[0]


def _measure(services: Services, p: Promotion, env: Environment) -> list[Verdict]:
    """One reading of every check; a query naming `{image}` or `{tag}` runs once per image
    of the promotion, its verdict named after the image when there are several."""
    analysis = _canary(env).analysis
    values = _values(p)
    verdicts = []
    if analysis.health is not None:
        check = analysis.health
        field = check.version.json_field if check.version else None
        status, latency, version, error = services.probe(check.url, check.timeout, field)
        expected = _expected(check.version.equals, values, version) if check.version else None
        verdicts.append(judge_health(status, latency, check.max_latency, version, expected,
                                     error))
    if analysis.metrics:
        assert analysis.prometheus is not None
        prometheus = services.prometheus(analysis.prometheus)
        for metric in analysis.metrics:
            runs = runs_of([metric.query, metric.baseline], values)
            for member, run in zip(p.members, runs, strict=False):
                query = render_query(metric.query, run)
                canary = prometheus.query(query)
                baseline: Reading | None = None
                if metric.baseline:
                    baseline = prometheus.query(render_query(metric.baseline, run))
                name = f"{metric.name} ({member.image_key})" if len(runs) > 1 else metric.name
                rule = MetricRule(name, metric.max, metric.min, metric.max_ratio,
                                  Outcome(metric.when_no_data), metric.reduce)
                judged = judge_metric(rule, canary, baseline)
                if judged[0].outcome is not Outcome.PASS:  # evidence names its query, once
                    judged[0] = replace(judged[0], detail=f"{judged[0].detail} [query: {query}]")
                verdicts += judged
    return verdicts


def _shift_traffic(services: Services, p: Promotion, env: Environment, weight: int) -> None:
    """Commit the step's weights (HTTPRoute) on the environment branch, Hoist-Step trailer."""
    assert p.plan is not None
    traffic = _canary(env).traffic
    if traffic.kind == "none":
        return
    assert traffic.file and traffic.stable and traffic.canary
    plan = Plan.from_json(p.plan)
    for _ in range(5):  # someone else may push between our fetch and our push
        services.git.sync()
        tip = services.git.tip(env.branch)
        assert tip is not None
        text = services.git.read(tip, traffic.file)
        if text is None:
            raise RuntimeError(f"{traffic.file}: not found for the canary's traffic")
        new = httproute_weights(text, traffic.stable, traffic.canary, weight) \
            if traffic.kind == "httproute" else \
            replica_split(text, traffic.stable, traffic.canary, traffic.replicas, weight)
        if new == text:
            return
        message = render.step_message(plan, p.id, weight, push_times(plan, p.members, p.received_at))
        commit = services.git.commit(tip, {traffic.file: new}, message, time.time())
        if _canary(env).step_pull_requests:
            land_by_pull_request(services, p, env, f"step-{weight}", commit, message)
            return
        if services.git.push(commit, env.branch):
            log.info("rollout.step", id=p.id, env=p.environment, weight=weight, sha=commit)
            return
    raise RuntimeError(f"could not push the {weight}% step to {env.branch}")


def _fail(services: Services, p: Promotion, env: Environment,
          evidence: list[Verdict]) -> Promotion:
    """Readings showed the image bad: revert in git and quarantine its digest (or hold)."""
    reason = "; ".join(v.text for v in evidence) or "analysis failed"
    log.warning("rollout.failed", id=p.id, env=p.environment, reason=reason)
    if env.on_failure == "hold":
        tell(services, p, f"Canary analysis failed: {reason}. The rollout is held: "
             f"{_retry_or_abort(services, p)}.")
        return services.store.transition(p.id, State.HELD, reason=f"{FAILED_REASON}: {reason}")
    p = services.store.transition(p.id, State.REVERTING, reason=f"{FAILED_REASON}: {reason}")
    return revert(services, p, [v.text for v in evidence] or [reason])


def _cannot_tell(services: Services, p: Promotion, env: Environment,
                 evidence: list[Verdict]) -> Promotion:
    """Analysis cannot tell (the metric source or health endpoint is down, no data, a wrong
    query): hold at the step and say how to go on; or, with `on_inconclusive: revert`,
    revert in git without quarantining (no reading showed the image bad)."""
    what = "; ".join(v.text for v in evidence) or "no reading"
    steps = _canary(env).steps
    index = min(p.step or 0, len(steps) - 1)
    at = f"step {index + 1} of {len(steps)} ({steps[index].weight}%)"
    log.warning("rollout.inconclusive", id=p.id, env=p.environment, step=index, reason=what,
                then=env.on_inconclusive)
    if env.on_inconclusive == "revert":
        reason = (f"{INCONCLUSIVE_REASON} at {at}, could not read: {what}; reverted without "
                  "quarantine: no reading showed the image bad")
        p = services.store.transition(p.id, State.REVERTING, reason=reason)
        return revert(services, p, [v.text for v in evidence] or [what], quarantine=False)
    reason = (f"{INCONCLUSIVE_REASON} at {at}, could not read: {what}. Held: "
              f"{_retry_or_abort(services, p)}")
    tell(services, p, f"Analysis could not tell whether the new version is healthy; the "
         f"rollout is held at {at}. Could not read: {what}. Nothing is quarantined. "
         f"{_retry_or_abort(services, p).capitalize()}.")
    return services.store.transition(p.id, State.HELD, note=f"held at {at}", reason=reason)


def resume_analysis(services: Services, p: Promotion, user: str) -> Promotion:
    """HELD by analysis: analyse the held step again with a fresh tally and a fresh bake
    (the step's clock starts once the cluster runs our commit again), reading hoist.yaml
    afresh (a person may just have fixed the Prometheus URL or a query)."""
    services.git.sync()
    log.info("rollout.resumed", id=p.id, env=p.environment, step=p.step, by=user)
    return services.store.transition(p.id, State.ANALYZING, note=f"retried by {user}",
                                     reason=None, tally={}, last_check=None, step_started=None)


def _retry_or_abort(services: Services, p: Promotion) -> str:
    """What a person does with a rollout analysis held, the way the forge allows."""
    forge = services.forge.name
    return (f"{how_to('retry', p.id, forge)} to analyse this step again with a fresh count, "
            f"or {how_to('abort', p.id, forge).removeprefix('comment ')} to revert")
