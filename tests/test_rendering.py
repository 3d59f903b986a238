"""The rendered diff and the schema check (issue 26), through the real renderers (`kubectl
kustomize`/`kustomize build`, the Helm SDK) and the Kubernetes schemas (kubernetes-validate):
what each kind of app renders, what the change request says, and what is held."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.machine import State
from bot.core.notices import Kind, Notice
from bot.flows.services import Services
from tests.render_repos import (
    APPLICATION,
    CHART,
    DEPLOYMENT,
    KUSTOMIZE,
    need_renderers,
    policy,
    promote,
    rendering_services,
)

OVERLAY = "apps/web/overlays/prod/kustomization.yaml"


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Any]:
    made: list[Services] = []

    def build(files: dict[str, str]) -> Services:
        need_renderers()
        services = rendering_services(tmp_path / f"r{len(made)}", files)
        made.append(services)
        return services

    yield build
    for services in made:
        services.store.close()


def body_of(services: Services, pid: str) -> str:
    cr = services.store.change_request(pid)
    assert cr is not None
    return cr.body


def rendered(services: Services, pid: str) -> dict[str, Any]:
    data = services.store.rendered(pid)
    assert data is not None
    return data


def test_a_kustomize_overlay_shows_only_the_image_moving(make: Any) -> None:
    services = make({**KUSTOMIZE, "hoist.yaml": policy(OVERLAY)})
    p = promote(services)
    assert p.state == State.PROPOSED
    [app] = rendered(services, p.id)["apps"]
    assert app["renderer"] == "kustomize apps/web/overlays/prod"
    [change] = app["changes"]
    assert change["object"] == "Deployment/prod/web" and change["change"] == "image"
    assert "-      - image: localhost:5000/acme/app:1.0.0\n" in change["diff"]
    assert "+      - image: localhost:5000/acme/app:1.4.2\n" in change["diff"]
    body = body_of(services, p.id)
    assert "### Rendered changes" in body
    assert "Only the image reference changes, in `Deployment/prod/web`." in body
    assert "<details>" not in body  # the reassuring case is one line


def test_a_helm_chart_with_a_values_file_renders_the_chart_with_it(make: Any) -> None:
    services = make({**CHART, "hoist.yaml": policy("charts/shop/values-prod.yaml")})
    p = promote(services)
    assert p.state == State.PROPOSED
    [app] = rendered(services, p.id)["apps"]
    assert app["renderer"] == "helm chart charts/shop with charts/shop/values-prod.yaml"
    [change] = app["changes"]
    assert change["object"] == "Deployment/default/shop" and change["change"] == "image"
    assert '+      - image: localhost:5000/acme/app:1.4.2\n' in change["diff"]
    assert "Only the image reference changes, in `Deployment/default/shop`." in body_of(services, p.id)


def test_an_argo_cd_application_renders_its_chart_with_its_values_object(make: Any) -> None:
    files = {**CHART, "argocd/shop-prod.yaml": APPLICATION,
             "hoist.yaml": policy("argocd/shop-prod.yaml")}
    services = make(files)
    p = promote(services)
    assert p.state == State.PROPOSED
    [app] = rendered(services, p.id)["apps"]
    assert app["renderer"] == "helm chart charts/shop with argocd/shop-prod.yaml"
    [change] = app["changes"]
    # The Application's release name and destination namespace, as Argo CD renders it.
    assert change["object"] == "Deployment/shop-prod/shop-prod"
    assert "-      - image: localhost:5000/acme/app:1.0.0\n" in change["diff"]
    assert "+      - image: localhost:5000/acme/app:1.4.2\n" in change["diff"]


def test_a_value_the_chart_does_not_read_is_held_with_the_reason(make: Any) -> None:
    ignoring = CHART["charts/shop/templates/deployment.yaml"].replace(
        "{{ .Values.image.tag }}", "{{ .Chart.AppVersion }}")
    files = {**CHART, "charts/shop/templates/deployment.yaml": ignoring,
             "hoist.yaml": policy("charts/shop/values-prod.yaml")}
    services = make(files)
    p = promote(services)
    assert p.state == State.HELD
    assert p.reason is not None and p.reason.startswith("rendered: charts/shop: the rendered "
                                                        "objects change no image of")
    assert "does not read the changed value" in p.reason
    assert services.store.change_request(p.id) is None  # not proposed
    assert rendered(services, p.id)["apps"][0]["changes"] == []


def test_a_broken_overlay_is_held_with_kustomizes_words(make: Any) -> None:
    broken = KUSTOMIZE[OVERLAY] + "patches:\n  - path: replicas.yaml\n"
    services = make({**KUSTOMIZE, OVERLAY: broken, "hoist.yaml": policy(OVERLAY)})
    notices: list[Notice] = []
    services.notify = notices.append
    p = promote(services)
    assert p.state == State.HELD
    assert p.reason is not None and p.reason.startswith("rendered: kustomize apps/web/overlays/prod:")
    [held] = [n for n in notices if n.kind is Kind.HELD]  # the notification says why
    assert held.why == p.reason
    assert "replicas.yaml" in p.reason  # the missing file, named
    assert str(services.git.path.parent) not in p.reason  # paths relative to the repository


def test_a_render_directory_that_does_not_exist_holds_naming_it(make: Any) -> None:
    services = make({**KUSTOMIZE, "hoist.yaml": policy(OVERLAY, ", render: {kustomize: apps/nope}")})
    p = promote(services)
    assert p.state == State.HELD  # held once, with the fix named; not retried for ever
    assert p.reason is not None and "no directory apps/nope in the manifests repository" in \
        p.reason and "render:" in p.reason


def test_an_invalid_object_is_held_naming_object_and_field(make: Any) -> None:
    files = {**KUSTOMIZE, "apps/web/base/deployment.yaml": DEPLOYMENT.replace("{port}", '"http"'),
             "hoist.yaml": policy(OVERLAY, kubernetes="1.31")}
    services = make(files)
    p = promote(services)
    assert p.state == State.HELD
    assert p.reason is not None
    assert "Deployment/prod/web is invalid against Kubernetes 1.31" in p.reason
    assert "spec.template.spec.containers.0.ports.0.containerPort" in p.reason


def test_custom_resources_are_skipped_and_said_so(make: Any) -> None:
    monitor = ("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n"
               "  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n"
               "  endpoints: [{port: http}]\n")
    files = {**KUSTOMIZE, "apps/web/base/monitor.yaml": monitor,
             "apps/web/base/kustomization.yaml": "resources:\n  - deployment.yaml\n  - monitor.yaml\n",
             "hoist.yaml": policy(OVERLAY)}
    services = make(files)
    p = promote(services)
    assert p.state == State.PROPOSED
    assert rendered(services, p.id)["apps"][0]["skipped"] == ["ServiceMonitor/prod/web"]
    assert ("Not checked against a schema (custom resources the schemas do not know): "
            "`ServiceMonitor/prod/web`.") in body_of(services, p.id)


def test_other_objects_changing_are_held_unless_the_target_allows_it(make: Any) -> None:
    notes = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
             "data:\n  release: \"built for {{ .Values.image.tag }} by CI\"\n")
    files = {**CHART, "charts/shop/templates/notes.yaml": notes,
             "hoist.yaml": policy("charts/shop/values-prod.yaml")}
    services = make(files)
    p = promote(services)
    assert p.state == State.HELD
    assert p.reason is not None and "ConfigMap/notes" in p.reason
    assert "allow_other_changes" in p.reason
    allowed = make({**files, "hoist.yaml": policy("charts/shop/values-prod.yaml",
                                                  ", render: {allow_other_changes: true}")})
    q = promote(allowed)
    assert q.state == State.PROPOSED
    body = body_of(allowed, q.id)
    assert "| `ConfigMap/notes` | changed |" in body and "| `Deployment/default/shop` | image |" in body
    assert '<details><summary>ConfigMap/notes (changed)</summary>' in body
    assert '+  release: built for 1.4.2 by CI' in body


def test_render_none_turns_rendering_off_for_the_target(make: Any) -> None:
    broken = KUSTOMIZE[OVERLAY] + "patches:\n  - path: replicas.yaml\n"
    services = make({**KUSTOMIZE, OVERLAY: broken,
                     "hoist.yaml": policy(OVERLAY, ", render: none")})
    p = promote(services)
    assert p.state == State.PROPOSED
    assert services.store.rendered(p.id) is None
    assert "Rendered changes" not in body_of(services, p.id)


def many_notes(count: int) -> str:
    """A chart template of `count` ConfigMaps that each quote the tag in a long note."""
    return "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-{i:03d}\ndata:\n"
        f"  note: \"{'release notes line ' * 12}for {{{{ .Values.image.tag }}}}\"\n"
        for i in range(count))


LONG = {**CHART, "charts/shop/templates/notes.yaml": many_notes(200),
        "hoist.yaml": policy("charts/shop/values-prod.yaml", ", render: {allow_other_changes: true}")}


def test_a_diff_longer_than_the_body_limit_is_cut_with_a_link_to_the_page(make: Any) -> None:
    services = make(LONG)
    services.public_url = "https://hoist.example.com"
    p = promote(services)
    assert p.state == State.PROPOSED
    body = body_of(services, p.id)
    assert len(body) <= 65_536 < len(json.dumps(rendered(services, p.id)))
    assert body.endswith(f"[the promotion's page](https://hoist.example.com/ui/promotions/{p.id}) "
                         "shows all of it._")
    assert "| `ConfigMap/notes-199` | changed |" in body  # every object is listed
    assert len(rendered(services, p.id)["apps"][0]["changes"]) == 201  # the page has all


def test_hoist_plan_prints_the_rendered_diff_and_exits_1_when_it_would_hold(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    from tests.render_repos import need_renderers

    need_renderers()
    for path, text in {**KUSTOMIZE, "hoist.yaml": policy(OVERLAY)}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    config = str(tmp_path / "hoist.yaml")
    assert main(["plan", "--config", config, "--image", "localhost:5000/acme/app:1.4.2"]) == 0
    out = capsys.readouterr().out
    assert "# prod: rendered apps/web/overlays/prod (kustomize apps/web/overlays/prod, " in out
    assert "#   only the image reference changes, in Deployment/prod/web\n" in out
    (tmp_path / OVERLAY).write_text(KUSTOMIZE[OVERLAY] + "patches:\n  - path: replicas.yaml\n")
    assert main(["plan", "--config", config, "--image", "localhost:5000/acme/app:1.4.2"]) == 1
    assert "#   held: kustomize apps/web/overlays/prod: " in capsys.readouterr().out
    assert main(["check", "--config", config, "--render"]) == 1
    assert "prod: kustomize apps/web/overlays/prod: " in capsys.readouterr().err


HELM_RELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: shop-prod
  namespace: flux-system
spec:
  interval: 10m
  targetNamespace: shop
  chart:
    spec:
      chart: ./charts/shop
      sourceRef: {kind: GitRepository, name: manifests}
  values:
    image:
      repository: localhost:5000/acme/app
      tag: "1.0.0"
"""


def test_a_flux_helm_release_renders_its_chart_with_its_values(make: Any) -> None:
    services = make({**CHART, "flux/shop-prod.yaml": HELM_RELEASE,
                     "hoist.yaml": policy("flux/shop-prod.yaml")})
    p = promote(services)
    assert p.state == State.PROPOSED
    [app] = rendered(services, p.id)["apps"]
    assert app["renderer"] == "helm chart charts/shop with flux/shop-prod.yaml"
    [change] = app["changes"]
    assert change["object"] == "Deployment/shop/shop-prod" and change["change"] == "image"
