"""Each format the engine knows, with the exact bytes it must produce."""

from __future__ import annotations

import pytest

from bot.core.manifests import ManifestError, find_references, set_image

D = "sha256:" + "1" * 64
NEW = "2.0.0"


def edit(text: str, name: str = "ghcr.io/acme/app", pin: str = "tag",
         digest: str | None = None, **kw: object) -> str:
    return set_image(text, name, NEW, digest, pin, **kw).text  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                                  "Job", "Rollout"])
def test_pod_spec_workloads(kind: str) -> None:
    text = (f"apiVersion: v1\nkind: {kind}\nspec:\n  template:\n    spec:\n"
            "      ephemeralContainers:\n      - name: debug\n        image: ghcr.io/acme/app:1.0\n")
    assert edit(text) == text.replace(":1.0", f":{NEW}")


def test_cronjob_job_template() -> None:
    text = ("kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
            "          containers:\n          - image: ghcr.io/acme/app:1.0\n")
    assert edit(text) == text.replace(":1.0", f":{NEW}")


def test_names_keep_their_registry_prefix_style() -> None:
    text = "containers:\n- image: nginx:1.25\n- image: docker.io/library/nginx:1.25\n"
    result = set_image(text, "docker.io/library/nginx", "1.27", None)
    assert result.text == "containers:\n- image: nginx:1.27\n- image: docker.io/library/nginx:1.27\n"


@pytest.mark.parametrize(("pin", "expected"), [
    ("tag", f"ghcr.io/acme/app:{NEW}"),
    ("tag@digest", f"ghcr.io/acme/app:{NEW}@{D}"),
    ("@digest", f"ghcr.io/acme/app@{D}"),
])
def test_pin_decides_the_written_form(pin: str, expected: str) -> None:
    text = "containers:\n- image: ghcr.io/acme/app:1.0\n"
    assert edit(text, pin=pin, digest=D) == f"containers:\n- image: {expected}\n"
    # A reference the file pins by digest keeps a digest, whatever the pin says.
    pinned = "containers:\n- image: ghcr.io/acme/app:1.0@sha256:" + "0" * 64 + "\n"
    assert edit(pinned, pin=pin, digest=D) == (
        f"containers:\n- image: {expected if pin != 'tag' else expected + '@' + D}\n")


def test_flux_kustomization_spec_images() -> None:
    text = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n"
            "  images:\n    - name: ghcr.io/acme/app\n      newTag: 1.0.0\n")
    assert edit(text) == text.replace("1.0.0", NEW)


@pytest.mark.parametrize("values", [
    "image: ghcr.io/acme/app:1.0\n",
    "image:\n  repository: ghcr.io/acme/app\n  tag: '1.0'\n",
    "image:\n  registry: ghcr.io\n  repository: acme/app\n  tag: \"1.0\"\n  digest: \"\"\n",
    "backend:\n  image:\n    repository: ghcr.io/acme/app\n    tag: 1.0  # pinned\n",
    "image:\n  name: ghcr.io/acme/app\n  tag: '1.0'\n",
    "sidecarImage: ghcr.io/acme/app:1.0\n",
])
def test_helm_values_shapes(values: str) -> None:
    result = set_image(values, "ghcr.io/acme/app", NEW, None)
    assert len(result.changes) == 1
    assert result.text == values.replace("1.0", NEW)


def test_helm_digest_field_is_filled_and_without_one_the_tag_carries_the_digest() -> None:
    text = 'image:\n  repository: ghcr.io/acme/app\n  tag: "1.0"\n  digest: ""\n'
    assert edit(text, digest=D, pin="tag@digest") == text.replace('"1.0"', f'"{NEW}"').replace(
        'digest: ""', f'digest: "{D}"')
    # No key is added: the chart may not read one; tag@digest is what it renders.
    bare = "image:\n  repository: ghcr.io/acme/app\n  tag: '1.0'\n  pullPolicy: Always\n"
    assert edit(bare, digest=D, pin="tag@digest") == bare.replace("'1.0'", f"'{NEW}@{D}'")


def test_explicit_path_for_a_tag_no_detector_knows() -> None:
    text = "backend:\n  image:\n    tag: 1.0\n"
    assert find_references(text) == []
    assert edit(text, paths=[("backend", "image", "tag")]) == text.replace("1.0", NEW)
    with pytest.raises(ManifestError, match=r"no scalar at backend\.nope"):
        edit(text, paths=[("backend", "nope")])


APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
spec:
  sources:
    - repoURL: https://charts.example.com
      helm:
        parameters:
          - name: image.repository
            value: ghcr.io/acme/app
          - name: image.tag
            value: "1.0"
          - name: worker.image
            value: ghcr.io/acme/app:1.0
        valuesObject:
          image: {repository: ghcr.io/acme/app, tag: "1.0"}
        values: |
          # inline values
          image:
            repository: ghcr.io/acme/app
            tag: 1.0   # keep
    - repoURL: https://git.example.com/manifests
      kustomize:
        images:
          - ghcr.io/acme/app:1.0
          - app=ghcr.io/acme/app:1.0
"""


def test_argocd_application_every_place() -> None:
    result = set_image(APPLICATION, "ghcr.io/acme/app", NEW, None)
    assert result.text == APPLICATION.replace("1.0", NEW)
    kinds = sorted(s.kind for s in find_references(APPLICATION))
    assert kinds == ["argocd-kustomize", "argocd-kustomize", "argocd-parameters",
                     "argocd-parameters", "helm", "helm"]


def test_applicationset_template_and_flux_helmrelease_values() -> None:
    appset = ("kind: ApplicationSet\nspec:\n  template:\n    spec:\n      source:\n        helm:\n"
              "          parameters:\n          - {name: image.repository, value: ghcr.io/acme/app}\n"
              "          - {name: image.tag, value: '1.0'}\n")
    assert edit(appset) == appset.replace("1.0", NEW)
    release = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  values:\n"
               "    image:\n      repository: ghcr.io/acme/app\n      tag: 1.0\n")
    assert edit(release) == release.replace("1.0", NEW)


def test_markers_flux_and_hoist() -> None:
    text = (
        "spec:\n"
        '  repo: ghcr.io/acme/app # {"$imagepolicy": "flux-system:app:name"}\n'
        '  version: "1.0" # {"$imagepolicy": "flux-system:app:tag"}\n'
        "  other:\n"
        "    ref: ghcr.io/acme/app:1.0  # hoist: ghcr.io/acme/app\n"
        "    just_tag: v1.0  # hoist: ghcr.io/acme/app:tag\n"
    )
    result = set_image(text, "ghcr.io/acme/app", NEW, None)
    assert result.text == text.replace('"1.0"', f'"{NEW}"').replace(
        "app:1.0", f"app:{NEW}").replace("v1.0", NEW)


def test_anchor_is_edited_and_aliases_reported() -> None:
    text = ("containers:\n- name: a\n  image: &img ghcr.io/acme/app:1.0\n"
            "initContainers:\n- name: b\n  image: *img\n")
    result = set_image(text, "ghcr.io/acme/app", NEW, None)
    assert result.text == text.replace(":1.0", f":{NEW}")
    assert result.notes == ("initContainers[0].image is an alias of containers[0].image and "
                            "changes with it",)


def test_alias_only_reference_is_refused() -> None:
    text = "defaults: &v ghcr.io/acme/app:1.0\ncontainers:\n- image: *v\n"
    with pytest.raises(ManifestError, match=r"containers\[0\].image is an alias of defaults"):
        set_image(text, "ghcr.io/acme/app", NEW, None)


def test_odd_indentation_long_lines_and_flow_style() -> None:
    text = ("spec:\n       containers:     [ {name: a,   image: 'ghcr.io/acme/app:1.0'} ]   "
            + "#" * 300 + "\n")
    assert edit(text) == text.replace(":1.0", f":{NEW}")


def test_block_scalar_image_is_refused() -> None:
    with pytest.raises(ManifestError, match="block scalar"):
        set_image("containers:\n- image: |\n    ghcr.io/acme/app:1.0\n", "ghcr.io/acme/app",
                  NEW, None)
