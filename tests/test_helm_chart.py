"""The Helm chart, rendered by the Helm SDK, linted, and validated against Kubernetes schemas."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

CHART = Path(__file__).resolve().parent.parent / "helm" / "hoist"
VALUE_SETS = sorted((CHART / "ci").glob("*-values.yaml"))
KUBERNETES = "1.30.0"


def values(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def render_all(given: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object the chart renders."""
    manifests = helm.Chart.load(CHART).render(given, name="hoist", namespace="ops", is_install=True)
    return [doc for path, text in manifests.items() if path.endswith(".yaml")
            for doc in yaml.safe_load_all(text) if doc]


def render(given: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The chart's objects as {kind: object} (one of each kind here)."""
    objects: dict[str, dict[str, Any]] = {}
    for doc in render_all(given):
        assert doc["kind"] not in objects, f"two {doc['kind']} objects"
        objects[doc["kind"]] = doc
    return objects


def test_there_are_several_value_sets() -> None:
    assert len(VALUE_SETS) >= 5


@pytest.mark.parametrize("path", VALUE_SETS, ids=lambda p: p.stem)
def test_every_value_set_lints_strictly(path: Path) -> None:
    report = helm.lint(CHART, values(path), strict=True, kube_version=f"v{KUBERNETES}")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == []


@pytest.mark.parametrize("path", VALUE_SETS, ids=lambda p: p.stem)
def test_every_rendered_object_is_valid_kubernetes(path: Path) -> None:
    for obj in render_all(values(path)):
        kind = obj["kind"]
        if kind == "ServiceMonitor":  # a CRD: kubernetes-validate knows only built-in kinds
            assert obj["apiVersion"] == "monitoring.coreos.com/v1"
            continue
        kubernetes_validate.validate(obj, KUBERNETES, strict=True)


@pytest.mark.parametrize("path", VALUE_SETS, ids=lambda p: p.stem)
def test_the_pod_is_locked_down(path: Path) -> None:
    for deployment in [o for o in render_all(values(path)) if o["kind"] == "Deployment"]:
        _locked_down(deployment["spec"]["template"]["spec"])


def _locked_down(pod: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/var/lib/hoist", "/tmp"} <= mounts  # the only writable places
    assert container["resources"]["limits"]["memory"]


def test_minimal_install_keeps_the_store_on_a_volume_and_secrets_in_a_secret() -> None:
    objects = render(values(CHART / "ci" / "minimal-values.yaml"))
    assert {"Deployment", "Service", "ServiceAccount", "ConfigMap", "Secret",
            "PersistentVolumeClaim", "PodDisruptionBudget"} <= objects.keys()
    assert "Ingress" not in objects and "ServiceMonitor" not in objects
    assert objects["Secret"]["stringData"] == {"HOIST_WEBHOOK_SECRET": "change-me"}
    config = objects["ConfigMap"]["data"]
    assert config["HOIST_MANIFESTS_REPO"] == "https://git.example.com/acme/manifests.git"
    assert "change-me" not in yaml.safe_dump(config)  # secrets stay out of the ConfigMap
    volumes = objects["Deployment"]["spec"]["template"]["spec"]["volumes"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "hoist"}} in volumes
    assert objects["Deployment"]["spec"]["strategy"] == {"type": "Recreate"}


def test_existing_secret_is_used_instead_of_rendering_one() -> None:
    objects = render(values(CHART / "ci" / "github-app-values.yaml"))
    assert "Secret" not in objects
    container = objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert {"secretRef": {"name": "hoist-credentials"}} in container["envFrom"]
    assert container["image"].endswith("hoist:0.1.0@sha256:" + "0" * 64)
    assert objects["ConfigMap"]["data"]["HOIST_GITHUB_APP_ID"] == "123456"


def test_gitlab_install_names_the_forge_and_keeps_its_token_secret() -> None:
    objects = render(values(CHART / "ci" / "gitlab-values.yaml"))
    config = objects["ConfigMap"]["data"]
    assert (config["HOIST_FORGE"], config["HOIST_GITLAB_URL"], config["HOIST_GITLAB_PROJECT"]) \
        == ("gitlab", "https://gitlab.example.com", "platform/deploy/manifests")
    assert "HOIST_GITEA_URL" not in config
    assert objects["Secret"]["stringData"] == {
        "HOIST_WEBHOOK_SECRET": "change-me", "HOIST_GITLAB_TOKEN": "glpat-change-me",
        "HOIST_GITLAB_WEBHOOK_SECRET": "change-me-too"}


def test_full_install_renders_ingress_service_monitor_and_mounted_config() -> None:
    objects = render(values(CHART / "ci" / "full-values.yaml"))
    assert objects["Ingress"]["spec"]["rules"][0]["host"] == "hoist.example.com"
    assert objects["ServiceMonitor"]["spec"]["endpoints"][0]["path"] == "/metrics"
    assert "PersistentVolumeClaim" not in objects and "ServiceAccount" not in objects
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert "--config=/etc/hoist/hoist.yaml" in pod["containers"][0]["args"]
    hoist_yaml = yaml.safe_load(objects["ConfigMap"]["data"]["hoist.yaml"])
    assert hoist_yaml["environments"][0]["name"] == "dev"


@pytest.mark.parametrize(("given", "reason"), [
    ({"secrets": {"webhookSecret": "s"}}, "config.manifestsRepo is required"),
    ({"config": {"manifestsRepo": "https://x/y.git"}}, "webhookSecret (or existingSecret) is required"),
])
def test_missing_required_settings_fail_with_a_reason(given: dict[str, Any], reason: str) -> None:
    with pytest.raises(helm.HelmError, match=re.escape(reason)):
        render(given)


@pytest.mark.parametrize("wrong", [
    {"replicaCount": 2},  # SQLite has one writer
    {"roles": {"split": True}},
    {"database": {"url": "mysql://root@db/hoist"}},
    {"securityContext": {"readOnlyRootFilesystem": False}},
    {"config": {"manifestsRepo": "x", "extraEnv": {"PATH": "/tmp"}}},
    {"config": {"manifestsRepo": "x", "logFormat": "xml"}},
    {"unknownKey": True},
])
def test_values_schema_refuses_unsafe_or_unknown_values(wrong: dict[str, Any]) -> None:
    given = {"secrets": {"webhookSecret": "s"}, "config": {"manifestsRepo": "x"}} | wrong
    with pytest.raises(helm.HelmError):
        helm.Chart.load(CHART).validate_schema(given)


def test_several_replicas_on_postgresql_need_no_volume_and_roll() -> None:
    objects = render(values(CHART / "ci" / "postgres-values.yaml"))
    assert "PersistentVolumeClaim" not in objects
    deployment = objects["Deployment"]["spec"]
    assert deployment["replicas"] == 3 and deployment["strategy"] == {"type": "RollingUpdate"}
    pod = deployment["template"]["spec"]
    assert {"name": "data", "emptyDir": {}} in pod["volumes"]  # the git cache only
    (container,) = pod["containers"]
    assert {"name": "HOIST_DATABASE_URL", "valueFrom": {"secretKeyRef": {
        "name": "hoist-database", "key": "url"}}} in container["env"]
    assert objects["ConfigMap"]["data"]["HOIST_WORKERS"] == "8"
    assert objects["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1


def test_split_roles_get_a_deployment_each_and_the_service_reaches_web_only() -> None:
    objects = render_all(values(CHART / "ci" / "split-roles-values.yaml"))
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    web, worker = by_name[("Deployment", "hoist-web")], by_name[("Deployment", "hoist-worker")]
    assert (web["spec"]["replicas"], worker["spec"]["replicas"]) == (2, 3)
    assert "--role=web" in web["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--role=worker" in worker["spec"]["template"]["spec"]["containers"][0]["args"]
    assert by_name[("Service", "hoist")]["spec"]["selector"][
        "app.kubernetes.io/component"] == "web"
    secret = by_name[("Secret", "hoist-database")]["stringData"]["url"]
    assert secret.startswith("postgresql://")
    assert "change-me@" not in yaml.safe_dump(by_name[("ConfigMap", "hoist")])
    assert {("PodDisruptionBudget", "hoist-web"), ("PodDisruptionBudget", "hoist-worker")} \
        <= by_name.keys()


def test_projects_come_from_values_or_an_existing_config_map_and_their_tokens_stay_secret(
        ) -> None:
    from bot.core.projects import load_projects

    objects = render(values(CHART / "ci" / "projects-values.yaml"))
    config = objects["ConfigMap"]["data"]
    assert config["HOIST_PROJECTS"] == "/etc/hoist/projects/projects.yaml"
    assert "HOIST_MANIFESTS_REPO" not in config
    assert load_projects(config["projects.yaml"]).names == ["shop", "payments"]  # valid
    assert "change-me" not in yaml.safe_dump(config)
    assert objects["Secret"]["stringData"]["SHOP_GITHUB_TOKEN"] == "ghp_change-me"
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert {"name": "projects", "configMap": {"name": "hoist", "items": [
        {"key": "projects.yaml", "path": "projects.yaml"}]}} in pod["volumes"]
    mounts = pod["containers"][0]["volumeMounts"]
    assert {"name": "projects", "mountPath": "/etc/hoist/projects", "readOnly": True} in mounts
    # A ConfigMap (or Secret) the operator manages instead.
    given = {"projects": {"existingSecret": "org-projects", "key": "all.yaml"},
             "secrets": {"webhookSecret": "s"}}
    pod = render(given)["Deployment"]["spec"]["template"]["spec"]
    assert {"name": "projects", "secret": {"secretName": "org-projects", "items": [
        {"key": "all.yaml", "path": "projects.yaml"}]}} in pod["volumes"]


def test_a_projects_entry_with_an_inline_token_is_refused_by_the_chart() -> None:
    given = {"projects": {"list": [{"name": "a", "repo": "https://x/a.git",
                                    "forge": {"kind": "github", "token": "ghp_x"}}]},
             "secrets": {"webhookSecret": "s"}}
    with pytest.raises(Exception, match=r"/projects/list/0/forge': 'not' failed"):
        render(given)


def test_sign_in_settings_land_in_the_config_map_and_the_client_secret_in_the_secret() -> None:
    objects = render(values(CHART / "ci" / "signin-values.yaml"))
    config = objects["ConfigMap"]["data"]
    assert (config["HOIST_SIGNIN"], config["HOIST_PUBLIC_URL"], config["HOIST_OAUTH_CLIENT_ID"],
            config["HOIST_OAUTH_URL"], config["HOIST_OIDC_APPROVERS"]) == (
        "oidc", "https://hoist.example.com", "hoist", "https://sso.example.com/realms/acme",
        "ops release-managers")
    assert "oauth-change-me" not in str(config)
    assert objects["Secret"]["stringData"]["HOIST_OAUTH_CLIENT_SECRET"] == "oauth-change-me"
    given = values(CHART / "ci" / "signin-values.yaml")
    given["config"]["extraEnv"] = {"HOIST_PUBLIC_URL": "https://hoist.example.com"}
    texts = helm.Chart.load(CHART).render(given, name="hoist", namespace="ops", is_install=True)
    assert sum(t.count("HOIST_PUBLIC_URL:") for t in texts.values()) == 1  # never twice
    with pytest.raises(helm.HelmError, match=re.escape("signin.publicUrl is required")):
        render(values(CHART / "ci" / "signin-values.yaml") | {"signin": {"provider": "github"}})
    with pytest.raises(helm.HelmError):  # a session cookie never crosses the network in clear
        helm.Chart.load(CHART).validate_schema(values(CHART / "ci" / "minimal-values.yaml") | {
            "signin": {"provider": "github", "publicUrl": "http://hoist.example.com"}})
