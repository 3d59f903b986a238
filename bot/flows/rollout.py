"""After the merge: wait for the cluster to run the new version, walk the canary steps with
analysis at every interval, then promote — or revert in git and quarantine the digest."""

from __future__ import annotations

import time

import structlog

from ..adapters.argocd import ArgoCdError
from ..adapters.git import MergeConflict
from ..adapters.store import NewPromotion, Promotion
from ..core import render
from ..core.analysis import (
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
    judge_sync,
    render_query,
)
from ..core.config import Environment
from ..core.machine import State
from ..core.plan import Plan, branch_name
from ..core.policy import next_environments
from ..core.rollout_config import Canary
from ..core.traffic import httproute_weights, replica_split
from ..telemetry import ANALYSIS_SECONDS, STEP_SECONDS, VERDICTS
from .services import Services

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
    """Create the promotions of the environments that follow this one (same digest)."""
    following = [NewPromotion(p.image_key, env.name, p.repository, p.tag, p.digest,
                              p.received_at, None)
                 for env in next_environments(services.config(), p.environment, p.image_key)]
    services.store.ingest([], following)
    services.store.update(p.id, next_at=None)
    log.info("promotion.promoted", id=p.id, env=p.environment,
             next=[n.environment for n in following])


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
                return _fail(services, p, env, [Verdict("sync", Outcome.FAIL,
                                                        f"{synced.detail} after {timeout:g}s")])
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
             verdicts=[f"{v.check}: {v.outcome} ({v.detail})" for v in verdicts])
    p = services.store.update(p.id, tally=tally.__dict__, last_check=now)
    if decision in (Decision.FAIL, Decision.ADVANCE):
        STEP_SECONDS.labels(p.environment, "failed" if decision is Decision.FAIL else "passed"
                            ).observe(now - (p.step_started or now))
    if decision is Decision.FAIL:
        return _fail(services, p, env, blame)
    if decision is Decision.HOLD:
        _tell(services, p, "Analysis is inconclusive; the rollout is held: "
              + "; ".join(f"{v.check}: {v.detail}" for v in blame))
        return services.store.transition(p.id, State.HELD, reason="analysis inconclusive")
    if decision is Decision.ADVANCE:
        # The step's readings are recorded with it, for the page and the forge.
        passed = (f"step {index + 1} of {len(canary.steps)} ({step.weight}%) passed: "
                  + ("; ".join(f"{v.check}: {v.detail}" for v in verdicts) or "no checks"))
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
            return Verdict("sync", Outcome.INCONCLUSIVE, str(exc))
        services.git.sync()
        ours = bool(status.revision and p.merge_sha and
                    services.git.contains(status.revision, p.merge_sha))
        return judge_sync(ours, status.sync, status.phase, status.health)
    check = _canary(env).analysis.health
    if check is None or check.version is None:
        return Verdict("sync", Outcome.PASS, "not checked")
    values = {"tag": p.tag or "", "env": p.environment, "image": p.repository}
    status_code, latency, version, error = services.probe(check.url, check.timeout,
                                                          check.version.json_field)
    verdict = judge_health(status_code, latency, None, version,
                           check.version.equals.format(**values), error)
    return Verdict("sync", verdict.outcome if verdict.outcome is Outcome.PASS
                   else Outcome.INCONCLUSIVE, verdict.detail)


def _measure(services: Services, p: Promotion, env: Environment) -> list[Verdict]:
    analysis = _canary(env).analysis
    values = {"tag": p.tag or "", "env": p.environment, "image": p.repository}
    verdicts = []
    if analysis.health is not None:
        check = analysis.health
        field = check.version.json_field if check.version else None
        status, latency, version, error = services.probe(check.url, check.timeout, field)
        expected = check.version.equals.format(**values) if check.version else None
        verdicts.append(judge_health(status, latency, check.max_latency, version, expected,
                                     error))
    if analysis.metrics:
        assert analysis.prometheus is not None
        prometheus = services.prometheus(analysis.prometheus)
        for metric in analysis.metrics:
            canary = prometheus.query(render_query(metric.query, values))
            baseline: Reading | None = None
            if metric.baseline:
                baseline = prometheus.query(render_query(metric.baseline, values))
            rule = MetricRule(metric.name, metric.max, metric.min, metric.max_ratio,
                              Outcome(metric.on_no_data))
            verdict = judge_metric(rule, canary, baseline)
            if verdict.outcome is not Outcome.PASS:  # evidence names the query it came from
                verdict = Verdict(verdict.check, verdict.outcome,
                                  f"{verdict.detail} [query: {render_query(metric.query, values)}]")
            verdicts.append(verdict)
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
        message = render.step_message(plan, p.id, weight)
        commit = services.git.commit(tip, {traffic.file: new}, message, time.time())
        if _canary(env).step_pull_requests:
            _land_by_pull_request(services, p, env, f"step-{weight}", commit, message)
            return
        if services.git.push(commit, env.branch):
            log.info("rollout.step", id=p.id, env=p.environment, weight=weight, sha=commit)
            return
    raise RuntimeError(f"could not push the {weight}% step to {env.branch}")


def _land_by_pull_request(services: Services, p: Promotion, env: Environment, what: str,
                          commit: str, message: str) -> None:
    """A step or a revert as a change request that merges at once (for branches that take
    no pushes); its record is keyed `<promotion>/<what>`, so a retry finds it."""
    key = f"{p.id}/{what}"
    branch = f"{branch_name(p.image_key, p.environment)}-{what.split('-')[0]}"
    current = services.git.tip(branch)
    if not services.git.push(commit, branch, expect=current, force=True):
        raise RuntimeError(f"could not push {branch}")
    services.forge.propose(key, branch, env.branch, message.split("\n", 1)[0], message,
                           ("hoist", f"env:{p.environment}"))
    sha = services.forge.merge(key, commit, env.branch, message, env.merge_method)
    log.info("rollout.landed", id=p.id, env=p.environment, what=what, sha=sha, via="pr")


def _fail(services: Services, p: Promotion, env: Environment,
          evidence: list[Verdict]) -> Promotion:
    reason = "; ".join(f"{v.check}: {v.detail}" for v in evidence) or "analysis failed"
    log.warning("rollout.failed", id=p.id, env=p.environment, reason=reason)
    if env.on_failure == "hold":
        _tell(services, p, f"Canary analysis failed: {reason}. The rollout is held.")
        return services.store.transition(p.id, State.HELD, reason=f"analysis failed: {reason}")
    p = services.store.transition(p.id, State.REVERTING, reason=f"analysis failed: {reason}")
    return revert(services, p, [f"{v.check}: {v.detail}" for v in evidence] or [reason])


def revert(services: Services, p: Promotion, evidence: list[str]) -> Promotion:
    """REVERTING: revert every commit of the promotion (newest first) on the environment
    branch, push, quarantine the digest. Idempotent: reverts already pushed are found."""
    assert p.plan is not None
    env = services.config().environment(p.environment)
    plan = Plan.from_json(p.plan)
    via_pull_requests = _canary(env).step_pull_requests
    for _ in range(20):
        services.git.sync()
        commits = services.git.promotion_commits(env.branch, p.id)
        already = {render.parse_trailers(services.git.message(c)).get("Hoist-Reverts")
                   for c in commits}
        todo = [c for c in commits if c not in already and not render.parse_trailers(
            services.git.message(c)).get("Hoist-Reverts")]
        if not todo:
            break
        # Through change requests, one revert each (each built on the then current tip).
        batch = todo[:1] if via_pull_requests else todo
        messages = [render.revert_message(plan, p.id, c,
                                          services.git.message(c).split("\n", 1)[0], evidence)
                    for c in batch]
        try:
            head = services.git.revert(env.branch, batch, messages, time.time())
        except MergeConflict as exc:
            _tell(services, p, f"Could not revert automatically: {exc}. Revert by hand.")
            return services.store.transition(p.id, State.HELD, reason=str(exc))
        if via_pull_requests:
            _land_by_pull_request(services, p, env, f"revert-{batch[0][:12]}", head,
                                  messages[0])
        elif services.git.push(head, env.branch):
            log.info("rollout.reverted", id=p.id, env=p.environment, commits=todo, sha=head)
            break
    if p.digest:
        services.store.quarantine(p.repository, p.digest, p.reason or "reverted")
    _tell(services, p, "Reverted in git: " + "; ".join(evidence) +
          (f". Digest `{p.digest}` is quarantined until `/hoist unquarantine`." if p.digest
           else "."))
    return services.store.transition(p.id, State.REVERTED)


def resume_revert(services: Services, p: Promotion) -> Promotion:
    """REVERTING after a restart: finish the revert with the recorded reason."""
    return revert(services, p, [p.reason or "reverting"])


def _tell(services: Services, p: Promotion, text: str) -> None:
    cr = services.store.change_request(p.id)
    if cr is not None and cr.number is not None:
        services.forge.comment(cr.number, text)
