"""manifests-example/ is a complete, working example: its policy uses every major feature, its
Kustomize overlays build, its Helm app renders, its Argo CD Applications point at real paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from bot.core.config import load_config
from tests.support import need

EXAMPLE = Path(__file__).resolve().parent.parent / "manifests-example"
CONFIG = load_config((EXAMPLE / "hoist.yaml").read_text())
ENVS = {e.name: e for e in CONFIG.environments}
APPLICATIONS = [doc for path in sorted((EXAMPLE / "argocd").glob("*.yaml"))
                for doc in yaml.safe_load_all(path.read_text()) if doc["kind"] == "Application"]


def kustomize(overlay: str) -> list[dict[str, Any]]:
    need("kubectl")
    result = subprocess.run(["kubectl", "kustomize", str(EXAMPLE / overlay)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def validate_builtin(objects: list[dict[str, Any]]) -> None:
    """Validate the built-in kinds; CRDs (HTTPRoute) have no schema in kubernetes-validate."""
    for obj in objects:
        group = obj["apiVersion"].rpartition("/")[0]
        if "." not in group or group == "networking.k8s.io":
            kubernetes_validate.validate(obj, "1.30.0", strict=True)


def test_policy_uses_every_major_feature() -> None:
    guestbook, podinfo = CONFIG.images["guestbook"], CONFIG.images["podinfo"]
    assert guestbook.tags.semver and podinfo.tags.regex and guestbook.pin == "tag@digest"
    assert guestbook.platforms and guestbook.coalesce > 0 and guestbook.tags.ignore
    assert ENVS["staging"].after == "dev" and ENVS["staging"].soak > 0
    prod = ENVS["prod"]
    assert prod.approval.required == 2 and prod.approval.teams and prod.approval.reviews
    assert prod.freeze and prod.on_failure == "revert" and ENVS["prod-helm"].on_failure == "hold"
    assert prod.canary and prod.canary.traffic.kind == "httproute" and len(prod.canary.steps) == 3
    analysis = prod.canary.analysis
    assert analysis.health and analysis.health.version
    assert {m.name for m in analysis.metrics if m.baseline and m.max_ratio} == {"p99-latency-vs-stable"}
    assert all(e.sync and e.sync.argocd for e in (ENVS["dev"], ENVS["staging"], prod))


def test_every_target_is_found_and_planned_by_hoist() -> None:
    for image, ref in (("guestbook", "localhost:5000/acme/guestbook:1.4.2"),
                       ("podinfo", "localhost:5000/acme/podinfo:6.8.0")):
        result = subprocess.run([sys.executable, "-m", "bot", "plan", "--config",
                                 str(EXAMPLE / "hoist.yaml"), "--image", ref],
                                cwd=EXAMPLE, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        for env in CONFIG.environments:
            for target in env.targets:
                if target.image == image:
                    assert f"+++ b/{target.file}" in result.stdout, (env.name, target.file)


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "prod-canary"])
def test_kustomize_overlays_build_into_valid_objects(env: str) -> None:
    objects = kustomize(f"apps/guestbook/overlays/{env}")
    validate_builtin(objects)
    images = {c["image"] for o in objects if o["kind"] == "Deployment"
              for c in o["spec"]["template"]["spec"]["containers"]}
    assert images == {"localhost:5000/acme/guestbook:1.0.0"}


def test_canary_route_splits_between_the_stable_and_canary_services() -> None:
    prod = kustomize("apps/guestbook/overlays/prod")
    canary = kustomize("apps/guestbook/overlays/prod-canary")
    (route,) = [o for o in prod if o["kind"] == "HTTPRoute"]
    backends = {b["name"]: b["weight"] for b in route["spec"]["rules"][0]["backendRefs"]}
    traffic = ENVS["prod"].canary.traffic  # type: ignore[union-attr]
    assert backends == {traffic.stable: 100, traffic.canary: 0}
    services = {o["metadata"]["name"] for o in prod + canary if o["kind"] == "Service"}
    assert set(backends) <= services
    assert traffic.file == "apps/guestbook/overlays/prod/route.yaml"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_helm_app_renders_with_each_environment_values(env: str) -> None:
    values = yaml.safe_load((EXAMPLE / f"apps/podinfo/values-{env}.yaml").read_text())
    rendered = helm.Chart.load(EXAMPLE / "apps/podinfo/chart").render(values, name="podinfo",
                                                                        namespace=f"podinfo-{env}")
    objects = [d for text in rendered.values() for d in yaml.safe_load_all(text) if d]
    validate_builtin(objects)
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "localhost:5000/acme/podinfo:6.7.0"


def test_argo_cd_applications_point_at_real_paths_and_match_the_sync_names() -> None:
    names = {a["metadata"]["name"] for a in APPLICATIONS}
    for app in APPLICATIONS:
        source = app["spec"]["source"]
        assert (EXAMPLE / source["path"]).is_dir(), source["path"]
        for values in source.get("helm", {}).get("valueFiles", []):
            assert (EXAMPLE / source["path"] / values).resolve().is_file(), values
    for env in CONFIG.environments:
        if env.sync and env.sync.argocd:
            for image in {t.image for t in env.targets}:
                assert env.sync.argocd.app_for(image, env.name) in names, (env.name, image)


def test_every_target_renders_cleanly_through_hoist(capsys: pytest.CaptureFixture[str]) -> None:
    """`hoist check --render`: each environment's apps render with the real renderers (the
    Kustomize overlays, the Helm chart with each values file) and validate."""
    from bot.cli import main
    from tests.render_repos import need_renderers

    need_renderers()
    assert main(["check", "--config", str(EXAMPLE / "hoist.yaml"), "--render"]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    lines = out.out.splitlines()[1:]
    assert len(lines) == 6 and all(": ok (" in line for line in lines)
    assert ("prod: apps/guestbook/overlays/prod-canary (kustomize apps/guestbook/overlays/"
            "prod-canary): ok (2 objects, Kubernetes 1.37)") in lines
    assert any(line.startswith("dev: apps/podinfo/chart (helm chart apps/podinfo/chart with "
                               "apps/podinfo/values-dev.yaml): ok (2 objects") for line in lines)
