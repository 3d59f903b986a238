"""Traffic writers (pure): the file edits that send a canary step's share of traffic."""

from __future__ import annotations

import math

from .manifests.nodes import ManifestError, Node, Path, compose, get, scalar
from .manifests.verify import Expected, verify_edit

INT = "tag:yaml.org,2002:int"


def _splice_and_verify(text: str, docs: list[Node], splices: list[tuple[int, int, str]],
                       expected: dict[tuple[int, Path], Expected]) -> str:
    """Replace the spans (back to front) and prove only the expected values changed."""
    out = text
    for start, end, value in sorted(splices, reverse=True):
        out = out[:start] + value + out[end:]
    verify_edit(docs, out, expected)
    return out


def httproute_weights(text: str, stable: str, canary: str, weight: int) -> str:
    """Set the Gateway API HTTPRoute backendRefs weights: `canary` gets `weight`, `stable`
    the rest; every rule that names both is changed, nothing else."""
    if not 0 <= weight <= 100:
        raise ManifestError(f"weight {weight} is not between 0 and 100")
    docs = compose(text)
    splices: list[tuple[int, int, str]] = []
    expected: dict[tuple[int, Path], Expected] = {}
    for d, root in enumerate(docs):
        kind = scalar(get(root, "kind"), text)
        if kind is None or kind.value != "HTTPRoute":
            continue
        rules = get(get(root, "spec"), "rules")
        for r, rule in enumerate(getattr(rules, "value", [])):
            refs = get(rule, "backendRefs")
            named = {}
            for b, ref in enumerate(getattr(refs, "value", [])):
                name = scalar(get(ref, "name"), text)
                if name is not None and name.value in (stable, canary):
                    named[name.value] = (b, ref)
            if set(named) != {stable, canary}:
                continue
            for backend, share in ((canary, weight), (stable, 100 - weight)):
                b, ref = named[backend]
                current = scalar(get(ref, "weight"), text)
                if current is None:
                    raise ManifestError(f"backendRef {backend} of rule {r} has no weight to set")
                splices.append((current.start, current.end, str(share)))
                path = ("spec", "rules", r, "backendRefs", b, "weight")
                expected[(d, path)] = (INT, str(share))
    if not splices:
        raise ManifestError(f"no HTTPRoute rule has backendRefs {stable!r} and {canary!r}")
    return _splice_and_verify(text, docs, splices, expected)





def replica_split(text: str, stable: str, canary: str, total: int, weight: int) -> str:
    """Split `total` replicas between the stable and canary Deployments in the file by
    `weight` percent (the canary's share rounded up)."""
    if not 0 <= weight <= 100:
        raise ManifestError(f"weight {weight} is not between 0 and 100")
    canary_pods = math.ceil(total * weight / 100)  # rounds up: 1% still gets a pod
    wanted = {canary: canary_pods, stable: total - canary_pods}
    docs = compose(text)
    splices: list[tuple[int, int, str]] = []
    expected: dict[tuple[int, Path], Expected] = {}
    for d, root in enumerate(docs):
        kind = scalar(get(root, "kind"), text)
        name = scalar(get(get(root, "metadata"), "name"), text)
        if kind is None or kind.value != "Deployment" or name is None or \
                name.value not in wanted:
            continue
        replicas = scalar(get(get(root, "spec"), "replicas"), text)
        if replicas is None:
            raise ManifestError(f"Deployment {name.value} has no spec.replicas to set")
        splices.append((replicas.start, replicas.end, str(wanted[name.value])))
        expected[(d, ("spec", "replicas"))] = (INT, str(wanted[name.value]))
    if len(splices) != 2:
        raise ManifestError(f"the file needs both Deployments {stable!r} and {canary!r}")
    return _splice_and_verify(text, docs, splices, expected)
