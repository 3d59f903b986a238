import pytest

from bot.core.manifests import ManifestError
from bot.core.traffic import httproute_weights

ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: guestbook
spec:
  parentRefs: [{name: public}]
  rules:
    - backendRefs:
        - name: guestbook-stable
          port: 80
          weight: 100   # stable
        - name: guestbook-canary
          port: 80
          weight: 0
"""


def test_weights_move_and_nothing_else() -> None:
    out = httproute_weights(ROUTE, "guestbook-stable", "guestbook-canary", 10)
    assert out == ROUTE.replace("weight: 100   #", "weight: 90   #").replace(
        "weight: 0\n", "weight: 10\n")
    assert httproute_weights(out, "guestbook-stable", "guestbook-canary", 0) == ROUTE


def test_missing_backends_or_weights_are_refused() -> None:
    with pytest.raises(ManifestError, match="no HTTPRoute rule"):
        httproute_weights(ROUTE, "a", "b", 10)
    with pytest.raises(ManifestError, match="has no weight"):
        httproute_weights(ROUTE.replace("          weight: 0\n", ""), "guestbook-stable",
                          "guestbook-canary", 10)
    with pytest.raises(ManifestError, match="between 0 and 100"):
        httproute_weights(ROUTE, "guestbook-stable", "guestbook-canary", 101)


DEPLOYMENTS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: guestbook-stable}
spec:
  replicas: 10
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: guestbook-canary}
spec:
  replicas: 0  # set by Hoist
"""


def test_replica_split() -> None:
    from bot.core.traffic import replica_split

    out = replica_split(DEPLOYMENTS, "guestbook-stable", "guestbook-canary", 10, 25)
    assert out == DEPLOYMENTS.replace("replicas: 10", "replicas: 7").replace(
        "replicas: 0  #", "replicas: 3  #")
    assert replica_split(out, "guestbook-stable", "guestbook-canary", 10, 0) == DEPLOYMENTS
    one = replica_split(DEPLOYMENTS, "guestbook-stable", "guestbook-canary", 10, 1)
    assert "replicas: 1  #" in one  # at least one canary pod once traffic is shifted
    with pytest.raises(ManifestError, match="needs both"):
        replica_split(DEPLOYMENTS, "guestbook-stable", "other", 10, 50)
