"""What the timeline page shows, read from the store through its public methods: the
environments as lanes in chain order with the image each runs, the promotions newest first,
what waits for whom and the command that releases it, and one promotion's whole story."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..adapters.store import Promotion
from ..core import render
from ..core.analysis import stopped_by_analysis
from ..core.images import readable_version
from ..core.machine import FINAL, State
from ..core.plan import Plan
from ..core.ways import how_to
from ..flows.services import Services

LIST_LIMIT = 50


@dataclass(frozen=True)
class Link:
    label: str
    url: str | None = None


@dataclass(frozen=True)
class Row:
    """One promotion as the list shows it."""

    id: str
    image_key: str
    environment: str
    state: str
    version_from: str | None
    version_to: str
    approved_by: tuple[str, ...]
    reason: str | None
    change_request: Link | None
    commit: Link | None
    updated: str
    updated_iso: str
    release: str | None = None  # what a person does to move it on, when it waits for one
    final: bool = False


@dataclass(frozen=True)
class Lane:
    environment: str
    running: list[tuple[str, str, str]]  # image key, version, promotion id
    moving: list[Row]


@dataclass(frozen=True)
class Step:
    at: str
    at_iso: str
    change: str
    note: str | None


@dataclass
class Detail:
    row: Row
    image: str | None
    digest: str | None
    files: list[str]
    steps: list[Step] = field(default_factory=list)
    canary: list[str] = field(default_factory=list)  # what each passed step measured
    evidence: str | None = None
    quarantined: str | None = None
    rendered: dict[str, Any] | None = None  # the whole rendered diff (core/rendering/model.py)


def _when(at: float) -> tuple[str, str]:
    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC"), moment.isoformat()


def _version(value: str | None) -> str | None:
    return readable_version(value)


def gates(services: Services) -> dict[str, str | None]:
    """Each environment's approval gate in words (None: no gate), in chain order; empty
    when hoist.yaml cannot be read just now (the page still shows the store)."""
    try:
        config = services.config()
    except Exception:
        return {}
    return {env.name: render.gate(env.approval)
            if env.gated else None for env in config.environments}


def _release(p: Promotion, gate: str | None, where: str, quarantined: str | None,
             forge: str) -> str | None:
    """The command that moves a waiting promotion on, in words, the way that works on
    this forge (no comments on the local one: the CLI or the API)."""
    def how(command: str) -> str:
        said = how_to(command, p.id, forge)
        return said.replace("comment `", f"comment on {where} `", 1)

    if p.state is State.PROPOSED and gate:
        return f"Waiting for approval ({gate}): {how('approve')}"
    if p.state is State.HELD and stopped_by_analysis(p.reason):
        return (f"Held by analysis: {how('retry')} to analyse the step again, "
                f"{how('abort')} to revert")
    if p.state is State.HELD:
        return f"Held: {how('resume')} to go on, {how('abort')} to stop"
    if p.state is State.FAILED:
        return f"Failed: {how('retry')} to plan it again"
    if quarantined:
        return f"Digest quarantined: {how('unquarantine')} to allow it again"
    return None


def row(services: Services, p: Promotion, gate: str | None) -> Row:
    """The list entry of a promotion, with its links and what releases it."""
    cr = services.store.change_request(p.id)
    link, commit = None, None
    if cr is not None:
        label = f"#{cr.number}" if cr.number is not None else f"local change request {cr.id}"
        link = Link(label, cr.url)
    sha = p.merge_sha or p.commit_sha
    if sha:
        web = cr.url.split("/pull/")[0] if cr is not None and cr.url and "/pull/" in cr.url \
            else None
        commit = Link(sha[:12], f"{web}/commit/{sha}" if web else None)
    quarantined = _quarantined(services, p) if p.state is State.REVERTED else None
    where = f"pull request {link.label}" if link and cr and cr.number else "its change request"
    plan = Plan.from_json(p.plan) if p.plan else None
    updated, updated_iso = _when(p.updated_at)
    return Row(p.id, p.image_key, p.environment, p.state.value,
               _version(plan.version_from if plan else None),
               _version(plan.version_to if plan else None) or _pushed(p),
               p.approved_by, p.reason, link, commit, updated, updated_iso,
               _release(p, gate, where, quarantined, services.forge.name), p.state in FINAL)


def _pushed(p: Promotion) -> str:
    """What was pushed, before a plan says what moves: the tag (or digest), or for a
    train how many images."""
    if p.train is not None or len(p.members) != 1:
        return f"{len(p.members)} images"
    return p.members[0].tag or (p.members[0].digest or "?")[:19]


def _quarantined(services: Services, p: Promotion) -> str | None:
    """Why a digest of the promotion is quarantined, if one is."""
    return next(filter(None, (services.store.quarantined(m.repository, m.digest)
                              for m in p.members)), None)


def board(services: Services, before: str | None = None
          ) -> tuple[list[Lane], list[Row], str]:
    """The lanes (hoist.yaml's environments in chain order, then any others seen), the
    newest LIST_LIMIT promotions (older than promotion `before`, for a later page), and
    their fingerprint."""
    promotions = services.store.promotions(LIST_LIMIT, before=before)
    gate = gates(services)
    rows = [row(services, p, gate.get(p.environment)) for p in promotions]
    names = list(gate)
    names += [n for n in dict.fromkeys(p.environment for p in reversed(promotions))
              if n not in gate]
    lanes = []
    for name in names:
        running: dict[str, tuple[str, str, str]] = {}
        for p, r in zip(promotions, rows, strict=True):
            if p.environment == name and p.state is State.PROMOTED \
                    and p.image_key not in running:
                running[p.image_key] = (p.image_key, r.version_to, p.id)
        moving = [r for r in rows if r.environment == name and not r.final]
        lanes.append(Lane(name, sorted(running.values()), moving))
    return lanes, rows, _fingerprint(promotions)


def detail(services: Services, pid: str) -> tuple[Detail, str]:
    """One promotion's story (every transition with its note, what each canary step
    measured, the evidence of a revert) and the page's fingerprint. KeyError if unknown."""
    p = services.store.promotion(pid)
    plan = Plan.from_json(p.plan) if p.plan else None
    found = Detail(row(services, p, gates(services).get(p.environment)),
                   ", ".join(m.image for m in plan.images) if plan else None, p.digest,
                   [f.file for f in plan.files] if plan else [])
    for t in services.store.transitions(pid):
        at, at_iso = _when(t["at"])
        source, target = t["from_state"], t["to_state"]
        change = target if source is None else (
            "approved" if source == target == "proposed" else
            "canary step" if source == target else f"{source} → {target}")
        found.steps.append(Step(at, at_iso, change, t["note"]))
        if t["note"] and t["note"].startswith("step ") and " passed: " in t["note"]:
            found.canary.append(t["note"])
    if p.state in (State.REVERTED, State.REVERTING, State.FAILED, State.HELD) and p.reason:
        found.evidence = p.reason
    found.quarantined = _quarantined(services, p)
    found.rendered = services.store.rendered(pid)
    return found, fingerprint(services)


def _fingerprint(promotions: list[Promotion]) -> str:
    parts: list[Any] = [(p.id, p.state.value, p.updated_at, p.step, len(p.approved_by))
                        for p in promotions]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def fingerprint(services: Services) -> str:
    """Changes whenever anything the page shows changes (states, approvals, steps)."""
    return _fingerprint(services.store.promotions(LIST_LIMIT))
